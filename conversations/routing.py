from django.urls import path

from commerce.ws_auth import JWTQueryAuthMiddleware
from conversations.consumers import ChatConsumer

websocket_urlpatterns = [
    path("ws/chat/", JWTQueryAuthMiddleware(ChatConsumer.as_asgi())),
]
