"""The chat socket ``/ws/chat/`` (CONTRACT.md section 3): a thin async door to the assistant pipeline.

Frames are JSON ``{type, payload}``. Who is asking comes from the scope (the Django session's user,
or ``?token=`` through ``commerce.ws_auth``) and the shopper session (``?sessionId=`` or the page's
session); everything else goes through services in a worker thread. The consumer keeps only
connection bookkeeping: who is connected, which groups it joined and when the last pong came.

Who may hold a socket open (CONTRACT.md section 6): a socket opened with a token or ticket closes with
4401 when that token expires; every socket of a user closes with 4401 when their credentials are
revoked (signed out everywhere, password changed, deactivated: ``credentials_revoked`` becomes an
``auth.revoked`` event on the user's group). Chat messages are limited per socket, session and user
(``chat_rate_check``): over the limit a message gets ``error`` ``rate_limited`` with ``retryAfter`` and
the socket stays open. Guest connects are limited per client address: over it the client gets that
error and the socket is closed with 4429. With ``?auth=frame`` the client signs in with its first
frame, ``{"type": "auth", "payload": {"ticket": ...}}`` (or ``"token"``), before anything else happens:
the ``session`` event follows a good one; anything else, or nothing within 10 seconds, closes 4401.

Addition to the contract: ``?history=N`` (1-50) asks for a ``history`` event ``{items: [{role, content,
intent, createdAt, channel}]}`` (the REST history's items, oldest first) right after ``session``, so
a client that reconnects, or has just signed in, restores the conversation without a REST call.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC
from typing import Any

import structlog
from asgiref.sync import async_to_sync, sync_to_async
from channels.consumer import get_handler_name
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings
from django.db import DatabaseError
from redis.exceptions import RedisError

from commerce.accounts.models import ShopperSession
from commerce.accounts.selectors import (
    shopper_session_usable_by,
)
from commerce.accounts.services import shopper_session_create
from commerce.accounts.shoppers import PAGE_SESSION_KEY, Shopper
from commerce.errors import DomainError, RateLimited
from commerce.jsontext import dumps_text
from commerce.logs import bind_shopper, request_id_from
from commerce.ws_auth import client_address, query_params, user_for_credential
from conversations import selectors
from conversations.assistant.pipeline import Turn, respond_turn
from conversations.assistant.reply import render_message_html, stream_chunks
from conversations.models import session_group, user_group
from conversations.services import (
    CHAT_EVENTS,
    chat_guest_connect_check,
    chat_rate_check,
    guest_turn_start,
    message_content_clean,
)

logger = logging.getLogger(__name__)

# A frame carries one message of at most MAX_MESSAGE_CHARS characters; JSON escaping can make it a
# few times longer, anything beyond this is refused before it is parsed.
MAX_FRAME_CHARS = 32_000
CLOSE_AUTH_FAILED = 4401
CLOSE_HEARTBEAT_TIMEOUT = 4408
CLOSE_RATE_LIMITED = 4429
# Redis (the channel layer) or the database is unreachable: the client should reconnect later, and can
# keep chatting through POST /api/v1/interactions/message meanwhile. 4000 + HTTP's 503, like the codes
# above: RFC 6455's own "Try Again Later" (1013) is one Daphne's WebSocket library refuses to send (it
# allows a server 1000 and 3000-4999 only); the socket then dropped with 1011, an internal error.
CLOSE_SERVICE_UNAVAILABLE = 4503
# What the channel layer and the database raise when their server is down or unreachable.
BACKEND_UNAVAILABLE = (RedisError, OSError, DatabaseError)
UNAVAILABLE = "Live chat is unavailable right now; try again shortly (or send messages over the REST API)."
AUTH_ERROR_MESSAGES = {
    "invalid_token": "The access token is invalid or expired.",
    "invalid_ticket": "The socket ticket is unknown, expired or already used; ask for a new one.",
    "auth_required": 'Send {"type": "auth", "payload": {"ticket": "..."}} (or "token") first.',
}
CLIENT_TYPES = ("message", "typing", "ping", "pong")
# ``?auth=frame``: the client signs in with its first frame, within this many seconds.
AUTH_FRAME_TIMEOUT_SECONDS = 10
MAX_HISTORY_ON_CONNECT = 50


def _iso(value) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


@database_sync_to_async
def _page_session_key(scope: dict[str, Any]) -> str:
    session = scope.get("session")
    if session is None:
        return ""
    return session.get(PAGE_SESSION_KEY, "") or ""


@database_sync_to_async
def _recent_history(shopper: Shopper, limit: int) -> list[dict[str, Any]]:
    conversation = selectors.conversation_find(shopper=shopper)
    return [selectors.message_to_dict(m) for m in selectors.history(conversation=conversation, limit=limit)]


def _history_limit(raw: str) -> int:
    """``?history=N`` asks for the last N messages right after ``session``; 0 (the default) for none."""
    return min(int(raw), MAX_HISTORY_ON_CONNECT) if raw.isdigit() else 0


@database_sync_to_async
def _shopper_session(user, key: str, channel: str) -> ShopperSession:
    """The session named by the client if it is active and not someone else's, else a new one."""
    session = shopper_session_usable_by(key=key, user=user)  # another account's never names it
    if session is None:
        session = shopper_session_create(channel=channel, user=user)
    return session


