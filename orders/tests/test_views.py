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


HTMX = {"HTTP_HX_REQUEST": "true"}


def test_htmx_checkout_redirects_through_a_header(client, user, filled_cart):
    client.force_login(user)
    r = client.post("/checkout/", form_data(key="hx-1"), **HTMX)
    order = Order.objects.get()
    assert r.status_code == 204 and r["HX-Redirect"] == f"/orders/{order.number}/confirmation/"


def test_htmx_checkout_error_answers_just_the_form(client, user, filled_cart):
    client.force_login(user)
    r = client.post("/checkout/", form_data(city=""), **HTMX)
    html = r.content.decode()
    assert r.status_code == 200 and 'id="checkout-form"' in html
    assert "<html" not in html and "This field is required" in html
    assert not Order.objects.exists()


def test_checkout_page_shows_totals_and_explains_the_test_tokens(client, user, filled_cart):
    client.force_login(user)
    html = client.get("/checkout/").content.decode()
    assert "146.39" in html and "pm_fail_" in html and 'name="idempotency_key"' in html
    assert "css/orders.css" in html


def test_each_render_gets_a_fresh_idempotency_key(client, user, filled_cart):
    import re

    client.force_login(user)
    keys = {
        re.search(r'name="idempotency_key" value="([^"]+)"', client.get("/checkout/").content.decode())[1]
        for _ in range(2)
    }
    assert len(keys) == 2


def test_htmx_cancel_answers_the_order_fragment(client, user, filled_cart):
    client.force_login(user)
    client.post("/checkout/", form_data())
    order = Order.objects.get()
    r = client.post(f"/orders/{order.number}/cancel/", {"reason": "x"}, **HTMX)
    html = r.content.decode()
    assert r.status_code == 200 and 'id="order"' in html and "<html" not in html
    assert "is cancelled" in html and "Cancel this order" not in html
    again = client.post(f"/orders/{order.number}/cancel/", {}, **HTMX)
    assert again.status_code == 200 and "cannot be cancelled" in again.content.decode()


def test_htmx_detail_and_plain_detail(client, user, filled_cart):
    client.force_login(user)
    client.post("/checkout/", form_data())
    number = Order.objects.get().number
    plain = client.get(f"/orders/{number}/").content.decode()
    fragment = client.get(f"/orders/{number}/", **HTMX).content.decode()
    assert "<html" in plain and "<html" not in fragment and 'id="order"' in fragment
    assert "History" in fragment and "by shopper" in fragment


def test_invalid_address_change_is_a_form_error_not_a_500(client, user, filled_cart):
    client.force_login(user)
    client.post("/checkout/", form_data())
    order = Order.objects.get()
    r = client.post(f"/orders/{order.number}/address/", {**ADDRESS, "postalCode": ""}, **HTMX)
    assert r.status_code == 200 and "Postal code" in r.content.decode()
    plain = client.post(f"/orders/{order.number}/address/", {**ADDRESS, "city": ""}, follow=True)
    assert plain.status_code == 200 and b"Please check the address" in plain.content
    order.refresh_from_db()
    assert order.shipping_address["city"] == "Austin"


def test_refund_form_without_quantities_is_a_message(client, user, filled_cart, admin_user):
    from orders.services import order_mark_delivered, order_mark_shipped

    client.force_login(user)
    client.post("/checkout/", form_data())
    order = Order.objects.get()
    order_mark_shipped(order=order, actor=admin_user, tracking_number="T")
    order_mark_delivered(order=order, actor=admin_user)
    page = client.get(f"/orders/{order.number}/").content.decode()
    assert (
        "Return selected items" in page
        and "Cancel this order" not in page
        and "Change the shipping" not in page
    )
    r = client.post(f"/orders/{order.number}/refund/", {"reason": "x"}, follow=True)
    assert b"Choose how many" in r.content
    line = order.lines.get(unit_price="30.00")
    r = client.post(f"/orders/{order.number}/refund/", {f"qty_{line.pk}": "1"}, **HTMX)
    assert "Refund of USD 32.40" in r.content.decode()
    order.refresh_from_db()
    assert order.status == "partially_refunded"


def test_order_pages_need_sign_in(client):
    assert client.get("/orders/").status_code == 302
    assert client.get("/orders/ABC234/")["Location"].startswith("/account/login/")
