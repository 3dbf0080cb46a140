"""Who may hold the chat socket open, and how fast anyone may chat (issue 12, CONTRACT.md section 6).

Sockets go through the real ASGI stack (origin check, session and ticket/token auth, routing); REST
through DRF's test client; the revocation signal is sent the way the accounts services send it.
"""

from __future__ import annotations

import hashlib
import logging
import time
from datetime import timedelta
from types import SimpleNamespace

import pytest
from channels.db import database_sync_to_async
from django.conf import settings as django_settings
from django.core.cache import cache
from django.db import transaction
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken

from carts.models import Cart
from commerce.accounts.models import ShopperSession, User
from commerce.accounts.shoppers import PAGE_SESSION_KEY
from commerce.accounts.signals import credentials_revoked
from commerce.accounts.tests.factories import UserFactory
from commerce.cache import FailSoftRedisCache
from conversations import services
from conversations.models import Conversation, Message
from conversations.tasks import purge_unused_guest_sessions_task
from conversations.tests.conftest import ORIGIN, TIMEOUT, open_socket, receive_until, run, send

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def frozen_window(monkeypatch):
    """Pins the rate limiter's clock mid-minute, so a test never straddles two counting windows."""
    monkeypatch.setattr(services, "time", SimpleNamespace(time=lambda: 1_800_000_030.0))


def _token(user: User, *, seconds: int | None = None) -> str:
    token = AccessToken.for_user(user)
    if seconds is not None:
        token.set_exp(lifetime=timedelta(seconds=seconds))
    return str(token)


async def _closed(socket) -> dict:
    """Reads until the server closes the socket; returns the close message."""
    while True:
        output = await socket.receive_output(timeout=TIMEOUT)
        if output["type"] == "websocket.close":
            return output


async def _refused(path: str, headers=(ORIGIN,)) -> tuple[dict, dict]:
    """A connect the server accepts only to say why and close: its error event and close message."""
    from channels.testing import WebsocketCommunicator

    from commerce.asgi import application

    socket = WebsocketCommunicator(application, path, headers=list(headers))
    connected, _ = await socket.connect(timeout=TIMEOUT)
    assert connected
    error = await socket.receive_json_from(timeout=TIMEOUT)
    return error, await _closed(socket)


def _chat_post(session_key: str, content: str = "hello", client: APIClient | None = None):
    return (client or APIClient()).post(
        "/api/v1/interactions/message",
        {"sessionId": session_key, "content": content, "channel": "api"},
        format="json",
    )


def _page_cookie(user: User) -> bytes:
    page_session = ShopperSession.objects.create(channel="web", user=user)
    client = Client()
    client.force_login(user)
    django_session = client.session
    django_session[PAGE_SESSION_KEY] = page_session.key
    django_session.save()
    name = django_settings.SESSION_COOKIE_NAME  # __Host-sessionid where session cookies are Secure
    return f"{name}={client.cookies[name].value}".encode()


# --- token expiry, revocation, deactivation ------------------------------------------------------


def test_a_token_socket_closes_with_4401_when_its_token_expires():
    user = UserFactory()
    token = _token(user, seconds=2)

    async def scenario():
        socket, first = await open_socket(f"/ws/chat/?token={token}")
        started = time.monotonic()
        error = await socket.receive_json_from(timeout=TIMEOUT)
        closed = await _closed(socket)
        return first, error, closed, time.monotonic() - started

    first, error, closed, waited = run(scenario())
    assert first["type"] == "session"
    assert error == {
        "type": "error",
        "payload": {"code": "token_expired", "message": error["payload"]["message"]},
    }
    assert closed["code"] == 4401
    assert waited < 3.5  # closed at expiry, not at the next heartbeat


@pytest.mark.parametrize("reason", ["signed_out_everywhere", "password_changed", "deactivated"])
def test_revoked_credentials_close_every_socket_of_the_user_and_no_one_elses(reason):
    user, other = UserFactory(), UserFactory()
    cookie = _page_cookie(user)

    async def scenario():
        by_token, _ = await open_socket(f"/ws/chat/?token={_token(user)}")
        by_page, _ = await open_socket(headers=[ORIGIN, (b"cookie", cookie)])
        bystander, _ = await open_socket(f"/ws/chat/?token={_token(other)}")
        await database_sync_to_async(credentials_revoked.send)(sender=User, user=user, reason=reason)
        results = []
        for socket in (by_token, by_page):
            error = await socket.receive_json_from(timeout=TIMEOUT)
            results.append((error["payload"]["code"], (await _closed(socket))["code"]))
        await send(bystander, "ping")
        pong = await bystander.receive_json_from(timeout=TIMEOUT)
        await bystander.disconnect()
        return results, pong

    results, pong = run(scenario())
    assert results == [("auth_revoked", 4401), ("auth_revoked", 4401)]
    assert pong["type"] == "pong"