_guest_connect_check = sync_to_async(chat_guest_connect_check)

# A message's work (the limit, the session check, the turn) runs on a small pool of worker threads
# shared by the process's sockets, not on the one thread Channels otherwise gives every socket of the
# process (where 25 sockets' messages wait in one queue while each one waits on PostgreSQL). One
# socket's messages still run one after another (the consumer awaits each); the pool is no larger
# than DB_POOL_MAX_SIZE when that is set, so a worker never waits for a database connection.
# CHAT_WORKER_THREADS=0 keeps Channels' single thread.
_workers = (
    ThreadPoolExecutor(max_workers=settings.CHAT_WORKER_THREADS, thread_name_prefix="chat")
    if settings.CHAT_WORKER_THREADS
    else None
)
_one_thread = _workers is None


class _SessionClaimed(Exception):
    """The guest session this socket speaks for has been signed in to an account since it opened."""


def _checked_turn(*, shopper: Shopper, socket: str, content: Any, **turn: Any) -> tuple[Shopper, Turn]:
    """A message's checks and turn in one worker hop and database connection (a hop costs a thread
    handoff, a pool checkout and its health check): the chat rate limit (``RateLimited``), the text
    (``EmptyMessage``, ``MessageTooLong``), a guest's session and, once the conversation exists, in the
    same query, the conversation (``guest_turn_start``): the session as stored (saved again if it was
    purged as unused, ``CHAT_GUEST_SESSION_PURGE_MINUTES``), refused when an account has claimed it."""
    chat_rate_check(shopper=shopper, socket=socket)
    text = message_content_clean(content)
    conversation = None
    if shopper.user is None and shopper.session is not None:  # a guest socket always has its session
        session, claimed, conversation = guest_turn_start(session=shopper.session)
        if claimed:
            raise _SessionClaimed
        shopper = Shopper(user=None, session=session)
    return shopper, respond_turn(shopper=shopper, conversation=conversation, text=text, **turn)


_respond_turn = database_sync_to_async(_checked_turn, thread_sensitive=_one_thread, executor=_workers)


class _TypingIndicator:
    """The socket's ``typing`` events for one message: {on: true} once the message has waited
    ``CHAT_TYPING_DELAY_MS`` for its answer (at once when that is 0), {on: false} before the answer
    only if on was sent. Most answers take a few milliseconds: announcing them would cost two frames
    a message that a shopper never sees (or sees as a flicker)."""

    def __init__(self, consumer: ChatConsumer) -> None:
        self.consumer = consumer
        self.timer: asyncio.TimerHandle | None = None
        self.shown: asyncio.Task | None = None

    def start(self) -> None:
        delay = settings.CHAT_TYPING_DELAY_MS / 1000
        if delay <= 0:
            self._show()  # sent as soon as the loop runs, before anything the turn sends
        else:
            self.timer = asyncio.get_running_loop().call_later(delay, self._show)

    def _show(self) -> None:
        self.timer = None
        self.shown = asyncio.create_task(self.consumer.send_event("typing", {"on": True}))

    def hold(self) -> None:
        """On is not needed any more (the answer's streamed text has started): not sent after this."""
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None

    async def stop(self) -> None:
        self.hold()
        if self.shown is not None:
            await self.shown
            self.shown = None
            await self.consumer.send_event("typing", {"on": False})


class _LiveStream:
    """A model's text as it is generated, sent as ``stream_delta`` events in order.

    ``delta`` is called from the worker thread that serves the message; each event is sent on the
    socket's event loop before the model's next piece is read, so the shopper sees the words as they come.
    """

    def __init__(self, consumer: ChatConsumer) -> None:
        self.consumer = consumer
        self.message_id = uuid.uuid4().hex
        self.started = False

    def delta(self, piece: str) -> None:
        if not piece:
            return
        if not self.started:
            self.started = True
            async_to_sync(self.consumer.stream_start)(self.message_id)
        async_to_sync(self.consumer.send_event)(
            "stream_delta", {"messageId": self.message_id, "delta": piece}
        )


