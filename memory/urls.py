app_name = "memory"

urlpatterns: list = []
api_urlpatterns: list = []
