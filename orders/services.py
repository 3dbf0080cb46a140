"""Writes to orders: placing one (stock, payment, cart in one transaction) and every later transition.

Each transition is one function that refuses an illegal move with a 422 and records an OrderEvent
saying who moved the order and when.
"""

from __future__ import annotations

import hashlib
import json
import logging
from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import F, Prefetch
from django.utils import timezone

from carts.models import Cart
from carts.selectors import (
    CartTotals,
    LineTotal,
    cart_lines,
    cart_totals,
    cart_with_lines,
    cart_with_lines_known,
)
from carts.services import cart_clear, cart_lock_for_checkout, discount_record_use
from catalog.models import Variant
from catalog.services import product_stock_refresh
from commerce.accounts.models import User
from commerce.audit.services import audit_record
from commerce.celery import enqueue
from commerce.errors import DomainError, InvalidInput
from commerce.money import ZERO, quantize
from orders.errors import (
    CartChanged,
    CartEmpty,
    ConfirmationExpired,
    ConfirmationNotFound,
    ConfirmationUsed,
    DiscountInvalid,
    IdempotencyInProgress,
    IdempotencyKeyReused,
    IllegalTransition,
    InsufficientStock,
    NoDetailsOnFile,
    NothingToRefund,
    PaymentDeclined,
    RefundFailed,
    RefundQuantityExceeded,
    ReturnWindowClosed,
    UnknownOrderItem,
)
from orders.metrics import CHECKOUTS
from orders.models import (
    CheckoutConfirmation,
    IdempotencyRecord,
    Order,
    OrderEvent,
    OrderLine,
    Payment,
    Refund,
    new_order_number,
)
from orders.payments import GatewayUnavailable, PaymentGateway, get_gateway, mask_token
from orders.selectors import last_payment_method, last_shipping_address, order_with_lines_known
from orders.signals import order_placed, order_status_changed

logger = logging.getLogger(__name__)

ADDRESS_REQUIRED = ("name", "line1", "city", "postalCode", "country")
ADDRESS_OPTIONAL = ("line2", "state")
ADDRESS_MAX_LENGTH = 200


def address_validate(address: Any) -> dict[str, str]:
    """A clean shipping address, or a 400 naming the first missing or bad field."""
    if not isinstance(address, dict):
        raise InvalidInput("shippingAddress must be an object.", details={"field": "shippingAddress"})
    clean: dict[str, str] = {}
    for field in (*ADDRESS_REQUIRED, *ADDRESS_OPTIONAL):
        value = address.get(field, "")
        if value is None:
            value = ""
        if not isinstance(value, str):
            raise InvalidInput(f"shippingAddress.{field} must be text.", details={"field": field})
        value = value.strip()
        if field in ADDRESS_REQUIRED and not value:
            raise InvalidInput(f"shippingAddress.{field} is required.", details={"field": field})
        if len(value) > ADDRESS_MAX_LENGTH:
            raise InvalidInput(f"shippingAddress.{field} is too long.", details={"field": field})
        clean[field] = value
    clean["country"] = clean["country"].upper()
    return clean


def request_fingerprint(body: Any) -> str:
    """The hash an idempotency key is bound to: canonical JSON, so key order and spacing do not matter."""
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _actor_label(order: Order, actor: User | None) -> str:
    if actor is None:
        return "system"
    if actor.pk == order.user_id:
        return "shopper"
    return "staff" if actor.is_staff else "other"


def _record(order: Order, *, from_status: str, actor: User | None, note: str = "") -> None:
    if from_status != order.status:
        to_status = order.status
        transaction.on_commit(
            lambda: order_status_changed.send(
                sender=Order, order=order, from_status=from_status, to_status=to_status
            )
        )
    OrderEvent.objects.create(
        order=order,
        order_number=order.number,
        from_status=from_status,
        to_status=order.status,
        actor=actor,
        actor_label=_actor_label(order, actor),
        note=note[:500],
    )


