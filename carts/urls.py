app_name = "carts"

urlpatterns: list = []
api_urlpatterns: list = []
