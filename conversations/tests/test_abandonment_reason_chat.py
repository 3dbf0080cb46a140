"""Reasons said in the chat ("too expensive", "shipping costs too much", "I'll think about it", "no thanks,
I don't want it") are kept on the shopper's cart, and the voice recovery call follows them."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from carts.models import AbandonmentReason, Cart
from carts.services import cart_add_item
from catalog.tests.factories import VariantFactory
from commerce.accounts.models import ShopperSession
from commerce.accounts.shoppers import Shopper
from commerce.accounts.tests.factories import UserFactory
from conversations.assistant.pipeline import respond
from voice.models import CallAttempt, GuardrailDecision, RecoveryJob
from voice.services import process_due_jobs, recovery_scan

pytestmark = pytest.mark.django_db


@pytest.fixture
def reachable() -> Shopper:
    """A signed-in shopper who agreed to recovery calls, with something in the cart."""
    user = UserFactory(name="Ada Lovelace", phone="+14155550123", timezone="UTC", voice_opt_in=True)
    shopper = Shopper(user=user, session=ShopperSession.objects.create(channel="web", user=user))
    cart_add_item(shopper=shopper, variant_id=VariantFactory(price=Decimal("40.00"), stock=4).pk, quantity=1)
    return shopper


@pytest.fixture
def any_hour(settings):
    settings.VOICE_QUIET_HOURS_START = 0
    settings.VOICE_QUIET_HOURS_END = 0
    settings.VOICE_GLOBAL_KILL_SWITCH = False
    settings.VOICE_SIMULATOR_CALLBACK_URL = ""
    settings.SUPERU_ENABLED = False
    settings.CELERY_TASK_ALWAYS_EAGER = True


@pytest.mark.parametrize(
    ("said", "reason"),
    [
        ("too expensive", AbandonmentReason.TOO_EXPENSIVE),
        ("shipping costs too much", AbandonmentReason.SHIPPING_COST),
        ("I'll think about it", AbandonmentReason.UNDECIDED),
        ("no thanks, I don't want it", AbandonmentReason.DECLINED),
    ],
)
def test_the_reason_said_in_the_chat_is_kept_on_the_cart(reachable, said, reason):
    reply = respond(shopper=reachable, text=said, channel="web")
    assert {"type": "abandonment_reason", "status": "succeeded"}.items() <= reply["actions"][-1].items()
    cart = Cart.objects.get(user=reachable.user)
    assert (cart.abandonment_reason, cart.abandonment_source) == (reason, "chat")
    assert cart.lines.count() == 1  # nothing taken out of the cart


def test_a_plain_no_thanks_is_not_a_reason(reachable):
    respond(shopper=reachable, text="no thanks", channel="web")
    assert Cart.objects.get(user=reachable.user).abandonment_reason == ""


def test_a_guest_with_an_empty_cart_is_told_there_is_nothing_to_keep():
    guest = Shopper(user=None, session=ShopperSession.objects.create(channel="web"))
    reply = respond(shopper=guest, text="too expensive", channel="web")
    assert reply["actions"][-1]["status"] == "skipped"


def call_after_leaving() -> CallAttempt | None:
    Cart.objects.update(updated_at=timezone.now() - timedelta(hours=1))
    recovery_scan()
    process_due_jobs()
    return CallAttempt.objects.first()


def test_shipping_said_in_the_chat_brings_a_shipping_code_on_the_call(reachable, any_hour):
    respond(shopper=reachable, text="the shipping costs too much", channel="web")
    attempt = call_after_leaving()
    assert RecoveryJob.objects.get().offer_code in attempt.script


def test_thinking_about_it_brings_a_reminder(reachable, any_hour):
    respond(shopper=reachable, text="I'll think about it", channel="web")
    assert "quick reminder" in call_after_leaving().script


def test_a_no_in_the_chat_means_no_call(reachable, any_hour):
    respond(shopper=reachable, text="no thanks, I don't want it", channel="web")
    assert call_after_leaving() is None
    assert RecoveryJob.objects.get().guardrail_decisions.get().rule == GuardrailDecision.Rule.SHOPPER_DECLINED
