"""The chat socket speaks CONTRACT.md section 3, through the real ASGI stack (origin check, auth, routing)."""

from __future__ import annotations

import asyncio
import time

import pytest
from channels.db import database_sync_to_async
from django.conf import settings as django_settings
from django.test import Client
from rest_framework_simplejwt.tokens import RefreshToken

from commerce.accounts.models import ShopperSession
from commerce.accounts.shoppers import PAGE_SESSION_KEY, Shopper
from commerce.accounts.tests.factories import UserFactory
from conversations.models import Conversation, Message, SupportTicket
from conversations.services import conversation_for_shopper, staff_reply, ticket_open
from conversations.tests.conftest import ORIGIN, TIMEOUT, open_socket, receive_until, run, send
from conversations.tests.test_api import REPLY_FIELDS

pytestmark = pytest.mark.django_db(transaction=True)


def test_first_event_is_a_new_guest_session():
    async def scenario():
        socket, first = await open_socket()
        await socket.disconnect()
        return first

    first = run(scenario())
    assert first["type"] == "session"
    key = first["payload"]["sessionId"]
    assert first["payload"]["expiresAt"].endswith("Z")
    session = ShopperSession.objects.get(key=key)
    assert session.user is None and session.channel == "web"


def test_a_valid_session_id_is_kept_and_an_unknown_one_replaced():
    session = ShopperSession.objects.create(channel="web")

    async def scenario():
        socket, kept = await open_socket(f"/ws/chat/?sessionId={session.key}")
        await socket.disconnect()
        socket, replaced = await open_socket("/ws/chat/?sessionId=s_doesnotexist")
        await socket.disconnect()
        return kept, replaced

    kept, replaced = run(scenario())
    assert kept["payload"]["sessionId"] == session.key
    assert replaced["payload"]["sessionId"] not in ("s_doesnotexist", session.key)


def test_ping_gets_pong():
    async def scenario():
        socket, _ = await open_socket()
        await send(socket, "ping")
        event = await socket.receive_json_from(timeout=TIMEOUT)
        await socket.disconnect()
        return event

    assert run(scenario()) == {"type": "pong", "payload": {}}


def test_frames_do_not_hop_to_the_shared_sync_thread_to_close_database_connections(monkeypatch):
    """Channels' dispatch closes stale connections on the process's one sync thread before every frame;
    the chat socket's database work closes its own in the worker that holds the connection."""
    hops: list[str] = []

    async def counted_hop() -> None:
        hops.append("aclose_old_connections")

    monkeypatch.setattr("channels.consumer.aclose_old_connections", counted_hop)

    async def scenario():
        socket, _ = await open_socket()
        await send(socket, "ping")
        pong = await socket.receive_json_from(timeout=TIMEOUT)
        await send(socket, "message", {"content": "hello"})
        response, _ = await receive_until(socket, "response")
        await socket.disconnect()
        return pong, response

    pong, response = run(scenario())
    assert pong["type"] == "pong" and response["payload"]["reply"]
    assert hops == []
    assert Message.objects.count() == 2  # the turn's database work still happened


@pytest.mark.parametrize(
    ("frame", "code"),
    [
        ("{not json", "bad_json"),
        ('{"type": "dance", "payload": {}}', "unknown_type"),
        ('["message"]', "invalid_frame"),
        ('{"type": "message", "payload": "hi"}', "invalid_payload"),
        ('{"type": "message", "payload": {"content": "   "}}', "empty_message"),
        ('{"type": "message", "payload": {"content": 42}}', "empty_message"),
    ],
)
def test_bad_frames_get_an_error_event_and_the_socket_stays_open(frame, code):
    async def scenario():
        socket, _ = await open_socket()
        await socket.send_to(text_data=frame)
        error = await socket.receive_json_from(timeout=TIMEOUT)
        await send(socket, "ping")  # still open and answering
        pong = await socket.receive_json_from(timeout=TIMEOUT)
        await socket.disconnect()
        return error, pong

    error, pong = run(scenario())
    assert error["type"] == "error"
    assert error["payload"]["code"] == code
    assert error["payload"]["message"]
    assert pong["type"] == "pong"