def _illegal(order: Order, action: str) -> IllegalTransition:
    return IllegalTransition(
        f"Order {order.number} is {order.get_status_display().lower()}, so it cannot be {action}.",
        details={"status": order.status, "action": action},
    )


def _replay(*, user: User, key: str, fingerprint: str) -> Order | None:
    """The order an earlier request with this key made, None if the key is new (or expired)."""
    record = IdempotencyRecord.objects.select_related("order").filter(user=user, key=key).first()
    if record is None:
        return None
    if record.expires_at <= timezone.now():
        record.delete()
        return None
    if record.request_hash != fingerprint:
        raise IdempotencyKeyReused("This Idempotency-Key was already used for a different order request.")
    return record.order


NUMBER_ATTEMPTS = 8


class _NumberTaken(Exception):
    """The order number drawn is already another order's (raised inside order_place only)."""

    def __init__(self, number: str, error: IntegrityError) -> None:
        super().__init__(number)
        self.number = number
        self.error = error


def _order_create(**fields: Any) -> Order:
    """Creates the order under a fresh random number.

    31^6 numbers make a clash rare but not impossible, and a check-then-insert would still race, so
    the unique index decides. A clash aborts the checkout's transaction and :func:`_order_place` runs it
    again with a new number: nothing has been written or charged yet (the order is the first write), and
    no savepoint per order is needed for a case this rare.
    """
    number = new_order_number()
    try:
        return Order.objects.create(number=number, **fields)
    except IntegrityError as error:
        raise _NumberTaken(number, error) from error


def order_place(
    *,
    user: User,
    shipping_address: dict[str, Any],
    payment_method: dict[str, Any],
    idempotency_key: str | None = None,
    request_hash: str | None = None,
    cart: Cart | None = None,
) -> tuple[Order, bool]:
    """Places the user's own cart (or ``cart``: an agent's checkout session brings its own) as an
    order for ``user`` (see :func:`_order_place`), counted by outcome; returns (order, created)."""
    try:
        order, created = _order_place(
            user=user,
            shipping_address=shipping_address,
            payment_method=payment_method,
            idempotency_key=idempotency_key,
            request_hash=request_hash,
            cart=cart,
        )
    except DomainError as refused:
        CHECKOUTS.labels(outcome=refused.code).inc()
        raise
    except Exception:  # counted, then raised unchanged: an unexpected failure is a checkout outcome too
        CHECKOUTS.labels(outcome="error").inc()
        raise
    CHECKOUTS.labels(outcome="placed" if created else "replayed").inc()
    return order, created


