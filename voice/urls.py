app_name = "voice"

urlpatterns: list = []
api_urlpatterns: list = []