def test_invalid_utf8_binary_frame_gets_an_error_event():
    async def scenario():
        socket, _ = await open_socket()
        await socket.send_to(bytes_data=b"\xff\xfe\xfd")
        error = await socket.receive_json_from(timeout=TIMEOUT)
        await send(socket, "ping")
        pong = await socket.receive_json_from(timeout=TIMEOUT)
        await socket.disconnect()
        return error, pong

    error, pong = run(scenario())
    assert error["payload"]["code"] == "invalid_utf8"
    assert pong["type"] == "pong"


@pytest.mark.parametrize("size", [4001, 100 * 1024])
def test_overlong_messages_are_refused_and_nothing_is_recorded(size):
    async def scenario():
        socket, _ = await open_socket()
        await send(socket, "message", {"content": "a" * size})
        error = await socket.receive_json_from(timeout=TIMEOUT)
        await socket.disconnect()
        return error

    error = run(scenario())
    assert error["type"] == "error"
    assert error["payload"]["code"] == "message_too_long"
    assert not Message.objects.exists()


async def _events_of_one_message(payload: dict) -> list[dict]:
    """Every event a new socket receives for one ``message``, through its ``response``."""
    socket, _ = await open_socket()
    await send(socket, "message", payload)
    events = []
    while not events or events[-1]["type"] != "response":
        events.append(await socket.receive_json_from(timeout=TIMEOUT))
    await socket.disconnect()
    return events


def test_message_gets_a_response_with_the_reply_and_escaped_html_and_no_typing_when_fast(settings):
    settings.CHAT_TYPING_DELAY_MS = 60_000  # no answer waits that long here

    async def scenario():
        socket, first = await open_socket()
        await send(socket, "message", {"content": "<script>alert('x')</script> hello"})
        response, before = await receive_until(socket, "response")
        await send(socket, "ping")
        after = await socket.receive_json_from(timeout=TIMEOUT)
        await socket.disconnect()
        return first, response, before, after

    first, response, before, after = run(scenario())
    assert before == [] and after["type"] == "pong"  # no typing before the answer, nor a late one after it
    payload = response["payload"]
    assert set(payload) >= REPLY_FIELDS
    assert payload["sessionId"] == first["payload"]["sessionId"]
    assert payload["reply"]
    assert "<script>" not in payload["html"]
    assert 'hx-swap-oob="beforeend:#chat-log"' in payload["html"]
    stored = list(Message.objects.order_by("id").values_list("role", "content", "channel"))
    assert stored[0] == ("user", "<script>alert('x')</script> hello", "web")
    assert stored[1][0] == "assistant" and stored[1][1] == payload["reply"]


def test_typing_is_on_then_off_before_the_response_when_the_answer_is_slower_than_the_delay(
    settings, monkeypatch
):
    from conversations import consumers

    settings.CHAT_TYPING_DELAY_MS = 20
    answer = consumers.respond_turn

    def slow_answer(**turn):
        time.sleep(0.3)  # the turn (a model call, say) takes longer than the delay
        return answer(**turn)

    monkeypatch.setattr(consumers, "respond_turn", slow_answer)

    events = run(_events_of_one_message({"content": "hello"}))
    assert [(e["type"], e["payload"].get("on")) for e in events[:-1]] == [("typing", True), ("typing", False)]


