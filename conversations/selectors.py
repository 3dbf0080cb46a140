"""Reads of conversations, support tickets and store policies."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from django.db.models import Count, Exists, OuterRef, QuerySet

from commerce.accounts.models import User
from commerce.accounts.shoppers import Shopper
from commerce.money import percent
from commerce.prepared import PreparedRead
from conversations.errors import TicketNotFound
from conversations.models import Conversation, Message, StorePolicy, SupportTicket

HISTORY_DEFAULT_LIMIT = 50
HISTORY_MAX_LIMIT = 200


def conversation_find(*, shopper: Shopper) -> Conversation | None:
    """The shopper's conversation if it exists (reading history must not create one)."""
    if shopper.user is not None:
        return Conversation.objects.filter(user=shopper.user).first()
    if shopper.session is not None:
        return Conversation.objects.filter(session=shopper.session).first()
    return None


def history(*, conversation: Conversation | None, limit: int = HISTORY_DEFAULT_LIMIT) -> list[Message]:
    """The last ``limit`` messages of the conversation, oldest first."""
    if conversation is None:
        return []
    limit = max(1, min(int(limit), HISTORY_MAX_LIMIT))
    recent = list(conversation.messages.order_by("-created_at", "-id")[:limit])
    return recent[::-1]


def message_to_dict(message: Message) -> dict[str, Any]:
    """A history item as the contract shows it: ``{role, content, intent, createdAt, channel}``."""
    created = message.created_at.astimezone(UTC).isoformat().replace("+00:00", "Z")
    return {
        "role": message.role,
        "content": message.content,
        "intent": message.intent,
        "createdAt": created,
        "channel": message.channel,
    }


def tickets_for_user(*, user: User) -> QuerySet[SupportTicket]:
    return SupportTicket.objects.filter(user=user).order_by("-created_at", "-id")


def ticket_get_for_user(*, user: User, ticket_id: int | str) -> SupportTicket:
    """The user's own ticket with its messages; anyone else's ticket does not exist for them."""
    text = str(ticket_id).strip().lstrip("#")
    ticket = None
    if text.isdigit() and len(text) <= 18:
        ticket = SupportTicket.objects.filter(user=user, pk=int(text)).prefetch_related("messages").first()
    if ticket is None:
        raise TicketNotFound(f"No ticket #{text} of yours.", details={"ticketId": text})
    return ticket


def ticket_latest_open(*, user: User) -> SupportTicket | None:
    """The most recent ticket that is not closed: the one "my ticket" means in chat."""
    return tickets_for_user(user=user).exclude(status=SupportTicket.Status.CLOSED).first()


_WORD = re.compile(r"[a-z0-9$]+")


def _normalise(text: str) -> str:
    return " ".join(_WORD.findall(text.lower()))


_ACTIVE_POLICIES = PreparedRead(
    "conversations.policies", lambda: StorePolicy.objects.filter(is_active=True).order_by("pk")
)


def policy_answer(*, text: str, topic: str | None = None) -> StorePolicy | None:
    """The active policy whose keywords best match the text, or None when none matches.

    When no keyword matches, ``topic`` (the NLU's reading: shipping, returns, sizing, payment)
    picks that topic's first policy.

    A keyword (a word or phrase) matches on whole words; a phrase of several words scores more than
    a single word, so "how long does shipping take" prefers "how long" + "shipping" over "ship".
    """
    words = f" {_normalise(text)} "
    best, best_score = None, 0
    for policy in _ACTIVE_POLICIES.all():
        score = 0
        for keyword in policy.keyword_list:
            phrase = _normalise(keyword)
            if phrase and f" {phrase} " in words:
                score += len(phrase.split())
        if score > best_score:
            best, best_score = policy, score
    if best is None and topic:
        best = StorePolicy.objects.filter(is_active=True, topic=topic).order_by("pk").first()
    return best


@dataclass(frozen=True)
class Containment:
    """Conversations with a shopper message in a period, and how many ended without a ticket."""

    conversations: int
    without_ticket: int

    @property
    def percent(self) -> Decimal:
        return percent(self.without_ticket, self.conversations)


def assistant_containment(*, since: datetime, until: datetime) -> Containment:
    """How much the assistant handled alone: conversations where a shopper wrote in ``[since, until)``,
    less those in which a support ticket was opened in that period."""
    active = Conversation.objects.filter(
        Exists(
            Message.objects.filter(
                conversation=OuterRef("pk"),
                role=Message.Role.USER,
                created_at__gte=since,
                created_at__lt=until,
            )
        )
    )
    ticketed = SupportTicket.objects.filter(
        conversation=OuterRef("pk"), created_at__gte=since, created_at__lt=until
    )
    counts = active.aggregate(total=Count("id"), ticketed=Count("id", filter=Exists(ticketed)))
    return Containment(conversations=counts["total"], without_ticket=counts["total"] - counts["ticketed"])


def open_tickets() -> QuerySet[SupportTicket]:
    """Tickets waiting for staff."""
    return SupportTicket.objects.filter(status=SupportTicket.Status.OPEN)


def store_policies(*, topic: str | None = None) -> QuerySet[StorePolicy]:
    """The policies staff publish (active ones), optionally of one topic."""
    policies = StorePolicy.objects.filter(is_active=True)
    return policies.filter(topic=topic) if topic else policies
