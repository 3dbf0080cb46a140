"""The call script's text: pure functions, no database and no services (models validate with them).

The script follows the reason the shopper gave for leaving (``carts.models.AbandonmentReason``): a
shipping code when shipping put them off, a gentle reminder when they were still deciding. Other
reasons (and none) use the configured template (``VOICE_SCRIPT_TEMPLATE``). A shopper who said no is
never called: that is a guardrail (``voice.guardrails``), not a script.
"""

from __future__ import annotations

from carts.models import AbandonmentReason

REASON_TEMPLATES: dict[str, str] = {
    AbandonmentReason.SHIPPING_COST: (
        "Hi {name}, this is {store} calling about the items you left in your cart: {items}, {total} in "
        "total. You mentioned the shipping cost, so here is a code that covers it: {offer}, good for one "
        "order this week. Say or type the code {code} in our chat or on the site and your cart is right "
        "there."
    ),
    AbandonmentReason.UNDECIDED: (
        "Hi {name}, this is {store} with a quick reminder: your cart with {items}, {total} in total, is "
        "saved for you. No rush; when you are ready, say or type the code {code} in our chat or on the "
        "site and it is right there."
    ),
}
# The offer each reason earns on the call (none for the others).
SHIPPING_OFFER_PREFIX = "SHIP"


def script_template_for(*, reason: str, default: str) -> str:
    """The template for a shopper who left for ``reason`` ("" when they gave none)."""
    return REASON_TEMPLATES.get(reason, default)


def offer_wanted(reason: str) -> bool:
    """Whether the call comes with a one-use discount code (shipping put the shopper off)."""
    return reason == AbandonmentReason.SHIPPING_COST


# The recovery code said in the script. No 0/O/1/I: it is read out on the phone and typed back (in the
# chat or at /voice/r/<code>/), so the chat's understanding knows a code by these letters too.
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
RECOVERY_CODE_LENGTH = 6


class _KeepUnknown(dict):
    """Unknown ``{placeholders}`` stay as written instead of failing the call."""

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def script_render_text(
    *, template: str, name: str, store: str, items: str, total: str, code: str, offer: str = ""
) -> str:
    values = _KeepUnknown(name=name, store=store, items=items, total=total, code=code, offer=offer)
    return template.format_map(values)