def _order_place(
    *,
    user: User,
    shipping_address: dict[str, Any],
    payment_method: dict[str, Any],
    idempotency_key: str | None,
    request_hash: str | None,
    cart: Cart | None,
) -> tuple[Order, bool]:
    """Places the user's own cart (or ``cart``) as an order; returns (order, created).

    ``request_hash`` binds the key to one request body (see :func:`request_fingerprint`); without it
    the hash of the address and payment method is used. ``created`` is False for a replay.

    Stock, payment, the order and the emptied cart commit together or not at all: a declined card
    leaves the cart as it was and takes no stock. With an idempotency key the same request returns the
    same order; two racing requests with one key meet at the unique constraint and make one order. The
    key is claimed right after the order row, before any stock is taken or anything charged.
    """
    address = address_validate(shipping_address)
    if not isinstance(payment_method, dict) or not str(payment_method.get("token") or "").strip():
        raise InvalidInput("paymentMethod.token is required.", details={"field": "paymentMethod.token"})
    token = str(payment_method["token"]).strip()
    method_type = str(payment_method.get("type") or "card")[:20]
    claim: tuple[str, str] | None = None  # (idempotency key, request fingerprint)
    if idempotency_key is not None:
        claim = (
            idempotency_key,
            request_hash or request_fingerprint({"address": address, "payment": payment_method}),
        )
    # The key is not looked up first: the unique index on it answers in the checkout's own transaction,
    # which saves every new order a query; a replay, rare, pays for it with a rolled-back attempt.
    for attempt in range(1, NUMBER_ATTEMPTS + 1):
        try:
            with transaction.atomic():
                order = _place(
                    user=user,
                    address=address,
                    token=token,
                    method_type=method_type,
                    cart_id=cart.pk if cart is not None else None,
                    claim=claim,
                )
        except _NumberTaken as clash:
            if attempt == NUMBER_ATTEMPTS or not Order.objects.filter(number=clash.number).exists():
                raise clash.error from None  # not a number clash (or the space is implausibly full)
            continue
        except _KeyTaken:
            # The key is stored: this request again, or one that raced it and won (PostgreSQL made us
            # wait for its commit); its order is the answer. A key only just expired is dropped by
            # _replay, and the order is then placed on the next attempt.
            existing = _replay(user=user, key=claim[0], fingerprint=claim[1]) if claim is not None else None
            if existing is not None:
                return existing, False
            continue
        except DomainError:
            # Refused before the key was reached (the cart emptied by this key's order, stock since
            # sold, a discount since expired): when the key already placed an order, that order is
            # the answer, whatever the cart says now.
            existing = _replay(user=user, key=claim[0], fingerprint=claim[1]) if claim is not None else None
            if existing is None:
                raise
            return existing, False
        return order, True
    raise IdempotencyInProgress("An order with this Idempotency-Key is still being placed.")


class _KeyTaken(Exception):
    """Another request holds this user's idempotency key (raised inside order_place only)."""


def _claim_key(*, user: User, order: Order, key: str, request_hash: str) -> None:
    """Records the key with its order. A concurrent request with the same key waits here on the unique
    index (before it charges anything) and then fails; its whole transaction rolls back, so no savepoint
    is needed."""
    try:
        IdempotencyRecord.objects.create(
            user=user,
            key=key,
            request_hash=request_hash,
            order=order,
            expires_at=timezone.now() + timedelta(hours=settings.IDEMPOTENCY_TTL_HOURS),
        )
    except IntegrityError:
        raise _KeyTaken from None


def _checkout_cart(*, user: User, cart_id: int | None) -> tuple[Cart, CartTotals]:
    """The cart to place, locked (one shopper's checkouts of one cart run one after the other) and read
    with its lines and discount in two queries, priced and checked: refused before anything is written."""
    cart = cart_lock_for_checkout(user=user, cart_id=cart_id)
    if cart is not None:
        # Read after the lock is held, in a statement of its own, so a checkout that waited for
        # another one of this cart sees the lines that one left (none, once it has placed them).
        cart_with_lines_known(cart, lines=cart_lines(cart))
    totals = cart_totals(cart)
    if cart is None or not totals.lines:
        raise CartEmpty("Your cart is empty.")
    if cart.discount is not None and totals.discount_note:
        # The code applied in the cart no longer does (expired, used up, subtotal too low): say so
        # rather than silently charging more than the shopper was shown.
        raise DiscountInvalid(
            f"{totals.discount_note} Remove it from the cart to check out without it.",
            details={"code": cart.discount.code},
        )
    for lt in totals.lines:
        # The stock as last committed: a line already short is refused at once, without writing
        # anything or waiting for a lock (the common answer when a hot product has sold out).
        if lt.line.variant.stock < lt.line.quantity:
            raise _insufficient(lt.line.variant)
    return cart, totals


def _insufficient(variant: Variant) -> InsufficientStock:
    return InsufficientStock(
        f"Not enough stock left for {variant.product.name} ({variant.size} {variant.color}).",
        details={"variantId": str(variant.pk), "sku": variant.sku},
    )


TAKE_STOCK_SQL = (
    'UPDATE "catalog_variant" SET "stock" = "stock" - %s WHERE "id" = %s AND "stock" >= %s RETURNING "stock"'
)


