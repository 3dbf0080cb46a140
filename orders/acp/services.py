"""Writes for ACP checkout sessions: a door onto the cart and order services, nothing priced here.

A session holds a real guest cart (its own :class:`ShopperSession`), filled through
``carts.services``; completing it places that cart through :func:`orders.services.order_place` (stock,
payment through the payment port, the order, in one transaction) for the buyer's account; cancelling it
keeps the agent's ``intent_trace`` reason on the cart, moved into the buyer's own cart when the buyer
has an account, where voice recovery can follow it.
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any

import httpx
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from carts.errors import InsufficientStock as CartInsufficientStock
from carts.errors import InvalidQuantity, LineQuantityLimit, VariantNotFound
from carts.models import Cart
from carts.services import (
    abandonment_reason_from_acp,
    cart_add_item,
    cart_get_or_create_for_shopper,
    cart_merge_guest_into_user,
    cart_record_abandonment_reason,
    cart_remove_line,
)
from commerce.accounts.models import ShopperSession
from commerce.accounts.services import shopper_session_create, user_for_agent_buyer
from commerce.accounts.shoppers import Shopper
from commerce.errors import InvalidInput
from orders.acp.errors import AcpError, NotCancelable, SessionClosed, SessionNotFound
from orders.acp.models import AcpCheckoutSession, AcpWebhookDelivery
from orders.acp.selectors import (
    PAYMENT_HANDLER_ID,
    SHIPPING_OPTION_ID,
    blocks_payment,
    error_message,
    order_render,
    session_cart,
    session_render,
)
from orders.acp.signing import webhook_signature_header
from orders.errors import CartEmpty, DiscountInvalid, InsufficientStock, InvalidPaymentToken, PaymentDeclined
from orders.models import Order
from orders.services import order_place

logger = logging.getLogger(__name__)

ORDER_CREATE = "order_create"
ORDER_UPDATE = "order_update"


class WebhookDeliveryFailed(Exception):
    """The platform's webhook did not take an event (network error or a non-2xx answer): retry later."""


def _shopper(session: AcpCheckoutSession) -> Shopper:
    return Shopper(user=None, session=session.shopper_session)


def _locked(public_id: str) -> AcpCheckoutSession:
    session = (
        AcpCheckoutSession.objects.select_for_update()
        .select_related("shopper_session")
        .filter(public_id=public_id)
        .first()
    )
    if session is None:
        raise SessionNotFound(f"No checkout session {public_id}.", param="$.id")
    return session


def _locked_open(public_id: str) -> AcpCheckoutSession:
    """The session, locked, when it may still change: not completed, canceled or expired."""
    session = _locked(public_id)
    if session.is_expired():
        raise SessionClosed(f"Checkout session {public_id} has expired.", code="expired")
    if not session.is_open():
        raise SessionClosed(f"Checkout session {public_id} is {session.state}.")
    return session


def _wanted(items: list[dict[str, Any]]) -> list[tuple[str, int, int]]:
    """(item id, quantity, index of its first entry). The 2026-04-17 ``Item`` has no quantity, so each
    entry is one unit; a ``quantity`` (as earlier versions sent it) is honoured when it is a whole number."""
    wanted: dict[str, list[int]] = {}
    for index, item in enumerate(items):
        quantity = item.get("quantity", 1)
        if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 1:
            raise AcpError(
                "quantity must be a whole number of at least 1.", param=f"$.line_items[{index}].quantity"
            )
        entry = wanted.setdefault(str(item["id"]), [0, index])
        entry[0] += quantity
    return [(item_id, quantity, index) for item_id, (quantity, index) in wanted.items()]


