"""WebSocket URL routes of every app, gathered in one list for ``asgi.py``."""

from conversations.routing import websocket_urlpatterns as conversation_routes

websocket_urlpatterns: list = [*conversation_routes]