class ChatConsumer(AsyncWebsocketConsumer):
    accepted = False

    async def __call__(self, scope, receive, send) -> None:
        """Channels joins the channel layer before ``connect`` runs (and listens on it throughout): with
        Redis unreachable that raises, and the shopper would see the socket fail without a reason. Here
        the socket is accepted if it was not yet, told ``service_unavailable`` and closed with 4503.

        The socket's logs (and the Celery tasks its messages start) carry a request id for its whole
        life: the handshake's ``X-Request-ID`` when sane, else a new one (commerce.logs)."""
        structlog.contextvars.clear_contextvars()
        handshake = dict(scope.get("headers") or [])
        raw_id = handshake.get(b"x-request-id", b"").decode("latin-1")
        structlog.contextvars.bind_contextvars(request_id=request_id_from(raw_id), transport="websocket")
        try:
            await super().__call__(scope, receive, send)
        except (RedisError, OSError) as exc:
            logger.warning("chat socket closed: the channel layer is unavailable: %s", exc)
            with contextlib.suppress(OSError, RuntimeError):  # the client may be gone already
                if not self.accepted:
                    opening = await receive()
                    if opening.get("type") != "websocket.connect":
                        return
                    await send({"type": "websocket.accept"})
                frame = {"type": "error", "payload": {"code": "service_unavailable", "message": UNAVAILABLE}}
                await send({"type": "websocket.send", "text": json.dumps(frame)})
                await send({"type": "websocket.close", "code": CLOSE_SERVICE_UNAVAILABLE})

    async def dispatch(self, message: dict[str, Any]) -> None:
        """Channels' dispatch without its ``aclose_old_connections()`` before every frame and event.

        That call is a hop to the process's one shared sync thread per frame (about 7% of a chat
        process's CPU under load, measured), closing connections a consumer's *sync* handlers may have
        left. This consumer has none: every database call here is a ``database_sync_to_async`` call,
        which closes stale connections itself, before and after, in the thread that holds them."""
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)

    async def accept(self, subprotocol: str | None = None, headers=None) -> None:
        await super().accept(subprotocol, headers)
        self.accepted = True

    async def connect(self) -> None:
        self.groups_joined: list[str] = []
        self.heartbeat: asyncio.Task | None = None
        self.expiry: asyncio.Task | None = None
        self.awaiting_auth = False
        await self.accept()
        auth_error = self.scope.get("auth_error")
        if auth_error:
            await self.send_error(auth_error, AUTH_ERROR_MESSAGES.get(auth_error, "Not signed in."))
            await self.close(code=CLOSE_AUTH_FAILED)
            return
        user = self.scope.get("user")
        user = user if user is not None and user.is_authenticated else None
        if user is None:
            try:  # before the session is made: a refused connect writes nothing
                await _guest_connect_check(client_address=client_address(self.scope))
            except RateLimited as exc:
                await self.send_rate_limited(exc)
                await self.close(code=CLOSE_RATE_LIMITED)
                return
        if user is None and query_params(self.scope).get("auth") == "frame":
            # Nothing is set up (no session, no group, no `session` event) until the auth frame.
            self.awaiting_auth = True
            self.expiry = asyncio.create_task(self._close_at_expiry(time.time() + AUTH_FRAME_TIMEOUT_SECONDS))
            return
        await self._start(user, self.scope.get("auth_expires_at") if user is not None else None)

    async def _start(self, user, expires_at: float | None) -> None:
        """Names the shopper's session, joins its groups and sends ``session``: the socket is open."""
        params = query_params(self.scope)
        channel = params.get("channel", "web")
        self.chat_channel = channel if channel in ShopperSession.Channel.values else "web"
        try:
            key = params.get("sessionId", "").strip() or await _page_session_key(self.scope)
            session = await _shopper_session(user, key, self.chat_channel)
            self.shopper = Shopper(user=user, session=session)
            bind_shopper(user, session.key)
            groups = [session_group(session.key)] + ([user_group(user.pk)] if user is not None else [])
            for group in groups:
                await self.channel_layer.group_add(group, self.channel_name)
                self.groups_joined.append(group)
        except BACKEND_UNAVAILABLE as exc:
            logger.warning("chat socket refused: a backend is unavailable: %s", exc)
            await self.send_error("service_unavailable", UNAVAILABLE)
            await self.close(code=CLOSE_SERVICE_UNAVAILABLE)
            return

        logger.info("chat socket opened")
        await self.send_event("session", {"sessionId": session.key, "expiresAt": _iso(session.expires_at)})
        history_limit = _history_limit(params.get("history", ""))
        if history_limit:
            await self.send_event("history", {"items": await _recent_history(self.shopper, history_limit)})
        self.last_pong = asyncio.get_running_loop().time()
        self.heartbeat = asyncio.create_task(self._heartbeat())
        if expires_at is not None:
            self.expiry = asyncio.create_task(self._close_at_expiry(float(expires_at)))

    async def disconnect(self, code: int) -> None:
        for task in (getattr(self, "heartbeat", None), getattr(self, "expiry", None)):
            if task is not None and task is not asyncio.current_task():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        for group in getattr(self, "groups_joined", []):
            try:
                await self.channel_layer.group_discard(group, self.channel_name)
            except (RedisError, OSError) as exc:  # the layer forgets a dead channel by itself
                logger.info("chat socket: could not leave %s: %s", group, exc)

    # --- frames from the client --------------------------------------------------------------

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if bytes_data is not None:
            try:
                text_data = bytes_data.decode("utf-8")
            except UnicodeDecodeError:
                await self.send_error("invalid_utf8", "The frame is not valid UTF-8 text; send JSON text.")
                return
        text = text_data or ""
        if len(text) > MAX_FRAME_CHARS:
            await self.send_error(
                "message_too_long", "The frame is too large; a message is at most 4000 characters."
            )
            return
        try:
            data = json.loads(text)
        except (ValueError, RecursionError):  # RecursionError: nesting deeper than the parser goes
            await self.send_error(
                "bad_json", 'Frames must be JSON objects like {"type": "message", "payload": {...}}.'
            )
            return
        if not isinstance(data, dict) or not isinstance(data.get("type"), str):
            await self.send_error("invalid_frame", 'Frames must be JSON objects with a string "type".')
            return
        payload = data.get("payload")
        payload = {} if payload is None else payload
        if not isinstance(payload, dict):
            await self.send_error("invalid_payload", '"payload" must be a JSON object.')
            return
        kind = data["type"]
        if self.awaiting_auth:
            await self._on_auth(kind, payload)
        elif kind == "ping":
            await self.send_event("pong", {})
        elif kind == "pong":
            self.last_pong = asyncio.get_running_loop().time()
        elif kind == "typing":
            return  # the shopper is typing: nothing to do server-side yet
        elif kind == "message":
            await self._on_message(payload)
        else:
            await self.send_error(
                "unknown_type", f"Unknown message type; use one of {', '.join(CLIENT_TYPES)}."
            )

    async def _on_auth(self, kind: str, payload: dict[str, Any]) -> None:
        """The first frame of an ``?auth=frame`` socket: a ticket or access token, else 4401."""
        if self.expiry is not None:  # the auth deadline: this frame came in time, good or not
            self.expiry.cancel()
        ticket, token = payload.get("ticket"), payload.get("token")
        ticket, token = (ticket if isinstance(ticket, str) else ""), (token if isinstance(token, str) else "")
        user, expires_at, error = (
            await user_for_credential(ticket=ticket, token=token)
            if kind == "auth" and (ticket or token)
            else (None, None, "auth_required")
        )
        if user is None:
            await self.send_error(error, AUTH_ERROR_MESSAGES[error])
            await self.close(code=CLOSE_AUTH_FAILED)
            return
        self.awaiting_auth = False
        self.scope["user"] = user
        await self._start(user, expires_at)

    async def _on_message(self, payload: dict[str, Any]) -> None:
        self.typing = _TypingIndicator(self)
        self.typing.start()
        stream = payload.get("stream") is True
        live = _LiveStream(self) if stream else None
        # The conversation's other sockets hear of the two messages after this one has its answer.
        live_events: list[tuple[str, dict[str, Any]]] = []
        try:
            self.shopper, turn = await _respond_turn(
                shopper=self.shopper,
                socket=self.channel_name,
                content=payload.get("content"),
                channel=self.chat_channel,
                origin=self.channel_name,
                on_delta=live.delta if live is not None else None,
                push=lambda group, event: live_events.append((group, event)),
            )
        except (_SessionClaimed, DomainError) as exc:
            await self.typing.stop()
            await self._send_refusal(exc, live)
            return
        finally:
            self.typing.hold()  # also when the turn was cancelled (the socket closed): no typing after it
        await self.typing.stop()
        if live is not None:
            if not live.started:
                # the rules answered (no model text to stream): the reply is sent in word groups
                await self.send_event("stream_start", {"messageId": live.message_id})
                for delta in stream_chunks(turn.reply["reply"]):
                    await self.send_event("stream_delta", {"messageId": live.message_id, "delta": delta})
            await self.send_event("stream_end", {"messageId": live.message_id})
        await self.send_event("response", {**turn.reply, "html": turn.html})
        await self._push_live(live_events)

    async def _send_refusal(self, exc: _SessionClaimed | DomainError, live: _LiveStream | None) -> None:
        """A message the turn refused: over the rate limit, unusable text, a claimed session, a
        domain rule (a model's text already streamed is closed first)."""
        if isinstance(exc, RateLimited):
            await self.send_rate_limited(exc)
        elif isinstance(exc, _SessionClaimed):
            # Signed in elsewhere (another tab, or a device this conversation was handed to): the
            # cart and conversation now belong to the account, which this guest socket is not.
            await self.send_error(
                "session_signed_in",
                "This conversation now belongs to an account. Reload the page (signed in) to continue.",
            )
        else:
            if live is not None and live.started:
                await self.send_event("stream_end", {"messageId": live.message_id})
            await self.send_error(exc.code, exc.message)

    async def stream_start(self, message_id: str) -> None:
        """The model's text starts: it shows the shopper the answer is coming, so no ``typing`` after it."""
        self.typing.hold()
        await self.send_event("stream_start", {"messageId": message_id})

    async def _push_live(self, events: list[tuple[str, dict[str, Any]]]) -> None:
        if self.channel_layer is None:
            return
        # A turn's two messages go to their group as one event: every socket of the conversation hears
        # each channel-layer event, this one included (it drops its own), so one event is half the work.
        by_group: dict[str, list[dict[str, Any]]] = {}
        for group, event in events:
            by_group.setdefault(group, []).append(event)
        for group, batch in by_group.items():
            event = batch[0] if len(batch) == 1 else {"type": CHAT_EVENTS, "events": batch}
            try:
                await self.channel_layer.group_send(group, event)
            except (OSError, RedisError) as exc:
                # The rows are committed and the history shows them; a missed live push fails nothing.
                logger.warning("Could not push a chat message to %s: %s", group, exc)

    # --- events from the channel layer -------------------------------------------------------

    async def chat_messages(self, event: dict[str, Any]) -> None:
        """A turn's messages recorded on another socket of this conversation, in order."""
        for message in event["events"]:
            await self.chat_message(message)

    async def chat_message(self, event: dict[str, Any]) -> None:
        """A message of this conversation recorded elsewhere (another tab, REST, staff)."""
        if event.get("origin") == self.channel_name:
            return  # this socket already has it as its own ``response``
        role, content, channel = event["role"], event["content"], event.get("channel", "")
        await self.send_event(
            "message",
            {
                "role": role,
                "content": content,
                "channel": channel,
                "html": render_message_html(role=role, content=content, channel=channel),
            },
        )

    async def auth_revoked(self, event: dict[str, Any]) -> None:
        """The user signed out everywhere, changed their password or was deactivated (any process)."""
        await self.send_error("auth_revoked", "Your sign-in has ended; sign in again to continue.")
        await self.close(code=CLOSE_AUTH_FAILED)

    # --- heartbeat, expiry and sending -------------------------------------------------------

    async def _heartbeat(self) -> None:
        interval = float(settings.WS_HEARTBEAT_INTERVAL_SECONDS)
        timeout = float(settings.WS_HEARTBEAT_TIMEOUT_SECONDS)
        loop = asyncio.get_running_loop()
        while True:
            remaining = timeout - (loop.time() - self.last_pong)
            if remaining > 0:
                await asyncio.sleep(min(interval, remaining))
            if loop.time() - self.last_pong >= timeout:
                await self.close(code=CLOSE_HEARTBEAT_TIMEOUT)
                return
            await self.send_event("ping", {})

    async def _close_at_expiry(self, expires_at: float) -> None:
        await asyncio.sleep(max(0.0, expires_at - time.time()))
        if self.awaiting_auth:
            await self.send_error("auth_timeout", "No auth frame came in time; reconnect and send it first.")
        else:
            await self.send_error("token_expired", "The access token has expired; reconnect with a new one.")
        await self.close(code=CLOSE_AUTH_FAILED)

    async def send_rate_limited(self, exc: RateLimited) -> None:
        await self.send_event(
            "error", {"code": exc.code, "message": exc.message, "retryAfter": exc.retry_after}
        )

    async def send_event(self, kind: str, payload: dict[str, Any]) -> None:
        await self.send(text_data=dumps_text({"type": kind, "payload": payload}))

    async def send_error(self, code: str, message: str) -> None:
        await self.send_event("error", {"code": code, "message": message})
