"""One message in, one ``Reply`` out: the path every channel (socket, REST, kiosk, voice) takes.

``respond_turn`` records the shopper's message, works out what it means, serves it and records the reply.
It only orchestrates: understand -> plan -> execute -> reply. Every request that reads or writes the
store becomes a :class:`planner.Plan` of tool calls -- from the rules planner, or from a model under
``LLM_DECISION_POLICY`` (``model_planner.py``) -- and the executor runs it through the tool registry.
Only the conversational answers that touch no data (greeting, help, a reaction, "nothing to say yes to")
are written here.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings

from carts.selectors import cart_with_lines
from carts.serializers import cart_to_dict
from commerce.accounts.shoppers import Shopper
from conversations import services
from conversations.assistant import executor, model_planner, planner
from conversations.assistant import state as dialogue_state
from conversations.assistant.executor import Execution
from conversations.assistant.intents import Intent
from conversations.assistant.metrics import message_answered
from conversations.assistant.nlu import ACTION_INTENTS, IntentResult, NluContext, Understanding, understand
from conversations.assistant.reply import SUCCEEDED, Outcome, action, build_reply, render_reply_html
from conversations.assistant.tools import ToolContext
from conversations.assistant.tools.memory import reaction_reply
from conversations.assistant.tools.policies import CANNOT_HELP, DEFAULT_SUGGESTIONS
from conversations.models import Conversation, Message
from voice.selectors import recovery_code_exists

# Answered here, without a tool: they neither read nor write the store.
CONVERSATIONAL_INTENTS = frozenset({Intent.GREETING, Intent.HELP, Intent.CONFIRM, Intent.DENY})


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
    understanding: Understanding
    received: services.ReceivedMessage  # the shopper's message, written at the turn's end
    on_delta: Callable[[str], None] | None = None

    @property
    def intent(self) -> str:
        return self.understanding.intents[0].name

    @property
    def confidence(self) -> float:
        return float(self.understanding.intents[0].confidence)


def respond(*, shopper: Shopper, text: str, channel: str, origin: str | None = None) -> dict[str, Any]:
    """The contract's ``Reply`` to one shopper message (see :func:`respond_turn`)."""
    return respond_turn(shopper=shopper, text=text, channel=channel, origin=origin).reply


