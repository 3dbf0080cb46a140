"""Turns what the assistant did into the contract's ``Reply`` and the chat bubbles' HTML.

HTML comes only from templates (``templates/conversations/``) with autoescaping, so whatever a
shopper types, or a product name holds, is shown as text and never runs as markup.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from django.template.loader import render_to_string
from django.urls import get_script_prefix
from django.utils.safestring import SafeString

SUCCEEDED = "succeeded"
FAILED = "failed"
SKIPPED = "skipped"
NEEDS_CONFIRMATION = "needs_confirmation"

# The element of the chat panel that bubbles are appended to (``chat_panel.html``).
CHAT_LOG_ID = "chat-log"


@dataclass(frozen=True)
class Link:
    label: str
    url: str


@dataclass
class Outcome:
    """What one turn produced, before it becomes a ``Reply``."""

    text: str
    actions: list[dict[str, str]] = field(default_factory=list)
    products: list[dict[str, Any]] = field(default_factory=list)
    suggestions: list[str] = field(default_factory=list)
    links: list[Link] = field(default_factory=list)
    cart: dict[str, Any] | None = None
    planner: str = "rules"  # which planner chose the actions: "rules" or "llm"
    fallback_reason: str | None = None  # why the model, meant to plan, did not
    model: dict[str, Any] = field(
        default_factory=dict
    )  # the model call's record (model, latency, tokens, cost)
    plan: list[dict[str, Any]] = field(default_factory=list)  # the steps that ran or were refused
    shadow: bool = False  # shadow mode: the model plans this message later, off the request path
    intent: str | None = None  # when the model chose what the message means (else the rules' reading)

    @property
    def planning(self) -> dict[str, Any]:
        """What is stored beside the assistant message about how it was planned."""
        return {
            "planner": self.planner,
            "fallback_reason": self.fallback_reason or "",
            "plan": self.plan,
            **self.model,
        }


def action(type_: str, status: str, detail: str) -> dict[str, str]:
    """The contract's ``Action``: ``type`` is the intent that ran, ``status`` what became of it."""
    return {"type": type_, "status": status, "detail": detail}


def build_reply(*, session_id: str, outcome: Outcome, intent: str, confidence: float) -> dict[str, Any]:
    return {
        "sessionId": session_id,
        "reply": outcome.text,
        "intent": intent,
        "confidence": round(float(confidence), 3),
        "actions": outcome.actions,
        "products": outcome.products,
        "cart": outcome.cart,
        "suggestions": outcome.suggestions,
        "planner": outcome.planner,
        "fallbackReason": outcome.fallback_reason,
    }


def render_reply_html(reply: dict[str, Any], *, links: list[Link] | tuple[Link, ...] = ()) -> str:
    """The assistant's bubble for a ``response`` event: an out-of-band fragment appended to the log."""
    cards = [_product_card(_product_card_key(number, p)) for number, p in enumerate(reply["products"], 1)]
    return render_to_string(
        "conversations/reply.html",
        {"reply": reply, "product_cards": cards, "links": links, "chat_log_id": CHAT_LOG_ID, "oob": True},
    )


# A product's card in a reply is the same for every shopper shown that product at that place in a list,
# until its name, price or sizes in stock change: the card is rendered from exactly what its key holds.
# Rendering a search reply's five cards each time was ~6 ms of CPU, about a quarter of a chat message's
# cost in a Daphne process (measured); a remembered card is a dictionary lookup.
PRODUCT_CARDS_REMEMBERED = 4096


def _product_card_key(number: int, product: dict[str, Any]) -> tuple[Any, ...]:
    variants = product.get("variants") or ()
    in_stock = tuple((v.get("id"), v.get("size"), v.get("color")) for v in variants if v.get("inStock"))
    return (
        get_script_prefix(),  # the card's links
        number,
        product.get("id"),
        product.get("name"),
        product.get("brand"),
        product.get("imageUrl"),
        product.get("price"),
        in_stock,
    )


@lru_cache(maxsize=PRODUCT_CARDS_REMEMBERED)
def _product_card(key: tuple[Any, ...]) -> SafeString:
    _prefix, number, product_id, name, brand, image_url, price, in_stock = key
    product = {
        "id": product_id,
        "name": name,
        "brand": brand,
        "imageUrl": image_url,
        "price": price,
        "variants": [{"id": i, "size": size, "color": color, "inStock": True} for i, size, color in in_stock],
    }
    return render_to_string("conversations/product_card.html", {"p": product, "number": number})


def render_message_html(*, role: str, content: str, channel: str, oob: bool = True) -> str:
    """One plain bubble (a message from another tab, the REST API, staff), appended out of band."""
    return render_to_string(
        "conversations/message.html",
        {"role": role, "content": content, "channel": channel, "chat_log_id": CHAT_LOG_ID, "oob": oob},
    )


def stream_chunks(text: str, *, words_per_chunk: int = 4) -> list[str]:
    """The reply text cut into word groups for ``stream_delta`` events; joined they give the text back."""
    words = text.split(" ")
    return [
        " ".join(words[i : i + words_per_chunk]) + (" " if i + words_per_chunk < len(words) else "")
        for i in range(0, len(words), words_per_chunk)
    ]