@pytest.mark.parametrize(
    ("delay_ms", "expected"),
    [
        (20, ["typing:True", "stream_start", "stream_delta", "stream_delta", "typing:False", "stream_end"]),
        (150, ["stream_start", "stream_delta", "stream_delta", "stream_end"]),
    ],
    ids=["text starts after the delay", "text starts first: no typing after it"],
)
def test_a_models_streamed_text_and_typing_come_in_order(settings, monkeypatch, delay_ms, expected):
    from conversations import consumers

    settings.CHAT_TYPING_DELAY_MS = delay_ms
    answer = consumers.respond_turn

    def streaming_answer(*, on_delta, **turn):
        time.sleep(0.06)  # the vendor's first piece comes after 60 ms
        on_delta("Here are ")
        on_delta("two shoes")
        time.sleep(0.25)  # the rest of the turn (tools, writes) takes longer than either delay
        return answer(on_delta=None, **turn)

    monkeypatch.setattr(consumers, "respond_turn", streaming_answer)
    events = run(_events_of_one_message({"content": "show me running shoes", "stream": True}))
    kinds = [f"{e['type']}:{e['payload']['on']}" if e["type"] == "typing" else e["type"] for e in events]
    assert kinds == [*expected, "response"]
    assert [e["payload"]["delta"] for e in events if e["type"] == "stream_delta"] == [
        "Here are ",
        "two shoes",
    ]


def test_typing_is_sent_at_once_when_the_delay_is_zero(settings):
    settings.CHAT_TYPING_DELAY_MS = 0

    async def scenario():
        socket, _ = await open_socket()
        await send(socket, "message", {"content": "hello"})
        response, before = await receive_until(socket, "response")
        await socket.disconnect()
        return before

    assert run(scenario()) == ["typing", "typing"]


def test_streamed_reply_comes_as_start_deltas_end_then_response(settings):
    settings.CHAT_TYPING_DELAY_MS = 0

    events = run(_events_of_one_message({"content": "what can you do?", "stream": True}))
    kinds = [e["type"] for e in events]
    assert kinds[:2] == ["typing", "typing"]
    assert kinds[2] == "stream_start" and kinds[-2] == "stream_end" and kinds[-1] == "response"
    assert set(kinds[3:-2]) == {"stream_delta"}
    message_id = events[2]["payload"]["messageId"]
    assert all(e["payload"]["messageId"] == message_id for e in events[2:-1])
    text = "".join(e["payload"]["delta"] for e in events[3:-2])
    assert text == events[-1]["payload"]["reply"]
    assert isinstance(message_id, str) and message_id  # opaque: one id for the whole stream
    assert Message.objects.filter(role="assistant").last().content == text


def test_server_pings_and_closes_after_the_heartbeat_timeout_without_a_pong(settings):
    settings.WS_HEARTBEAT_INTERVAL_SECONDS = 0.05
    settings.WS_HEARTBEAT_TIMEOUT_SECONDS = 0.2

    async def scenario():
        socket, _ = await open_socket()
        ping = await socket.receive_json_from(timeout=TIMEOUT)
        while True:  # ignore the pings: the server must give up on us
            output = await socket.receive_output(timeout=TIMEOUT)
            if output["type"] == "websocket.close":
                return ping, output

    ping, closed = run(scenario())
    assert ping == {"type": "ping", "payload": {}}
    assert closed["code"] == 4408


def test_answering_pings_keeps_the_socket_open(settings):
    settings.WS_HEARTBEAT_INTERVAL_SECONDS = 0.05
    settings.WS_HEARTBEAT_TIMEOUT_SECONDS = 0.2

    async def scenario():
        socket, _ = await open_socket()
        loop = asyncio.get_running_loop()
        started = loop.time()
        while loop.time() - started < 0.5:  # more than twice the timeout
            event = await socket.receive_json_from(timeout=TIMEOUT)
            assert event["type"] == "ping"
            await send(socket, "pong")
        await send(socket, "ping")
        event = await receive_until(socket, "pong")
        await socket.disconnect()
        return event

    event, _ = run(scenario())
    assert event["type"] == "pong"


