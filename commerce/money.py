"""Money helpers: ``Decimal`` everywhere, two places, half-up rounding, strings on the wire."""

from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
ZERO = Decimal("0.00")


def quantize(amount: Decimal) -> Decimal:
    return Decimal(amount).quantize(CENT, rounding=ROUND_HALF_UP)


def money_str(amount: Decimal) -> str:
    """The contract's money format: a decimal string with two places, e.g. ``"129.99"``."""
    return f"{quantize(amount):.2f}"
