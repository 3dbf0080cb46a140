import pytest

from orders.services import order_place
from orders.tests.conftest import ADDRESS, PAY_OK

pytestmark = pytest.mark.django_db
URL = "/admin/orders/order/"


def act(admin_client, action, order, **extra):
    return admin_client.post(URL, {"action": action, "_selected_action": [order.pk], **extra}, follow=True)


def test_mark_shipped_asks_for_tracking_numbers_first(admin_client, user, filled_cart):
    order, _ = order_place(user=user, shipping_address=ADDRESS, payment_method=PAY_OK)
    page = act(admin_client, "mark_shipped", order)
    assert page.status_code == 200 and f'name="tracking_{order.pk}"'.encode() in page.content
    order.refresh_from_db()
    assert order.status == "paid"
    # Submitted without a tracking number: refused with a message naming the order.
    r = act(admin_client, "mark_shipped", order, apply="1", **{f"tracking_{order.pk}": ""})
    assert b"tracking number is required" in r.content and order.number.encode() in r.content
    act(admin_client, "mark_shipped", order, apply="1", **{f"tracking_{order.pk}": "1Z999"})
    order.refresh_from_db()
    assert order.status == "shipped" and order.tracking_number == "1Z999"
    assert order.events.last().actor_label == "staff"


def test_admin_actions_deliver_refund_and_report_refusals(admin_client, user, filled_cart):
    order, _ = order_place(user=user, shipping_address=ADDRESS, payment_method=PAY_OK)
    refused = act(admin_client, "mark_delivered", order)
    assert b"cannot be marked delivered" in refused.content
    act(admin_client, "mark_shipped", order, apply="1", **{f"tracking_{order.pk}": "1Z"})
    act(admin_client, "mark_delivered", order)
    act(admin_client, "refund_in_full", order)
    order.refresh_from_db()
    assert order.status == "refunded" and order.payment.status == "refunded"
    change = admin_client.get(f"{URL}{order.pk}/change/")
    # the stored test token itself never shows; only the masked one does
    assert change.status_code == 200 and b"pm_test_visa" not in change.content
    assert admin_client.get(URL + "?status__exact=refunded").status_code == 200
    assert admin_client.get(URL + f"?q={user.email}").status_code == 200
    assert admin_client.get("/admin/orders/idempotencyrecord/").status_code == 200
