from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.utils import timezone

from carts.models import CartLine
from catalog.models import Variant
from commerce.errors import DomainError, InvalidInput
from orders.errors import InvalidPaymentToken
from orders.models import IdempotencyRecord, Order, OrderEvent, Payment
from orders.selectors import last_payment_method, last_shipping_address, order_get_for_user
from orders.services import (
    idempotency_records_purge,
    order_cancel,
    order_change_address,
    order_mark_delivered,
    order_mark_shipped,
    order_place,
    order_refund,
)
from orders.signals import order_placed
from orders.tests.conftest import ADDRESS, PAY_FAIL, PAY_OK, apply_code

pytestmark = pytest.mark.django_db


def place(user, **kw):
    return order_place(user=user, shipping_address=ADDRESS, payment_method=PAY_OK, **kw)[0]


def test_placing_takes_stock_charges_and_empties_the_cart(user, filled_cart, variant):
    order = place(user)
    assert order.status == "paid" and len(order.number) == 6
    assert order.subtotal == Decimal("130.00") and order.tax == Decimal("10.40")
    assert order.shipping == Decimal("5.99") and order.total == Decimal("146.39")
    variant.refresh_from_db()
    assert variant.stock == 8
    assert not CartLine.objects.filter(cart__user=user).exists()
    assert Payment.objects.get(order=order).amount == order.total
    assert list(order.events.values_list("to_status", flat=True)) == ["pending", "paid"]


def test_discount_is_applied_and_its_use_counted(user, filled_cart, save10):
    apply_code(filled_cart, "save10")
    order = place(user)
    assert order.discount == Decimal("13.00") and order.discount_code == "SAVE10"
    assert order.tax == Decimal("9.36")
    save10.refresh_from_db()
    assert save10.times_used == 1


def test_declined_payment_leaves_cart_and_stock_untouched(user, filled_cart, variant):
    with pytest.raises(DomainError) as err:
        order_place(user=user, shipping_address=ADDRESS, payment_method=PAY_FAIL)
    assert err.value.code == "payment_declined" and err.value.status_code == 422
    variant.refresh_from_db()
    assert variant.stock == 10
    assert CartLine.objects.filter(cart__user=user).count() == 2
    assert not Order.objects.exists() and not Payment.objects.exists()


def test_unknown_token_is_refused_before_anything_is_saved(user, filled_cart):
    with pytest.raises(InvalidPaymentToken):
        order_place(user=user, shipping_address=ADDRESS, payment_method={"token": "tok_visa"})
    assert not Order.objects.exists()


def test_empty_cart_cannot_be_ordered(user):
    with pytest.raises(DomainError) as err:
        place(user)
    assert err.value.code == "cart_empty"


def test_missing_address_field_is_named(user, filled_cart):
    with pytest.raises(InvalidInput) as err:
        order_place(user=user, shipping_address={**ADDRESS, "city": " "}, payment_method=PAY_OK)
    assert err.value.details["field"] == "city"


def test_insufficient_stock_rolls_everything_back(user, filled_cart, variant):
    Variant.objects.filter(pk=variant.pk).update(stock=1)
    with pytest.raises(DomainError) as err:
        place(user)
    assert err.value.code == "insufficient_stock" and err.value.status_code == 409
    variant.refresh_from_db()
    assert variant.stock == 1 and not Order.objects.exists()


def test_order_placed_signal_fires_after_commit(
    user, filled_cart, settings, django_capture_on_commit_callbacks
):
    settings.CELERY_TASK_ALWAYS_EAGER = True  # no worker: announced in process once committed
    seen = []

    def receiver(sender, order, **kwargs):
        seen.append(order.number)

    order_placed.connect(receiver, dispatch_uid="test-order-placed")
    try:
        with django_capture_on_commit_callbacks(execute=True):
            order = place(user)
    finally:
        order_placed.disconnect(dispatch_uid="test-order-placed")
    assert seen == [order.number]