def test_a_revocation_rolled_back_closes_nothing():
    user = UserFactory()

    def revoke_then_fail():
        with pytest.raises(RuntimeError), transaction.atomic():
            credentials_revoked.send(sender=User, user=user, reason="password_changed")
            raise RuntimeError("the password change failed")

    async def scenario():
        socket, _ = await open_socket(f"/ws/chat/?token={_token(user)}")
        await database_sync_to_async(revoke_then_fail)()
        await send(socket, "ping")
        event = await socket.receive_json_from(timeout=TIMEOUT)
        await socket.disconnect()
        return event

    assert run(scenario())["type"] == "pong"


def test_a_deactivated_user_cannot_connect_with_a_token_or_a_ticket():
    user = UserFactory()
    token = _token(user)
    ticket = APIClient()
    ticket.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    raw_ticket = ticket.post("/api/v1/auth/ws-ticket").json()["ticket"]
    User.objects.filter(pk=user.pk).update(is_active=False)

    async def scenario():
        return await _refused(f"/ws/chat/?token={token}"), await _refused(f"/ws/chat/?ticket={raw_ticket}")

    (token_error, token_closed), (ticket_error, ticket_closed) = run(scenario())
    assert (token_error["payload"]["code"], token_closed["code"]) == ("invalid_token", 4401)
    assert (ticket_error["payload"]["code"], ticket_closed["code"]) == ("invalid_ticket", 4401)
    assert not ShopperSession.objects.filter(user=user).exists()


# --- tickets -----------------------------------------------------------------------------------


def test_a_ticket_needs_a_signed_in_caller():
    response = APIClient().post("/api/v1/auth/ws-ticket")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"


def test_a_ticket_opens_one_socket_as_its_user_and_is_kept_only_hashed(auth_client):
    response = auth_client.post("/api/v1/auth/ws-ticket")
    assert response.status_code == 200
    body = response.json()
    assert body["expiresIn"] == 60
    raw = body["ticket"]
    assert len(raw) >= 40
    assert cache.get("ws-ticket:" + raw) is None
    assert cache.get("ws-ticket:" + hashlib.sha256(raw.encode()).hexdigest()) is not None

    async def scenario():
        socket, first = await open_socket(f"/ws/chat/?ticket={raw}")
        await send(socket, "message", {"content": "hello"})
        await receive_until(socket, "response")
        await socket.disconnect()
        return first, await _refused(f"/ws/chat/?ticket={raw}")

    first, (error, closed) = run(scenario())
    assert ShopperSession.objects.get(key=first["payload"]["sessionId"]).user == auth_client.user
    assert Conversation.objects.get(user=auth_client.user).messages.count() == 2
    assert error["payload"]["code"] == "invalid_ticket"
    assert closed["code"] == 4401


def test_a_ticket_socket_closes_when_the_token_it_was_asked_with_expires():
    user = UserFactory()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {_token(user, seconds=2)}")
    raw = client.post("/api/v1/auth/ws-ticket").json()["ticket"]

    async def scenario():
        socket, _ = await open_socket(f"/ws/chat/?ticket={raw}")
        error = await socket.receive_json_from(timeout=TIMEOUT)
        return error, await _closed(socket)

    error, closed = run(scenario())
    assert error["payload"]["code"] == "token_expired"
    assert closed["code"] == 4401


def test_a_ticket_issued_before_a_revocation_is_refused(auth_client):
    raw = auth_client.post("/api/v1/auth/ws-ticket").json()["ticket"]
    credentials_revoked.send(sender=User, user=auth_client.user, reason="password_changed")
    error, closed = run(_refused(f"/ws/chat/?ticket={raw}"))
    assert (error["payload"]["code"], closed["code"]) == ("invalid_ticket", 4401)
    fresh = auth_client.post("/api/v1/auth/ws-ticket").json()["ticket"]

    async def scenario():
        socket, first = await open_socket(f"/ws/chat/?ticket={fresh}")
        await socket.disconnect()
        return first

    assert run(scenario())["type"] == "session"


