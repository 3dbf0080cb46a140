"""One message in, one ``Reply`` out: the path every channel (socket, REST, kiosk, voice) takes.

``respond`` records the shopper's message, works out what it means (``nlu.understand``), serves it,
records the reply and returns the contract's ``Reply``. Cart, checkout, order and memory requests (and
pending yes/no questions and clarifications) go through the planner, executor and tool registry;
greetings, help, store policy questions, product search and support tickets are served here.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.urls import reverse

from carts.selectors import cart_with_lines
from carts.serializers import cart_to_dict
from catalog.errors import InvalidSearch
from catalog.selectors import product_search
from catalog.serializers import product_to_dict
from commerce.accounts.shoppers import Shopper
from conversations import selectors, services
from conversations.assistant import executor, planner
from conversations.assistant import state as dialogue_state
from conversations.assistant.executor import Execution
from conversations.assistant.memory_tools import reaction_reply
from conversations.assistant.nlu import ACTION_INTENTS, NluContext, Understanding, understand
from conversations.assistant.reply import (
    FAILED,
    SKIPPED,
    SUCCEEDED,
    Link,
    Outcome,
    action,
    build_reply,
    render_reply_html,
)
from conversations.assistant.tools import ToolContext, sign_in_link
from conversations.errors import TicketNotFound
from conversations.models import Conversation, Message, SupportTicket

MAX_PRODUCTS_SHOWN = 5
TRANSCRIPT_SUBJECT_CHARS = 80

DEFAULT_SUGGESTIONS = ["Show me running shoes", "What is your return policy?", "Talk to a person"]


@dataclass
class Turn:
    """A served message: the ``Reply`` plus what the socket needs besides it."""

    reply: dict[str, Any]
    html: str
    user_message_id: int
    assistant_message_id: int


@dataclass
class Context:
    shopper: Shopper
    conversation: Conversation
    state: dialogue_state.State
    text: str
    channel: str
    slots: dict[str, Any]
    understanding: Understanding | None = None


def respond(*, shopper: Shopper, text: str, channel: str, origin: str | None = None) -> dict[str, Any]:
    """The contract's ``Reply`` to one shopper message (see :func:`respond_turn`)."""
    return respond_turn(shopper=shopper, text=text, channel=channel, origin=origin).reply


def respond_turn(*, shopper: Shopper, text: str, channel: str, origin: str | None = None) -> Turn:
    """Records the message, serves it and records the reply.

    ``origin`` is the channel name of the socket the message came from, so the live push of these
    two messages to the conversation's other sockets skips it. Raises ``EmptyMessage`` or
    ``MessageTooLong`` for unusable text (nothing is recorded then).
    """
    text = services.message_content_clean(text)
    conversation = services.conversation_for_shopper(shopper=shopper)
    state = dialogue_state.load(conversation)
    understanding = understand(text, context=_nlu_context(state))
    top = understanding.intents[0]
    name, confidence, slots = top.name, float(top.confidence), dict(top.slots)
    user_message = services.message_record(
        conversation=conversation,
        role=Message.Role.USER,
        content=text,
        channel=channel,
        intent=name,
        confidence=confidence,
        origin=origin,
    )
    ctx = Context(
        shopper=shopper,
        conversation=conversation,
        state=state,
        text=text,
        channel=channel,
        slots=slots,
        understanding=understanding,
    )
    outcome = _act(ctx) or _handler_for(name, confidence)(ctx)
    dialogue_state.save(conversation, ctx.state)
    assistant_message = services.message_record(
        conversation=conversation,
        role=Message.Role.ASSISTANT,
        content=outcome.text,
        channel=channel,
        intent=name,
        confidence=confidence,
        actions=outcome.actions,
        origin=origin,
    )
    reply = build_reply(session_id=shopper.session_key, outcome=outcome, intent=name, confidence=confidence)
    return Turn(
        reply=reply,
        html=render_reply_html(reply, links=outcome.links),
        user_message_id=user_message.pk,
        assistant_message_id=assistant_message.pk,
    )


# --- understanding ---------------------------------------------------------------------------


def _nlu_context(state: dialogue_state.State) -> NluContext:
    clarification = state.pending_clarification or {}
    return NluContext(
        pending_confirmation=bool(state.pending_confirmation),
        pending_clarification=clarification.get("slot") if isinstance(clarification, dict) else None,
    )


# --- acting: planner, executor and tools -------------------------------------------------------------


def _outcome_of(execution: Execution) -> Outcome:
    cart = None
    if execution.cart_touched and execution.cart is not None:
        cart = cart_to_dict(cart_with_lines().filter(pk=execution.cart.pk).first())
    return Outcome(
        text=execution.text or "Done.",
        actions=execution.actions,
        products=execution.products,
        suggestions=execution.suggestions,
        links=execution.links,
        cart=cart,
    )


