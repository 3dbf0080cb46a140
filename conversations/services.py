"""Writes of conversations and support: every door (socket, REST, admin, assistant) goes through these.

Live delivery: a recorded message is pushed, after commit, to the channel-layer group of its
conversation (``user.<id>`` or ``session.<key>``), which every open socket of that conversation has
joined. The channel layer delivers at most once; the database row is the record, the push a courtesy.
"""

from __future__ import annotations

import functools
import logging
import math
import re
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, NoReturn, Required, TypedDict, TypeVar, Unpack

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.core.cache import cache
from django.db import DEFAULT_DB_ALIAS, IntegrityError, connection, connections, models, transaction
from django.db.models import F
from django.db.models.fields import AutoFieldMixin
from django.utils import timezone
from django.utils.crypto import salted_hmac
from redis.exceptions import RedisError

from commerce.accounts.models import ShopperSession, User
from commerce.accounts.services import (
    shopper_session_check,
    shopper_sessions_purge_unused,
    shopper_sign_in,
)
from commerce.accounts.shoppers import Shopper
from commerce.cache import CacheUnavailable, count_many
from commerce.errors import RateLimited
from commerce.prepared import PreparedRead
from commerce.ws_auth import ws_tickets_revoke
from conversations.errors import (
    EmptyMessage,
    HandoffCodeExpired,
    HandoffCodeInvalid,
    HandoffCodeNotFound,
    HandoffCodeUsed,
    HandoffRateLimited,
    HandoffSignInRequired,
    MessageTooLong,
    SignInRequired,
)
from conversations.models import (
    Conversation,
    DialogueState,
    HandoffCode,
    Message,
    SupportTicket,
    TicketMessage,
    user_group,
)
from memory.services import interaction_summary_schedule

_M = TypeVar("_M", bound=models.Model)
logger = logging.getLogger(__name__)

# A chat message is a sentence or a paragraph; anything longer is a paste or an attack.
MAX_MESSAGE_CHARS = 4000
TRANSCRIPT_MESSAGES = 20
CHAT_EVENT = "chat.message"
# Several of them at once (a socket's turn: the shopper's message and the reply), ``{"events": [...]}``.
CHAT_EVENTS = "chat.messages"


CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
LONE_SURROGATES = re.compile("[\ud800-\udfff]")


def message_content_clean(content: Any) -> str:
    """The text of a shopper's message, or :class:`EmptyMessage` / :class:`MessageTooLong`."""
    if not isinstance(content, str):
        raise EmptyMessage("The message must be text.", details={"field": "content"})
    # Control characters (NUL above all: PostgreSQL cannot store it in text) carry no meaning in chat.
    text = CONTROL_CHARACTERS.sub("", content).strip()
    # A lone surrogate ("\ud800", legal in JSON text) cannot be stored as UTF-8: it becomes U+FFFD.
    text = LONE_SURROGATES.sub("\ufffd", text)
    if not text:
        raise EmptyMessage("The message is empty.", details={"field": "content"})
    if len(text) > MAX_MESSAGE_CHARS:
        raise MessageTooLong(
            f"The message is too long: at most {MAX_MESSAGE_CHARS} characters.",
            details={"maxLength": MAX_MESSAGE_CHARS, "length": len(text)},
        )
    return text


# --- conversations ---------------------------------------------------------------------------


def conversation_for_shopper(*, shopper: Shopper, with_state: bool = False) -> Conversation:
    """The shopper's conversation, created on first use: the account's when signed in, else the session's.

    ``with_state``: its dialogue state read in the same query (a chat turn reads both)."""
    if shopper.user is None and shopper.session is None:
        raise SignInRequired("A conversation needs a session id or a signed-in user.")
    lookup: dict[str, User | ShopperSession | None] = (
        {"user": shopper.user} if shopper.user is not None else {"session": shopper.session}
    )
    found = Conversation.objects.filter(**lookup)
    conversation = (found.select_related("state") if with_state else found).first()
    if conversation is not None:
        if shopper.user is None:
            conversation.session = shopper.session  # the same row: its key names the socket group
        return conversation
    return _conversation_started(lookup, with_state=with_state)


def _conversation_started(lookup: Mapping[str, Any], *, with_state: bool) -> Conversation:
    """A new conversation for the account or session in ``lookup`` (or the other one, if another
    connection of the same shopper started it meanwhile: a savepoint, so losing that race leaves the
    caller's transaction usable). ``with_state``: as if read with its dialogue state, which a new
    conversation does not have, so reading it costs no query."""
    try:
        with transaction.atomic():
            conversation = Conversation.objects.create(**lookup)
    except IntegrityError:
        found = Conversation.objects.filter(**lookup)
        return (found.select_related("state") if with_state else found).get()
    if with_state:
        # What select_related leaves when the state row is missing: ``conversation.state`` raises
        # DoesNotExist without a query (dialogue_state.load reads the cache).
        Conversation.state.related.set_cached_value(conversation, None)
    return conversation


# A guest socket's every message starts with this read (its SQL and row loading are built once).
_GUEST_CONVERSATION = PreparedRead(
    "conversations.guest_turn_start",
    lambda session_pk: (
        Conversation.objects.filter(session_id=session_pk)
        .select_related("session", "state")
        .order_by("pk")[:1]
    ),
)