def test_token_in_query_string_identifies_the_user():
    user = UserFactory()
    token = RefreshToken.for_user(user).access_token

    async def scenario():
        socket, first = await open_socket(f"/ws/chat/?token={token}")
        await send(socket, "message", {"content": "hello"})
        await receive_until(socket, "response")
        await socket.disconnect()
        return first

    first = run(scenario())
    session = ShopperSession.objects.get(key=first["payload"]["sessionId"])
    assert session.user == user
    assert Conversation.objects.get(user=user).messages.count() == 2


def test_invalid_token_gets_an_error_and_a_closed_socket():
    async def scenario():
        from channels.testing import WebsocketCommunicator

        from commerce.asgi import application

        socket = WebsocketCommunicator(application, "/ws/chat/?token=not-a-jwt", headers=[ORIGIN])
        connected, _ = await socket.connect(timeout=TIMEOUT)
        error = await socket.receive_json_from(timeout=TIMEOUT)
        closed = await socket.receive_output(timeout=TIMEOUT)
        return connected, error, closed

    connected, error, closed = run(scenario())
    assert connected
    assert error["payload"]["code"] == "invalid_token"
    assert closed == {"type": "websocket.close", "code": 4401}


def test_django_session_identifies_a_signed_in_browser_and_its_page_session():
    user = UserFactory()
    page_session = ShopperSession.objects.create(channel="web", user=user)
    client = Client()
    client.force_login(user)
    django_session = client.session
    django_session[PAGE_SESSION_KEY] = page_session.key
    django_session.save()
    name = django_settings.SESSION_COOKIE_NAME  # __Host-sessionid where session cookies are Secure
    cookie = f"{name}={client.cookies[name].value}".encode()

    async def scenario():
        socket, first = await open_socket(headers=[ORIGIN, (b"cookie", cookie)])
        await socket.disconnect()
        return first

    assert run(scenario())["payload"]["sessionId"] == page_session.key


def test_another_accounts_session_id_is_never_reused():
    owner, intruder = UserFactory(), UserFactory()
    owners_session = ShopperSession.objects.create(channel="web", user=owner)
    token = RefreshToken.for_user(intruder).access_token

    async def scenario():
        socket, first = await open_socket(f"/ws/chat/?sessionId={owners_session.key}&token={token}")
        await socket.disconnect()
        socket, guest_first = await open_socket(f"/ws/chat/?sessionId={owners_session.key}")
        await socket.disconnect()
        return first, guest_first

    first, guest_first = run(scenario())
    assert first["payload"]["sessionId"] != owners_session.key
    assert guest_first["payload"]["sessionId"] != owners_session.key


def test_a_foreign_origin_is_refused():
    async def scenario():
        from channels.testing import WebsocketCommunicator

        from commerce.asgi import application

        socket = WebsocketCommunicator(
            application, "/ws/chat/", headers=[(b"origin", b"https://evil.example")]
        )
        connected, _ = await socket.connect(timeout=TIMEOUT)
        return connected

    assert run(scenario()) is False


def test_a_message_from_another_tab_is_forwarded_but_not_echoed_to_its_sender():
    session = ShopperSession.objects.create(channel="web")

    async def scenario():
        tab_a, _ = await open_socket(f"/ws/chat/?sessionId={session.key}")
        tab_b, _ = await open_socket(f"/ws/chat/?sessionId={session.key}")
        await send(tab_a, "message", {"content": "hello <b>there</b>"})
        await receive_until(tab_a, "response")
        first = await tab_b.receive_json_from(timeout=TIMEOUT)
        second = await tab_b.receive_json_from(timeout=TIMEOUT)
        await send(tab_a, "ping")
        after = await tab_a.receive_json_from(timeout=TIMEOUT)  # no `message` echo came before it
        await tab_a.disconnect()
        await tab_b.disconnect()
        return first, second, after

    first, second, after = run(scenario())
    assert first["type"] == "message" and first["payload"]["role"] == "user"
    assert first["payload"]["content"] == "hello <b>there</b>"
    assert "&lt;b&gt;there&lt;/b&gt;" in first["payload"]["html"]
    assert first["payload"]["channel"] == "web"
    assert second["payload"]["role"] == "assistant"
    assert after["type"] == "pong"


