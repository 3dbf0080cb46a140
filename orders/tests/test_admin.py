import pytest

from orders.models import Order
from orders.services import order_place
from orders.tests.conftest import ADDRESS, PAY_OK

pytestmark = pytest.mark.django_db


def test_admin_actions_ship_deliver_refund(admin_client, user, filled_cart):
    order, _ = order_place(user=user, shipping_address=ADDRESS, payment_method=PAY_OK)
    url = "/admin/orders/order/"
    # No tracking number yet: shipping is refused with a message, nothing changes.
    r = admin_client.post(url, {"action": "mark_shipped", "_selected_action": [order.pk]}, follow=True)
    assert b"tracking number is required" in r.content
    Order.objects.filter(pk=order.pk).update(tracking_number="1Z")
    admin_client.post(url, {"action": "mark_shipped", "_selected_action": [order.pk]})
    admin_client.post(url, {"action": "mark_delivered", "_selected_action": [order.pk]})
    admin_client.post(url, {"action": "refund_in_full", "_selected_action": [order.pk]})
    order.refresh_from_db()
    assert order.status == "refunded"
    assert admin_client.get(f"{url}{order.pk}/change/").status_code == 200
    assert admin_client.get(url + "?status__exact=refunded").status_code == 200