def _act(ctx: Context) -> Outcome | None:
    """Pending yes/no and clarifications, then cart and checkout requests, through planner and executor.

    Returns None for messages the other handlers serve (greeting, policies, search, support).
    """
    understanding = ctx.understanding
    if understanding is None:
        return None
    names = [i.name for i in understanding.intents]
    top = names[0]
    tool_ctx = ToolContext(shopper=ctx.shopper, state=ctx.state)
    if ctx.state.pending_confirmation:
        if top == "confirm":
            return _outcome_of(executor.confirm_pending(tool_ctx))
        if top == "deny":
            return _outcome_of(executor.deny_pending(tool_ctx))
        # any other message drops the question: nothing irreversible runs on a stale "yes"
        ctx.state.pending_confirmation = None
    if ctx.state.pending_clarification:
        if top == "provide_info":
            done = executor.complete_clarification(tool_ctx, ctx.slots)
            if done is not None:
                return _outcome_of(done)
        ctx.state.pending_clarification = None
    if not any(n in planner.ACTED_INTENTS for n in names):
        return None
    if top in ACTION_INTENTS and understanding.confidence < settings.LLM_PLANNER_MIN_CONFIDENCE:
        return _unsure(ctx)
    return _outcome_of(executor.execute(planner.plan(understanding, ctx.state), tool_ctx))


# --- handlers --------------------------------------------------------------------------------


def _greeting(ctx: Context) -> Outcome:
    user = ctx.shopper.user
    name = f", {user.get_short_name()}" if user is not None and user.name else ""
    return Outcome(
        text=f"Hi{name}! I can find products, fill your cart and check out, tell you where an order is, "
        "remember your sizes and what you like, answer questions about shipping, returns, sizing and "
        "payment, and get you to a person. What are you looking for?",
        suggestions=DEFAULT_SUGGESTIONS,
    )


def _help(ctx: Context) -> Outcome:
    return Outcome(
        text="Here is what I can do in chat:\n"
        '- find products: "running shoes under $150 in size 10"\n'
        "- answer questions about shipping, returns, sizing and payment\n"
        '- change your cart: "add the second one", "make it 2", "remove the socks", "apply code SAVE10"\n'
        '- check out with your saved address and card ("checkout"), tell you where an order is, cancel '
        "it, refund it or change its address\n"
        '- remember your sizes and what you like ("I wear size M", "I don\'t like neon") and use them to '
        'fill in a size and to recommend for you ("what would you recommend for me?"); tell you what I '
        'remember ("what do you remember about me?") and forget it on request ("forget my shoe size", '
        '"forget everything about me"); signed-in shoppers only\n'
        "- open a support ticket, tell you its status and close it",
        actions=[action("help", SUCCEEDED, "Listed what the assistant can do.")],
        suggestions=DEFAULT_SUGGESTIONS,
    )


def _cannot_help(ctx: Context) -> Outcome:
    return Outcome(
        text="I can't help with that, but I can find products, change your cart and check out, look "
        "after your orders, remember what you like, answer questions about shipping, returns, sizing "
        'and payment, or open a support ticket for you. Say "help" for examples.',
        suggestions=DEFAULT_SUGGESTIONS,
    )


def _general_question(ctx: Context) -> Outcome:
    policy = selectors.policy_answer(text=ctx.text, topic=ctx.slots.get("topic"))
    if policy is None:
        return _cannot_help(ctx)
    return Outcome(
        text=policy.answer,
        actions=[action("general_question", SUCCEEDED, f'Answered from the store policy "{policy.title}".')],
        suggestions=["Show me running shoes", "Talk to a person"],
    )


def _search_terms(slots: dict[str, Any]) -> dict[str, Any]:
    """The NLU's product slots as ``product_search`` arguments.

    The category goes into the text query rather than the exact category filter: the NLU's
    category words ("running shoes") need not be the catalog's category names, and the text search
    covers category names anyway.
    """
    query = slots.get("product") or slots.get("category") or ""
    terms: dict[str, Any] = {"query": str(query)}
    for arg, names in (
        ("brand", ("brand",)),
        ("size", ("size",)),
        ("color", ("color",)),
        ("min_price", ("min_price", "price_min")),
        ("max_price", ("max_price", "price_max")),
    ):
        value = next((slots[n] for n in names if slots.get(n) not in (None, "")), None)
        if value is not None:
            terms[arg] = value
    if slots.get("sort") in ("price_asc", "price_desc", "newest", "relevance"):
        terms["sort"] = slots["sort"]
    return terms