def respond_turn(
    *,
    shopper: Shopper,
    text: str,
    channel: str,
    origin: str | None = None,
    on_delta: Callable[[str], None] | None = None,
    push: Callable[[str, dict[str, Any]], None] | None = None,
    conversation: Conversation | None = None,
) -> Turn:
    """Records the message, serves it and records the reply.

    ``origin`` is the channel name of the socket the message came from, so the live push of these
    two messages to the conversation's other sockets skips it. ``on_delta`` receives the model's text
    as it is generated (the socket's ``stream_delta``); joined, the deltas are the reply's text.
    ``push``: how the two messages' live events reach the conversation's other sockets (see
    :func:`services.message_record`; default: from this thread, after commit). ``conversation``: the
    shopper's conversation read with its dialogue state (``services.guest_turn_start``), else it is
    found here. Raises
    ``EmptyMessage`` or ``MessageTooLong`` for unusable text (nothing is recorded then).
    """
    started = time.monotonic()
    text = services.message_content_clean(text)
    if conversation is None:
        conversation = services.conversation_for_shopper(shopper=shopper, with_state=True)
    state = dialogue_state.load(conversation)
    understanding = understand(text, context=_nlu_context(state))
    top = understanding.intents[0]
    name, confidence, slots = top.name, float(top.confidence), dict(top.slots)
    # The shopper's message is written with the reply in the turn's one closing statement, whatever
    # becomes of the turn (or before it waits on the model: _serve); the conversation row counts the
    # turn's messages there too.
    received = services.chat_message_received(
        conversation=conversation,
        role=Message.Role.USER,
        content=text,
        channel=channel,
        intent=name,
        confidence=confidence,
        origin=origin,
        push=push,
    )
    reply_fields: services.MessageFields | None = None
    try:
        ctx = Context(
            shopper=shopper,
            conversation=conversation,
            state=state,
            text=text,
            channel=channel,
            slots=slots,
            understanding=understanding,
            on_delta=on_delta,
            received=received,
        )
        outcome = _serve(ctx)
        name = outcome.intent or name
        confidence = ctx.confidence if outcome.intent else confidence
        reply_fields = {
            "role": Message.Role.ASSISTANT,
            "content": outcome.text,
            "channel": channel,
            "intent": name,
            "confidence": confidence,
            "actions": outcome.actions,
            "planning": outcome.planning,
        }
    finally:
        # The messages, the dialogue state (if the turn changed it) and the turn's messages counted on
        # the conversation: one write (one statement on PostgreSQL). A failed turn keeps its one message.
        assistant_message = services.chat_turn_recorded(
            conversation=conversation,
            received=received,
            reply=reply_fields,
            state=dialogue_state.changes(state) if reply_fields is not None else None,
            state_is_new=dialogue_state.never_stored(state),
        )
    assert assistant_message is not None  # the turn has its reply: an exception would have left above
    if outcome.shadow:
        model_planner.shadow_plan_later(message_id=assistant_message.pk, text=text, shopper=shopper)
    message_answered(
        intent=name,
        planner=outcome.planner,
        fallback=outcome.fallback_reason,
        channel=channel,
        seconds=time.monotonic() - started,
    )
    reply = build_reply(session_id=shopper.session_key, outcome=outcome, intent=name, confidence=confidence)
    return Turn(
        reply=reply,
        html=render_reply_html(reply, links=outcome.links),
        user_message_id=received.message.pk,
        assistant_message_id=assistant_message.pk,
    )


# --- understanding ---------------------------------------------------------------------------


def _nlu_context(state: dialogue_state.State) -> NluContext:
    clarification = state.pending_clarification or {}
    return NluContext(
        pending_confirmation=bool(state.pending_confirmation),
        pending_clarification=clarification.get("slot") if isinstance(clarification, dict) else None,
        recovery_code_known=recovery_code_exists,
    )


# --- acting: planner, executor and tools -------------------------------------------------------------


def _outcome_of(execution: Execution) -> Outcome:
    cart = None
    if execution.cart_touched and execution.cart is not None:
        loaded = execution.cart if execution.cart_loaded else None
        cart = cart_to_dict(loaded or cart_with_lines().filter(pk=execution.cart.pk).first())
    return Outcome(
        text=execution.text or "Done.",
        actions=execution.actions,
        products=execution.products,
        suggestions=execution.suggestions,
        links=execution.links,
        cart=cart,
    )


def _tool_context(ctx: Context) -> ToolContext:
    return ToolContext(
        shopper=ctx.shopper,
        state=ctx.state,
        conversation=ctx.conversation,
        channel=ctx.channel,
        received=ctx.received,
    )


def _answer_pending(ctx: Context) -> Outcome | None:
    """The answer to a question the assistant asked: "yes"/"no" to a confirmation, a size to "which
    size?". Always read by the rules, whatever planner is in use: only the shopper's own "yes", in a
    message of its own, ever runs a confirm=True tool."""
    top = ctx.intent
    tool_ctx = _tool_context(ctx)
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
    return None