def test_an_unknown_ticket_is_refused():
    error, closed = run(_refused("/ws/chat/?ticket=made-up"))
    assert error["payload"]["code"] == "invalid_ticket"
    assert closed["code"] == 4401


# --- the first frame as login (?auth=frame) --------------------------------------------------


async def _open_pending(path: str = "/ws/chat/?auth=frame"):
    from channels.testing import WebsocketCommunicator

    from commerce.asgi import application

    socket = WebsocketCommunicator(application, path, headers=[ORIGIN])
    connected, _ = await socket.connect(timeout=TIMEOUT)
    assert connected
    assert await socket.receive_nothing(timeout=0.2)  # no `session` before the auth frame
    return socket


@pytest.mark.parametrize("credential", ["ticket", "token"])
def test_an_auth_first_frame_opens_the_socket_as_its_user(auth_client, credential):
    value = (
        auth_client.post("/api/v1/auth/ws-ticket").json()["ticket"]
        if credential == "ticket"
        else _token(auth_client.user)
    )

    async def scenario():
        socket = await _open_pending()
        await send(socket, "auth", {credential: value})
        first = await socket.receive_json_from(timeout=TIMEOUT)
        await send(socket, "message", {"content": "hello"})
        await receive_until(socket, "response")
        await socket.disconnect()
        return first

    first = run(scenario())
    assert first["type"] == "session"
    assert ShopperSession.objects.get(key=first["payload"]["sessionId"]).user == auth_client.user
    assert Conversation.objects.get(user=auth_client.user).messages.count() == 2


@pytest.mark.parametrize(
    ("frame", "code"),
    [
        ({"type": "message", "payload": {"content": "hello"}}, "auth_required"),
        ({"type": "auth", "payload": {}}, "auth_required"),
        ({"type": "auth", "payload": {"token": "not-a-jwt"}}, "invalid_token"),
        ({"type": "auth", "payload": {"ticket": "made-up"}}, "invalid_ticket"),
    ],
)
def test_an_auth_frame_socket_without_a_good_first_frame_is_closed_and_saves_nothing(frame, code):
    async def scenario():
        socket = await _open_pending()
        await socket.send_json_to(frame)
        error = await socket.receive_json_from(timeout=TIMEOUT)
        return error, await _closed(socket)

    error, closed = run(scenario())
    assert (error["payload"]["code"], closed["code"]) == (code, 4401)
    assert not ShopperSession.objects.exists()
    assert not Message.objects.exists()


def test_an_auth_frame_socket_is_closed_when_no_frame_comes_in_time(monkeypatch):
    from conversations import consumers

    monkeypatch.setattr(consumers, "AUTH_FRAME_TIMEOUT_SECONDS", 0.3)

    async def scenario():
        socket = await _open_pending()
        error = await socket.receive_json_from(timeout=TIMEOUT)
        return error, await _closed(socket)

    error, closed = run(scenario())
    assert (error["payload"]["code"], closed["code"]) == ("auth_timeout", 4401)
    assert not ShopperSession.objects.exists()


# --- chat rate limits --------------------------------------------------------------------------


def test_messages_over_the_limit_get_rate_limited_and_the_socket_stays_open(settings, frozen_window):
    settings.CHAT_MESSAGES_PER_MINUTE = 3

    async def scenario():
        socket, _ = await open_socket()
        for n in range(3):
            await send(socket, "message", {"content": f"hello {n}"})
            await receive_until(socket, "response")
        await send(socket, "message", {"content": "one too many"})
        error = await socket.receive_json_from(timeout=TIMEOUT)
        await send(socket, "ping")
        pong = await socket.receive_json_from(timeout=TIMEOUT)
        await socket.disconnect()
        return error, pong

    error, pong = run(scenario())
    assert error["type"] == "error"
    assert error["payload"]["code"] == "rate_limited"
    assert error["payload"]["message"]
    assert error["payload"]["retryAfter"] == 30  # the pinned clock is 30 s into its minute
    assert pong["type"] == "pong"
    assert Message.objects.filter(role="user").count() == 3
    assert not Message.objects.filter(content="one too many").exists()