def _describe(terms: dict[str, Any]) -> str:
    parts = [terms.get("query") or "products"]
    if terms.get("brand"):
        parts.append(f"by {terms['brand']}")
    if terms.get("color"):
        parts.append(f"in {terms['color']}")
    if terms.get("size"):
        parts.append(f"in size {terms['size']}")
    if terms.get("min_price") is not None and terms.get("max_price") is not None:
        parts.append(f"between ${terms['min_price']} and ${terms['max_price']}")
    elif terms.get("max_price") is not None:
        parts.append(f"under ${terms['max_price']}")
    elif terms.get("min_price") is not None:
        parts.append(f"over ${terms['min_price']}")
    return " ".join(str(p) for p in parts)


def _product_search(ctx: Context) -> Outcome:
    terms = _search_terms(ctx.slots)
    wanted = _describe(terms)
    try:
        found = list(product_search(**terms, in_stock_only=True)[:MAX_PRODUCTS_SHOWN])
    except InvalidSearch as exc:
        return Outcome(
            text=f"I couldn't search for that: {exc.message}",
            actions=[action("product_search", FAILED, exc.message)],
            suggestions=["Show me running shoes"],
        )
    if not found:
        return Outcome(
            text=f"I couldn't find any {wanted} in stock. Try fewer words, another size or a higher price.",
            actions=[action("product_search", SUCCEEDED, f"No products found for {wanted}.")],
            suggestions=["Show me hoodies", "Show me running shoes"],
            links=[Link("Browse all products", reverse("catalog:product-list"))],
        )
    ctx.state.show([p.pk for p in found], size=terms.get("size"), color=terms.get("color"))
    products = [product_to_dict(p) for p in found]
    lines = [
        f"{i}. {p['name']} by {p['brand']}" + (f" - ${p['price']}" if p["price"] else "")
        for i, p in enumerate(products, start=1)
    ]
    return Outcome(
        text=f"Here {'is' if len(found) == 1 else 'are'} {len(found)} for {wanted}:\n" + "\n".join(lines),
        actions=[action("product_search", SUCCEEDED, f"Found {len(found)} products for {wanted}.")],
        products=products,
        suggestions=["Add the first one to my cart", "Show the cheapest first", "How do the sizes fit?"],
    )


def _support_escalation(ctx: Context) -> Outcome:
    user = ctx.shopper.user
    if user is None:
        return Outcome(
            text="I can put you in touch with our support team once you are signed in, so they can "
            "see your orders and answer you here. Your cart and this chat stay with you when you sign in.",
            actions=[action("support_escalation", SKIPPED, "Support tickets need a signed-in account.")],
            links=[sign_in_link("/")],
            suggestions=["What is your return policy?"],
        )
    open_ticket = selectors.ticket_latest_open(user=user)
    if open_ticket is not None and open_ticket.conversation_id == ctx.conversation.pk:
        services.ticket_add_message(ticket=open_ticket, user=user, body=ctx.text)
        return Outcome(
            text=f'I\'ve added this to your open ticket #{open_ticket.pk} ("{open_ticket.subject}"). '
            "Our team will answer here in the chat.",
            actions=[action("support_escalation", SUCCEEDED, f"Added to ticket #{open_ticket.pk}.")],
            suggestions=["What's the status of my ticket?"],
        )
    order_ids = ctx.slots.get("order_ids") or ctx.slots.get("order_id") or ""
    order_number = order_ids[0] if isinstance(order_ids, list) and order_ids else str(order_ids or "")
    subject = (
        ctx.text
        if len(ctx.text) <= TRANSCRIPT_SUBJECT_CHARS
        else ctx.text[: TRANSCRIPT_SUBJECT_CHARS - 1] + "…"
    )
    ticket = services.ticket_open(
        user=user,
        subject=subject,
        message=ctx.text,
        channel=ctx.channel,
        order_number=order_number or None,
        conversation=ctx.conversation,
    )
    return Outcome(
        text=f"I've opened support ticket #{ticket.pk} with our conversation attached. A person from "
        "our team will answer here in the chat (and you'll find it in your history).",
        actions=[action("support_escalation", SUCCEEDED, f"Opened ticket #{ticket.pk}.")],
        suggestions=["What's the status of my ticket?", "Close my ticket"],
    )


def _ticket_named(ctx: Context) -> SupportTicket | None:
    """The ticket the message names by number ("ticket 12"), else the latest open one; only the user's own."""
    m = re.search(r"(?:ticket|#)\s*#?(\d{1,9})\b", ctx.text, re.IGNORECASE)
    if m:
        return selectors.ticket_get_for_user(user=ctx.shopper.user, ticket_id=m.group(1))
    return selectors.ticket_latest_open(user=ctx.shopper.user)


