"""The reason a shopper gave for leaving picks the call: a shipping code when shipping was the reason,
a reminder when undecided, no call after a no; the stats show recovery by reason."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from carts.models import AbandonmentReason, Cart, Discount
from carts.selectors import cart_totals, cart_with_lines
from carts.services import cart_apply_discount, cart_record_abandonment_reason
from catalog.tests.factories import VariantFactory
from commerce.accounts.shoppers import Shopper
from orders.tests.acp_helpers import SECRET, AcpClient
from voice.models import CallAttempt, GuardrailDecision, JobState, RecoveryJob
from voice.selectors import voice_stats
from voice.services import process_due_jobs, recovery_scan

from .factories import abandoned_cart, job_for, shopper

pytestmark = pytest.mark.django_db


def left_with(reason: str, **user_fields) -> Cart:
    """A consenting shopper's cart, left an hour ago with ``reason`` ("" : none given)."""
    cart = abandoned_cart(shopper(**user_fields))
    if reason:
        cart_record_abandonment_reason(cart=cart, reason=reason, source="chat")
    Cart.objects.filter(pk=cart.pk).update(updated_at=timezone.now() - timedelta(hours=1))
    return cart


def call_now() -> CallAttempt | None:
    recovery_scan()
    process_due_jobs()
    return CallAttempt.objects.first()


def test_the_scan_keeps_the_reason_on_the_job(anytime):
    left_with(AbandonmentReason.UNDECIDED)
    recovery_scan()
    assert RecoveryJob.objects.get().reason == AbandonmentReason.UNDECIDED


def test_shipping_as_the_reason_gets_a_one_use_shipping_code_on_the_call(anytime, settings):
    cart = left_with(AbandonmentReason.SHIPPING_COST)
    attempt = call_now()
    job = RecoveryJob.objects.get()
    assert job.offer_code.startswith("SHIP")
    assert job.offer_code in attempt.script
    assert "shipping cost" in attempt.script
    offer = Discount.objects.get(code=job.offer_code)
    assert (offer.kind, offer.value, offer.usage_limit) == (
        Discount.Kind.FIXED,
        settings.DEFAULT_SHIPPING_FEE,
        1,
    )
    # and the code takes the shipping fee off that shopper's cart through the cart rules
    cart_apply_discount(shopper=Shopper(user=cart.user, session=None), code=job.offer_code)
    assert cart_totals(cart_with_lines().get(pk=cart.pk)).discount == settings.DEFAULT_SHIPPING_FEE


def test_an_undecided_shopper_gets_a_reminder_and_no_offer(anytime):
    left_with(AbandonmentReason.UNDECIDED)
    attempt = call_now()
    assert "quick reminder" in attempt.script
    assert RecoveryJob.objects.get().offer_code == ""
    assert not Discount.objects.exists()


def test_a_shopper_who_said_no_is_not_called(anytime):
    left_with(AbandonmentReason.DECLINED)
    assert call_now() is None
    job = RecoveryJob.objects.get()
    assert job.state == JobState.CANCELLED
    assert job.guardrail_decisions.get().rule == GuardrailDecision.Rule.SHOPPER_DECLINED


def test_a_no_after_the_job_was_found_still_stops_the_call(anytime):
    cart = left_with("")
    recovery_scan()
    Cart.objects.filter(pk=cart.pk).update(abandonment_reason=AbandonmentReason.DECLINED)
    process_due_jobs()
    assert not CallAttempt.objects.exists()


def test_no_reason_and_other_reasons_use_the_configured_script(anytime, settings):
    settings.VOICE_SCRIPT_TEMPLATE = "Hello {name}, your {items} await. Code {code}."
    left_with(AbandonmentReason.TOO_EXPENSIVE)
    assert call_now().script.startswith("Hello Ada, your 1 x")


def test_consent_still_comes_first_whatever_the_reason(anytime):
    left_with(AbandonmentReason.SHIPPING_COST, voice_opt_in=False)
    assert call_now() is None
    assert not Discount.objects.exists()


def test_a_reason_given_through_an_agents_checkout_reaches_the_call(
    anytime, settings, django_capture_on_commit_callbacks
):
    settings.ACP_SIGNING_SECRET = SECRET
    settings.ACP_WEBHOOK_URL = ""
    buyer = shopper()
    agent = AcpClient()
    shoe = VariantFactory(price=Decimal("40.00"), stock=5)
    sid = agent.create([{"id": str(shoe.pk)}], buyer={"email": buyer.email}).json()["id"]
    trace = {"reason_code": "shipping_cost", "trace_summary": "Shipping is too much."}
    assert agent.post(f"/checkout_sessions/{sid}/cancel", {"intent_trace": trace}).status_code == 200
    Cart.objects.filter(user=buyer).update(updated_at=timezone.now() - timedelta(hours=1))
    attempt = call_now()
    job = RecoveryJob.objects.get()
    assert (job.user, job.reason) == (buyer, AbandonmentReason.SHIPPING_COST)
    assert job.offer_code in attempt.script


def test_stats_show_recovery_by_reason(anytime, staff_client):
    for reason, recovered in (
        (AbandonmentReason.SHIPPING_COST, True),
        (AbandonmentReason.SHIPPING_COST, False),
        (AbandonmentReason.UNDECIDED, False),
        ("", True),
    ):
        job = job_for(abandoned_cart(shopper()), state=JobState.COMPLETED, reason=reason, attempts=1)
        if recovered:
            RecoveryJob.objects.filter(pk=job.pk).update(
                recovered=True, recovered_amount=Decimal("20.00"), recovered_at=timezone.now()
            )
    job_for(abandoned_cart(shopper()), state=JobState.CANCELLED, reason=AbandonmentReason.DECLINED)
    rows = {row.reason: row for row in voice_stats().by_reason}
    shipping = rows[AbandonmentReason.SHIPPING_COST]
    assert (shipping.jobs, shipping.called, shipping.recovered, shipping.recovery_rate) == (
        2,
        2,
        1,
        Decimal("50.0"),
    )
    assert (rows[AbandonmentReason.DECLINED].called, rows[AbandonmentReason.DECLINED].not_called) == (0, 1)
    assert rows[""].label == "No reason given"
    html = staff_client.get(reverse("admin:voice_recoveryjob_stats")).content.decode()
    assert "Recovery by reason" in html
    assert "Shipping costs too much" in html and "Does not want it" in html
