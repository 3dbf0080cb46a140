app_name = "conversations"

urlpatterns: list = []
api_urlpatterns: list = []
