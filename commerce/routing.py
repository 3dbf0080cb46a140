"""WebSocket URL routes of every app, gathered in one list for ``asgi.py``."""

from channels.generic.websocket import WebsocketConsumer
from django.urls import re_path

from conversations.routing import websocket_urlpatterns as conversation_routes

# Application close code for "no such socket" (4000-4999 are the application's own).
UNKNOWN_PATH_CLOSE_CODE = 4404


class UnknownSocketPath(WebsocketConsumer):
    """Any other WebSocket path: refused with a close code, not the router's "No route found" error
    (which Daphne answers as a 500)."""

    def connect(self) -> None:
        self.close(code=UNKNOWN_PATH_CLOSE_CODE)


websocket_urlpatterns: list = [*conversation_routes, re_path(r"", UnknownSocketPath.as_asgi())]
