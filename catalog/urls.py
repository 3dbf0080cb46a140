from django.urls import path

from catalog import api, views

app_name = "catalog"

urlpatterns = [
    path("", views.home, name="home"),
    path("kiosk/", views.kiosk, name="kiosk"),
    path("products/", views.product_list, name="product-list"),
    path("products/<str:product_id>/", views.product_detail, name="product-detail"),
    path("products/<str:product_id>/image.svg", views.product_image, name="product-image"),
]

api_urlpatterns = [
    path("products", api.ProductListView.as_view(), name="products-list"),
    path("products/<str:product_id>", api.ProductDetailView.as_view(), name="products-detail"),
]
