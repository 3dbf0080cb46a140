from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command

from carts.models import Discount

pytestmark = pytest.mark.django_db


def test_load_demo_extras_creates_the_demo_codes_and_is_idempotent():
    call_command("load_demo_extras", stdout=StringIO())
    Discount.objects.filter(code="SAVE10").update(times_used=3, value=Decimal("50"))
    call_command("load_demo_extras", stdout=StringIO())
    codes = {d.code: d for d in Discount.objects.all()}
    assert set(codes) == {"SAVE10", "WELCOME5", "EXPIRED20"}
    assert codes["SAVE10"].value == Decimal("10.00") and codes["SAVE10"].times_used == 3
    assert codes["WELCOME5"].kind == "fixed" and codes["WELCOME5"].min_subtotal == Decimal("50.00")
    assert codes["SAVE10"].is_usable() and codes["WELCOME5"].is_usable()
    assert not codes["EXPIRED20"].is_usable()