def test_a_user_meets_one_limit_across_sockets(settings, frozen_window):
    settings.CHAT_MESSAGES_PER_MINUTE = 3
    user = UserFactory()

    async def scenario():
        first, _ = await open_socket(f"/ws/chat/?token={_token(user)}")
        second, _ = await open_socket(f"/ws/chat/?token={_token(user)}")
        for socket in (first, second, first):
            await send(socket, "message", {"content": "hello"})
            await receive_until(socket, "response")
        await send(second, "message", {"content": "hello again"})
        seen = []
        while True:  # the first socket's forwarded messages may come before the refusal
            event = await second.receive_json_from(timeout=TIMEOUT)
            if event["type"] == "error":
                break
            seen.append(event["type"])
        await first.disconnect()
        await second.disconnect()
        return event, seen

    error, seen = run(scenario())
    assert error["payload"]["code"] == "rate_limited"
    assert set(seen) <= {"message"}


def test_rest_messages_over_the_limit_get_429_with_retry_after(settings, frozen_window):
    settings.CHAT_MESSAGES_PER_MINUTE = 2
    session = ShopperSession.objects.create(channel="api")
    client = APIClient()
    assert [_chat_post(session.key, client=client).status_code for _ in range(2)] == [200, 200]
    refused = _chat_post(session.key, client=client)
    assert refused.status_code == 429
    assert refused["Retry-After"] == "30"
    error = refused.json()["error"]
    assert error["code"] == "rate_limited"
    assert error["details"]["retryAfter"] == 30
    assert Message.objects.filter(role="user").count() == 2


def test_the_socket_and_rest_share_a_sessions_limit(settings, frozen_window):
    settings.CHAT_MESSAGES_PER_MINUTE = 2
    session = ShopperSession.objects.create(channel="web")

    async def scenario():
        socket, _ = await open_socket(f"/ws/chat/?sessionId={session.key}")
        await send(socket, "message", {"content": "hello"})
        await receive_until(socket, "response")
        first = await database_sync_to_async(_chat_post)(session.key, "hi from rest")
        second = await database_sync_to_async(_chat_post)(session.key, "hi from rest")
        await socket.disconnect()
        return first.status_code, second.status_code

    assert run(scenario()) == (200, 429)


def test_a_cache_failure_lets_messages_through_with_a_log_line(settings, monkeypatch, caplog):
    settings.CHAT_MESSAGES_PER_MINUTE = 1

    # the shared counters on a Redis that is not there (commerce.cache: the breaker's CacheUnavailable)
    unreachable = FailSoftRedisCache(
        "redis://127.0.0.1:18699/0", {"OPTIONS": {"socket_connect_timeout": 0.2}}
    )
    monkeypatch.setattr("commerce.cache.caches", {"default": unreachable})
    session = ShopperSession.objects.create(channel="api")
    with caplog.at_level(logging.WARNING, logger="conversations.services"):
        statuses = [_chat_post(session.key).status_code for _ in range(2)]
    assert statuses == [200, 200]
    assert "Chat rate limit not checked" in caplog.text


def test_chat_rate_check_counts_a_cost_for_the_models_own_turns(settings, frozen_window):
    from commerce.accounts.shoppers import Shopper
    from commerce.errors import RateLimited

    settings.CHAT_MESSAGES_PER_MINUTE = 3
    shopper = Shopper(user=UserFactory(), session=None)
    services.chat_rate_check(shopper=shopper, cost=3)
    with pytest.raises(RateLimited) as refused:
        services.chat_rate_check(shopper=shopper)
    assert refused.value.retry_after == 30


# --- guest connects ----------------------------------------------------------------------------


def test_guest_connects_over_the_limit_are_closed_with_4429_and_save_nothing(settings):
    settings.CHAT_GUEST_CONNECTS_PER_MINUTE = 2
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}
    one = [ORIGIN, (b"x-forwarded-for", b"203.0.113.7")]
    another = [ORIGIN, (b"x-forwarded-for", b"198.51.100.9")]
    user = UserFactory()

    async def scenario():
        for _ in range(2):
            socket, _ = await open_socket(headers=one)
            await socket.disconnect()
        refused = await _refused("/ws/chat/", headers=one)
        other_address, _ = await open_socket(headers=another)
        await other_address.disconnect()
        signed_in, _ = await open_socket(f"/ws/chat/?token={_token(user)}", headers=one)
        await signed_in.disconnect()
        return refused

    error, closed = run(scenario())
    assert error["payload"]["code"] == "rate_limited"
    assert 1 <= error["payload"]["retryAfter"] <= 60
    assert closed["code"] == 4429
    assert ShopperSession.objects.filter(user__isnull=True).count() == 3  # 2 + the other address
    assert ShopperSession.objects.filter(user=user).count() == 1


# --- never-used guest sessions ---------------------------------------------------------------