def guest_turn_start(*, session: ShopperSession) -> tuple[ShopperSession, bool, Conversation | None]:
    """What a guest socket checks before each message, and the conversation the turn needs, in one query
    once the conversation exists: the session as stored, whether an account has claimed it since the
    socket opened, and the session's conversation with its dialogue state. Before the first message it
    is :func:`shopper_session_check` (a purged session is saved again) and, unless the session was
    claimed (then the conversation is ``None``), the conversation is started here: the read just
    found none, so it is not looked for again, nor its dialogue state."""
    conversation = _GUEST_CONVERSATION.first(session.pk)
    joined = conversation.session if conversation is not None else None  # found by it: never None then
    if conversation is None or joined is None:
        stored, claimed = shopper_session_check(session=session)
        if claimed:
            return stored, True, None
        conversation = _conversation_started({"session": stored}, with_state=True)
        conversation.session = stored
        return stored, False, conversation
    return joined, joined.user_id is not None, conversation


PLANNING_FIELDS = (
    "planner",
    "llm_model",
    "llm_latency_ms",
    "llm_tokens_in",
    "llm_tokens_out",
    "llm_cost",
    "fallback_reason",
    "plan",
    "shadow_plan",
)


def message_shadow_plan_save(*, message_id: int, shadow_plan: dict[str, Any]) -> None:
    """The model's plan for a message the rules answered (shadow mode): stored, never run."""
    Message.objects.filter(pk=message_id, role=Message.Role.ASSISTANT).update(shadow_plan=shadow_plan)


class MessageFields(TypedDict, total=False):
    """A message's own fields, as :func:`message_record` and :func:`chat_turn_recorded` take them:
    ``role``, ``content`` and ``channel`` always. ``planning`` (assistant messages): how the reply was
    planned, by :data:`PLANNING_FIELDS`."""

    role: Required[str]
    content: Required[str]
    channel: Required[str]
    intent: str
    confidence: float | None
    actions: list[dict[str, Any]] | None
    planning: dict[str, Any] | None


def message_record(
    *,
    conversation: Conversation,
    origin: str | None = None,
    push: Callable[[str, dict[str, Any]], None] | None = None,
    **fields: Unpack[MessageFields],
) -> Message:
    """Stores one message, counts it on the conversation and, after commit, pushes it to the
    conversation's other open sockets (a chat turn writes its two messages itself:
    :func:`chat_turn_recorded`).

    ``origin`` is the channel name of the socket the message came from: that socket shows the
    message itself (as its ``response``) and skips the push. ``push(group, event)``, when given, sends
    the live event instead of this thread (a socket sends it after its own answer, off the reply's
    path).
    """
    message = _message_row(conversation, fields)
    with transaction.atomic():
        if message.role == Message.Role.USER:
            _summary_schedule_due(conversation)
        _message_insert(message)
        conversation_messages_counted(conversation=conversation, messages=1)
        _push_on_commit(message, origin=origin, push=push)
    return message


def conversation_messages_counted(*, conversation: Conversation, messages: int) -> None:
    """``messages`` new messages on the conversation: its activity time and what is left to summarize."""
    Conversation.objects.filter(pk=conversation.pk).update(
        updated_at=timezone.now(), unsummarized=F("unsummarized") + messages
    )


def chat_message_received(
    *,
    conversation: Conversation,
    origin: str | None = None,
    push: Callable[[str, dict[str, Any]], None] | None = None,
    **fields: Unpack[MessageFields],
) -> ReceivedMessage:
    """The shopper's message of a chat turn as it arrives: a summary that is now due is scheduled (as
    :func:`message_record` does for a shopper's message) and the row is prepared, timed now, but not
    written: :func:`chat_turn_recorded` writes it with the reply in the turn's one closing statement
    (one round trip and one commit fewer a message), or :func:`chat_message_keep` first when the turn
    is about to wait on something slow (the model vendor)."""
    message = _message_row(conversation, fields)
    _summary_schedule_due(conversation)
    return ReceivedMessage(message=message, origin=origin, push=push)


@dataclass
class ReceivedMessage:
    """A shopper's chat message not yet written (see :func:`chat_message_received`)."""

    message: Message
    origin: str | None
    push: Callable[[str, dict[str, Any]], None] | None

    @property
    def stored(self) -> bool:
        return self.message.pk is not None


def chat_message_keep(received: ReceivedMessage) -> None:
    """Writes a received message now, before a turn waits seconds on the model vendor, so a process
    that dies meanwhile loses nothing the shopper sent. Its live event goes as the turn's ``push``
    says (a socket sends it after its own answer; the REST door after this commit). Call it outside
    any transaction the turn may roll back: :func:`chat_turn_recorded` trusts a message with an id."""
    if received.stored:
        return
    _message_insert(received.message)
    _push_on_commit(received.message, origin=received.origin, push=received.push)


