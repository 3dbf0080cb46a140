from datetime import timedelta

import pytest
from django.utils import timezone

from carts.models import Cart
from carts.tests.factories import CartLineFactory, DiscountFactory, GuestCartFactory
from commerce.accounts.tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


def test_abandoned_carts_are_those_with_lines_idle_over_30_minutes(staff_client):
    old = timezone.now() - timedelta(minutes=31)
    abandoned = CartLineFactory().cart
    fresh = CartLineFactory().cart
    empty_old = GuestCartFactory()
    Cart.objects.filter(pk__in=[abandoned.pk, empty_old.pk]).update(updated_at=old)

    r = staff_client.get("/admin/carts/cart/?abandoned=yes")
    assert r.status_code == 200
    shown = {cart.pk for cart in r.context["cl"].result_list}
    assert shown == {abandoned.pk}
    r = staff_client.get("/admin/carts/cart/?abandoned=no")
    assert {cart.pk for cart in r.context["cl"].result_list} == {fresh.pk, empty_old.pk}


def test_cart_admin_is_read_only_with_lines_inline(staff_client):
    line = CartLineFactory(quantity=3, cart__discount=DiscountFactory(code="SAVE10"))
    r = staff_client.get(f"/admin/carts/cart/{line.cart.pk}/change/")
    assert r.status_code == 200
    html = r.content.decode()
    assert line.variant.sku in html and "SAVE10" in html and "total" in html
    assert 'name="_save"' not in html
    assert staff_client.get("/admin/carts/cart/add/").status_code == 403


def test_discount_admin_lists_filters_and_searches(staff_client):
    DiscountFactory(code="SAVE10")
    DiscountFactory(code="WELCOME5", kind="fixed", is_active=False)
    r = staff_client.get("/admin/carts/discount/?q=welc")
    assert [d.code for d in r.context["cl"].result_list] == ["WELCOME5"]
    r = staff_client.get("/admin/carts/discount/?is_active__exact=1&kind__exact=percent")
    assert [d.code for d in r.context["cl"].result_list] == ["SAVE10"]


def test_cart_list_shows_owner_and_item_count(staff_client):
    user = UserFactory(email="owner@example.com")
    CartLineFactory(cart__session=None, cart__user=user, quantity=4)
    r = staff_client.get("/admin/carts/cart/")
    assert b"owner@example.com" in r.content and b">4<" in r.content