def test_unused_guest_sessions_are_purged_and_used_ones_kept(settings):
    settings.CHAT_GUEST_SESSION_PURGE_MINUTES = 60
    old = timezone.now() - timedelta(minutes=61)
    bare, chatted, with_cart, with_context, signed_in = (
        ShopperSession.objects.create(channel="web"),
        ShopperSession.objects.create(channel="web"),
        ShopperSession.objects.create(channel="web"),
        ShopperSession.objects.create(channel="kiosk", initial_context={"store": "paris"}),
        ShopperSession.objects.create(channel="web", user=UserFactory()),
    )
    Conversation.objects.create(session=chatted)
    Cart.objects.create(session=with_cart)
    ShopperSession.objects.update(last_seen_at=old)
    fresh = ShopperSession.objects.create(channel="web")

    assert purge_unused_guest_sessions_task.apply().get() == 1
    remaining = set(ShopperSession.objects.values_list("pk", flat=True))
    assert remaining == {chatted.pk, with_cart.pk, with_context.pk, signed_in.pk, fresh.pk}
    assert bare.pk not in remaining
    assert purge_unused_guest_sessions_task.apply().get() == 0


def test_purging_is_off_at_zero(settings):
    settings.CHAT_GUEST_SESSION_PURGE_MINUTES = 0
    ShopperSession.objects.create(channel="web")
    ShopperSession.objects.update(last_seen_at=timezone.now() - timedelta(days=3))
    assert services.guest_sessions_purge_unused() == 0
    assert ShopperSession.objects.count() == 1


def test_a_socket_whose_session_was_purged_keeps_its_session_id():
    async def scenario():
        socket, first = await open_socket()
        key = first["payload"]["sessionId"]
        await database_sync_to_async(ShopperSession.objects.filter(key=key).delete)()
        await send(socket, "message", {"content": "hello"})
        response, _ = await receive_until(socket, "response")
        await socket.disconnect()
        return key, response

    key, response = run(scenario())
    assert response["payload"]["sessionId"] == key
    assert Conversation.objects.get(session__key=key).messages.count() == 2


def test_the_purge_runs_on_the_beat_schedule():
    from commerce.celery import app

    entry = app.conf.beat_schedule["conversations-purge-unused-guest-sessions"]
    assert entry["task"] == "conversations.purge_unused_guest_sessions"
    assert entry["options"]["expires"] < entry["schedule"].total_seconds()


# --- production shape: Redis cache and channel layer -----------------------------------------


@pytest.mark.redis
def test_revocation_and_rate_limits_go_through_redis(settings, frozen_window):

    # Django's Redis backend, answering like an empty cache while Redis is away (commerce.cache).
    assert django_settings.CACHES["default"]["BACKEND"] == "commerce.cache.FailSoftRedisCache"
    assert (
        django_settings.CHANNEL_LAYERS["default"]["BACKEND"]
        == "channels_redis.pubsub.RedisPubSubChannelLayer"
    )
    settings.CHAT_MESSAGES_PER_MINUTE = 1
    user = UserFactory()

    async def scenario():
        socket, _ = await open_socket(f"/ws/chat/?token={_token(user)}")
        await send(socket, "message", {"content": "hello"})
        await receive_until(socket, "response")
        await send(socket, "message", {"content": "again"})
        limited = await socket.receive_json_from(timeout=TIMEOUT)
        # sent from a worker thread, as a service would: the event crosses Redis pub/sub to the socket
        await database_sync_to_async(credentials_revoked.send)(
            sender=User, user=user, reason="signed_out_everywhere"
        )
        revoked = await socket.receive_json_from(timeout=TIMEOUT)
        return limited, revoked, await _closed(socket)

    limited, revoked, closed = run(scenario())
    assert limited["payload"]["code"] == "rate_limited"
    assert revoked["payload"]["code"] == "auth_revoked"
    assert closed["code"] == 4401


@pytest.mark.redis
def test_a_ticket_from_one_process_is_spent_once_in_the_shared_cache(auth_client):
    from django.core.cache import caches

    raw = auth_client.post("/api/v1/auth/ws-ticket").json()["ticket"]
    key = "ws-ticket:" + hashlib.sha256(raw.encode()).hexdigest()
    # A second cache client (as another process has) sees the same ticket.
    other_process = caches.create_connection("default")
    assert other_process.get(key) is not None

    async def scenario():
        socket, first = await open_socket(f"/ws/chat/?ticket={raw}")
        await socket.disconnect()
        return first

    assert run(scenario())["type"] == "session"
    assert other_process.get(key) is None