def chat_turn_recorded(
    *,
    conversation: Conversation,
    received: ReceivedMessage,
    reply: MessageFields | None = None,
    state: Mapping[str, Any] | None = None,
    state_is_new: bool = False,
) -> Message | None:
    """The end of a chat turn: the shopper's message (``received``, unless already kept), the
    assistant's ``reply`` (:func:`message_record`'s fields; ``None``: the turn failed), the dialogue
    ``state`` when the turn changed it (:func:`dialogue_state_save`'s fields; ``state_is_new``: no row
    was read) and the turn's messages counted on the conversation (its activity time and what is left
    to summarize). Returns the reply's message; both messages are pushed to the conversation's other
    sockets after commit, the shopper's first.

    On PostgreSQL that is one statement (the messages' INSERT, the state's upsert and the conversation's
    UPDATE as one data-modifying WITH, whose SQL is built once per process): one round trip and one
    commit where four ran, and no ORM query building on the chat's hot path. Elsewhere (SQLite, the
    embedded default) the same writes run through the ORM in one transaction.
    """
    unsaved = [] if received.stored else [received.message]
    if reply is not None:
        unsaved.append(_message_row(conversation, reply))
    counted = 1 + (reply is not None)
    if connection.vendor != "postgresql":
        with transaction.atomic():
            for message in unsaved:
                _message_insert(message)
            if state is not None:
                dialogue_state_save(conversation=conversation, is_new=state_is_new, **state)
            conversation_messages_counted(conversation=conversation, messages=counted)
    else:
        params: list[Any] = []
        for message in unsaved:
            params += _row_params(message)
        if state is not None:
            params += _row_params(_unsaved(DialogueState, {"conversation_id": conversation.pk, **state}))
        params += [timezone.now(), counted, conversation.pk]
        with connection.cursor() as cursor:
            cursor.execute(_turn_end_sql(len(unsaved), state is not None), params)
            ids = dict(cursor.fetchall()) if unsaved else {}  # role -> id: one row a message
        for message in unsaved:
            _saved(message, ids[message.role])
    for message in unsaved:
        _push_on_commit(message, origin=received.origin, push=received.push)
    return unsaved[-1] if reply is not None else None


def _message_row(conversation: Conversation, fields: MessageFields) -> Message:
    """A message as it will be stored (not yet saved); ``planning`` keeps :data:`PLANNING_FIELDS` only."""
    planning = {
        k: v for k, v in (fields.get("planning") or {}).items() if k in PLANNING_FIELDS and v is not None
    }
    message = _unsaved(
        Message,
        {
            "conversation_id": conversation.pk,
            "role": fields["role"],
            "content": fields["content"],
            "channel": fields["channel"],
            "intent": fields.get("intent") or "",
            "confidence": fields.get("confidence"),
            "actions": fields.get("actions") or [],
            **planning,
        },
    )
    Message.conversation.field.set_cached_value(message, conversation)
    return message


@functools.cache
def _column_names(model: type[models.Model]) -> frozenset[str]:
    return frozenset(f.attname for f in model._meta.concrete_fields)


def _unsaved(model: type[_M], values: dict[str, Any]) -> _M:
    """An unsaved ``model`` row from its columns' values by attribute name (``conversation_id``), every
    other column its default. Built positionally: Django's ``Model.__init__`` takes a third of the time
    it takes with keyword arguments (two rows a chat turn)."""
    unknown = values.keys() - _column_names(model)
    if unknown:
        raise TypeError(f"{model.__name__} has no column {', '.join(sorted(unknown))}")
    return model(
        *[values[f.attname] if f.attname in values else f.get_default() for f in model._meta.concrete_fields]
    )


def _message_insert(message: Message) -> None:
    """Inserts an unsaved message: on PostgreSQL with SQL built once per process (no ORM query
    building), elsewhere through the ORM."""
    if connection.vendor != "postgresql":
        message.save(force_insert=True)
        return
    with connection.cursor() as cursor:
        cursor.execute(_message_insert_sql(), _row_params(message))
        _saved(message, cursor.fetchone()[0])


def _push_on_commit(
    message: Message, *, origin: str | None, push: Callable[[str, dict[str, Any]], None] | None
) -> None:
    group = message.conversation.group_name
    event = {
        "type": CHAT_EVENT,
        "role": message.role,
        "content": message.content,
        "channel": message.channel,
        "origin": origin,
    }
    transaction.on_commit(lambda: (push or _push)(group, event))


@functools.cache
def _inserted_fields(model: type[models.Model]) -> tuple[models.Field[Any, Any], ...]:
    """The columns an INSERT of ``model`` names: every concrete field but an auto-increment key."""
    return tuple(f for f in model._meta.concrete_fields if not isinstance(f, AutoFieldMixin))


def _row_params(instance: models.Model) -> list[Any]:
    """An unsaved row's INSERT parameters, prepared as the ORM's INSERT prepares them (``auto_now``
    fields set, JSON and decimals adapted), with the connection itself rather than ``django.db``'s
    proxy of it, which looks the connection up again on every attribute read."""
    database = connections[DEFAULT_DB_ALIAS]
    return [
        field.get_db_prep_save(field.pre_save(instance, True), database)
        for field in _inserted_fields(type(instance))
    ]


def _saved(instance: models.Model, pk: Any) -> None:
    instance.pk = pk
    instance._state.adding = False
    instance._state.db = connection.alias


def _insert_sql(model: type[models.Model], rows: int = 1) -> str:
    quote = connection.ops.quote_name
    fields = _inserted_fields(model)
    columns = ", ".join(quote(f.column) for f in fields)
    values = ", ".join(["(" + ", ".join(["%s"] * len(fields)) + ")"] * rows)
    return f"INSERT INTO {quote(model._meta.db_table)} ({columns}) VALUES {values}"  # nosec B608