def _take_stock(lines: list[LineTotal]) -> None:
    """Takes each line's quantity off its variant's stock: one conditional UPDATE per variant, in pk order
    (so concurrent checkouts lock rows in one order and cannot deadlock), which locks the row, refuses to
    go below zero and returns what is left; products whose variant just sold out get their flag refreshed."""
    sold_out: list[int] = []
    with connection.cursor() as cursor:
        for lt in sorted(lines, key=lambda lt: lt.line.variant_id):
            quantity = lt.line.quantity
            cursor.execute(TAKE_STOCK_SQL, [quantity, lt.line.variant_id, quantity])
            row = cursor.fetchone()
            if row is None:
                raise _insufficient(lt.line.variant)
            lt.line.variant.stock = row[0]
            if row[0] == 0:
                sold_out.append(lt.line.variant.product_id)
    product_stock_refresh(product_ids=sold_out)


def _place(
    *,
    user: User,
    address: dict[str, str],
    token: str,
    method_type: str,
    cart_id: int | None = None,
    claim: tuple[str, str] | None = None,
) -> Order:
    """The checkout transaction. Everything per shopper comes first (their cart's lock, the order, its
    lines and history, the idempotency key, the emptied cart, the outbox row); the rows other shoppers
    contend for (stock, then the discount's use count) are locked last, so they are held only for the
    stock updates, the charge and the payment row before the commit."""
    cart, totals = _checkout_cart(user=user, cart_id=cart_id)
    now = timezone.now()
    order = _order_create(
        user=user,
        status=Order.Status.PAID,  # visible to nobody before the commit, which needs the charge
        paid_at=now,
        currency=settings.CURRENCY,
        subtotal=totals.subtotal,
        discount=totals.discount,
        discount_code=totals.discount_code if totals.discount > 0 else "",
        tax=totals.tax,
        shipping=totals.shipping,
        total=totals.total,
        shipping_address=address,
        payment_method_type=method_type,
        payment_token=token if token.startswith("pm_test_") else "",
    )
    if claim is not None:
        _claim_key(user=user, order=order, key=claim[0], request_hash=claim[1])
    lines = OrderLine.objects.bulk_create(
        OrderLine(
            order=order,
            variant=lt.line.variant,
            product_id=lt.line.variant.product_id,
            sku=lt.line.variant.sku,
            name=lt.line.variant.product.name,
            size=lt.line.variant.size,
            color=lt.line.variant.color,
            unit_price=lt.unit_price,
            quantity=lt.line.quantity,
        )
        for lt in totals.lines
    )
    label = _actor_label(order, user)
    OrderEvent.objects.bulk_create(
        OrderEvent(
            order=order,
            order_number=order.number,
            from_status=from_status,
            to_status=to_status,
            actor=user,
            actor_label=label,
            note=note,
        )
        for from_status, to_status, note in (
            ("", Order.Status.PENDING, "Order placed"),
            (Order.Status.PENDING, Order.Status.PAID, "Payment approved"),
        )
    )
    discount = cart.discount  # emptying the cart forgets it
    cart_clear(cart=cart)
    _order_placed_hand_over(order)
    # From here on, rows other shoppers wait for: keep it to the stock, the discount, the charge and
    # its record.
    _take_stock(totals.lines)
    if totals.discount > 0 and discount is not None:
        discount_record_use(discount=discount)
    gateway = get_gateway()
    result = gateway.charge(amount=order.total, token=token, reference=order.number)
    if not result.approved:
        raise PaymentDeclined(result.message or "The payment was declined.")
    # The charge went through: if anything below fails the order rolls back, so the money goes back
    # first (the original error still propagates, whatever it is).
    recorded = False
    try:
        Payment.objects.create(
            order=order,
            gateway=gateway.name,
            reference=result.reference,
            token_masked=mask_token(token),
            amount=order.total,
        )
        recorded = True
    finally:
        if not recorded:
            _return_orphaned_charge(
                gateway, reference=result.reference, amount=order.total, number=order.number
            )
    order_with_lines_known(order, lines=lines)
    transaction.on_commit(lambda: _order_status_notify(order))
    return order


