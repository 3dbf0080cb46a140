"""Helpers for driving ``/ws/chat/`` through the real ASGI application with Channels' communicator.

pytest-asyncio is not installed: each socket test is a sync test that runs one coroutine with
``asyncio.run``, on a transactional database so the consumer's worker threads see committed rows.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator
from django.db import connections

from catalog.tests.factories import CategoryFactory, ProductFactory, VariantFactory
from commerce.accounts.models import ShopperSession
from commerce.accounts.shoppers import Shopper
from commerce.accounts.tests.factories import UserFactory
from conversations.models import StorePolicy

ORIGIN = (b"origin", b"http://testserver")


@pytest.fixture
def guest() -> Shopper:
    return Shopper(user=None, session=ShopperSession.objects.create(channel="web"))


@pytest.fixture
def member() -> Shopper:
    user = UserFactory(name="Ada Lovelace")
    return Shopper(user=user, session=ShopperSession.objects.create(channel="web", user=user))


@pytest.fixture
def running_shoes():
    category = CategoryFactory(name="Running Shoes", slug="running-shoes")
    trail = ProductFactory(name="Trail Runner 2", brand="Stride", category=category, tags=["running"])
    VariantFactory(product=trail, size="10", price=Decimal("129.99"), stock=4)
    VariantFactory(product=trail, size="9", price=Decimal("129.99"), stock=4)
    road = ProductFactory(name="Road Racer", brand="Pace", category=category, tags=["running"])
    VariantFactory(product=road, size="10", price=Decimal("99.00"), stock=2)
    pricey = ProductFactory(name="Carbon Elite", brand="Pace", category=category, tags=["running"])
    VariantFactory(product=pricey, size="10", price=Decimal("240.00"), stock=5)
    sold_out = ProductFactory(name="Sold Out Runner", brand="Stride", category=category, tags=["running"])
    VariantFactory(product=sold_out, size="10", price=Decimal("80.00"), stock=0)
    return {"trail": trail, "road": road, "pricey": pricey, "sold_out": sold_out}


TIMEOUT = 5


def run(coro) -> Any:
    """Runs a socket scenario; then closes the database connection the consumer's worker thread opened,
    so the test database can be dropped at the end of the session."""

    async def main() -> Any:
        try:
            return await coro
        finally:
            await sync_to_async(connections.close_all)()
            await _close_on_chat_workers()

    return asyncio.run(main())


async def _close_on_chat_workers() -> None:
    """Closes the database connections of the consumer's message workers (one task on each thread:
    each waits at a barrier until all have closed theirs, so no thread runs two)."""
    from conversations import consumers

    workers = consumers._workers
    if workers is None:
        return
    count = workers._max_workers
    everyone = threading.Barrier(count)

    def close() -> None:
        connections.close_all()
        everyone.wait(timeout=TIMEOUT)

    loop = asyncio.get_running_loop()
    await asyncio.gather(*(loop.run_in_executor(workers, close) for _ in range(count)))


async def open_socket(
    path: str = "/ws/chat/", headers: Iterable[tuple[bytes, bytes]] = (ORIGIN,)
) -> tuple[WebsocketCommunicator, dict[str, Any]]:
    """Connects through ``commerce.asgi.application`` and returns the socket and its first event."""
    from commerce.asgi import application

    socket = WebsocketCommunicator(application, path, headers=list(headers))
    connected, _ = await socket.connect(timeout=TIMEOUT)
    assert connected
    first = await socket.receive_json_from(timeout=TIMEOUT)
    return socket, first


async def receive_until(socket: WebsocketCommunicator, kind: str) -> tuple[dict[str, Any], list[str]]:
    """Reads events until one of type ``kind``; returns it and the types seen before it, in order."""
    seen: list[str] = []
    while True:
        event = await socket.receive_json_from(timeout=TIMEOUT)
        if event["type"] == kind:
            return event, seen
        seen.append(event["type"])


async def send(socket: WebsocketCommunicator, kind: str, payload: dict[str, Any] | None = None) -> None:
    await socket.send_json_to({"type": kind, "payload": payload or {}})


@pytest.fixture(autouse=True)
def _fresh_channel_layer():
    """The in-memory layer lives for the whole process: groups must not leak between tests."""
    layer = get_channel_layer()
    if hasattr(layer, "flush"):
        async_to_sync(layer.flush)()
    yield


@pytest.fixture
def mcp_store(settings: Any) -> Any:
    """A product in stock (its variant is returned), a store policy, and room under the rate limits."""
    settings.RATE_LIMIT_ANONYMOUS_PER_MINUTE = 1000
    settings.RATE_LIMIT_AUTHENTICATED_PER_MINUTE = 1000
    product = ProductFactory(name="Trail Runner", brand="Stride", description="A light trail shoe.")
    variant = VariantFactory(product=product, size="10", color="blue", price=Decimal("80.00"), stock=5)
    StorePolicy.objects.create(
        title="Returns", topic="returns", keywords="return, refund", answer="Return within 30 days."
    )
    return variant
