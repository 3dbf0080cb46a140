"""The ACP checkout lifecycle over HTTP (spec 2026-04-17): statuses, totals from the cart rules, orders
through the order service, signatures, API-Version and Idempotency-Key."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from carts.models import AbandonmentReason, Cart
from carts.selectors import cart_for_shopper
from catalog.tests.factories import VariantFactory
from commerce.accounts.models import User
from commerce.accounts.shoppers import Shopper
from commerce.accounts.tests.factories import UserFactory
from orders.acp.models import AcpCheckoutSession, AcpIdempotencyRecord
from orders.models import Order
from orders.payments import TestGateway
from orders.tests.acp_helpers import ADDRESS, FULFILLMENT, SECRET, AcpClient, payment, stale

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _acp_on(settings):
    settings.ACP_SIGNING_SECRET = SECRET
    settings.ACP_API_KEY = ""
    settings.ACP_WEBHOOK_URL = ""


@pytest.fixture
def acp():
    return AcpClient()


@pytest.fixture
def shoe():
    return VariantFactory(price=Decimal("50.00"), stock=10)


def totals_of(body):
    return {t["type"]: t["amount"] for t in body["totals"]}


def test_create_update_complete_places_the_order_through_the_cart_and_order_rules(acp, shoe):
    created = acp.create([{"id": str(shoe.pk)}, {"id": str(shoe.pk)}], buyer={"email": "ada@example.com"})
    assert created.status_code == 201, created.content
    session = created.json()
    assert session["status"] == "not_ready_for_payment"
    assert [m["param"] for m in session["messages"]] == ["$.fulfillment_details.address"]
    assert session["line_items"][0]["quantity"] == 2
    # 2 x 50.00 = 100.00, tax 8% = 8.00, shipping 5.99: the cart's own totals, in cents
    assert totals_of(session) == {
        "items_base_amount": 10000,
        "subtotal": 10000,
        "fulfillment": 599,
        "tax": 800,
        "total": 11399,
    }
    assert session["protocol"] == {"version": "2026-04-17"}
    assert session["fulfillment_options"][0]["id"] == "standard_shipping"

    updated = acp.post(f"/checkout_sessions/{session['id']}", {"fulfillment_details": FULFILLMENT})
    assert updated.status_code == 200
    assert updated.json()["status"] == "ready_for_payment"
    assert updated.json()["messages"] == []

    done = acp.post(f"/checkout_sessions/{session['id']}/complete", {"payment_data": payment()})
    assert done.status_code == 200, done.content
    body = done.json()
    assert body["status"] == "completed"
    order = Order.objects.get(number=body["order"]["id"])
    assert body["order"]["checkout_session_id"] == session["id"]
    assert body["order"]["permalink_url"].endswith(f"/orders/{order.number}/")
    assert order.user.email == "ada@example.com"
    assert order.total == Decimal("113.99")
    assert order.status == Order.Status.PAID
    assert order.shipping_address["postalCode"] == "78701"
    shoe.refresh_from_db()
    assert shoe.stock == 8

    fetched = acp.get(f"/checkout_sessions/{session['id']}")
    assert fetched.status_code == 200
    assert fetched.json()["status"] == "completed"
    assert fetched.json()["line_items"][0]["quantity"] == 2


def test_an_existing_account_gets_the_order_without_its_own_cart_being_touched(acp, shoe, user):
    own = VariantFactory(price=Decimal("10.00"), stock=3)
    from carts.services import cart_add_item

    cart_add_item(shopper=Shopper(user=user, session=None), variant_id=own.pk, quantity=1)
    sid = acp.create(
        [{"id": str(shoe.pk)}], buyer={"email": user.email}, fulfillment_details=FULFILLMENT
    ).json()["id"]
    done = acp.post(f"/checkout_sessions/{sid}/complete", {"payment_data": payment()})
    order = Order.objects.get(number=done.json()["order"]["id"])
    assert order.user == user
    assert [line.sku for line in order.lines.all()] == [shoe.sku]
    cart = cart_for_shopper(Shopper(user=user, session=None))
    assert [line.variant_id for line in cart.lines.all()] == [own.pk]


def test_a_declined_token_keeps_the_session_open_with_the_protocols_message(acp, shoe):
    sid = acp.create(
        [{"id": str(shoe.pk)}], buyer={"email": "bo@example.com"}, fulfillment_details=FULFILLMENT
    ).json()["id"]
    declined = acp.post(f"/checkout_sessions/{sid}/complete", {"payment_data": payment("pm_fail_visa")})
    assert declined.status_code == 200
    assert declined.json()["status"] == "ready_for_payment"
    assert [m["code"] for m in declined.json()["messages"]] == ["payment_declined"]
    assert not Order.objects.exists()
    shoe.refresh_from_db()
    assert shoe.stock == 10


def test_cancel_keeps_the_intent_trace_reason_on_the_buyers_cart(acp, shoe, user):
    sid = acp.create([{"id": str(shoe.pk)}], buyer={"email": user.email}).json()["id"]
    trace = {"reason_code": "shipping_cost", "trace_summary": "Won't pay $10 shipping."}
    canceled = acp.post(f"/checkout_sessions/{sid}/cancel", {"intent_trace": trace})
    assert canceled.status_code == 200, canceled.content
    assert canceled.json()["status"] == "canceled"
    cart = Cart.objects.get(user=user)
    assert cart.abandonment_reason == AbandonmentReason.SHIPPING_COST
    assert cart.abandonment_source == "acp"
    assert cart.abandonment_note == "Won't pay $10 shipping."
    assert [line.variant_id for line in cart.lines.all()] == [shoe.pk]
    assert AcpCheckoutSession.objects.get(public_id=sid).intent_trace["reason_code"] == "shipping_cost"


def test_an_unknown_reason_code_is_other_and_a_guest_buyer_keeps_it_on_the_session_cart(acp, shoe):
    sid = acp.create([{"id": str(shoe.pk)}], buyer={"email": "nobody@example.com"}).json()["id"]
    acp.post(f"/checkout_sessions/{sid}/cancel", {"intent_trace": {"reason_code": "moon_phase"}})
    session = AcpCheckoutSession.objects.get(public_id=sid)
    assert session.shopper_session.cart.abandonment_reason == AbandonmentReason.OTHER
    assert not User.objects.filter(email="nobody@example.com").exists()


def test_cancelling_a_completed_or_canceled_session_is_405(acp, shoe):
    sid = acp.create(
        [{"id": str(shoe.pk)}], buyer={"email": "cy@example.com"}, fulfillment_details=FULFILLMENT
    ).json()["id"]
    acp.post(f"/checkout_sessions/{sid}/complete", {"payment_data": payment()})
    refused = acp.post(f"/checkout_sessions/{sid}/cancel")
    assert refused.status_code == 405
    assert refused.json()["type"] == "invalid_request"
    other = acp.create([{"id": str(shoe.pk)}]).json()["id"]
    assert acp.post(f"/checkout_sessions/{other}/cancel").status_code == 200
    assert acp.post(f"/checkout_sessions/{other}/cancel").status_code == 405


def test_a_bad_signature_a_stale_timestamp_and_a_missing_version_are_refused(acp, shoe):
    forged = AcpClient(secret="not-the-secret").create([{"id": str(shoe.pk)}])
    assert forged.status_code == 401
    assert forged.json() == {
        "type": "invalid_request",
        "code": "invalid_signature",
        "message": "The signature does not match the request.",
    }
    old = acp.post(
        "/checkout_sessions", {"currency": "usd", "capabilities": {}, "line_items": []}, timestamp=stale()
    )
    assert old.status_code == 401
    assert old.json()["code"] == "stale_timestamp"
    unsigned = acp.client.post("/acp/checkout_sessions", data=b"{}", content_type="application/json")
    assert unsigned.status_code == 401
    versionless = acp.create([{"id": str(shoe.pk)}], version="")
    assert versionless.status_code == 400
    assert versionless.json()["supported_versions"] == ["2026-04-17"]
    assert not AcpCheckoutSession.objects.exists()


def test_the_api_key_is_required_when_one_is_set(acp, shoe, settings):
    settings.ACP_API_KEY = "sk_platform"
    assert acp.create([{"id": str(shoe.pk)}]).status_code == 401
    raw = json.dumps({"currency": "usd", "capabilities": {}, "line_items": [{"id": str(shoe.pk)}]}).encode()
    headers = acp.headers(raw, key="k1") | {"Authorization": "Bearer sk_platform"}
    assert acp.post("/checkout_sessions", headers=headers, body=json.loads(raw)).status_code == 201


def test_the_integration_is_off_without_a_secret(acp, shoe, settings):
    settings.ACP_SIGNING_SECRET = ""
    assert acp.create([{"id": str(shoe.pk)}]).status_code == 404


def test_invalid_bodies_get_the_protocols_error_with_a_json_path(acp, shoe):
    missing = acp.post("/checkout_sessions", {"currency": "usd", "line_items": [{"id": str(shoe.pk)}]})
    assert missing.status_code == 400
    assert missing.json()["code"] == "missing"
    unknown = acp.create([{"id": "999999"}])
    assert unknown.status_code == 400
    assert unknown.json() == {
        "type": "invalid_request",
        "code": "invalid_item_id",
        "message": "The item ID '999999' does not exist.",
        "param": "$.line_items[0].id",
    }
    wrong_type = acp.create([{"id": 5}])
    assert wrong_type.json()["param"] == "$.line_items[0].id"
    euros = acp.post(
        "/checkout_sessions", {"currency": "eur", "capabilities": {}, "line_items": [{"id": str(shoe.pk)}]}
    )
    assert euros.json()["code"] == "unsupported_currency"
    assert acp.get("/checkout_sessions/cs_nope").status_code == 404


def test_more_than_the_stock_is_a_message_not_an_error(acp):
    last = VariantFactory(price=Decimal("20.00"), stock=1)
    body = acp.create([{"id": str(last.pk), "quantity": 3}], fulfillment_details=FULFILLMENT)
    assert body.status_code == 201
    assert body.json()["status"] == "not_ready_for_payment"
    assert body.json()["messages"][0]["code"] == "out_of_stock"
    assert body.json()["messages"][0]["param"] == "$.line_items[0]"


def test_a_replayed_key_gets_the_same_answer_and_a_different_body_is_422(acp, shoe):
    body = {"currency": "usd", "capabilities": {}, "line_items": [{"id": str(shoe.pk)}]}
    first = acp.post("/checkout_sessions", body, key="key-1")
    again = acp.post("/checkout_sessions", dict(reversed(list(body.items()))), key="key-1")
    assert again.status_code == 201
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert again["Idempotency-Key"] == "key-1"
    assert "Idempotent-Replayed" not in first
    assert AcpCheckoutSession.objects.count() == 1
    conflict = acp.post("/checkout_sessions", {**body, "line_items": [{"id": str(shoe.pk)}] * 2}, key="key-1")
    assert conflict.status_code == 422
    assert conflict.json()["code"] == "idempotency_conflict"
    missing = acp.post("/checkout_sessions", body, key=None)
    assert missing.status_code == 400
    assert missing.json()["code"] == "idempotency_key_required"


def test_a_replayed_completion_charges_once(acp, shoe):
    sid = acp.create(
        [{"id": str(shoe.pk)}], buyer={"email": "di@example.com"}, fulfillment_details=FULFILLMENT
    ).json()["id"]
    first = acp.post(f"/checkout_sessions/{sid}/complete", {"payment_data": payment()}, key="pay-1")
    again = acp.post(f"/checkout_sessions/{sid}/complete", {"payment_data": payment()}, key="pay-1")
    assert again.json()["order"]["id"] == first.json()["order"]["id"]
    assert again["Idempotent-Replayed"] == "true"
    assert Order.objects.count() == 1


def test_a_request_still_in_flight_with_the_same_key_is_409(acp, shoe, monkeypatch):
    sid = acp.create(
        [{"id": str(shoe.pk)}], buyer={"email": "ed@example.com"}, fulfillment_details=FULFILLMENT
    ).json()["id"]
    seen = []
    charge = TestGateway.charge

    def charge_while_the_platform_retries(self, **kwargs):
        # The payment network is slow; the platform retries the same request meanwhile.
        seen.append(acp.post(f"/checkout_sessions/{sid}/complete", {"payment_data": payment()}, key="slow-1"))
        return charge(self, **kwargs)

    monkeypatch.setattr(TestGateway, "charge", charge_while_the_platform_retries)
    done = acp.post(f"/checkout_sessions/{sid}/complete", {"payment_data": payment()}, key="slow-1")
    assert done.json()["status"] == "completed"
    assert seen[0].status_code == 409
    assert seen[0].json()["code"] == "idempotency_in_flight"
    assert seen[0]["Retry-After"] == "1"
    assert Order.objects.count() == 1


def test_a_server_error_releases_the_key(acp, shoe, monkeypatch):
    from orders.acp import services

    def broken(**kwargs):
        raise RuntimeError("database fell over")

    monkeypatch.setattr(services, "session_create", broken)
    failed = acp.create([{"id": str(shoe.pk)}], key="k-5xx")
    assert failed.status_code == 500
    assert failed.json()["type"] == "processing_error"
    assert not AcpIdempotencyRecord.objects.exists()


def test_update_replaces_the_items_and_a_closed_session_refuses_changes(acp, shoe):
    other = VariantFactory(price=Decimal("12.50"), stock=4)
    sid = acp.create([{"id": str(shoe.pk)}], fulfillment_details=FULFILLMENT).json()["id"]
    updated = acp.post(f"/checkout_sessions/{sid}", {"line_items": [{"id": str(other.pk)}]}).json()
    assert [li["item"]["id"] for li in updated["line_items"]] == [str(other.pk)]
    assert totals_of(updated)["items_base_amount"] == 1250
    acp.post(f"/checkout_sessions/{sid}/cancel")
    closed = acp.post(f"/checkout_sessions/{sid}", {"fulfillment_details": {"address": ADDRESS}})
    assert closed.status_code == 400
    assert closed.json()["code"] == "session_closed"


def test_an_agent_cannot_read_another_shoppers_cart_or_orders(acp, shoe, user):
    """A session shows only what it holds: a buyer e-mail of an account reveals nothing of it."""
    from carts.services import cart_add_item

    secret_item = VariantFactory(price=Decimal("99.00"), stock=2)
    cart_add_item(shopper=Shopper(user=user, session=None), variant_id=secret_item.pk, quantity=1)
    body = acp.create([{"id": str(shoe.pk)}], buyer={"email": user.email}).json()
    assert [li["item"]["id"] for li in body["line_items"]] == [str(shoe.pk)]
    assert user.email not in json.dumps({k: v for k, v in body.items() if k != "buyer"})
    assert UserFactory._meta.model.objects.filter(email=user.email).count() == 1


def test_staff_see_agent_checkouts_in_the_admin(acp, shoe, client):
    sid = acp.create([{"id": str(shoe.pk)}]).json()["id"]
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    listing = client.get("/admin/orders/acpcheckoutsession/")
    assert listing.status_code == 200 and sid in listing.content.decode()
    session = AcpCheckoutSession.objects.get(public_id=sid)
    assert client.get(f"/admin/orders/acpcheckoutsession/{session.pk}/change/").status_code == 200


def test_an_expired_session_can_no_longer_be_changed_or_paid(acp, shoe):
    sid = acp.create(
        [{"id": str(shoe.pk)}], buyer={"email": "fay@example.com"}, fulfillment_details=FULFILLMENT
    ).json()["id"]
    AcpCheckoutSession.objects.filter(public_id=sid).update(expires_at=timezone.now() - timedelta(minutes=1))
    assert acp.get(f"/checkout_sessions/{sid}").json()["status"] == "expired"
    refused = acp.post(f"/checkout_sessions/{sid}/complete", {"payment_data": payment()})
    assert refused.status_code == 400
    assert refused.json()["code"] == "expired"
    assert not Order.objects.exists()