def _order_placed_hand_over(order: Order) -> None:
    """What other apps do about a new order (memory's purchase signal, voice's attribution and call
    cancelling) is a worker's job, handed over in the checkout's transaction through the outbox: the
    shopper does not wait for it, and a rolled-back checkout announces nothing. Without a broker
    (eager tasks: the embedded run, tests) there is no worker, so the order in hand is announced here
    right after the commit rather than read back by an inline task."""
    if settings.CELERY_TASK_ALWAYS_EAGER:
        transaction.on_commit(lambda: order_placed.send(sender=Order, order=order))
        return
    from orders.tasks import announce_order_placed_task  # orders.tasks imports this module

    enqueue(announce_order_placed_task, args=(order.pk,))


def _order_status_notify(order: Order) -> None:
    """After the commit: the placement's two status moves (created, then paid)."""
    order_status_changed.send(sender=Order, order=order, from_status="", to_status=Order.Status.PENDING)
    order_status_changed.send(
        sender=Order, order=order, from_status=Order.Status.PENDING, to_status=Order.Status.PAID
    )


def order_placed_announce(*, order_id: int) -> bool:
    """Sends ``order_placed`` for a committed order (the worker's half of a checkout); False when the
    order is gone. Safe to repeat: memory counts a purchase once per order and voice marks a job
    recovered once."""
    order = (
        Order.objects.filter(pk=order_id)
        .prefetch_related(Prefetch("lines", queryset=OrderLine.objects.order_by("id")))
        .first()
    )
    if order is None:
        return False
    order_placed.send(sender=Order, order=order)
    return True


def _return_orphaned_charge(gateway: PaymentGateway, *, reference: str, amount: Decimal, number: str) -> None:
    """Refunds a charge whose order is being rolled back. It never hides the error that caused the
    rollback (the caller re-raises it); a refund that fails too is logged as an error with everything
    an operator needs to refund by hand, since no order row will remain to show it."""
    logger.warning("Order %s rolled back after charge %s: refunding %s", number, reference, amount)
    try:
        refund = gateway.refund(payment_reference=reference, amount=amount)
    except (GatewayUnavailable, OSError):
        logger.exception(
            "Refund of orphaned charge %s (%s, order %s) raised: refund it by hand", reference, amount, number
        )
        return
    if not refund.approved:
        logger.error(
            "Refund of orphaned charge %s (%s, order %s) was refused (%s): refund it by hand",
            reference,
            amount,
            number,
            refund.message,
        )


def _locked(order: Order) -> Order:
    return Order.objects.select_for_update().get(pk=order.pk)


def _refund_payment(order: Order, amount: Decimal) -> None:
    """Refunds through the gateway; a refusal raises, rolling back the caller's whole transition."""
    payment = Payment.objects.select_for_update().filter(order=order).first()
    if payment is None or amount <= 0:
        return
    result = get_gateway().refund(payment_reference=payment.reference, amount=amount)
    if not result.approved:
        raise RefundFailed(
            f"The payment provider refused the refund of order {order.number}: {result.message}".strip(),
            details={"amount": str(amount)},
        )
    payment.refunded_amount += amount
    payment.status = (
        Payment.Status.REFUNDED
        if payment.refunded_amount >= payment.amount
        else Payment.Status.PARTIALLY_REFUNDED
    )
    payment.save(update_fields=["refunded_amount", "status"])


