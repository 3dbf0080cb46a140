app_name = "orders"

urlpatterns: list = []
api_urlpatterns: list = []