def test_with_a_broker_the_order_is_announced_by_a_worker_through_the_outbox(
    user, filled_cart, settings, django_capture_on_commit_callbacks
):
    from commerce.outbox.models import OutboxMessage
    from orders.tasks import announce_order_placed_task

    settings.CELERY_TASK_ALWAYS_EAGER = False
    seen = []

    def receiver(sender, order, **kwargs):
        seen.append((order.number, [line.sku for line in order.lines.all()]))

    order_placed.connect(receiver, dispatch_uid="test-order-placed-worker")
    try:
        with django_capture_on_commit_callbacks(execute=False):  # nothing reaches a broker here
            order = place(user)
        assert seen == []  # the shopper's request did not wait for memory or voice
        message = OutboxMessage.objects.get(task_name="orders.announce_order_placed")
        assert message.args == [order.pk]
        assert announce_order_placed_task(*message.args) is True
    finally:
        order_placed.disconnect(dispatch_uid="test-order-placed-worker")
    assert seen == [(order.number, [line.sku for line in order.lines.order_by("id")])]


def test_idempotent_replay_returns_the_same_order(user, filled_cart):
    first, created = order_place(
        user=user, shipping_address=ADDRESS, payment_method=PAY_OK, idempotency_key="k1", request_hash="h1"
    )
    again, created_again = order_place(
        user=user, shipping_address=ADDRESS, payment_method=PAY_OK, idempotency_key="k1", request_hash="h1"
    )
    assert created and not created_again and again.pk == first.pk
    assert Order.objects.count() == 1


def test_a_replay_answers_its_order_even_when_the_cart_was_filled_again(user, filled_cart, variant):
    """The key is checked in the checkout's own transaction, so a replay meets a cart the shopper has
    filled since: it answers the first order and leaves that cart, the stock and the charges alone."""
    from carts.services import cart_add_item

    first = order_place(
        user=user, shipping_address=ADDRESS, payment_method=PAY_OK, idempotency_key="k1", request_hash="h1"
    )[0]
    cart_add_item(shopper=filled_cart, variant_id=variant.pk, quantity=1)
    variant.refresh_from_db()
    stock_before = variant.stock
    again, created = order_place(
        user=user, shipping_address=ADDRESS, payment_method=PAY_OK, idempotency_key="k1", request_hash="h1"
    )
    variant.refresh_from_db()
    assert not created and again.pk == first.pk
    assert Order.objects.count() == 1 and Payment.objects.count() == 1
    assert variant.stock == stock_before
    assert list(CartLine.objects.filter(cart__user=user).values_list("variant_id", "quantity")) == [
        (variant.pk, 1)
    ]


def test_a_replay_answers_its_order_when_the_cart_now_holds_what_is_sold_out(user, filled_cart, variant):
    from carts.services import cart_add_item

    first = order_place(
        user=user, shipping_address=ADDRESS, payment_method=PAY_OK, idempotency_key="k1", request_hash="h1"
    )[0]
    cart_add_item(shopper=filled_cart, variant_id=variant.pk, quantity=3)
    Variant.objects.filter(pk=variant.pk).update(stock=0)
    again, created = order_place(
        user=user, shipping_address=ADDRESS, payment_method=PAY_OK, idempotency_key="k1", request_hash="h1"
    )
    assert not created and again.pk == first.pk and Order.objects.count() == 1


