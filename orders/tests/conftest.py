from decimal import Decimal

import pytest

from carts.models import Discount
from carts.services import cart_add_item, cart_apply_discount
from catalog.tests.factories import VariantFactory
from commerce.accounts.shoppers import Shopper

ADDRESS = {
    "name": "Ada Shopper",
    "line1": "500 Main St",
    "line2": "",
    "city": "Austin",
    "state": "TX",
    "postalCode": "78701",
    "country": "US",
}
PAY_OK = {"type": "card", "token": "pm_test_visa"}
PAY_FAIL = {"type": "card", "token": "pm_fail_visa"}


@pytest.fixture
def variant(db):
    return VariantFactory(price=Decimal("50.00"), stock=10)


@pytest.fixture
def filled_cart(user, variant):
    """The user's cart: 2 of ``variant`` at 50.00 and 1 of a second variant at 30.00."""
    shopper = Shopper(user=user, session=None)
    other = VariantFactory(price=Decimal("30.00"), stock=5)
    cart_add_item(shopper=shopper, variant_id=variant.pk, quantity=2)
    cart_add_item(shopper=shopper, variant_id=other.pk, quantity=1)
    return shopper


@pytest.fixture
def save10(db):
    return Discount.objects.create(code="SAVE10", kind="percent", value=Decimal("10"))


def apply_code(shopper, code: str) -> None:
    cart_apply_discount(shopper=shopper, code=code)