def _act(ctx: Context) -> Outcome | None:
    """Requests that read or write the store, through the rules planner, the executor and the tools.

    Returns None for the conversational intents (greeting, help, yes/no with nothing pending, a
    reaction, out of scope) that the handlers below answer without touching the store.
    """
    understanding = ctx.understanding
    names = [i.name for i in understanding.intents]
    top = names[0]
    if not any(n in planner.PLANNED_INTENTS for n in names):
        if top in CONVERSATIONAL_INTENTS or ctx.slots.get("reaction") or ctx.slots.get("refused"):
            return None
        # nothing else the rules recognise: maybe a store policy answers it ("do you ship to Canada?")
        understanding = Understanding(
            [IntentResult("general_question", dict(ctx.slots), understanding.confidence, ctx.text)],
            understanding.confidence,
            understanding.normalized_text,
        )
    if top in ACTION_INTENTS and understanding.confidence < settings.LLM_PLANNER_MIN_CONFIDENCE:
        return _unsure(ctx)
    plan = planner.plan(understanding, ctx.state, ctx.text)
    outcome = _outcome_of(executor.execute(plan, _tool_context(ctx)))
    outcome.plan = plan.as_record()
    return outcome


def rules_are_unsure(understanding: Understanding) -> bool:
    """The rules recognised nothing they can act on with confidence: where ``rules_first`` asks the model."""
    top = understanding.intents[0]
    if understanding.confidence < settings.LLM_PLANNER_MIN_CONFIDENCE:
        return True
    return top.name in ("out_of_scope", "provide_info") and not top.slots


def _rules_outcome(ctx: Context) -> Outcome:
    return _act(ctx) or _handler_for(ctx.intent, ctx.confidence)(ctx)


def _serve(ctx: Context) -> Outcome:
    """One message served under ``LLM_DECISION_POLICY`` (see ``docs/llm.md``)."""
    answered = _answer_pending(ctx)
    if answered is not None:
        return answered
    decision = model_planner.decide(
        session_key=ctx.shopper.session_key, rules_unsure=rules_are_unsure(ctx.understanding)
    )
    if decision.ask_model or decision.classify:
        services.chat_message_keep(ctx.received)  # the model may take seconds: nothing waits unsaved
    if decision.ask_model:
        outcome = model_planner.respond_with_model(
            shopper=ctx.shopper,
            conversation=ctx.conversation,
            state=ctx.state,
            text=ctx.text,
            tool_ctx=_tool_context(ctx),
            on_delta=ctx.on_delta,
        )
        if outcome.fallback_reason is None:
            return outcome
        rules = _rules_outcome(ctx)
        rules.fallback_reason = outcome.fallback_reason
        rules.model = outcome.model
        return rules
    if decision.classify:
        named = model_planner.classify_with_model(shopper=ctx.shopper, text=ctx.text)
        if named.understanding is not None:
            ctx.understanding = named.understanding
            ctx.slots = dict(named.understanding.intents[0].slots)
        outcome = _rules_outcome(ctx)
        outcome.fallback_reason, outcome.model = named.fallback_reason, named.model
        outcome.intent = ctx.intent if named.understanding is not None else None
        return outcome
    outcome = _rules_outcome(ctx)
    outcome.fallback_reason = decision.fallback_reason
    outcome.shadow = decision.shadow
    return outcome


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
    return Outcome(text=CANNOT_HELP, suggestions=DEFAULT_SUGGESTIONS)


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
    """A reaction to a product on screen, or a message refused as a whole (markup, instructions)."""
    if ctx.slots.get("reaction"):
        return _reaction(ctx)
    return _cannot_help(ctx)


def _confirm_or_deny(ctx: Context) -> Outcome:
    return Outcome(
        text="There's nothing waiting for a yes or no right now. What would you like to do?",
        suggestions=DEFAULT_SUGGESTIONS,
    )


HANDLERS: dict[str, Callable[[Context], Outcome]] = {
    "greeting": _greeting,
    "help": _help,
    "confirm": _confirm_or_deny,
    "deny": _confirm_or_deny,
    "out_of_scope": _out_of_scope,
}


def _handler_for(intent: str, confidence: float) -> Callable[[Context], Outcome]:
    if intent in ACTION_INTENTS and confidence < settings.LLM_PLANNER_MIN_CONFIDENCE:
        return _unsure
    # (every request that reads or writes the store is planned in _act and never gets here)
    return HANDLERS.get(intent, _cannot_help)