def _fill_cart(session: AcpCheckoutSession, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Makes the session's cart hold ``items`` (replacing what it held) through the cart service;
    returns the messages for items it could not hold in full (stock, per-line limit)."""
    shopper = _shopper(session)
    cart = cart_get_or_create_for_shopper(shopper=shopper)
    for line_id in list(cart.lines.values_list("pk", flat=True)):
        cart_remove_line(shopper=shopper, line_id=line_id)
    messages = []
    for item_id, quantity, index in _wanted(items):
        try:
            cart_add_item(shopper=shopper, variant_id=item_id, quantity=quantity)
        except VariantNotFound:
            raise AcpError(
                f"The item ID '{item_id}' does not exist.",
                code="invalid_item_id",
                param=f"$.line_items[{index}].id",
            ) from None
        except CartInsufficientStock as exc:
            messages.append(
                error_message(
                    "out_of_stock",
                    exc.message,
                    param=f"$.line_items[{index}]",
                    resolution="requires_buyer_input",
                )
            )
        except (LineQuantityLimit, InvalidQuantity) as exc:
            messages.append(
                error_message(
                    "quantity_exceeded", exc.message, param=f"$.line_items[{index}]", resolution="recoverable"
                )
            )
    return messages


def _check_currency(currency: str) -> str:
    if currency.upper() != settings.CURRENCY.upper():
        raise AcpError(
            f"This store sells in {settings.CURRENCY.lower()} only.",
            code="unsupported_currency",
            param="$.currency",
        )
    return str(settings.CURRENCY).upper()


def _apply_details(session: AcpCheckoutSession, body: dict[str, Any]) -> None:
    if "buyer" in body:
        session.buyer = body["buyer"] or {}
    if "fulfillment_details" in body:
        session.fulfillment_details = body["fulfillment_details"] or {}
    for choice in body.get("selected_fulfillment_options") or []:
        if choice.get("option_id") != SHIPPING_OPTION_ID:
            raise AcpError(
                f"Unknown fulfillment option {choice.get('option_id')!r}.",
                param="$.selected_fulfillment_options",
            )


def session_create(*, body: dict[str, Any]) -> AcpCheckoutSession:
    """Opens a session from a validated ``CheckoutSessionCreateRequest``."""
    currency = _check_currency(str(body["currency"]))
    with transaction.atomic():
        shopper_session = shopper_session_create(
            channel=ShopperSession.Channel.API, initial_context={"source": "acp"}
        )
        session = AcpCheckoutSession(shopper_session=shopper_session, currency=currency)
        _apply_details(session, body)
        session.save()
        session.messages = _fill_cart(session, body["line_items"])
        session.save(update_fields=["messages", "updated_at"])
    return session


def session_update(*, public_id: str, body: dict[str, Any]) -> AcpCheckoutSession:
    """Applies a validated ``CheckoutSessionUpdateRequest`` (items replace the cart's contents)."""
    with transaction.atomic():
        session = _locked_open(public_id)
        _apply_details(session, body)
        if "line_items" in body:
            session.messages = _fill_cart(session, body["line_items"] or [])
        session.save()
    return session


def _shipping_address(details: dict[str, Any]) -> dict[str, str]:
    address = details.get("address") or {}
    return {
        "name": address.get("name", "") or details.get("name", ""),
        "line1": address.get("line_one", ""),
        "line2": address.get("line_two", ""),
        "city": address.get("city", ""),
        "state": address.get("state", ""),
        "postalCode": address.get("postal_code", ""),
        "country": address.get("country", ""),
    }


def _payment_method(payment_data: dict[str, Any]) -> dict[str, str]:
    if "instrument" not in payment_data:
        raise AcpError("Only delegated card tokens are accepted.", code="unsupported", param="$.payment_data")
    if payment_data.get("handler_id") != PAYMENT_HANDLER_ID:
        raise AcpError(
            f"Unknown payment handler; use {PAYMENT_HANDLER_ID!r}.", param="$.payment_data.handler_id"
        )
    instrument = payment_data["instrument"]
    return {
        "type": str(instrument.get("type") or "card")[:20],
        "token": str(instrument["credential"]["token"]),
    }


def _keep_open(session: AcpCheckoutSession, message: dict[str, Any]) -> AcpCheckoutSession:
    session.messages = [message]
    session.save(update_fields=["messages", "buyer", "updated_at"])
    return session


def session_complete(*, public_id: str, body: dict[str, Any]) -> AcpCheckoutSession:
    """Pays with the delegated token and places the session's cart as the buyer's order.

    A declined payment or stock gone meanwhile keeps the session open with an error message (the agent
    can ask the buyer); a bad request is a protocol error; anything else rolls everything back.
    """
    with transaction.atomic():
        session = _locked_open(public_id)
        if body.get("buyer"):
            session.buyer = {**session.buyer, **body["buyer"]}
        session.messages = []
        cart = session_cart(session)
        view = session_render(session, cart=cart)
        blocking = next((m for m in view["messages"] if blocks_payment(m)), None)
        if blocking is not None:
            raise AcpError(blocking["content"], code=blocking["code"], param=blocking.get("param"))
        email = str(session.buyer.get("email") or "")
        name = str(session.buyer.get("full_name") or "") or " ".join(
            str(session.buyer.get(k) or "") for k in ("first_name", "last_name")
        )
        user = user_for_agent_buyer(email=email, name=name, create=True)
        if user is None:
            raise AcpError(
                "The buyer's email is required to place the order.", code="missing", param="$.buyer.email"
            )
        payment = _payment_method(body["payment_data"])
        try:
            order, _ = order_place(
                user=user,
                shipping_address=_shipping_address(session.fulfillment_details),
                payment_method=payment,
                cart=cart,
            )
        except PaymentDeclined as exc:
            return _keep_open(
                session,
                error_message(
                    "payment_declined", exc.message, param="$.payment_data", resolution="requires_buyer_input"
                ),
            )
        except (InsufficientStock, CartEmpty, DiscountInvalid) as exc:
            return _keep_open(
                session,
                error_message(
                    "out_of_stock", exc.message, param="$.line_items", resolution="requires_buyer_input"
                ),
            )
        except InvalidPaymentToken as exc:
            raise AcpError(exc.message, param="$.payment_data.instrument.credential.token") from None
        except InvalidInput as exc:
            raise AcpError(exc.message, param="$.fulfillment_details.address") from None
        session.snapshot = {k: v for k, v in view.items() if k not in ("status", "messages")} | {
            "messages": []
        }
        session.state = AcpCheckoutSession.State.COMPLETED
        session.order = order
        session.save()
        webhook_enqueue(session=session, event_type=ORDER_CREATE)
    return session


def session_cancel(*, public_id: str, body: dict[str, Any]) -> AcpCheckoutSession:
    """Cancels an open session (405 otherwise), keeping the agent's reason on the cart."""
    with transaction.atomic():
        session = _locked(public_id)
        if not session.is_open():
            raise NotCancelable(f"Checkout session {public_id} is already {session.state}.")
        cart = session_cart(session)
        view = session_render(session, cart=cart)
        trace = body.get("intent_trace") or {}
        target: Cart | None = cart
        email = str(session.buyer.get("email") or "")
        if cart is not None and cart.lines.exists() and email:
            # The items wait in the buyer's own cart: recovery (and the buyer) can find them there.
            buyer = user_for_agent_buyer(email=email, create=False)
            if buyer is not None:
                target = cart_merge_guest_into_user(user=buyer, guest_session=session.shopper_session)
        if trace and target is not None:
            cart_record_abandonment_reason(
                cart=target,
                reason=abandonment_reason_from_acp(str(trace["reason_code"])),
                source="acp",
                note=str(trace.get("trace_summary") or ""),
            )
        session.snapshot = {k: v for k, v in view.items() if k != "status"}
        session.intent_trace = trace
        session.state = AcpCheckoutSession.State.CANCELED
        session.save()
    return session


# --- order events to the platform ---------------------------------------------------------------------


def webhook_enqueue(*, session: AcpCheckoutSession, event_type: str) -> AcpWebhookDelivery | None:
    """Writes the event (the full order, as the webhook spec asks) and hands it to Celery after commit;
    nothing when no ``ACP_WEBHOOK_URL`` is set."""
    if not settings.ACP_WEBHOOK_URL or session.order_id is None:
        return None
    from orders.acp.tasks import deliver_webhook_task

    order = Order.objects.get(pk=session.order_id)
    payload = {"type": event_type, "data": {"type": "order", **order_render(session, order)}}
    delivery = AcpWebhookDelivery.objects.create(session=session, event_type=event_type, payload=payload)
    # robust: a broker that is down (or an eager run's failure) must not fail the checkout that committed.
    transaction.on_commit(lambda: deliver_webhook_task.delay(delivery.pk), robust=True)
    return delivery


def webhook_deliver(*, delivery_id: int) -> AcpWebhookDelivery:
    """POSTs one event, signed; raises :class:`WebhookDeliveryFailed` for the task to retry."""
    delivery = AcpWebhookDelivery.objects.get(pk=delivery_id)
    if delivery.status != AcpWebhookDelivery.Status.PENDING:
        return delivery  # delivered (or given up) by an earlier run of this task
    body = json.dumps(delivery.payload, separators=(",", ":")).encode()
    headers = {
        "Content-Type": "application/json",
        "Merchant-Signature": webhook_signature_header(body=body, unix_time=int(time.time())),
        "Request-Id": f"whd_{delivery.pk}_{delivery.attempts + 1}",
        "Timestamp": timezone.now().isoformat(),
    }
    AcpWebhookDelivery.objects.filter(pk=delivery.pk).update(attempts=delivery.attempts + 1)
    try:
        response = httpx.post(
            settings.ACP_WEBHOOK_URL,
            content=body,
            headers=headers,
            timeout=settings.ACP_WEBHOOK_TIMEOUT_SECONDS,
        )
    except httpx.HTTPError as exc:
        AcpWebhookDelivery.objects.filter(pk=delivery.pk).update(last_error=str(exc)[:500])
        raise WebhookDeliveryFailed(str(exc)) from exc
    if not 200 <= response.status_code < 300:
        error = f"HTTP {response.status_code}: {response.text[:200]}"
        AcpWebhookDelivery.objects.filter(pk=delivery.pk).update(last_error=error)
        raise WebhookDeliveryFailed(error)
    AcpWebhookDelivery.objects.filter(pk=delivery.pk).update(
        status=AcpWebhookDelivery.Status.DELIVERED, delivered_at=timezone.now(), last_error=""
    )
    delivery.refresh_from_db()
    return delivery


def webhook_give_up(*, delivery_id: int, error: str) -> None:
    logger.error("ACP order event %s not delivered after retries: %s", delivery_id, error)
    AcpWebhookDelivery.objects.filter(pk=delivery_id, status=AcpWebhookDelivery.Status.PENDING).update(
        status=AcpWebhookDelivery.Status.FAILED, last_error=error[:500]
    )


def order_changed(*, order: Order, from_status: str) -> None:
    """An order moved (shipped, delivered, cancelled, refunded): tell the platform when an agent made it.

    The moves of placement itself (created, paid) are the ``order_create`` event, sent on completion."""
    if from_status in ("", Order.Status.PENDING) or not settings.ACP_WEBHOOK_URL:
        return
    session = AcpCheckoutSession.objects.filter(order=order).first()
    if session is not None:
        with transaction.atomic():
            webhook_enqueue(session=session, event_type=ORDER_UPDATE)