def test_a_new_key_is_not_looked_up_before_the_checkout(user, filled_cart):
    """The unique index on the key answers inside the checkout's transaction: no read of it first."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        order_place(
            user=user,
            shipping_address=ADDRESS,
            payment_method=PAY_OK,
            idempotency_key="k1",
            request_hash="h1",
        )
    reads = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("SELECT")]
    assert not [sql for sql in reads if "orders_idempotencyrecord" in sql]
    assert IdempotencyRecord.objects.filter(key="k1").count() == 1


def test_same_key_other_body_is_refused(user, filled_cart):
    order_place(
        user=user, shipping_address=ADDRESS, payment_method=PAY_OK, idempotency_key="k1", request_hash="h1"
    )
    with pytest.raises(DomainError) as err:
        order_place(
            user=user,
            shipping_address=ADDRESS,
            payment_method=PAY_OK,
            idempotency_key="k1",
            request_hash="h2",
        )
    assert err.value.code == "idempotency_key_reused"


def test_expired_key_can_be_used_again(user, filled_cart, variant):
    from carts.services import cart_add_item
    from commerce.accounts.shoppers import Shopper

    first = order_place(
        user=user, shipping_address=ADDRESS, payment_method=PAY_OK, idempotency_key="k1", request_hash="h1"
    )[0]
    cart_add_item(shopper=Shopper(user=user, session=None), variant_id=variant.pk, quantity=1)
    with time_machine.travel(timezone.now() + timedelta(hours=25)):
        second, created = order_place(
            user=user,
            shipping_address=ADDRESS,
            payment_method=PAY_OK,
            idempotency_key="k1",
            request_hash="h2",
        )
        assert created and second.pk != first.pk
        assert idempotency_records_purge() == 0  # the expired one was replaced, the new one is live


def test_declined_payment_releases_the_key(user, filled_cart):
    with pytest.raises(DomainError):
        order_place(
            user=user,
            shipping_address=ADDRESS,
            payment_method=PAY_FAIL,
            idempotency_key="k9",
            request_hash="a",
        )
    assert not IdempotencyRecord.objects.exists()


def test_cancel_returns_stock_and_refunds(user, filled_cart, variant):
    order = place(user)
    order_cancel(order=order, actor=user, reason="changed my mind")
    order.refresh_from_db()
    variant.refresh_from_db()
    assert order.status == "cancelled" and variant.stock == 10
    assert order.payment.refunded_amount == order.total
    event = order.events.last()
    assert (event.from_status, event.to_status, event.actor_label) == ("paid", "cancelled", "shopper")


def test_lifecycle_ship_deliver_and_illegal_moves(user, filled_cart, admin_user):
    order = place(user)
    with pytest.raises(DomainError) as err:
        order_mark_delivered(order=order, actor=admin_user)
    assert err.value.code == "illegal_transition"
    with pytest.raises(InvalidInput):
        order_mark_shipped(order=order, actor=admin_user, tracking_number="")
    order_mark_shipped(order=order, actor=admin_user, tracking_number="1Z999")
    with pytest.raises(DomainError):
        order_cancel(order=order, actor=user)
    with pytest.raises(DomainError):
        order_change_address(order=order, actor=user, address=ADDRESS)
    with pytest.raises(DomainError):
        order_refund(order=order, actor=user)
    order_mark_delivered(order=order, actor=admin_user)
    order.refresh_from_db()
    assert order.status == "delivered" and order.tracking_number == "1Z999"
    assert order.events.filter(actor_label="staff").count() == 2


def test_address_change_before_shipping(user, filled_cart):
    order = place(user)
    order_change_address(order=order, actor=user, address={**ADDRESS, "city": "Dallas"})
    order.refresh_from_db()
    assert order.shipping_address["city"] == "Dallas"
    with pytest.raises(InvalidInput):
        order_change_address(order=order, actor=user, address={**ADDRESS, "line1": ""})


def delivered(user, admin_user):
    order = place(user)
    order_mark_shipped(order=order, actor=admin_user, tracking_number="T1")
    return order_mark_delivered(order=order, actor=admin_user)


def test_partial_refund_includes_discount_and_tax_share(user, filled_cart, save10, admin_user):
    apply_code(filled_cart, "SAVE10")
    order = delivered(user, admin_user)
    line = order.lines.get(unit_price=Decimal("50.00"))
    order_refund(order=order, actor=user, reason="too big", items=[{"itemId": str(line.pk), "quantity": 1}])
    order.refresh_from_db()
    # 50.00 less 10% = 45.00, plus 8% tax = 48.60
    assert order.status == "partially_refunded"
    assert order.refunds.get().amount == Decimal("48.60")
    line.refresh_from_db()
    assert line.refunded_quantity == 1


def test_refunding_the_rest_refunds_everything_paid(user, filled_cart, admin_user):
    order = delivered(user, admin_user)
    line = order.lines.get(unit_price=Decimal("30.00"))
    order_refund(order=order, actor=user, items=[{"itemId": str(line.pk), "quantity": 1}])
    order_refund(order=order, actor=user)
    order.refresh_from_db()
    assert order.status == "refunded"
    assert sum(r.amount for r in order.refunds.all()) == order.total
    assert order.payment.refunded_amount == order.total
    with pytest.raises(DomainError):
        order_refund(order=order, actor=user)


def test_refund_quantity_is_bounded(user, filled_cart, admin_user):
    order = delivered(user, admin_user)
    line = order.lines.get(unit_price=Decimal("50.00"))
    with pytest.raises(DomainError) as err:
        order_refund(order=order, actor=user, items=[{"itemId": str(line.pk), "quantity": 3}])
    assert err.value.code == "refund_quantity_exceeded"
    with pytest.raises(InvalidInput):
        order_refund(order=order, actor=user, items=[{"itemId": "999999", "quantity": 1}])


def test_refund_window_closes(user, filled_cart, admin_user):
    order = delivered(user, admin_user)
    with time_machine.travel(timezone.now() + timedelta(days=31)), pytest.raises(DomainError) as err:
        order_refund(order=order, actor=user)
    assert err.value.code == "return_window_closed"
    with time_machine.travel(timezone.now() + timedelta(days=29)):
        order_refund(order=order, actor=user)


def test_selectors_only_see_own_orders_and_remember_address_and_token(user, filled_cart):
    from commerce.accounts.tests.factories import UserFactory

    order = place(user)
    assert order_get_for_user(user=user, order_id=order.number.lower()).pk == order.pk
    with pytest.raises(DomainError) as err:
        order_get_for_user(user=UserFactory(), order_id=order.number)
    assert err.value.status_code == 404
    assert last_shipping_address(user)["city"] == "Austin"
    assert last_payment_method(user) == {"type": "card", "token": "pm_test_visa"}
    assert OrderEvent.objects.filter(order=order).count() == 2


def test_a_discount_that_stopped_applying_refuses_checkout(user, filled_cart, save10, variant):
    apply_code(filled_cart, "SAVE10")
    save10.is_active = False
    save10.save()
    with pytest.raises(DomainError) as err:
        place(user)
    assert err.value.code == "discount_invalid" and err.value.details == {"code": "SAVE10"}
    variant.refresh_from_db()
    assert variant.stock == 10 and not Order.objects.exists()
    assert CartLine.objects.filter(cart__user=user).count() == 2


def test_a_used_up_discount_refuses_the_order_and_takes_nothing(user, filled_cart, save10, variant):
    from carts.models import Discount

    apply_code(filled_cart, "SAVE10")
    # Another order takes the last use between the cart and this checkout.
    Discount.objects.filter(pk=save10.pk).update(usage_limit=1, times_used=1)
    with pytest.raises(DomainError) as err:
        place(user)
    assert err.value.code == "discount_invalid"
    variant.refresh_from_db()
    assert variant.stock == 10 and not Order.objects.exists()


def test_payment_keeps_only_a_masked_token(user, filled_cart):
    order = order_place(
        user=user, shipping_address=ADDRESS, payment_method={"type": "card", "token": "pm_test_4242424242"}
    )[0]
    payment = Payment.objects.get(order=order)
    assert payment.token_masked == "pm_test_…4242" and payment.status == "captured"
    assert payment.reference.startswith("ch_")


def test_an_order_number_clash_draws_a_new_number(user, filled_cart, variant, monkeypatch):
    from carts.services import cart_add_item
    from commerce.accounts.shoppers import Shopper
    from orders import services

    first = place(user)
    cart_add_item(shopper=Shopper(user=user, session=None), variant_id=variant.pk, quantity=1)
    numbers = iter([first.number, first.number, "ZZZZZ9"])
    monkeypatch.setattr(services, "new_order_number", lambda: next(numbers))
    second = place(user)
    assert second.number == "ZZZZZ9" and Order.objects.count() == 2


def test_cancelling_a_pending_order_is_allowed(user, filled_cart, variant):
    order = place(user)
    Order.objects.filter(pk=order.pk).update(status=Order.Status.PENDING)
    order_cancel(order=order, actor=None, reason="payment timed out")
    order.refresh_from_db()
    variant.refresh_from_db()
    assert order.status == "cancelled" and variant.stock == 10
    event = order.events.last()
    assert (event.from_status, event.actor_label, event.note) == ("pending", "system", "payment timed out")


def test_illegal_moves_after_cancel_and_after_delivery(user, filled_cart, admin_user):
    order = place(user)
    order_cancel(order=order, actor=user)
    for move in (
        lambda: order_mark_shipped(order=order, actor=admin_user, tracking_number="T"),
        lambda: order_mark_delivered(order=order, actor=admin_user),
        lambda: order_change_address(order=order, actor=user, address=ADDRESS),
        lambda: order_refund(order=order, actor=user),
        lambda: order_cancel(order=order, actor=user),
    ):
        with pytest.raises(DomainError) as err:
            move()
        assert err.value.code == "illegal_transition" and err.value.status_code == 422
    order.refresh_from_db()
    assert order.status == "cancelled" and order.events.count() == 3


def test_no_address_change_or_cancel_after_delivery(user, filled_cart, admin_user):
    order = delivered(user, admin_user)
    with pytest.raises(DomainError) as err:
        order_change_address(order=order, actor=user, address={**ADDRESS, "city": "Dallas"})
    assert err.value.code == "illegal_transition"
    with pytest.raises(DomainError):
        order_cancel(order=order, actor=user)
    with pytest.raises(DomainError):
        order_mark_shipped(order=order, actor=admin_user, tracking_number="T2")
    order.refresh_from_db()
    assert order.shipping_address["city"] == "Austin" and order.status == "delivered"


def test_refund_amount_with_fixed_discount_and_odd_cents(user, admin_user):
    """Shares are computed with Decimal and rounded once per line: 3 x 9.99 and 1 x 20.01, 5.00 off."""
    from carts.models import Discount
    from carts.services import cart_add_item
    from catalog.tests.factories import VariantFactory
    from commerce.accounts.shoppers import Shopper

    shopper = Shopper(user=user, session=None)
    cheap, dear = (
        VariantFactory(price=Decimal("9.99"), stock=5),
        VariantFactory(price=Decimal("20.01"), stock=5),
    )
    cart_add_item(shopper=shopper, variant_id=cheap.pk, quantity=3)
    cart_add_item(shopper=shopper, variant_id=dear.pk, quantity=1)
    Discount.objects.create(code="FIVE", kind="fixed", value=Decimal("5.00"))
    apply_code(shopper, "FIVE")
    order = delivered(user, admin_user)
    assert (order.subtotal, order.discount, order.tax) == (Decimal("49.98"), Decimal("5.00"), Decimal("3.60"))
    line = order.lines.get(unit_price=Decimal("9.99"))
    order_refund(order=order, actor=user, items=[{"itemId": str(line.pk), "quantity": 2}])
    # 19.98 - 5.00 * 19.98 / 49.98 = 17.9812..., + 3.60 * 17.9812 / 44.98 = 1.4391... -> 19.42
    assert order.refunds.get().amount == Decimal("19.42")
    order_refund(order=order, actor=user)
    order.refresh_from_db()
    assert order.status == "refunded"
    assert sum(r.amount for r in order.refunds.all()) == order.total
    payment = Payment.objects.get(order=order)
    assert payment.refunded_amount == order.total and payment.status == "refunded"


def test_partial_refund_marks_the_payment_partially_refunded(user, filled_cart, admin_user):
    order = delivered(user, admin_user)
    line = order.lines.get(unit_price=Decimal("30.00"))
    order_refund(order=order, actor=user, items=[{"itemId": str(line.pk), "quantity": 1}])
    payment = Payment.objects.get(order=order)
    assert payment.status == "partially_refunded" and payment.refunded_amount == Decimal("32.40")


def test_a_refund_the_gateway_refuses_changes_nothing(user, filled_cart, admin_user, monkeypatch):
    from orders.payments import PaymentResult, TestGateway

    order = delivered(user, admin_user)
    monkeypatch.setattr(TestGateway, "refund", lambda self, **kw: PaymentResult(False, "", "Card closed."))
    with pytest.raises(DomainError) as err:
        order_refund(order=order, actor=user)
    assert err.value.code == "refund_failed"
    order.refresh_from_db()
    assert order.status == "delivered" and not order.refunds.exists()
    assert not order.lines.filter(refunded_quantity__gt=0).exists()
    assert Payment.objects.get(order=order).refunded_amount == 0


def test_refund_window_is_measured_from_delivery_with_a_frozen_clock(user, filled_cart, admin_user, settings):
    settings.RETURN_WINDOW_DAYS = 7
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        order = delivered(user, admin_user)
    assert order.can_refund(start + timedelta(days=7)) and not order.can_refund(
        start + timedelta(days=7, seconds=1)
    )
    with time_machine.travel(start + timedelta(days=8), tick=False), pytest.raises(DomainError) as err:
        order_refund(order=order, actor=user)
    assert err.value.code == "return_window_closed"


def test_purge_deletes_only_expired_idempotency_records(user, filled_cart):
    order = place(user, idempotency_key="live", request_hash="h")
    IdempotencyRecord.objects.create(
        user=user, key="old", request_hash="h", order=order, expires_at=timezone.now() - timedelta(seconds=1)
    )
    assert idempotency_records_purge() == 1
    assert list(IdempotencyRecord.objects.values_list("key", flat=True)) == ["live"]


def test_order_numbers_always_mix_letters_and_digits():
    from orders.models import NUMBER_ALPHABET, new_order_number

    for _ in range(500):
        number = new_order_number()
        assert len(number) == 6 and set(number) <= set(NUMBER_ALPHABET)
        assert any(c.isdigit() for c in number) and any(c.isalpha() for c in number)


def test_a_failure_after_the_charge_refunds_it_and_rolls_back(user, filled_cart, variant, monkeypatch):
    from orders import services
    from orders.payments import PaymentResult, TestGateway

    refunds = []
    monkeypatch.setattr(
        TestGateway,
        "refund",
        lambda self, *, payment_reference, amount: (
            refunds.append((payment_reference, amount)) or PaymentResult(True, "re_1")
        ),
    )

    def broken_mask(token):  # recording the payment, after the charge, fails
        raise DomainError("The payment could not be recorded.", code="payment_record_failed")

    monkeypatch.setattr(services, "mask_token", broken_mask)
    with pytest.raises(DomainError):
        place(user)
    assert len(refunds) == 1 and refunds[0][0].startswith("ch_") and refunds[0][1] == Decimal("146.39")
    variant.refresh_from_db()
    assert variant.stock == 10 and not Order.objects.exists() and not Payment.objects.exists()
    assert CartLine.objects.filter(cart__user=user).count() == 2


def test_an_orders_history_outlives_the_order_and_the_admin_never_deletes_orders(user, filled_cart, rf):
    from django.contrib.admin.sites import site

    from orders.models import Order, OrderEvent
    from orders.services import order_cancel, order_place

    order, _ = order_place(
        user=user,
        shipping_address={
            "name": "A",
            "line1": "1 Main St",
            "city": "Austin",
            "postalCode": "78701",
            "country": "US",
        },
        payment_method={"type": "card", "token": "pm_test_visa"},
    )
    order_cancel(order=order, actor=user, reason="changed my mind")
    number = order.number
    Order.objects.filter(pk=order.pk).delete()
    kept = list(OrderEvent.objects.filter(order_number=number).values_list("to_status", flat=True))
    assert kept[-1] == "cancelled" and len(kept) >= 2
    request = rf.get("/admin/orders/order/")
    request.user = user
    assert site._registry[Order].has_delete_permission(request) is False


def test_a_line_already_short_is_refused_before_anything_is_written(user, filled_cart, variant):
    variant.stock = 1  # the cart holds 2
    variant.save()
    with pytest.raises(DomainError) as err:
        order_place(user=user, shipping_address=ADDRESS, payment_method=PAY_OK, idempotency_key="short")
    assert err.value.code == "insufficient_stock" and err.value.status_code == 409
    assert not Order.objects.exists() and not IdempotencyRecord.objects.exists()
    variant.stock = 5
    variant.save()
    order, created = order_place(
        user=user, shipping_address=ADDRESS, payment_method=PAY_OK, idempotency_key="short"
    )
    assert created and order.lines.count() == 2  # the same key places the order once stock is back


def test_stock_is_taken_by_one_conditional_update_per_variant_in_variant_order(user, variant):
    """No SELECT ... FOR UPDATE of variants: the UPDATE ... WHERE stock >= quantity locks and checks the
    row at once, one variant after the other by id (so racing checkouts lock rows in one order)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from carts.services import cart_add_item
    from catalog.tests.factories import VariantFactory
    from commerce.accounts.shoppers import Shopper

    later = VariantFactory(stock=4)
    shopper = Shopper(user=user, session=None)
    cart_add_item(shopper=shopper, variant_id=later.pk, quantity=1)  # added first, locked second
    cart_add_item(shopper=shopper, variant_id=variant.pk, quantity=2)
    with CaptureQueriesContext(connection) as queries:
        order_place(user=user, shipping_address=ADDRESS, payment_method=PAY_OK)
    sql = [q["sql"] for q in queries.captured_queries]
    assert not [s for s in sql if "catalog_variant" in s and "FOR UPDATE" in s]
    updates = [s for s in sql if s.startswith('UPDATE "catalog_variant"')]
    assert len(updates) == 2
    locked_ids = [int(s.split('"id" = ')[1].split()[0]) for s in updates]
    assert locked_ids == sorted([variant.pk, later.pk])
    variant.refresh_from_db()
    later.refresh_from_db()
    assert (variant.stock, later.stock) == (8, 3)
