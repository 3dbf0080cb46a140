from django.urls import include, path

from orders import api, views

app_name = "orders"

urlpatterns = [
    path("checkout/", views.checkout, name="checkout"),
    path("orders/", views.order_list, name="list"),
    path("orders/<str:order_id>/", views.order_detail, name="detail"),
    path("orders/<str:order_id>/confirmation/", views.confirmation, name="confirmation"),
    path("orders/<str:order_id>/cancel/", views.cancel, name="cancel"),
    path("orders/<str:order_id>/address/", views.change_address, name="address"),
    path("orders/<str:order_id>/refund/", views.refund, name="refund"),
    # Agentic Commerce Protocol checkout for agent platforms (their own paths and error shape).
    path("acp/", include("orders.acp.urls")),
]

api_urlpatterns = [
    path("orders", api.OrderListView.as_view(), name="orders"),
    path("orders/<str:order_id>", api.OrderDetailView.as_view(), name="order"),
    path("orders/<str:order_id>/cancel", api.OrderCancelView.as_view(), name="order-cancel"),
    path("orders/<str:order_id>/refund", api.OrderRefundView.as_view(), name="order-refund"),
    path("orders/<str:order_id>/shipping-address", api.OrderAddressView.as_view(), name="order-address"),
]
