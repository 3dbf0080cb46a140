"""Writes of conversations and support: every door (socket, REST, admin, assistant) goes through these.

Live delivery: a recorded message is pushed, after commit, to the channel-layer group of its
conversation (``user.<id>`` or ``session.<key>``), which every open socket of that conversation has
joined. The channel layer delivers at most once; the database row is the record, the push a courtesy.
"""

from __future__ import annotations

import logging
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import IntegrityError, transaction
from django.utils import timezone
from redis.exceptions import RedisError

from commerce.accounts.models import ShopperSession, User
from commerce.accounts.shoppers import Shopper
from conversations.errors import EmptyMessage, MessageTooLong, SignInRequired
from conversations.models import Conversation, DialogueState, Message, SupportTicket, TicketMessage

logger = logging.getLogger(__name__)

# A chat message is a sentence or a paragraph; anything longer is a paste or an attack.
MAX_MESSAGE_CHARS = 4000
TRANSCRIPT_MESSAGES = 20
CHAT_EVENT = "chat.message"


def message_content_clean(content: Any) -> str:
    """The text of a shopper's message, or :class:`EmptyMessage` / :class:`MessageTooLong`."""
    if not isinstance(content, str):
        raise EmptyMessage("The message must be text.", details={"field": "content"})
    text = content.strip()
    if not text:
        raise EmptyMessage("The message is empty.", details={"field": "content"})
    if len(text) > MAX_MESSAGE_CHARS:
        raise MessageTooLong(
            f"The message is too long: at most {MAX_MESSAGE_CHARS} characters.",
            details={"maxLength": MAX_MESSAGE_CHARS, "length": len(text)},
        )
    return text


# --- conversations ---------------------------------------------------------------------------


def conversation_for_shopper(*, shopper: Shopper) -> Conversation:
    """The shopper's conversation, created on first use: the account's when signed in, else the session's."""
    if shopper.user is None and shopper.session is None:
        raise SignInRequired("A conversation needs a session id or a signed-in user.")
    lookup = {"user": shopper.user} if shopper.user is not None else {"session": shopper.session}
    conversation = Conversation.objects.filter(**lookup).first()
    if conversation is not None:
        return conversation
    try:
        with transaction.atomic():
            return Conversation.objects.create(**lookup)
    except IntegrityError:  # two connections of one shopper started the conversation together
        return Conversation.objects.get(**lookup)


def message_record(
    *,
    conversation: Conversation,
    role: str,
    content: str,
    channel: str,
    intent: str = "",
    confidence: float | None = None,
    actions: list[dict[str, Any]] | None = None,
    origin: str | None = None,
) -> Message:
    """Stores one message and, after commit, pushes it to the conversation's other open sockets.

    ``origin`` is the channel name of the socket the message came from: that socket shows the
    message itself (as its ``response``) and skips the push.
    """
    with transaction.atomic():
        message = Message.objects.create(
            conversation=conversation,
            role=role,
            content=content,
            channel=channel,
            intent=intent or "",
            confidence=confidence,
            actions=actions or [],
        )
        Conversation.objects.filter(pk=conversation.pk).update(updated_at=timezone.now())
        group = conversation.group_name
        event = {"type": CHAT_EVENT, "role": role, "content": content, "channel": channel, "origin": origin}
        transaction.on_commit(lambda: _push(group, event))
    return message


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
        guest.messages.update(conversation=account)
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


def on_shopper_signed_in(sender: Any, *, user: User, guest_session: ShopperSession | None, **kwargs) -> None:
    """Receiver of ``commerce.accounts.signals.shopper_signed_in`` (connected in ``apps.py``)."""
    if guest_session is not None:
        conversation_join_account(user=user, guest_session=guest_session)


def dialogue_state_save(*, conversation: Conversation, **fields: Any) -> DialogueState:
    """Creates or updates the conversation's dialogue state with the given fields."""
    allowed = {
        "last_product_ids",
        "last_cart_line_id",
        "last_order_number",
        "pending_clarification",
        "pending_confirmation",
    }
    unknown = set(fields) - allowed
    if unknown:
        raise ValueError(f"Unknown dialogue state fields: {sorted(unknown)}")
    with transaction.atomic():
        state, _ = DialogueState.objects.select_for_update().get_or_create(conversation=conversation)
        for name, value in fields.items():
            setattr(state, name, value)
        state.save()
    return state


# --- support ---------------------------------------------------------------------------------


def _transcript(conversation: Conversation) -> str:
    recent = list(conversation.messages.order_by("-created_at", "-id")[:TRANSCRIPT_MESSAGES])
    lines = [f"[{m.created_at:%Y-%m-%d %H:%M}] {m.role}: {m.content}" for m in reversed(recent)]
    return "\n".join(lines)


def ticket_open(
    *,
    user: User,
    subject: str,
    message: str,
    channel: str,
    order_number: str | None = None,
    conversation: Conversation | None = None,
) -> SupportTicket:
    """Opens a ticket with the shopper's first message; from chat, the recent conversation is attached."""
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
            transcript=_transcript(conversation) if conversation is not None else "",
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
