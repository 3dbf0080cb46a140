import uuid

import pytest
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from commerce.accounts.tests.factories import UserFactory
from orders.models import Order
from orders.tests.conftest import ADDRESS

pytestmark = pytest.mark.django_db
BODY = {"shippingAddress": ADDRESS, "paymentMethod": {"type": "card", "token": "pm_test_visa"}}


def post_order(client, body=BODY, key=None):
    return client.post("/api/v1/orders", body, format="json", HTTP_IDEMPOTENCY_KEY=key or uuid.uuid4().hex)


def test_order_needs_sign_in(api_client):
    r = api_client.post("/api/v1/orders", BODY, format="json", HTTP_IDEMPOTENCY_KEY="k")
    assert r.status_code == 401 and r.json()["error"]["code"] == "not_authenticated"


def test_order_needs_idempotency_key(auth_client, filled_cart):
    r = auth_client.post("/api/v1/orders", BODY, format="json")
    assert r.status_code == 400 and r.json()["error"]["code"] == "idempotency_key_required"


def test_place_order_returns_the_contract_shape(auth_client, filled_cart):
    r = post_order(auth_client)
    assert r.status_code == 201
    body = r.json()
    assert set(body) >= {
        "id",
        "status",
        "items",
        "subtotal",
        "discount",
        "tax",
        "shipping",
        "total",
        "currency",
        "shippingAddress",
        "createdAt",
        "updatedAt",
        "refunds",
    }
    assert body["status"] == "paid" and body["total"] == "146.39"
    assert set(body["items"][0]) >= {
        "id",
        "productId",
        "variantId",
        "name",
        "size",
        "color",
        "unitPrice",
        "quantity",
    }


def test_replay_and_reuse_of_a_key(auth_client, filled_cart):
    first = post_order(auth_client, key="same")
    again = post_order(auth_client, key="same")
    assert again.status_code == 200 and again.json()["id"] == first.json()["id"]
    other = post_order(auth_client, {**BODY, "shippingAddress": {**ADDRESS, "city": "Dallas"}}, key="same")
    assert other.status_code == 422 and other.json()["error"]["code"] == "idempotency_key_reused"
    assert Order.objects.count() == 1


def test_declined_payment_is_422(auth_client, filled_cart):
    r = post_order(auth_client, {**BODY, "paymentMethod": {"type": "card", "token": "pm_fail_x"}})
    assert r.status_code == 422 and r.json()["error"]["code"] == "payment_declined"


def test_bad_address_is_a_400_naming_the_field(auth_client, filled_cart):
    r = post_order(auth_client, {**BODY, "shippingAddress": {**ADDRESS, "postalCode": ""}})
    assert r.status_code == 400 and "postalCode" in r.json()["error"]["details"]["fields"]["shippingAddress"]


def test_list_get_cancel_and_other_users(auth_client, filled_cart):
    order_id = post_order(auth_client).json()["id"]
    listing = auth_client.get("/api/v1/orders").json()
    assert listing["total"] == 1 and listing["items"][0]["id"] == order_id
    assert auth_client.get(f"/api/v1/orders/{order_id}").status_code == 200
    stranger = APIClient()
    stranger.credentials(HTTP_AUTHORIZATION=f"Bearer {RefreshToken.for_user(UserFactory()).access_token}")
    assert stranger.get(f"/api/v1/orders/{order_id}").status_code == 404
    assert stranger.post(f"/api/v1/orders/{order_id}/cancel", {}, format="json").status_code == 404
    refund = auth_client.post(f"/api/v1/orders/{order_id}/refund", {"reason": "x"}, format="json")
    assert refund.status_code == 422
    moved = auth_client.put(
        f"/api/v1/orders/{order_id}/shipping-address", {**ADDRESS, "city": "Dallas"}, format="json"
    )
    assert moved.status_code == 200 and moved.json()["shippingAddress"]["city"] == "Dallas"
    cancelled = auth_client.post(f"/api/v1/orders/{order_id}/cancel", {"reason": "oops"}, format="json")
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    again = auth_client.post(f"/api/v1/orders/{order_id}/cancel", {}, format="json")
    assert again.status_code == 422 and again.json()["error"]["code"] == "illegal_transition"


