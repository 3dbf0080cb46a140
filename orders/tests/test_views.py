import pytest

from orders.models import Order
from orders.tests.conftest import ADDRESS

pytestmark = pytest.mark.django_db


def form_data(key="k-1", token="pm_test_visa", **over):
    return {**ADDRESS, "token": token, "idempotency_key": key, **over}


def test_checkout_redirects_guests_to_login_and_back(client):
    r = client.get("/checkout/")
    assert r.status_code == 302 and r["Location"] == "/account/login/?next=/checkout/"


def test_checkout_page_prefills_and_places_once_on_double_submit(client, user, filled_cart):
    client.force_login(user)
    page = client.get("/checkout/")
    assert page.status_code == 200 and b"pm_test_" in page.content
    first = client.post("/checkout/", form_data())
    second = client.post("/checkout/", form_data())
    assert first.status_code == second.status_code == 302
    assert first["Location"] == second["Location"]
    assert Order.objects.count() == 1
    confirmation = client.get(first["Location"])
    assert Order.objects.get().number.encode() in confirmation.content
    from carts.services import cart_add_item

    cart_add_item(shopper=filled_cart, variant_id=Order.objects.get().lines.first().variant_id, quantity=1)
    # The next checkout prefills the last address.
    assert b'value="500 Main St"' in client.get("/checkout/").content


def test_declined_card_shows_a_form_error(client, user, filled_cart):
    client.force_login(user)
    r = client.post("/checkout/", form_data(token="pm_fail_x"))
    assert r.status_code == 200 and b"declined" in r.content
    assert not Order.objects.exists()


def test_empty_cart_page(client, user):
    client.force_login(user)
    assert b"Your cart is empty" in client.get("/checkout/").content


def test_order_pages_and_actions(client, user, filled_cart):
    client.force_login(user)
    client.post("/checkout/", form_data())
    order = Order.objects.get()
    assert order.number.encode() in client.get("/orders/").content
    detail = client.get(f"/orders/{order.number}/")
    assert b"Cancel this order" in detail.content and b"Return selected items" not in detail.content
    client.post(f"/orders/{order.number}/address/", {**ADDRESS, "city": "Dallas"})
    order.refresh_from_db()
    assert order.shipping_address["city"] == "Dallas"
    client.post(f"/orders/{order.number}/cancel/", {"reason": "x"})
    order.refresh_from_db()
    assert order.status == "cancelled"
    again = client.post(f"/orders/{order.number}/cancel/", follow=True)
    assert b"cannot be cancelled" in again.content


def test_other_users_order_page_is_404(client, user, filled_cart):
    from commerce.accounts.tests.factories import UserFactory

    client.force_login(user)
    client.post("/checkout/", form_data())
    number = Order.objects.get().number
    client.force_login(UserFactory())
    assert client.get(f"/orders/{number}/").status_code == 404


def test_refund_form_after_delivery(client, user, filled_cart, admin_user):
    from orders.services import order_mark_delivered, order_mark_shipped

    client.force_login(user)
    client.post("/checkout/", form_data())
    order = Order.objects.get()
    order_mark_shipped(order=order, actor=admin_user, tracking_number="T")
    order_mark_delivered(order=order, actor=admin_user)
    line = order.lines.first()
    client.post(f"/orders/{order.number}/refund/", {f"qty_{line.pk}": "1", "reason": "fit"})
    order.refresh_from_db()
    assert order.status == "partially_refunded"
