"""Money helpers: ``Decimal`` everywhere, two places, half-up rounding, strings on the wire; and the
share of one count in another as a ``Decimal`` percentage (rates on the admin's pages)."""

from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
ZERO = Decimal("0.00")


def quantize(amount: Decimal) -> Decimal:
    return Decimal(amount).quantize(CENT, rounding=ROUND_HALF_UP)


def money_str(amount: Decimal) -> str:
    """The contract's money format: a decimal string with two places, e.g. ``"129.99"``."""
    if isinstance(amount, Decimal):
        text = str(amount)
        # Already two places, as the database's prices are: a page of products holds hundreds.
        if len(text) > 3 and text[-3] == "." and text[-2:].isdigit():
            return text
    return f"{quantize(amount):.2f}"


def percent(part: int, whole: int) -> Decimal:
    """``part`` as a percentage of ``whole`` to one place (``Decimal("0")`` when ``whole`` is 0)."""
    if not whole:
        return Decimal("0")
    return (Decimal(part) / Decimal(whole) * 100).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