@functools.cache
def _message_insert_sql() -> str:
    """The INSERT of one message, returning its id."""
    return f"{_insert_sql(Message)} RETURNING {connection.ops.quote_name(Message._meta.pk.column)}"


@functools.cache
def _turn_end_sql(messages: int, with_state: bool) -> str:
    """PostgreSQL: :func:`chat_turn_recorded`'s writes as one statement: ``messages`` rows (0 to 2) in
    one INSERT, returning each one's role and id, the state's upsert and the conversation's count.
    Every data-modifying part of a WITH runs exactly once whether or not the main query reads it.
    (``nosec B608`` below: the SQL is made of the models' own table and column names, quoted; every
    value is a parameter.)"""
    quote = connection.ops.quote_name
    conversation, updated_at, unsummarized, pk = (
        quote(Conversation._meta.db_table),
        quote(Conversation._meta.get_field("updated_at").column),
        quote(Conversation._meta.get_field("unsummarized").column),
        quote(Conversation._meta.pk.column),
    )
    counted = f"UPDATE {conversation} SET {updated_at} = %s, {unsummarized} = {unsummarized} + %s"  # nosec B608
    counted += f" WHERE {pk} = %s"
    parts = []
    if messages:
        role, message_pk = quote(Message._meta.get_field("role").column), quote(Message._meta.pk.column)
        parts.append(f"written AS ({_insert_sql(Message, messages)} RETURNING {role}, {message_pk})")
    if with_state:
        key = quote(DialogueState._meta.pk.column)
        updates = ", ".join(
            f"{quote(f.column)} = EXCLUDED.{quote(f.column)}"
            for f in _inserted_fields(DialogueState)
            if not f.primary_key
        )
        upsert = f"{_insert_sql(DialogueState)} ON CONFLICT ({key}) DO UPDATE SET {updates}"  # nosec B608
        parts.append(f"state AS ({upsert})")
    if not parts:
        return counted
    if not messages:
        return f"WITH {', '.join(parts)} {counted}"
    return f"WITH {', '.join(parts)}, counted AS ({counted}) SELECT * FROM written"  # nosec B608


def _push(group: str, event: dict[str, Any]) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        async_to_sync(layer.group_send)(group, event)
    except (OSError, RedisError) as exc:
        # The row is committed and the history shows it; a missed live push must not fail the request.
        logger.warning("Could not push a chat message to %s: %s", group, exc)


def conversation_join_account(*, user: User, guest_session: ShopperSession) -> Conversation | None:
    """Moves a guest's conversation into the account's when the guest signs in.

    The guest's messages join the account's history (kept in time order by ``created_at``); the
    guest's dialogue state wins, since it is what the shopper was just talking about.
    """
    with transaction.atomic():
        guest = Conversation.objects.select_for_update().filter(session=guest_session).first()
        if guest is None:
            return None
        account = Conversation.objects.filter(user=user).first()
        if account is None:
            guest.session = None
            guest.user = user
            guest.save(update_fields=["session", "user", "updated_at"])
            return guest
        moved = guest.messages.update(conversation=account)
        Conversation.objects.filter(pk=account.pk).update(unsummarized=F("unsummarized") + moved)
        guest_state = DialogueState.objects.filter(conversation=guest).first()
        if guest_state is not None:
            DialogueState.objects.filter(conversation=account).delete()
            DialogueState.objects.create(
                conversation=account,
                last_product_ids=guest_state.last_product_ids,
                last_cart_line_id=guest_state.last_cart_line_id,
                last_order_number=guest_state.last_order_number,
                pending_clarification=guest_state.pending_clarification,
                pending_confirmation=guest_state.pending_confirmation,
            )
        SupportTicket.objects.filter(conversation=guest).update(conversation=account)
        guest.delete()
        account.save(update_fields=["updated_at"])
        return account


# --- interaction summaries (memory) ----------------------------------------------------------------

# A visit ends after this long without a message; its summary is written when the next one starts.
SUMMARY_IDLE = timedelta(minutes=30)
# A long visit is summarized every this many messages rather than only at its end.
SUMMARY_MAX_MESSAGES = 20
SUMMARY_SOURCE_MESSAGES = 60
# Turns that say nothing about the shopper's interests (memory turns are memory's own record).
_SUMMARY_SKIP_INTENTS = frozenset(
    {"greeting", "help", "confirm", "deny", "out_of_scope", "show_memory", "save_preference"}
)
# A shopper who asks to forget must not find what came before it summarized afterwards.
_SUMMARY_FORGET_INTENTS = frozenset({"forget_preference", "clear_memory"})


