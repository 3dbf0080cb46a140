from django.urls import path

from voice import api, views

app_name = "voice"

urlpatterns = [
    path("voice/r/<str:code>/", views.recovery_code_open, name="recovery-code"),
]
api_urlpatterns = [
    path("voice/superu/callback", api.SuperUCallbackView.as_view(), name="voice-superu-callback"),
]
