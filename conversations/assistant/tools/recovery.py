"""Recovery: the code said on a voice call (``/voice/r/<code>/`` on the site) brings the cart back, and the
reason a shopper gives for leaving their cart is kept on it (the call that may follow goes by it)."""

from __future__ import annotations

from carts.models import AbandonmentReason
from carts.selectors import cart_for_shopper
from carts.services import cart_record_abandonment_reason
from conversations.assistant.reply import SKIPPED, SUCCEEDED, Link
from conversations.assistant.tools.registry import ToolContext, ToolResult, object_schema, sign_in_link, tool
from voice.services import recovery_code_redeem

# What the shopper hears back: the reason is heard, the cart stays, nothing is pushed after a no.
REASON_REPLIES: dict[str, str] = {
    AbandonmentReason.TOO_EXPENSIVE: "Understood, the price matters. Your cart is saved if you change "
    "your mind, and I can look for something similar for less.",
    AbandonmentReason.SHIPPING_COST: "Understood, shipping adds up. Your cart is saved for when you want it.",
    AbandonmentReason.UNDECIDED: "Take your time: your cart is saved for you.",
    AbandonmentReason.DECLINED: "No problem, we won't bring it up again. Your cart is still there if you "
    "change your mind.",
    AbandonmentReason.OTHER: "Thanks for telling me. Your cart is saved for you.",
}
REASON_SUGGESTIONS: dict[str, list[str]] = {
    AbandonmentReason.TOO_EXPENSIVE: ["Show me something cheaper", "Show my cart"],
    AbandonmentReason.DECLINED: ["Empty my cart", "Show my cart"],
}


@tool(
    "redeem_recovery_code",
    "Restore the cart behind the recovery code the shopper heard on our phone call (six letters and "
    "digits, e.g. 4F7K2Q). Only the shopper the code was made for can use it, before it expires.",
    object_schema({"code": {"type": "string", "pattern": "^[A-Za-z0-9]{4,12}$"}}, ("code",)),
)
def redeem_recovery_code(ctx: ToolContext, code: str) -> ToolResult:
    code = code.strip().upper()
    if ctx.shopper.user is None:
        # the code belongs to an account, as on the page: sign in, then it opens the cart
        return ToolResult(
            SKIPPED,
            "Recovery codes need a signed-in account.",
            text="That code belongs to your account: sign in and your cart comes back.",
            links=[sign_in_link(f"/voice/r/{code}/")],
        )
    redemption = recovery_code_redeem(code=code, user=ctx.shopper.user)
    restored = redemption.restored_lines
    return ToolResult(
        SUCCEEDED,
        f"Redeemed recovery code {code} ({restored} line(s) restored).",
        text=f"Welcome back: {restored} item(s) are in your cart again."
        if restored
        else "Welcome back: your cart is just as you left it.",
        links=[Link("Open your cart", "/cart/")],
        suggestions=["Show my cart", "Checkout"],
    )


@tool(
    "record_abandonment_reason",
    "Note why the shopper is leaving their cart without buying, when they say so: too_expensive (the "
    "price), shipping_cost (the shipping fee), undecided (they will think about it), declined (they do "
    "not want the items), other. Changes nothing in the cart; it decides whether and how the store may "
    "follow up (never after a no).",
    object_schema({"reason": {"type": "string", "enum": list(AbandonmentReason.values)}}, ("reason",)),
    intent="abandonment_reason",
)
def record_abandonment_reason(ctx: ToolContext, reason: str) -> ToolResult:
    cart = cart_for_shopper(ctx.shopper)
    if cart is None or not cart.lines.all():
        return ToolResult(
            SKIPPED, "No cart to leave: nothing noted.", text="Your cart is empty, so nothing to keep."
        )
    cart_record_abandonment_reason(cart=cart, reason=reason, source="chat")
    return ToolResult(
        SUCCEEDED,
        f"Noted why the cart is left: {reason}.",
        text=REASON_REPLIES[reason],
        suggestions=REASON_SUGGESTIONS.get(reason, ["Show my cart"]),
    )