def _summary_schedule_due(conversation: Conversation) -> bool:
    """Called as a signed-in shopper's message arrives: summarizes the stretch before it when it is done.

    The stretch is done when this message starts a new visit (``SUMMARY_IDLE`` since the last one)
    or when it has grown to ``SUMMARY_MAX_MESSAGES``. It reads only the conversation row the caller
    already loaded, so a turn that summarizes nothing costs no query. Claiming the stretch is a
    conditional update on ``summarized_until``: of two turns racing, one schedules the summary.
    The summary itself is written by memory's task after commit (off the request path).
    """
    if not conversation.user_id or conversation.unsummarized <= 0:
        return False
    last = conversation.updated_at
    if timezone.now() - last < SUMMARY_IDLE and conversation.unsummarized < SUMMARY_MAX_MESSAGES:
        return False
    since = conversation.summarized_until
    claimed = (
        Conversation.objects.filter(pk=conversation.pk, summarized_until=since)
        if since is not None
        else Conversation.objects.filter(pk=conversation.pk, summarized_until__isnull=True)
    ).update(summarized_until=last, unsummarized=F("unsummarized") - conversation.unsummarized)
    if not claimed:
        return False
    conversation.summarized_until, conversation.unsummarized = last, 0
    stretch = conversation.messages.filter(created_at__lte=last)
    if since is not None:
        stretch = stretch.filter(created_at__gt=since)
    recent = list(stretch.order_by("-created_at", "-id")[:SUMMARY_SOURCE_MESSAGES])[::-1]
    text = conversation_summary_text(messages=recent)
    if not text:
        return False
    channel = recent[-1].channel
    return interaction_summary_schedule(
        user=conversation.user,
        conversation_label=f"{channel} chat",
        text=text,
        channel=channel,
    )


IDLE_SUMMARY_BATCH = 500


def conversations_summarize_idle(*, limit: int = IDLE_SUMMARY_BATCH) -> int:
    """Summarizes signed-in visits that ended without a next message (beat, every 15 minutes).

    Without it the last visit before a shopper goes away is only summarized when they come back.
    Each conversation is claimed by the same conditional update as a turn's, so a turn arriving at
    the same moment and this sweep never summarize one stretch twice. Returns the summaries scheduled.
    """
    idle = Conversation.objects.filter(
        user__isnull=False, unsummarized__gt=0, updated_at__lt=timezone.now() - SUMMARY_IDLE
    ).select_related("user")
    return sum(_summary_schedule_due(conversation) for conversation in idle.order_by("updated_at")[:limit])


def conversation_summary_skip(*, user: User) -> int:
    """Marks everything said so far as summarized, without a summary: for memory's "forget my history".

    Without it, a visit going on while the shopper cleared their history would be summarized later.
    """
    with transaction.atomic():
        return Conversation.objects.filter(user=user).update(summarized_until=timezone.now(), unsummarized=0)


def on_history_forgotten(sender: Any, *, user: User, **kwargs: Any) -> None:
    """memory's ``history_forgotten`` receiver: nothing said before the shopper's "forget" is summarized."""
    conversation_summary_skip(user=user)


def conversation_summary_text(*, messages: list[Message]) -> str:
    """One line about a stretch of conversation, from what the assistant did and what was asked.

    What was done (the succeeded actions' details, e.g. "Found 3 products for trail shoes.") says
    the most; a stretch where nothing was done falls back on the shopper's own words. Greetings,
    yes/no and memory requests add nothing and are left out, and a request to forget drops everything
    before it. Empty when nothing is worth remembering.
    """
    done: list[str] = []
    asked: list[str] = []
    for message in messages:
        if message.intent in _SUMMARY_FORGET_INTENTS:
            done, asked = [], []
            continue
        if message.intent in _SUMMARY_SKIP_INTENTS:
            continue
        if message.role == Message.Role.USER:
            words = " ".join(message.content.split())
            if words and words not in asked:
                asked.append(words)
        elif message.role == Message.Role.ASSISTANT:
            for act in message.actions or []:
                if not isinstance(act, dict) or act.get("status") != "succeeded":
                    continue
                detail = " ".join(str(act.get("detail", "")).split())
                if detail and detail.rstrip(".") + "." not in done:
                    done.append(detail.rstrip(".") + ".")
    if done:
        return " ".join(done)
    if asked:
        return "Asked: " + "; ".join(f'"{text}"' for text in asked)
    return ""


def on_shopper_signed_in(
    sender: Any, *, user: User, guest_session: ShopperSession | None, **kwargs: Any
) -> None:
    """Receiver of ``commerce.accounts.signals.shopper_signed_in`` (connected in ``apps.py``)."""
    if guest_session is not None:
        conversation_join_account(user=user, guest_session=guest_session)


def dialogue_state_save(*, conversation: Conversation, is_new: bool = False, **fields: Any) -> DialogueState:
    """Creates or updates the conversation's dialogue state with the given fields. ``is_new``: the
    caller read no state row, so the insert is tried first (an update if another connection created
    the row meanwhile)."""
    allowed = {
        "last_product_ids",
        "last_cart_line_id",
        "last_order_number",
        "pending_clarification",
        "pending_confirmation",
        "last_shown_options",
    }
    unknown = set(fields) - allowed
    if unknown:
        raise ValueError(f"Unknown dialogue state fields: {sorted(unknown)}")
    # One UPDATE when the row exists (every turn but the first); else created, and if another
    # connection created it meanwhile, updated after all.
    if not is_new and DialogueState.objects.filter(conversation=conversation).update(
        **fields, updated_at=timezone.now()
    ):
        return DialogueState(conversation=conversation, **fields)
    try:
        with transaction.atomic():
            return DialogueState.objects.create(conversation=conversation, **fields)
    except IntegrityError:
        DialogueState.objects.filter(conversation=conversation).update(**fields, updated_at=timezone.now())
        return DialogueState(conversation=conversation, **fields)