def test_staff_reply_reaches_the_shoppers_open_chat_live():
    shopper, staff = UserFactory(), UserFactory(is_staff=True)
    token = RefreshToken.for_user(shopper).access_token
    conversation = conversation_for_shopper(shopper=Shopper(user=shopper, session=None))
    ticket = ticket_open(
        user=shopper,
        subject="Damaged parcel",
        message="It arrived torn.",
        channel="web",
        conversation=conversation,
    )

    async def scenario():
        socket, _ = await open_socket(f"/ws/chat/?token={token}")
        await database_sync_to_async(staff_reply)(
            ticket=ticket, staff_user=staff, body="Sorry! A <i>new</i> one is on its way."
        )
        event = await socket.receive_json_from(timeout=TIMEOUT)
        await socket.disconnect()
        return event

    event = run(scenario())
    assert event["type"] == "message"
    payload = event["payload"]
    assert payload["role"] == "staff"
    assert "A <i>new</i> one is on its way." in payload["content"]
    assert "&lt;i&gt;new&lt;/i&gt;" in payload["html"]
    assert Message.objects.filter(conversation=conversation, role="staff").exists()
    assert SupportTicket.objects.get(pk=ticket.pk).status == "pending"


def test_a_message_posted_over_rest_reaches_the_open_socket():
    from rest_framework.test import APIClient

    session = ShopperSession.objects.create(channel="web")

    async def scenario():
        socket, _ = await open_socket(f"/ws/chat/?sessionId={session.key}")

        def post():
            return APIClient().post(
                "/api/v1/interactions/message",
                {"sessionId": session.key, "content": "hello from the api", "channel": "api"},
                format="json",
            )

        response = await database_sync_to_async(post)()
        first = await socket.receive_json_from(timeout=TIMEOUT)
        second = await socket.receive_json_from(timeout=TIMEOUT)
        await socket.disconnect()
        return response, first, second

    response, first, second = run(scenario())
    assert response.status_code == 200
    assert (first["payload"]["role"], first["payload"]["content"], first["payload"]["channel"]) == (
        "user",
        "hello from the api",
        "api",
    )
    assert second["payload"]["role"] == "assistant"


@pytest.mark.redis
def test_round_trip_on_the_redis_pubsub_channel_layer():
    from django.conf import settings as django_settings

    assert (
        django_settings.CHANNEL_LAYERS["default"]["BACKEND"]
        == "channels_redis.pubsub.RedisPubSubChannelLayer"
    )
    session = ShopperSession.objects.create(channel="web")

    async def scenario():
        tab_a, _ = await open_socket(f"/ws/chat/?sessionId={session.key}")
        tab_b, _ = await open_socket(f"/ws/chat/?sessionId={session.key}")
        await send(tab_a, "ping")
        pong = await tab_a.receive_json_from(timeout=TIMEOUT)
        await send(tab_a, "message", {"content": "hello"})
        response, _ = await receive_until(tab_a, "response")
        forwarded = await tab_b.receive_json_from(timeout=TIMEOUT)
        await tab_a.disconnect()
        await tab_b.disconnect()
        return pong, response, forwarded

    pong, response, forwarded = run(scenario())
    assert pong["type"] == "pong"
    assert response["payload"]["sessionId"] == session.key
    assert forwarded["type"] == "message" and forwarded["payload"]["role"] == "user"


def test_an_unknown_socket_path_is_refused_cleanly():
    async def scenario():
        from channels.testing import WebsocketCommunicator

        from commerce.asgi import application

        socket = WebsocketCommunicator(application, "/ws/nope/", headers=[ORIGIN])
        connected, code = await socket.connect(timeout=TIMEOUT)
        await socket.disconnect()
        return connected, code

    connected, code = run(scenario())
    assert connected is False
    assert code == 4404


