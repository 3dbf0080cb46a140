from django.urls import path

from carts import api, views

app_name = "carts"

urlpatterns = [
    path("cart/", views.cart_detail, name="detail"),
    path("cart/add/", views.cart_add, name="add"),
    path("cart/badge/", views.cart_badge, name="badge"),
    path("cart/lines/<int:line_id>/", views.cart_update, name="update"),
    path("cart/lines/<int:line_id>/option/", views.cart_change_line_option, name="option"),
    path("cart/lines/<int:line_id>/remove/", views.cart_remove, name="remove"),
    path("cart/discount/", views.cart_discount_apply, name="discount-apply"),
    path("cart/discount/remove/", views.cart_discount_remove, name="discount-remove"),
]

api_urlpatterns = [
    path("cart", api.CartView.as_view(), name="cart"),
    path("cart/items", api.CartItemsView.as_view(), name="cart-items"),
    path("cart/items/<str:item_id>", api.CartItemView.as_view(), name="cart-item"),
    path("cart/apply-discount", api.CartApplyDiscountView.as_view(), name="cart-apply-discount"),
    path("cart/discount", api.CartDiscountView.as_view(), name="cart-discount"),
]