# --- handoff codes ("continue on your phone") -------------------------------------------------

# No 0/O, 1/I/L: a code is read off one screen and typed on another.
HANDOFF_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
HANDOFF_CODE_LENGTH = 8
HANDOFF_CODE_TTL = timedelta(minutes=10)
# Guessing: after this many refused codes in the window, a client (IP, session or account) must wait.
HANDOFF_MAX_FAILURES = 5
HANDOFF_FAILURE_WINDOW_SECONDS = 600
# Codes are kept this long after they expire (so "expired" can be told from "unknown"), then purged.
HANDOFF_KEEP_EXPIRED = timedelta(days=1)
_HANDOFF_SALT = "conversations.handoff"
_HANDOFF_SEPARATORS = re.compile(r"[\s\-_.]+")


@dataclass(frozen=True)
class IssuedHandoff:
    code: str  # shown once, as "ABCD-EFGH"; only its digest is stored
    expires_at: datetime
    session: ShopperSession


def _handoff_digest(normalized: str) -> str:
    return salted_hmac(_HANDOFF_SALT, normalized, algorithm="sha256").hexdigest()


def handoff_code_normalize(code: Any) -> str:
    """The code as stored-before-hashing: upper case, spaces and dashes dropped; "" when malformed."""
    if not isinstance(code, str) or len(code) > 40:
        return ""
    text = _HANDOFF_SEPARATORS.sub("", code).upper()
    if len(text) != HANDOFF_CODE_LENGTH or any(ch not in HANDOFF_ALPHABET for ch in text):
        return ""
    return text


def handoff_code_issue(*, shopper: Shopper) -> IssuedHandoff:
    """A new one-time code for the shopper's session (its conversation and cart), valid 10 minutes.

    A new code replaces the session's earlier ones. Expired codes of anyone, older than a day, are
    purged on the way (the table stays small without a scheduled job).
    """
    session = shopper.session
    if session is None or not session.is_active():
        raise SignInRequired("A handoff code needs an active session: open the chat first.")
    now = timezone.now()
    expires_at = now + HANDOFF_CODE_TTL
    with transaction.atomic():
        HandoffCode.objects.filter(session=session, used_at__isnull=True).delete()
        HandoffCode.objects.filter(expires_at__lt=now - HANDOFF_KEEP_EXPIRED).delete()
        for _ in range(5):
            raw = "".join(secrets.choice(HANDOFF_ALPHABET) for _ in range(HANDOFF_CODE_LENGTH))
            try:
                with transaction.atomic():  # a savepoint: a digest clash draws again
                    HandoffCode.objects.create(
                        digest=_handoff_digest(raw), session=session, created_at=now, expires_at=expires_at
                    )
            except IntegrityError:
                continue
            return IssuedHandoff(code=f"{raw[:4]}-{raw[4:]}", expires_at=expires_at, session=session)
    raise IntegrityError("Could not draw an unused handoff code in 5 tries.")  # ~1e-50 odds


def _handoff_failure_keys(*, client_ip: str, user: User | None, session: ShopperSession | None) -> list[str]:
    keys = [f"handoff:fail:ip:{client_ip or 'unknown'}"]
    if session is not None:
        keys.append(f"handoff:fail:session:{session.key}")
    if user is not None:
        keys.append(f"handoff:fail:user:{user.pk}")
    return keys


def _handoff_count_failure(keys: list[str]) -> None:
    for key in keys:
        # add() starts the window only for the first failure; incr() keeps the key's expiry.
        cache.add(key, 0, timeout=HANDOFF_FAILURE_WINDOW_SECONDS)
        try:
            cache.incr(key)
        except ValueError:  # expired between add() and incr()
            cache.set(key, 1, timeout=HANDOFF_FAILURE_WINDOW_SECONDS)


def _handoff_refuse(keys: list[str], error: Exception) -> NoReturn:
    _handoff_count_failure(keys)
    raise error