def _own_ticket(ctx: Context, intent: str, verb: str) -> SupportTicket | Outcome | None:
    """The shopper's ticket the message is about (None: no open one), or the answer when there is
    none to look at: a guest has no tickets, and a number that is not theirs is "not found"."""
    if ctx.shopper.user is None:
        return Outcome(
            text=f"Support tickets belong to an account: sign in to {verb} yours.",
            actions=[action(intent, SKIPPED, "Support tickets need a signed-in account.")],
            links=[sign_in_link("/")],
        )
    try:
        return _ticket_named(ctx)
    except TicketNotFound as exc:
        return Outcome(text=exc.message, actions=[action(intent, FAILED, exc.message)])


def _support_status(ctx: Context) -> Outcome:
    ticket = _own_ticket(ctx, "support_status", "see")
    if isinstance(ticket, Outcome):
        return ticket
    if ticket is None:
        return Outcome(
            text='You have no open support tickets. Say "talk to a person" if you need one.',
            actions=[action("support_status", SUCCEEDED, "No open tickets.")],
            suggestions=["Talk to a person"],
        )
    last_staff = ticket.messages.filter(author_role="staff").order_by("-created_at", "-id").first()
    status = ticket.get_status_display().lower()
    text = f'Ticket #{ticket.pk} ("{ticket.subject}") is {status}.'
    if last_staff is not None:
        text += f' The last answer from our team: "{last_staff.body}"'
    else:
        text += " Our team has not answered yet; you'll see their answer here."
    return Outcome(
        text=text,
        actions=[action("support_status", SUCCEEDED, f"Ticket #{ticket.pk} is {ticket.status}.")],
        suggestions=["Close my ticket"] if not ticket.is_closed() else [],
    )


def _support_close(ctx: Context) -> Outcome:
    ticket = _own_ticket(ctx, "support_close", "manage")
    if isinstance(ticket, Outcome):
        return ticket
    if ticket is None:
        return Outcome(
            text="You have no open support tickets to close.",
            actions=[action("support_close", SKIPPED, "No open tickets.")],
        )
    if ticket.is_closed():
        return Outcome(
            text=f"Ticket #{ticket.pk} is already closed.",
            actions=[action("support_close", SKIPPED, f"Ticket #{ticket.pk} was already closed.")],
        )
    services.ticket_close(ticket=ticket)
    return Outcome(
        text=f"I've closed ticket #{ticket.pk}. Glad we could help!",
        actions=[action("support_close", SUCCEEDED, f"Closed ticket #{ticket.pk}.")],
    )


def _unsure(ctx: Context) -> Outcome:
    """Below the confidence threshold nothing is changed: the shopper is asked to say it again."""
    return Outcome(
        text="I'm not sure I understood, so I haven't changed anything. Could you say it another way?",
        suggestions=DEFAULT_SUGGESTIONS,
    )


def _reaction(ctx: Context) -> Outcome:
    """ "I like this hoodie" / "I hate this colour": a reaction to what is on screen; nothing is stored."""
    text, suggestions = reaction_reply(
        liked=ctx.slots.get("reaction") != "dislike", signed_in=ctx.shopper.user is not None
    )
    return Outcome(text=text, suggestions=suggestions)


def _out_of_scope(ctx: Context) -> Outcome:
    if ctx.slots.get("reaction"):
        return _reaction(ctx)
    return _general_question(ctx)


def _confirm_or_deny(ctx: Context) -> Outcome:
    return Outcome(
        text="There's nothing waiting for a yes or no right now. What would you like to do?",
        suggestions=DEFAULT_SUGGESTIONS,
    )


HANDLERS: dict[str, Callable[[Context], Outcome]] = {
    "greeting": _greeting,
    "help": _help,
    "general_question": _general_question,
    "product_search": _product_search,
    "support_escalation": _support_escalation,
    "support_status": _support_status,
    "support_close": _support_close,
    "confirm": _confirm_or_deny,
    "deny": _confirm_or_deny,
    "out_of_scope": _out_of_scope,
}


def _handler_for(intent: str, confidence: float) -> Callable[[Context], Outcome]:
    if intent in ACTION_INTENTS and confidence < settings.LLM_PLANNER_MIN_CONFIDENCE:
        return _unsure
    if intent in HANDLERS:
        return HANDLERS[intent]
    # (cart, order, checkout and memory requests never get here: the planner serves them in _act)
    # general_question, out_of_scope, provide_info with nothing pending: a policy answer or an honest no
    return _general_question