def test_refund_items_through_the_api(auth_client, filled_cart, admin_user):
    from orders.services import order_mark_delivered, order_mark_shipped

    order_id = post_order(auth_client).json()["id"]
    order = Order.objects.get(number=order_id)
    order_mark_shipped(order=order, actor=admin_user, tracking_number="T")
    order_mark_delivered(order=order, actor=admin_user)
    item = order.lines.first()
    r = auth_client.post(
        f"/api/v1/orders/{order_id}/refund",
        {"reason": "fit", "items": [{"itemId": str(item.pk), "quantity": 1}]},
        format="json",
    )
    assert r.status_code == 200 and r.json()["status"] == "partially_refunded"
    assert len(r.json()["refunds"]) == 1


def test_schema_documents_orders(client):
    schema = client.get("/api/schema/").content.decode()
    assert "/api/v1/orders/{order_id}/refund" in schema and "Idempotency-Key" in schema
    assert "OrderItemOut" in schema and "OrderOutStatusEnum" in schema and "partially_refunded" in schema


def test_refund_beyond_what_was_bought_is_422_and_changes_nothing(auth_client, filled_cart, admin_user):
    from orders.services import order_mark_delivered, order_mark_shipped

    order_id = post_order(auth_client).json()["id"]
    order = Order.objects.get(number=order_id)
    order_mark_shipped(order=order, actor=admin_user, tracking_number="T")
    order_mark_delivered(order=order, actor=admin_user)
    line = order.lines.get(quantity=2)
    r = auth_client.post(
        f"/api/v1/orders/{order_id}/refund",
        {"items": [{"itemId": str(line.pk), "quantity": 3}]},
        format="json",
    )
    assert r.status_code == 422 and r.json()["error"]["code"] == "refund_quantity_exceeded"
    unknown = auth_client.post(
        f"/api/v1/orders/{order_id}/refund", {"items": [{"itemId": "999999", "quantity": 1}]}, format="json"
    )
    assert unknown.status_code == 400 and unknown.json()["error"]["code"] == "unknown_item"
    full = auth_client.post(f"/api/v1/orders/{order_id}/refund", {"reason": "all of it"}, format="json")
    assert full.status_code == 200 and full.json()["status"] == "refunded"
    assert full.json()["refunds"][0]["amount"] == full.json()["total"]


def test_unknown_order_is_404_and_list_paginates(auth_client, filled_cart, variant):
    from carts.services import cart_add_item
    from commerce.accounts.shoppers import Shopper

    assert auth_client.get("/api/v1/orders/ZZZZZZ").json()["error"]["code"] == "order_not_found"
    first = post_order(auth_client).json()["id"]
    cart_add_item(shopper=Shopper(user=auth_client.user, session=None), variant_id=variant.pk, quantity=1)
    second = post_order(auth_client).json()["id"]
    page = auth_client.get("/api/v1/orders?limit=1&offset=1").json()
    assert page["total"] == 2 and page["limit"] == 1 and page["offset"] == 1
    assert [o["id"] for o in page["items"]] == [first] and second != first


def test_empty_cart_and_sold_out_answers(auth_client, filled_cart, variant):
    from catalog.models import Variant

    Variant.objects.filter(pk=variant.pk).update(stock=1)
    sold_out = post_order(auth_client)
    assert sold_out.status_code == 409 and sold_out.json()["error"]["code"] == "insufficient_stock"
    assert sold_out.json()["error"]["details"]["variantId"] == str(variant.pk)
    Variant.objects.filter(pk=variant.pk).update(stock=10)
    assert post_order(auth_client).status_code == 201
    empty = post_order(auth_client)
    assert empty.status_code == 422 and empty.json()["error"]["code"] == "cart_empty"


def test_invalid_token_is_422(auth_client, filled_cart):
    r = post_order(auth_client, {**BODY, "paymentMethod": {"type": "card", "token": "4242424242424242"}})
    assert r.status_code == 422 and r.json()["error"]["code"] == "invalid_payment_token"


def test_a_new_order_answers_what_is_stored_and_a_replay_the_same(auth_client, filled_cart):
    """The 201 is built from the rows the checkout just wrote (no read back): it must equal what
    GET /orders/{id} and a replay of the key read from the database."""
    key = uuid.uuid4().hex
    placed = post_order(auth_client, key=key)
    assert placed.status_code == 201
    stored = auth_client.get(f"/api/v1/orders/{placed.json()['id']}")
    replay = post_order(auth_client, key=key)
    assert replay.status_code == 200
    assert placed.json() == stored.json() == replay.json()
    assert [item["quantity"] for item in placed.json()["items"]] == [2, 1]