def order_cancel(*, order: Order, actor: User | None, reason: str = "") -> Order:
    """Cancels before shipping: stock goes back on the shelf and the payment is refunded."""
    with transaction.atomic():
        order = _locked(order)
        if not order.can_cancel():
            raise _illegal(order, "cancelled")
        restocked = []
        for line in order.lines.exclude(variant=None).order_by("variant_id"):  # checkout's lock order
            if line.variant_id is not None:  # the exclude above, which the checker cannot see
                Variant.objects.filter(pk=line.variant_id).update(stock=F("stock") + line.quantity)
            restocked.append(line.product_id)
        product_stock_refresh(product_ids=restocked)
        _refund_payment(order, order.total)
        previous = order.status
        order.status = Order.Status.CANCELLED
        order.cancelled_at = timezone.now()
        order.save(update_fields=["status", "cancelled_at", "updated_at"])
        _record(order, from_status=previous, actor=actor, note=reason or "Cancelled")
        audit_record(
            action="order.cancel", actor=actor, obj=order, summary={"from": previous, "reason": reason}
        )
    return order


def order_mark_shipped(*, order: Order, actor: User | None, tracking_number: str) -> Order:
    tracking_number = (tracking_number or "").strip()
    if not tracking_number:
        raise InvalidInput("A tracking number is required to ship.", details={"field": "trackingNumber"})
    with transaction.atomic():
        order = _locked(order)
        if not order.can_ship():
            raise _illegal(order, "shipped")
        order.status = Order.Status.SHIPPED
        order.tracking_number = tracking_number[:80]
        order.shipped_at = timezone.now()
        order.save(update_fields=["status", "tracking_number", "shipped_at", "updated_at"])
        _record(order, from_status=Order.Status.PAID, actor=actor, note=f"Tracking {order.tracking_number}")
        audit_record(action="order.ship", actor=actor, obj=order, summary={"tracking": order.tracking_number})
    return order


def order_mark_delivered(*, order: Order, actor: User | None) -> Order:
    with transaction.atomic():
        order = _locked(order)
        if not order.can_deliver():
            raise _illegal(order, "marked delivered")
        order.status = Order.Status.DELIVERED
        order.delivered_at = timezone.now()
        order.save(update_fields=["status", "delivered_at", "updated_at"])
        _record(order, from_status=Order.Status.SHIPPED, actor=actor, note="Delivered")
        audit_record(action="order.deliver", actor=actor, obj=order)
    return order


def order_change_address(*, order: Order, actor: User | None, address: dict[str, Any]) -> Order:
    clean = address_validate(address)
    with transaction.atomic():
        order = _locked(order)
        if not order.can_change_address():
            raise _illegal(order, "re-addressed")
        before = {k: order.shipping_address.get(k, "") for k in ("city", "postalCode", "country")}
        order.shipping_address = clean
        order.save(update_fields=["shipping_address", "updated_at"])
        _record(order, from_status=order.status, actor=actor, note="Shipping address changed")
        after = {k: clean.get(k, "") for k in ("city", "postalCode", "country")}
        audit_record(
            action="order.readdress", actor=actor, obj=order, summary={"before": before, "after": after}
        )
    return order


def _line_refund_amount(order: Order, line: OrderLine, quantity: int) -> Decimal:
    """The line's price for ``quantity`` units less their share of the discount, plus their share of tax."""
    value = line.unit_price * quantity
    if order.subtotal <= 0:
        return ZERO
    discount_share = order.discount * value / order.subtotal
    taxable = value - discount_share
    discounted_subtotal = order.subtotal - order.discount
    tax_share = order.tax * taxable / discounted_subtotal if discounted_subtotal > 0 else ZERO
    return quantize(taxable + tax_share)