def handoff_redeem(
    *,
    code: Any,
    user: User | None,
    session: ShopperSession | None,
    client_ip: str,
    channel: str = "web",
) -> ShopperSession:
    """Spends a handoff code: returns the session this device should use from now on.

    The caller's door then names that session (page: the Django session; API: the returned
    ``sessionId``), so this device sees the same cart, conversation and dialogue state as the one
    that asked for the code. When the caller is signed in and the code names a guest session, that
    session signs in here (``shopper_sign_in``): the guest cart and conversation join the account.
    A code for a session that belongs to an account works only for that account.

    Every refused code (malformed, unknown, used, expired, someone else's) counts against the
    caller's IP, session and account; after ``HANDOFF_MAX_FAILURES`` in ten minutes every attempt
    is refused with 429 ``rate_limited`` (``Retry-After``), a right code included.
    """
    keys = _handoff_failure_keys(client_ip=client_ip, user=user, session=session)
    if any((cache.get(key) or 0) >= HANDOFF_MAX_FAILURES for key in keys):
        raise HandoffRateLimited(
            "Too many wrong codes. Wait ten minutes, then try again.",
            retry_after=HANDOFF_FAILURE_WINDOW_SECONDS,
        )
    normalized = handoff_code_normalize(code)
    if not normalized:
        _handoff_refuse(
            keys,
            HandoffCodeInvalid(
                f"A handoff code is {HANDOFF_CODE_LENGTH} letters and digits, like ABCD-2345.",
                details={"field": "code"},
            ),
        )
    now = timezone.now()
    handoff = HandoffCode.objects.select_related("session").filter(digest=_handoff_digest(normalized)).first()
    if handoff is None:
        _handoff_refuse(keys, HandoffCodeNotFound("That code is not right. Check it and try again."))
    if handoff.is_used():
        _handoff_refuse(keys, HandoffCodeUsed("That code was already used. Ask for a new one."))
    target = handoff.session
    if handoff.is_expired(now=now) or not target.is_active():
        _handoff_refuse(keys, HandoffCodeExpired("That code has expired. Ask for a new one."))
    if target.user_id is not None and (user is None or user.pk != target.user_id):
        _handoff_refuse(
            keys,
            HandoffSignInRequired(
                "This conversation belongs to an account: sign in to it on this device to continue."
            ),
        )
    with transaction.atomic():
        spent = HandoffCode.objects.filter(pk=handoff.pk, used_at__isnull=True).update(used_at=now)
        if not spent:  # another device spent it a moment ago
            _handoff_refuse(keys, HandoffCodeUsed("That code was already used. Ask for a new one."))
        if user is not None and target.user_id is None:
            target = shopper_sign_in(user=user, session=target, channel=channel)
    return target


# --- support ---------------------------------------------------------------------------------


def _transcript(conversation: Conversation, pending: Message | None = None) -> str:
    """The conversation's last messages, ending with ``pending`` (the chat message being served, not
    yet written: it is written with its reply at the turn's end)."""
    recent = list(conversation.messages.order_by("-created_at", "-id")[:TRANSCRIPT_MESSAGES])[::-1]
    if pending is not None and pending.pk is None:
        recent = [*recent[1:], pending] if len(recent) == TRANSCRIPT_MESSAGES else [*recent, pending]
    return "\n".join(f"[{m.created_at:%Y-%m-%d %H:%M}] {m.role}: {m.content}" for m in recent)


def ticket_open(
    *,
    user: User,
    subject: str,
    message: str,
    channel: str,
    order_number: str | None = None,
    conversation: Conversation | None = None,
    pending: Message | None = None,
) -> SupportTicket:
    """Opens a ticket with the shopper's first message; from chat, the recent conversation is attached
    (ending with ``pending``, the chat message being served, which is written at the turn's end)."""
    subject = " ".join((subject or "").split())[:200]
    body = (message or "").strip()
    if not subject:
        raise EmptyMessage("A ticket needs a subject.", details={"field": "subject"})
    if not body:
        raise EmptyMessage("A ticket needs a message.", details={"field": "message"})
    if len(body) > MAX_MESSAGE_CHARS:
        raise MessageTooLong(
            f"The message is too long: at most {MAX_MESSAGE_CHARS} characters.",
            details={"maxLength": MAX_MESSAGE_CHARS},
        )
    if conversation is not None and conversation.user_id != user.pk:
        conversation = None  # only ever attach the shopper's own conversation
    with transaction.atomic():
        ticket = SupportTicket.objects.create(
            user=user,
            subject=subject,
            order_number=(order_number or "").strip().upper()[:32],
            channel=channel,
            conversation=conversation,
            transcript=_transcript(conversation, pending) if conversation is not None else "",
        )
        TicketMessage.objects.create(
            ticket=ticket, author_role=TicketMessage.Author.SHOPPER, author=user, body=body
        )
    return ticket


def ticket_add_message(*, ticket: SupportTicket, user: User, body: str) -> TicketMessage:
    """The shopper writes on their ticket: it goes back to staff (reopened when it was closed)."""
    text = message_content_clean(body)
    if ticket.user_id != user.pk:
        raise SignInRequired("Only the ticket's owner can write on it.")
    with transaction.atomic():
        message = TicketMessage.objects.create(
            ticket=ticket, author_role=TicketMessage.Author.SHOPPER, author=user, body=text
        )
        ticket.status = SupportTicket.Status.OPEN
        ticket.closed_at = None
        ticket.save(update_fields=["status", "closed_at", "updated_at"])
    return message


def ticket_close(*, ticket: SupportTicket) -> SupportTicket:
    """Closes the ticket; closing a closed ticket changes nothing."""
    with transaction.atomic():
        if not ticket.is_closed():
            ticket.status = SupportTicket.Status.CLOSED
            ticket.closed_at = timezone.now()
            ticket.save(update_fields=["status", "closed_at", "updated_at"])
    return ticket


def staff_reply(*, ticket: SupportTicket, staff_user: User, body: str) -> TicketMessage:
    """Staff answer a ticket: recorded on it, written into the shopper's chat and pushed live there."""
    text = (body or "").strip()
    if not text:
        raise EmptyMessage("The reply is empty.", details={"field": "body"})
    with transaction.atomic():
        message = TicketMessage.objects.create(
            ticket=ticket, author_role=TicketMessage.Author.STAFF, author=staff_user, body=text
        )
        if not ticket.is_closed():
            ticket.status = SupportTicket.Status.PENDING
        ticket.save(update_fields=["status", "updated_at"])
        conversation = conversation_for_shopper(shopper=Shopper(user=ticket.user, session=None))
        message_record(
            conversation=conversation,
            role=Message.Role.STAFF,
            content=f"Support (ticket #{ticket.pk}): {text}",
            channel=ticket.channel,
        )
    return message


