"""Attribution end to end: a real checkout through orders.services, after a completed call."""

from datetime import timedelta

import pytest
from django.utils import timezone

from orders.services import order_place
from voice.models import JobState

from .factories import abandoned_cart, job_for, shopper

pytestmark = pytest.mark.django_db

ADDRESS = {
    "name": "Ada",
    "line1": "1 Main St",
    "city": "Austin",
    "state": "TX",
    "postalCode": "78701",
    "country": "US",
}


def test_a_real_order_after_a_completed_call_is_recovered_revenue(django_capture_on_commit_callbacks):
    user = shopper()
    cart = abandoned_cart(user, price="49.99")
    job = job_for(cart, state=JobState.COMPLETED, completed_at=timezone.now() - timedelta(hours=2))
    with django_capture_on_commit_callbacks(execute=True):
        order, created = order_place(
            user=user, shipping_address=ADDRESS, payment_method={"type": "card", "token": "pm_test_x"}
        )
    job.refresh_from_db()
    assert created and job.recovered
    assert job.recovered_order_number == order.number and job.recovered_amount == order.total