def order_refund(
    *, order: Order, actor: User | None, reason: str = "", items: list[dict[str, Any]] | None = None
) -> Order:
    """Refunds delivered items within the return window, in full (``items`` None) or per item.

    When the refund leaves nothing unrefunded the order becomes ``refunded`` and the rest of what was
    paid (shipping included) goes back; otherwise ``partially_refunded`` with the items' share.
    """
    with transaction.atomic():
        order = _locked(order)
        if not order.can_refund():
            if order.status in (Order.Status.DELIVERED, Order.Status.PARTIALLY_REFUNDED):
                raise ReturnWindowClosed(
                    f"The {settings.RETURN_WINDOW_DAYS}-day return window of order {order.number} "
                    "has closed.",
                    details={"status": order.status},
                )
            raise _illegal(order, "refunded")
        lines = {str(line.pk): line for line in order.lines.select_for_update()}
        wanted = _refund_quantities(lines, items)
        amount = sum((_line_refund_amount(order, lines[i], q) for i, q in wanted.items()), ZERO)
        for line_id, quantity in wanted.items():
            OrderLine.objects.filter(pk=line_id).update(refunded_quantity=F("refunded_quantity") + quantity)
        everything = all(lines[i].refundable_quantity == wanted.get(i, 0) for i in lines)
        already = sum((r.amount for r in order.refunds.all()), ZERO)
        if everything:
            amount = order.total - already
        amount = min(quantize(amount), order.total - already)
        Refund.objects.create(
            order=order,
            amount=amount,
            reason=reason[:500],
            lines=[{"itemId": i, "quantity": q} for i, q in wanted.items()],
            created_by=actor,
        )
        _refund_payment(order, amount)
        previous = order.status
        order.status = Order.Status.REFUNDED if everything else Order.Status.PARTIALLY_REFUNDED
        order.save(update_fields=["status", "updated_at"])
        _record(order, from_status=previous, actor=actor, note=f"Refunded {amount}: {reason}".strip())
        audit_record(
            action="order.refund", actor=actor, obj=order, summary={"amount": str(amount), "to": order.status}
        )
    return order


def _refund_quantities(lines: dict[str, OrderLine], items: list[dict[str, Any]] | None) -> dict[str, int]:
    if items is None:
        wanted = {i: line.refundable_quantity for i, line in lines.items() if line.refundable_quantity}
    else:
        wanted = {}
        for item in items:
            item_id = str(item.get("itemId", item.get("item_id", "")))
            quantity = item.get("quantity")
            if item_id not in lines:
                raise UnknownOrderItem(
                    f"Item {item_id} is not part of this order.", details={"itemId": item_id}
                )
            if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 1:
                raise InvalidInput(
                    "A refund quantity must be a whole number of at least 1.", details={"itemId": item_id}
                )
            wanted[item_id] = wanted.get(item_id, 0) + quantity
        for item_id, quantity in wanted.items():
            if quantity > lines[item_id].refundable_quantity:
                raise RefundQuantityExceeded(
                    f"Only {lines[item_id].refundable_quantity} of {lines[item_id].name} "
                    "can still be refunded.",
                    details={"itemId": item_id, "refundable": lines[item_id].refundable_quantity},
                )
    if not wanted:
        raise NothingToRefund("Nothing left to refund on this order.")
    return wanted


def idempotency_records_purge() -> int:
    """Deletes expired idempotency records; returns how many."""
    deleted, _ = IdempotencyRecord.objects.filter(expires_at__lte=timezone.now()).delete()
    return deleted


# --- checkout by an outside agent, confirmed by the shopper --------------------------------------


def _user_cart_totals(user: User) -> CartTotals:
    cart = Cart.objects.filter(user=user).first()
    return cart_totals(cart_with_lines().get(pk=cart.pk) if cart is not None else None)


def _cart_fingerprint(totals: CartTotals) -> str:
    return request_fingerprint(
        {
            "lines": sorted(
                (lt.line.variant_id, lt.line.quantity, str(lt.unit_price)) for lt in totals.lines
            ),
            "discount": totals.discount_code or "",
            "total": str(totals.total),
        }
    )


