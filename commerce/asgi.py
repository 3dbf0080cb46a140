"""ASGI entry point: HTTP through Django (and the MCP server at ``/mcp``), WebSocket through Channels."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "commerce.settings")
django_asgi_app = get_asgi_application()

from commerce.db import use_web_statement_timeout  # noqa: E402

# Web requests only: migrations and Celery tasks connect without the cap.
use_web_statement_timeout()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.urls import re_path  # noqa: E402

from commerce.headers import DuplicateHeaderASGIMiddleware  # noqa: E402
from commerce.origins import SiteOriginValidator  # noqa: E402
from commerce.routing import websocket_urlpatterns  # noqa: E402
from conversations.mcp.asgi import mcp_application  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": DuplicateHeaderASGIMiddleware(
            # Outside agents' MCP server (docs/agents.md); everything else is Django's.
            URLRouter(
                [
                    # django-stubs types re_path for views; Channels' URLRouter routes ASGI apps with it.
                    re_path(r"^mcp/?$", mcp_application),  # type: ignore[arg-type]
                    re_path(r"", django_asgi_app),  # type: ignore[arg-type]
                ]
            )
        ),
        # A socket's Origin must be one of ALLOWED_HOSTS or CORS_ORIGINS (commerce.origins).
        "websocket": SiteOriginValidator(AuthMiddlewareStack(URLRouter(websocket_urlpatterns))),
    }
)

from commerce.heap import settle_collector  # noqa: E402

# Last, once everything the application needs at startup is loaded (commerce.heap says why).
settle_collector()
