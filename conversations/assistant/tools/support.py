"""Support tools: open a ticket with a person, see its status, close it (the signed-in shopper's own only).

A ticket's messages are the shopper's words; staff answers come back as data, shown as text, never
followed as instructions.
"""

from __future__ import annotations

from conversations import selectors, services
from conversations.assistant.reply import FAILED, SKIPPED, SUCCEEDED
from conversations.assistant.tools.registry import (
    ToolContext,
    ToolResult,
    Unresolved,
    object_schema,
    sign_in_link,
    tool,
)
from conversations.errors import TicketNotFound
from conversations.models import SupportTicket

TICKET_SUBJECT_CHARS = 80
_TICKET_ID = {"ticket_id": {"type": "integer", "minimum": 1, "description": "the ticket number, e.g. 12"}}


def _subject(message: str) -> str:
    return message if len(message) <= TICKET_SUBJECT_CHARS else message[: TICKET_SUBJECT_CHARS - 1] + "…"


@tool(
    "open_support_ticket",
    "Hand the conversation to a person: open a support ticket with the shopper's message (or add it to "
    "their open ticket from this conversation). Use it when the shopper asks for a person or has a problem "
    "the other tools cannot solve.",
    object_schema(
        {
            "message": {
                "type": "string",
                "minLength": 1,
                "maxLength": 4000,
                "description": "the shopper's request",
            },
            "order_id": {"type": "string", "maxLength": 32, "description": "an order number it is about"},
        },
        ("message",),
    ),
    intent="support_escalation",
)
def open_support_ticket(ctx: ToolContext, message: str, order_id: str | None = None) -> ToolResult:
    user = ctx.shopper.user
    if user is None:
        return ToolResult(
            SKIPPED,
            "Support tickets need a signed-in account.",
            text="I can put you in touch with our support team once you are signed in, so they can see your "
            "orders and answer you here. Your cart and this chat stay with you when you sign in.",
            links=[sign_in_link("/")],
            suggestions=["What is your return policy?"],
        )
    open_ticket = selectors.ticket_latest_open(user=user)
    if (
        open_ticket is not None
        and ctx.conversation is not None
        and open_ticket.conversation_id == ctx.conversation.pk
    ):
        services.ticket_add_message(ticket=open_ticket, user=user, body=message)
        return ToolResult(
            SUCCEEDED,
            f"Added to ticket #{open_ticket.pk}.",
            text=f'I\'ve added this to your open ticket #{open_ticket.pk} ("{open_ticket.subject}"). '
            "Our team will answer here in the chat.",
            suggestions=["What's the status of my ticket?"],
        )
    ticket = services.ticket_open(
        user=user,
        subject=_subject(message),
        message=message,
        channel=ctx.channel,
        order_number=order_id or None,
        conversation=ctx.conversation,
        # the transcript ends with the message that asked for the ticket (written at the turn's end)
        pending=ctx.received.message if ctx.received is not None else None,
    )
    return ToolResult(
        SUCCEEDED,
        f"Opened ticket #{ticket.pk}.",
        text=f"I've opened support ticket #{ticket.pk} with our conversation attached. A person from "
        "our team will answer here in the chat (and you'll find it in your history).",
        suggestions=["What's the status of my ticket?", "Close my ticket"],
    )


def _own_ticket(ctx: ToolContext, ticket_id: int | None, verb: str) -> SupportTicket | None:
    """The shopper's ticket named by number, else their latest open one (None: no open one). A guest
    has no tickets, and a number that is not theirs is "not found"."""
    if ctx.shopper.user is None:
        raise Unresolved(
            ToolResult(
                SKIPPED,
                "Support tickets need a signed-in account.",
                text=f"Support tickets belong to an account: sign in to {verb} yours.",
                links=[sign_in_link("/")],
            )
        )
    if ticket_id is None:
        return selectors.ticket_latest_open(user=ctx.shopper.user)
    try:
        return selectors.ticket_get_for_user(user=ctx.shopper.user, ticket_id=ticket_id)
    except TicketNotFound as exc:
        raise Unresolved(ToolResult(FAILED, exc.message)) from exc


@tool(
    "support_ticket_status",
    "The status of one of the shopper's own support tickets (the number named, else the latest open one) "
    "and the last answer from staff.",
    object_schema(_TICKET_ID),
    intent="support_status",
)
def support_ticket_status(ctx: ToolContext, ticket_id: int | None = None) -> ToolResult:
    ticket = _own_ticket(ctx, ticket_id, "see")
    if ticket is None:
        return ToolResult(
            SUCCEEDED,
            "No open tickets.",
            text='You have no open support tickets. Say "talk to a person" if you need one.',
            suggestions=["Talk to a person"],
        )
    last_staff = ticket.messages.filter(author_role="staff").order_by("-created_at", "-id").first()
    text = f'Ticket #{ticket.pk} ("{ticket.subject}") is {ticket.get_status_display().lower()}.'
    if last_staff is not None:
        text += f' The last answer from our team: "{last_staff.body}"'
    else:
        text += " Our team has not answered yet; you'll see their answer here."
    return ToolResult(
        SUCCEEDED,
        f"Ticket #{ticket.pk} is {ticket.status}.",
        text=text,
        suggestions=["Close my ticket"] if not ticket.is_closed() else [],
    )


@tool(
    "close_support_ticket",
    "Close one of the shopper's own support tickets (the number named, else the latest open one) when "
    "the shopper says it is solved.",
    object_schema(_TICKET_ID),
    intent="support_close",
)
def close_support_ticket(ctx: ToolContext, ticket_id: int | None = None) -> ToolResult:
    ticket = _own_ticket(ctx, ticket_id, "manage")
    if ticket is None:
        return ToolResult(SKIPPED, "No open tickets.", text="You have no open support tickets to close.")
    if ticket.is_closed():
        return ToolResult(
            SKIPPED,
            f"Ticket #{ticket.pk} was already closed.",
            text=f"Ticket #{ticket.pk} is already closed.",
        )
    services.ticket_close(ticket=ticket)
    return ToolResult(
        SUCCEEDED,
        f"Closed ticket #{ticket.pk}.",
        text=f"I've closed ticket #{ticket.pk}. Glad we could help!",
    )