@transaction.atomic
def checkout_confirmation_issue(*, user: User) -> tuple[CheckoutConfirmation, CartTotals]:
    """The prepare step of an agent's checkout: the user's cart, total and details on file, and a
    short-lived single-use id that ``order_place_confirmed`` needs. Nothing is taken or charged."""
    totals = _user_cart_totals(user)
    if not totals.lines:
        raise CartEmpty("The cart is empty.")
    if totals.discount_note:
        raise DiscountInvalid(f"{totals.discount_note} Remove it from the cart to check out without it.")
    address, payment = last_shipping_address(user), last_payment_method(user)
    if address is None or payment is None:
        raise NoDetailsOnFile(
            "No shipping address and payment method on file: check out once on the store's checkout "
            "page, then an agent can reuse them."
        )
    confirmation = CheckoutConfirmation.objects.create(
        user=user,
        total=totals.total,
        cart_fingerprint=_cart_fingerprint(totals),
        shipping_address=address,
        payment_method=payment,
    )
    audit_record(
        action="checkout.prepared",
        actor=user,
        obj=confirmation,
        summary={"total": str(totals.total), "items": totals.item_count},
    )
    return confirmation, totals


def checkout_confirmation_get(*, user: User, confirmation_id: str) -> CheckoutConfirmation:
    """The user's own confirmation (another user's is "not found", like one that never existed)."""
    confirmation = CheckoutConfirmation.objects.filter(user=user, public_id=confirmation_id).first()
    if confirmation is None:
        raise ConfirmationNotFound("No such checkout confirmation: call prepare_checkout first.")
    return confirmation


@transaction.atomic
def checkout_confirmation_decline(*, user: User, confirmation_id: str) -> CheckoutConfirmation:
    """The shopper said no: the confirmation can no longer place an order."""
    confirmation = checkout_confirmation_get(user=user, confirmation_id=confirmation_id)
    if confirmation.used_at is None and confirmation.declined_at is None:
        confirmation.declined_at = timezone.now()
        confirmation.save(update_fields=["declined_at"])
        audit_record(action="checkout.declined", actor=user, obj=confirmation)
    return confirmation


def order_place_confirmed(*, user: User, confirmation_id: str, request_id: str) -> tuple[Order, bool]:
    """Places the order a confirmation showed; returns (order, created).

    Single use: the same ``request_id`` again answers the same order (``created`` False); another one
    is refused. Refused too when expired, declined, or when the cart is no longer the one shown (the
    shopper agreed to that total, not another). The order goes through :func:`order_place` with the
    request id as its idempotency key, bound to this confirmation.
    """
    with transaction.atomic():
        confirmation = (
            CheckoutConfirmation.objects.select_for_update()
            .filter(user=user, public_id=confirmation_id)
            .first()
        )
        if confirmation is None:
            raise ConfirmationNotFound("No such checkout confirmation: call prepare_checkout first.")
        if confirmation.used_at is not None:
            if confirmation.request_id == request_id and confirmation.order is not None:
                return confirmation.order, False
            raise ConfirmationUsed("This confirmation already placed an order; prepare the checkout again.")
        if confirmation.declined_at is not None:
            raise ConfirmationUsed("The shopper declined this checkout; prepare it again.")
        if confirmation.is_expired():
            raise ConfirmationExpired("This confirmation has expired; prepare the checkout again.")
        if _cart_fingerprint(_user_cart_totals(user)) != confirmation.cart_fingerprint:
            raise CartChanged("The cart changed after prepare_checkout; prepare the checkout again.")
        order, created = order_place(
            user=user,
            shipping_address=confirmation.shipping_address,
            payment_method=confirmation.payment_method,
            idempotency_key=f"agent:{request_id}",
            request_hash=request_fingerprint({"confirmation": confirmation.public_id}),
        )
        confirmation.used_at = timezone.now()
        confirmation.request_id = request_id
        confirmation.order = order
        confirmation.save(update_fields=["used_at", "request_id", "order"])
        audit_record(
            action="checkout.confirmed",
            actor=user,
            obj=confirmation,
            summary={"order": order.number, "requestId": request_id},
        )
    return order, created