# --- chat abuse limits and socket revocation (issue 12) --------------------------------------

RATE_WINDOW_SECONDS = 60
AUTH_REVOKED_EVENT = "auth.revoked"


def _rate_hit(keys: list[str], *, limit: int, cost: int = 1) -> int | None:
    """Counts ``cost`` hits on each key in the current fixed one-minute window of the shared cache.

    Returns the seconds until that window ends when any key is over ``limit``, else ``None``. Every
    process counts in the same cache (Redis in production), so a client spreading its messages over
    sockets, workers or the REST API meets one limit. A cache failure lets the message through: the
    limit protects capacity, and refusing all chat because Redis hiccupped would be the larger outage.
    """
    now = time.time()
    window = int(now // RATE_WINDOW_SECONDS)
    retry_after = max(1, math.ceil((window + 1) * RATE_WINDOW_SECONDS - now))
    try:
        counts = count_many([f"{key}:{window}" for key in keys], cost=cost, timeout=2 * RATE_WINDOW_SECONDS)
    except CacheUnavailable as exc:
        logger.warning("Chat rate limit not checked, message let through (cache unavailable): %s", exc)
        return None
    over = any(count > limit for count in counts)
    return retry_after if over else None


def chat_rate_check(*, shopper: Shopper, socket: str = "", cost: int = 1) -> None:
    """Counts one chat message (or ``cost`` of them) against ``CHAT_MESSAGES_PER_MINUTE``.

    Counted per socket (``socket``: the consumer's channel name), per shopper session and per user;
    over the limit on any of them it raises :class:`RateLimited` (429 ``rate_limited`` with
    ``retryAfter``). Every way a chat turn starts calls this, the model's own turns included.
    """
    limit = settings.CHAT_MESSAGES_PER_MINUTE
    if limit <= 0:
        return
    keys = [f"chat:rate:socket:{socket}"] if socket else []
    if shopper.session is not None:
        keys.append(f"chat:rate:session:{shopper.session.key}")
    if shopper.user is not None:
        keys.append(f"chat:rate:user:{shopper.user.pk}")
    retry_after = _rate_hit(keys, limit=limit, cost=cost)
    if retry_after is not None:
        raise RateLimited(
            f"You are sending messages too quickly. Wait {retry_after} seconds, then try again.",
            retry_after=retry_after,
        )


def chat_guest_connect_check(*, client_address: str) -> None:
    """Counts a guest socket connect from ``client_address`` against ``CHAT_GUEST_CONNECTS_PER_MINUTE``."""
    limit = settings.CHAT_GUEST_CONNECTS_PER_MINUTE
    if limit <= 0:
        return
    retry_after = _rate_hit([f"chat:connect:ip:{client_address or 'unknown'}"], limit=limit)
    if retry_after is not None:
        raise RateLimited(
            f"Too many new chat connections from your address. Wait {retry_after} seconds, then try again.",
            retry_after=retry_after,
        )


def on_credentials_revoked(sender: Any, *, user: User, reason: str, **kwargs: Any) -> None:
    """Receiver of ``commerce.accounts.signals.credentials_revoked``: after commit, every open socket
    of the user (each has joined ``user.<id>``, in any process) closes with 4401, and the socket
    tickets issued to the user until then are void."""
    group = user_group(user.pk)
    event = {"type": AUTH_REVOKED_EVENT, "reason": reason}

    def after_commit() -> None:
        ws_tickets_revoke(user_id=user.pk)
        _push(group, event)

    transaction.on_commit(after_commit)


def guest_sessions_purge_unused() -> int:
    """Deletes guest sessions left unused for ``CHAT_GUEST_SESSION_PURGE_MINUTES`` (beat, every 10 min).

    The socket must name a session in its first event (CONTRACT.md section 3), and that id must work
    at once for ``GET /cart`` and the REST chat (section 5), so a guest connect saves a session; this
    keeps a flood of bare connects from piling up rows. A client that comes back with a purged id is
    treated as with an expired one (a new session; 404 ``session_not_found`` over REST).
    """
    minutes = settings.CHAT_GUEST_SESSION_PURGE_MINUTES
    if minutes <= 0:
        return 0
    return shopper_sessions_purge_unused(seen_before=timezone.now() - timedelta(minutes=minutes))


def on_call_summarized(sender: Any, *, user: User, summary: str, **kwargs: Any) -> None:
    """Receiver of ``voice.signals.call_summarized``: the call's summary joins the shopper's conversation
    on the voice channel, so the assistant and every open chat of the shopper see it."""
    conversation = conversation_for_shopper(shopper=Shopper(user=user, session=None))
    message_record(
        conversation=conversation,
        role=Message.Role.ASSISTANT,
        content=summary[:MAX_MESSAGE_CHARS],
        channel="voice",
        intent="voice_recovery_call",
    )
