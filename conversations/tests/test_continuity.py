"""One conversation everywhere: two sockets and the REST API of one user, and a guest who signs in.

Each scenario drives the real ASGI stack (origin check, session and JWT auth, routing) and the real
assistant pipeline, cart and accounts services; nothing of ours is faked.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from channels.db import database_sync_to_async
from django.conf import settings as django_settings
from django.test import Client
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from carts.models import Cart
from catalog.tests.factories import CategoryFactory, ProductFactory, VariantFactory
from commerce.accounts.models import ShopperSession
from commerce.accounts.shoppers import PAGE_SESSION_KEY
from commerce.accounts.tests.factories import PASSWORD, UserFactory
from conversations.models import Conversation
from conversations.tests.conftest import ORIGIN, TIMEOUT, open_socket, receive_until, run, send

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def trail_runner():
    category = CategoryFactory(name="Running Shoes", slug="running-shoes")
    product = ProductFactory(name="Trail Runner 2", brand="Stride", category=category, tags=["running"])
    VariantFactory(product=product, size="10", price=Decimal("129.99"), stock=8)
    return product


async def _live(socket, count: int) -> list[tuple[str, str, str]]:
    """The next ``count`` events, which must all be ``message`` events pushed from elsewhere."""
    events = [await socket.receive_json_from(timeout=TIMEOUT) for _ in range(count)]
    assert [e["type"] for e in events] == ["message"] * count, events
    return [(e["payload"]["role"], e["payload"]["content"], e["payload"]["channel"]) for e in events]


def _one_user_on_two_sockets_and_rest(user) -> None:
    token = str(RefreshToken.for_user(user).access_token)
    rest = APIClient()
    rest.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")

    async def scenario():
        socket_a, first_a = await open_socket(f"/ws/chat/?token={token}")
        socket_b, first_b = await open_socket(f"/ws/chat/?token={token}&channel=kiosk")
        # B searches; A sees both sides of it live.
        await send(socket_b, "message", {"content": "show me running shoes"})
        searched, _ = await receive_until(socket_b, "response")
        seen_by_a = await _live(socket_a, 2)
        # A adds "the first one" (B's result): the dialogue state is the conversation's, not the socket's.
        await send(socket_a, "message", {"content": "add the first one"})
        added, _ = await receive_until(socket_a, "response")
        seen_by_b = await _live(socket_b, 2)
        # The REST API (JWT) is the same conversation too.
        posted = await database_sync_to_async(rest.post)(
            "/api/v1/interactions/message", {"content": "what's in my cart?", "channel": "api"}, format="json"
        )
        rest_on_a, rest_on_b = await _live(socket_a, 2), await _live(socket_b, 2)
        await socket_a.disconnect()
        await socket_b.disconnect()
        return first_a, first_b, searched, seen_by_a, added, seen_by_b, posted, rest_on_a, rest_on_b

    first_a, first_b, searched, seen_by_a, added, seen_by_b, posted, rest_on_a, rest_on_b = run(scenario())

    assert first_a["payload"]["sessionId"] != first_b["payload"]["sessionId"]  # two sessions, one user
    assert [p["name"] for p in searched["payload"]["products"]] == ["Trail Runner 2"]
    assert seen_by_a == [
        ("user", "show me running shoes", "kiosk"),
        ("assistant", searched["payload"]["reply"], "kiosk"),
    ]
    assert added["payload"]["actions"][0]["status"] == "succeeded", added["payload"]
    assert seen_by_b == [
        ("user", "add the first one", "web"),
        ("assistant", added["payload"]["reply"], "web"),
    ]
    assert posted.status_code == 200
    assert posted.json()["cart"]["itemCount"] == 1
    assert "Trail Runner 2" in posted.json()["reply"]
    assert (
        rest_on_a
        == rest_on_b
        == [
            ("user", "what's in my cart?", "api"),
            ("assistant", posted.json()["reply"], "api"),
        ]
    )

    cart = rest.get("/api/v1/cart").json()
    assert [(i["name"], i["quantity"]) for i in cart["items"]] == [("Trail Runner 2", 1)]
    history = rest.get("/api/v1/interactions/history").json()["items"]
    assert [(i["role"], i["content"], i["channel"]) for i in history] == [
        ("user", "show me running shoes", "kiosk"),
        ("assistant", searched["payload"]["reply"], "kiosk"),
        ("user", "add the first one", "web"),
        ("assistant", added["payload"]["reply"], "web"),
        ("user", "what's in my cart?", "api"),
        ("assistant", posted.json()["reply"], "api"),
    ]
    assert Conversation.objects.filter(user=user).count() == 1
    assert Cart.objects.filter(user=user).count() == 1


def test_one_user_is_one_conversation_cart_and_dialogue_on_two_sockets_and_the_rest_api(trail_runner):
    _one_user_on_two_sockets_and_rest(UserFactory())


@pytest.mark.redis
def test_one_user_across_two_sockets_and_rest_on_the_redis_channel_layer(trail_runner):
    backend = django_settings.CHANNEL_LAYERS["default"]["BACKEND"]
    assert backend == "channels_redis.pubsub.RedisPubSubChannelLayer"
    _one_user_on_two_sockets_and_rest(UserFactory())


# --- a guest who signs in -------------------------------------------------------------------------


def _cookie(browser: Client) -> tuple[bytes, bytes]:
    name = django_settings.SESSION_COOKIE_NAME  # __Host-sessionid where session cookies are Secure
    return (b"cookie", f"{name}={browser.cookies[name].value}".encode())


def test_after_sign_in_the_reconnected_socket_continues_the_guest_conversation_with_its_history(
    trail_runner,
):
    user = UserFactory()
    browser = Client()
    assert browser.get("/chat/panel/").status_code == 200
    key = browser.session[PAGE_SESSION_KEY]
    guest_cookie = _cookie(browser)

    async def as_guest():
        socket, first = await open_socket(f"/ws/chat/?sessionId={key}", headers=[ORIGIN, guest_cookie])
        await send(socket, "message", {"content": "show me running shoes"})
        response, _ = await receive_until(socket, "response")
        return socket, first, response

    async def after_sign_in(stale_socket):
        # The tab that did not reload still speaks as the guest: it is told to reload, not served.
        await send(stale_socket, "message", {"content": "add the first one"})
        refused, _ = await receive_until(stale_socket, "error")
        await stale_socket.disconnect()
        # The page reloads: its socket reconnects with the signed-in Django session.
        socket, first = await open_socket(
            f"/ws/chat/?sessionId={key}&history=10", headers=[ORIGIN, _cookie(browser)]
        )
        restored = await socket.receive_json_from(timeout=TIMEOUT)
        await send(socket, "message", {"content": "add the first one"})
        added, _ = await receive_until(socket, "response")
        await socket.disconnect()
        return refused, first, restored, added

    async def both():
        stale, guest_first, guest_response = await as_guest()
        login = await database_sync_to_async(browser.post)(
            "/account/login/", {"username": user.email, "password": PASSWORD}
        )
        return guest_first, guest_response, login, *(await after_sign_in(stale))

    guest_first, guest_response, login, refused, first, restored, added = run(both())

    assert guest_first["payload"]["sessionId"] == key
    assert login.status_code == 302
    assert refused["type"] == "error" and refused["payload"]["code"] == "session_signed_in"
    assert first["type"] == "session" and first["payload"]["sessionId"] == key
    assert ShopperSession.objects.get(key=key).user == user
    assert restored["type"] == "history"
    assert [(i["role"], i["content"]) for i in restored["payload"]["items"]] == [
        ("user", "show me running shoes"),
        ("assistant", guest_response["payload"]["reply"]),
    ]
    assert set(restored["payload"]["items"][0]) == {"role", "content", "intent", "createdAt", "channel"}
    # The dialogue state joined too: "the first one" is the guest's search result.
    assert added["payload"]["actions"][0]["status"] == "succeeded", added["payload"]
    assert Cart.objects.get(user=user).lines.get().variant.product == trail_runner
    conversation = Conversation.objects.get(user=user)
    assert [m.content for m in conversation.messages.filter(role="user")] == [
        "show me running shoes",
        "add the first one",
    ]
    assert not Conversation.objects.filter(session__key=key).exists()
    panel = browser.get("/chat/panel/").content.decode()
    assert "show me running shoes" in panel and "add the first one" in panel


def test_history_on_connect_is_opt_in_and_bounded():
    session = ShopperSession.objects.create(channel="web")

    async def scenario():
        plain, _ = await open_socket(f"/ws/chat/?sessionId={session.key}")
        await send(plain, "message", {"content": "hello"})
        await receive_until(plain, "response")
        await send(plain, "ping")
        after_plain = await plain.receive_json_from(timeout=TIMEOUT)
        await plain.disconnect()
        asked, _ = await open_socket(f"/ws/chat/?sessionId={session.key}&history=1")
        one = await asked.receive_json_from(timeout=TIMEOUT)
        await asked.disconnect()
        silly, _ = await open_socket(f"/ws/chat/?sessionId={session.key}&history=lots")
        await send(silly, "ping")
        after_silly = await silly.receive_json_from(timeout=TIMEOUT)
        await silly.disconnect()
        return after_plain, one, after_silly

    after_plain, one, after_silly = run(scenario())
    assert after_plain["type"] == "pong"  # no history event unless asked for
    assert one["type"] == "history" and [i["role"] for i in one["payload"]["items"]] == ["assistant"]
    assert after_silly["type"] == "pong"
