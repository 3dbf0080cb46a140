"""Detection: one job per abandonment, idempotent scans, consent, cancellations, concurrency."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from carts.models import Cart, CartLine
from commerce.accounts.tests.factories import ShopperSessionFactory
from voice.models import JobState, RecoveryJob
from voice.services import recovery_scan

from .factories import abandoned_cart, job_for, shopper

pytestmark = pytest.mark.django_db


def test_abandoned_cart_of_consenting_shopper_becomes_one_job():
    cart = abandoned_cart(shopper(), minutes_ago=31, lines=2)
    result = recovery_scan()
    job = RecoveryJob.objects.get()
    assert result.created == 1
    assert job.cart == cart and job.state == JobState.QUEUED and job.cart_updated_at == cart.updated_at
    assert job.recovery_key == f"{cart.pk}:{cart.updated_at.isoformat()}"
    assert job.cart_total > 0


def test_rerunning_the_scan_creates_no_duplicate():
    abandoned_cart(shopper())
    recovery_scan()
    assert recovery_scan().created == 0
    assert RecoveryJob.objects.count() == 1


def test_recently_touched_carts_are_not_abandoned_yet():
    abandoned_cart(shopper(), minutes_ago=29)
    assert recovery_scan().created == 0


def test_zero_minutes_makes_a_cart_abandoned_as_soon_as_it_is_left(settings):
    settings.VOICE_ABANDONMENT_MINUTES = 0
    abandoned_cart(shopper(), minutes_ago=0)
    assert recovery_scan().created == 1


@pytest.mark.parametrize("fields", [{"voice_opt_in": False}, {"phone": ""}])
def test_no_consent_or_no_phone_never_makes_a_job(fields):
    abandoned_cart(shopper(**fields))
    assert recovery_scan().created == 0
    assert not RecoveryJob.objects.exists()


def test_guest_carts_and_empty_carts_are_ignored():
    Cart.objects.create(session=ShopperSessionFactory(), updated_at=timezone.now() - timedelta(hours=2))
    Cart.objects.create(user=shopper(), updated_at=timezone.now() - timedelta(hours=2))
    assert recovery_scan().created == 0


def test_carts_older_than_the_look_back_window_are_not_called_about(settings):
    settings.VOICE_ABANDONMENT_MAX_AGE_HOURS = 72
    abandoned_cart(shopper(), minutes_ago=73 * 60)
    assert recovery_scan().created == 0


def test_cart_changed_again_cancels_the_pending_job_and_a_new_abandonment_gets_a_new_job():
    cart = abandoned_cart(shopper(), minutes_ago=90)
    recovery_scan()
    first = RecoveryJob.objects.get()
    Cart.objects.filter(pk=cart.pk).update(updated_at=timezone.now() - timedelta(minutes=45))
    result = recovery_scan()
    first.refresh_from_db()
    assert first.state == JobState.CANCELLED and first.cancel_reason == "cart_changed"
    assert result.cancelled == 1 and result.created == 1
    assert RecoveryJob.objects.filter(state=JobState.QUEUED).count() == 1


def test_checked_out_cart_that_disappeared_cancels_the_pending_job():
    cart = abandoned_cart(shopper())
    job = job_for(cart)
    CartLine.objects.filter(cart=cart).delete()
    cart.delete()
    recovery_scan()
    job.refresh_from_db()
    assert job.state == JobState.CANCELLED and job.cancel_reason == "cart_empty"


def test_kill_switch_cancels_pending_jobs_and_creates_none(settings):
    job = job_for(abandoned_cart(shopper()))
    abandoned_cart(shopper(phone="+14155550777"))
    settings.VOICE_GLOBAL_KILL_SWITCH = True
    result = recovery_scan()
    job.refresh_from_db()
    assert job.state == JobState.CANCELLED and job.cancel_reason == "kill_switch"
    assert result.created == 0 and RecoveryJob.objects.count() == 1


def test_scan_query_count_does_not_grow_with_abandoned_carts(django_assert_max_num_queries):
    for i in range(3):
        abandoned_cart(shopper(phone=f"+1415555040{i}"))
    with django_assert_max_num_queries(8):
        assert recovery_scan().created == 3


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_scans_create_each_job_once():
    for i in range(8):
        abandoned_cart(shopper(phone=f"+14155551{i:03d}"))
    barrier = threading.Barrier(4)
    errors = []

    def scan():
        try:
            barrier.wait(timeout=10)
            recovery_scan()
        except Exception as exc:  # collected and asserted below; a thread's exception is otherwise lost
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=scan) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert errors == []
    assert RecoveryJob.objects.count() == 8
    assert RecoveryJob.objects.values("recovery_key").distinct().count() == 8