def test_a_models_text_reaches_the_socket_as_the_vendor_streams_it_in_order(fake_llm, settings):
    from commerce.testing.fake_llm import text

    settings.LLM_DECISION_POLICY = "llm_first"
    words = ["Hello", " there,", " how", " can", " I", " help", " you", " today?"]
    # a pause between the vendor's chunks: the first deltas must be on the socket before the last is made
    fake_llm.script(text("".join(words), deltas=words, chunk_delay=0.15))

    async def scenario():
        socket, _ = await open_socket()
        await send(socket, "message", {"content": "hello", "stream": True})
        events, arrival = [], []
        loop = asyncio.get_running_loop()
        while not events or events[-1]["type"] != "response":
            events.append(await socket.receive_json_from(timeout=TIMEOUT))
            arrival.append(loop.time())
        await socket.disconnect()
        return events, arrival

    events, arrival = run(scenario())
    kinds = [e["type"] for e in events]
    deltas = [i for i, k in enumerate(kinds) if k == "stream_delta"]
    assert kinds[kinds.index("stream_start") + 1] == "stream_delta" and kinds[-2:] == [
        "stream_end",
        "response",
    ]
    assert [events[i]["payload"]["delta"] for i in deltas] == words  # one event per vendor delta, in order
    assert "".join(words) == events[-1]["payload"]["reply"] and events[-1]["payload"]["planner"] == "llm"
    # streamed live: the first word arrived well before the last one was generated
    assert arrival[deltas[-1]] - arrival[deltas[0]] > 0.5


@pytest.fixture
def statements(monkeypatch) -> list[str]:
    """Every SQL statement sent while the test runs, on every connection and thread (a socket's turn
    runs in a worker thread)."""
    from django.db.backends import utils

    sent: list[str] = []
    execute = utils.CursorWrapper._execute

    def recorded(self, sql, params, *rest):
        sent.append(sql)
        return execute(self, sql, params, *rest)

    monkeypatch.setattr(utils.CursorWrapper, "_execute", recorded)
    return sent


def test_a_guest_message_reads_its_session_with_the_conversation_in_one_query(statements):
    """The session check before each message (claimed by an account? purged?) rides on the query that
    loads the conversation and its dialogue state, once the conversation exists."""

    async def scenario():
        socket, _ = await open_socket()
        await send(socket, "message", {"content": "hello"})
        await receive_until(socket, "response")
        statements.clear()
        await send(socket, "message", {"content": "what is your return policy?"})
        response, _ = await receive_until(socket, "response")
        await socket.disconnect()
        return response

    response = run(scenario())
    assert response["payload"]["reply"]
    reads = [sql for sql in statements if sql.startswith("SELECT")]
    assert not [sql for sql in reads if 'FROM "accounts_shoppersession"' in sql]
    joined = [sql for sql in reads if 'FROM "conversations_conversation"' in sql]
    assert len(joined) == 1
    assert '"accounts_shoppersession"' in joined[0] and '"conversations_dialoguestate"' in joined[0]


def test_a_guests_first_message_starts_the_conversation_without_looking_for_it_again(statements):
    """The joined read found no conversation: it is started at once, and its (absent) dialogue state is
    not read."""

    async def scenario():
        socket, _ = await open_socket()
        statements.clear()
        await send(socket, "message", {"content": "hello"})
        response, _ = await receive_until(socket, "response")
        await send(socket, "message", {"content": "what is your return policy?"})
        await receive_until(socket, "response")
        await socket.disconnect()
        return response

    response = run(scenario())
    assert response["payload"]["reply"]
    reads = [sql for sql in statements if sql.startswith("SELECT")]
    assert len([sql for sql in reads if 'FROM "conversations_conversation"' in sql]) == 2  # one a message
    assert not [sql for sql in reads if 'FROM "conversations_dialoguestate"' in sql]
    assert Conversation.objects.count() == 1
    assert Message.objects.filter(conversation=Conversation.objects.get()).count() == 4
