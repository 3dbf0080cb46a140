from decimal import Decimal

import pytest

from commerce.money import money_str


@pytest.mark.parametrize(
    ("amount", "expected"),
    [
        (Decimal("129.99"), "129.99"),  # as the database gives prices: returned as it is
        (Decimal("0.00"), "0.00"),
        (Decimal("-5.10"), "-5.10"),
        (Decimal("129.9"), "129.90"),
        (Decimal("129"), "129.00"),
        (Decimal("1E+2"), "100.00"),
        (Decimal("0.005"), "0.01"),  # half up
        (Decimal("2.345"), "2.35"),
        (Decimal("1.2E-7"), "0.00"),
        (10, "10.00"),
    ],
)
def test_money_is_a_two_place_string_rounded_half_up(amount, expected):
    assert money_str(amount) == expected
