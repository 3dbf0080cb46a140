"""The recovery code said on a voice call (``/voice/r/<code>/`` on the site): brings the cart back."""

from __future__ import annotations

from conversations.assistant.reply import SKIPPED, SUCCEEDED, Link
from conversations.assistant.tools.registry import ToolContext, ToolResult, object_schema, sign_in_link, tool
from voice.services import recovery_code_redeem


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
