"""The site's ASGI application plus the chat benchmark's bare socket ``/ws/bench/echo/``: the yardstick a
chat message is divided by, besides ``ping``.

A message there costs what every chat message costs before the assistant does anything: a JSON frame
read by the same Daphne and the same socket middleware (origin, session, auth), the chat consumer's
dispatch, one hop to the chat's worker threads (``CHAT_WORKER_THREADS``) running one small query, and
one JSON frame back. ``ping`` -> ``pong`` is the same without the hop and the query. Nothing else of the
site changes.
"""

from __future__ import annotations

import json
from typing import Any

from commerce.asgi import application as site  # first: it sets Django up, before any model is imported

# isort: split

from channels.auth import AuthMiddlewareStack
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from channels.routing import ProtocolTypeRouter, URLRouter
from django.urls import re_path

from catalog.models import Category
from commerce.origins import SiteOriginValidator
from commerce.routing import websocket_urlpatterns
from conversations import consumers


def _one_query() -> dict[str, Any] | None:
    # One small ORM query, as the HTTP yardstick /bench/ping makes.
    return Category.objects.order_by("pk").values("id", "name").first()


# A build from before the chat's worker threads (benchmarks/ab_chat.py measures older commits with this
# file) has Channels' default: the process's one shared sync thread.
_hop = database_sync_to_async(
    _one_query,
    thread_sensitive=getattr(consumers, "_one_thread", True),
    executor=getattr(consumers, "_workers", None),
)


class BareMessageConsumer(AsyncWebsocketConsumer):
    """``{"type": "message", "payload": {...}}`` -> ``{"type": "response", "payload": {...}}``."""

    dispatch = consumers.ChatConsumer.dispatch  # the chat's dispatch (no connection check per frame)

    async def connect(self) -> None:
        await self.accept()
        await self.send(text_data=json.dumps({"type": "session", "payload": {}}))

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        frame = json.loads(text_data or "{}")
        category = await _hop()
        await self.send(
            text_data=json.dumps(
                {"type": "response", "payload": {"echo": frame.get("payload"), "row": category}}
            )
        )


application = ProtocolTypeRouter(
    {
        "http": site.application_mapping["http"],
        "websocket": SiteOriginValidator(
            AuthMiddlewareStack(
                URLRouter(
                    [re_path(r"^ws/bench/echo/$", BareMessageConsumer.as_asgi()), *websocket_urlpatterns]
                )
            )
        ),
    }
)
