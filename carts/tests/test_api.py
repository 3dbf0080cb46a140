import json
import re
from decimal import Decimal

import pytest

from carts.models import Cart, CartLine
from carts.tests.factories import CartLineFactory, DiscountFactory
from catalog.tests.factories import VariantFactory
from commerce.accounts.models import ShopperSession
from commerce.accounts.tests.factories import PASSWORD, ShopperSessionFactory, UserFactory

pytestmark = pytest.mark.django_db

MONEY = re.compile(r"^\d+\.\d{2}$")
CART_FIELDS = {
    "id",
    "items",
    "subtotal",
    "discountCode",
    "discount",
    "tax",
    "shipping",
    "total",
    "currency",
    "itemCount",
}
ITEM_FIELDS = {"id", "productId", "variantId", "name", "size", "color", "unitPrice", "quantity", "lineTotal"}


@pytest.fixture
def session(db):
    return ShopperSessionFactory()


@pytest.fixture
def guest_client(api_client, session):
    api_client.credentials(HTTP_X_SESSION_ID=session.key)
    api_client.session_obj = session
    return api_client


def _add(client, variant, quantity=1, product_id=None):
    return client.post(
        "/api/v1/cart/items",
        {
            "productId": str(product_id or variant.product_id),
            "variantId": str(variant.pk),
            "quantity": quantity,
        },
        format="json",
    )


def test_add_item_answers_201_with_the_contract_cart(guest_client):
    variant = VariantFactory(price=Decimal("49.99"), size="M", color="black", product__name="Hoodie")
    r = _add(guest_client, variant, 2)
    assert r.status_code == 201
    cart = r.json()
    assert set(cart) == CART_FIELDS
    assert set(cart["items"][0]) == ITEM_FIELDS
    assert cart["items"][0] == {
        "id": str(CartLine.objects.get().pk),
        "productId": str(variant.product_id),
        "variantId": str(variant.pk),
        "name": "Hoodie",
        "size": "M",
        "color": "black",
        "unitPrice": "49.99",
        "quantity": 2,
        "lineTotal": "99.98",
    }
    assert isinstance(cart["id"], str) and cart["currency"] == "USD" and cart["itemCount"] == 2
    assert (cart["subtotal"], cart["discount"], cart["tax"], cart["shipping"], cart["total"]) == (
        "99.98",
        "0.00",
        "8.00",
        "5.99",
        "113.97",
    )
    assert cart["discountCode"] is None
    for key in ("subtotal", "discount", "tax", "shipping", "total"):
        assert MONEY.match(cart[key])


def test_get_cart_with_session_header_or_cookie_returns_the_same_cart(guest_client, api_client):
    _add(guest_client, VariantFactory())
    by_header = guest_client.get("/api/v1/cart").json()
    cookie_client = type(api_client)()
    cookie_client.cookies["session_id"] = guest_client.session_obj.key
    assert cookie_client.get("/api/v1/cart").json() == by_header
    assert by_header["itemCount"] == 1


def test_a_guest_without_session_gets_one_back(api_client):
    r = _add(api_client, VariantFactory())
    assert r.status_code == 201
    key = r["X-Session-Id"]
    assert ShopperSession.objects.filter(key=key, user__isnull=True).exists()
    assert r.cookies["session_id"].value == key
    again = api_client.get("/api/v1/cart", HTTP_X_SESSION_ID=key)
    assert again.json()["itemCount"] == 1
    assert "X-Session-Id" not in again.headers  # a known session is not replaced


def test_unknown_session_id_is_a_404_json_error(api_client):
    r = api_client.get("/api/v1/cart", HTTP_X_SESSION_ID="nope")
    assert r.status_code == 404 and r.json()["error"]["code"] == "session_not_found"


def test_quantity_zero_on_add_is_a_400_json_error(guest_client):
    r = _add(guest_client, VariantFactory(), 0)
    assert r.status_code == 400 and r.json()["error"]["code"] == "invalid_input"


def test_quantity_over_50_on_add_is_a_400(guest_client):
    assert _add(guest_client, VariantFactory(stock=100), 51).status_code == 400


def test_more_than_stock_is_a_409_naming_what_is_left(guest_client):
    r = _add(guest_client, VariantFactory(stock=2), 3)
    assert r.status_code == 409  # one status for insufficient_stock, as at checkout
    error = r.json()["error"]
    assert error["code"] == "insufficient_stock" and "Only 2" in error["message"]
    assert error["details"]["available"] == 2


def test_product_id_of_another_product_is_a_400(guest_client):
    variant = VariantFactory()
    other = VariantFactory()
    r = _add(guest_client, variant, 1, product_id=other.product_id)
    assert r.status_code == 404 and r.json()["error"]["code"] == "variant_product_mismatch"


def test_unknown_variant_is_a_404(guest_client):
    r = guest_client.post(
        "/api/v1/cart/items", {"productId": "1", "variantId": "999999", "quantity": 1}, format="json"
    )
    assert r.status_code == 404 and r.json()["error"]["code"] == "variant_not_found"


def test_missing_fields_and_bad_json_are_400(guest_client):
    assert guest_client.post("/api/v1/cart/items", {"quantity": 1}, format="json").status_code == 400
    r = guest_client.post("/api/v1/cart/items", b"{nope", content_type="application/json")
    assert r.status_code == 400 and r.json()["error"]["code"] == "malformed_json"
    assert guest_client.post("/api/v1/cart/items", b"hi", content_type="text/plain").status_code == 415


def test_put_sets_quantity_and_zero_removes(guest_client):
    _add(guest_client, VariantFactory(stock=10), 2)
    line_id = guest_client.get("/api/v1/cart").json()["items"][0]["id"]
    r = guest_client.put(f"/api/v1/cart/items/{line_id}", {"quantity": 5}, format="json")
    assert r.status_code == 200 and r.json()["items"][0]["quantity"] == 5
    r = guest_client.put(f"/api/v1/cart/items/{line_id}", {"quantity": 0}, format="json")
    assert r.status_code == 200 and r.json()["items"] == [] and r.json()["shipping"] == "0.00"


def test_put_rejects_bad_quantities(guest_client):
    _add(guest_client, VariantFactory(stock=10))
    line_id = guest_client.get("/api/v1/cart").json()["items"][0]["id"]
    for bad in (-1, 51, "x"):
        assert (
            guest_client.put(f"/api/v1/cart/items/{line_id}", {"quantity": bad}, format="json").status_code
            == 400
        )


def test_delete_removes_the_line(guest_client):
    _add(guest_client, VariantFactory())
    line_id = guest_client.get("/api/v1/cart").json()["items"][0]["id"]
    r = guest_client.delete(f"/api/v1/cart/items/{line_id}")
    assert r.status_code == 200 and r.json()["itemCount"] == 0


def test_another_sessions_line_is_a_404_and_untouched(guest_client):
    theirs = CartLineFactory(cart__session=ShopperSessionFactory(), quantity=2)
    for method in ("put", "delete"):
        r = getattr(guest_client, method)(f"/api/v1/cart/items/{theirs.pk}", {"quantity": 1}, format="json")
        assert r.status_code == 404 and r.json()["error"]["code"] == "cart_line_not_found"
    assert CartLine.objects.get(pk=theirs.pk).quantity == 2


def test_another_users_line_is_a_404(auth_client):
    theirs = CartLineFactory(cart__session=None, cart__user=UserFactory(), quantity=2)
    r = auth_client.put(f"/api/v1/cart/items/{theirs.pk}", {"quantity": 1}, format="json")
    assert r.status_code == 404
    assert auth_client.delete(f"/api/v1/cart/items/{theirs.pk}").status_code == 404
    assert CartLine.objects.get(pk=theirs.pk).quantity == 2


def test_a_session_of_another_account_cannot_name_their_cart(api_client, user):
    their_session = ShopperSessionFactory(user=UserFactory())
    r = api_client.get("/api/v1/cart", HTTP_X_SESSION_ID=their_session.key)
    assert r.status_code == 404


def test_signed_in_user_has_one_cart_across_calls(auth_client):
    _add(auth_client, VariantFactory())
    cart = auth_client.get("/api/v1/cart").json()
    assert cart["itemCount"] == 1
    assert Cart.objects.get(pk=cart["id"]).user == auth_client.user


def test_apply_discount_and_its_refusals(guest_client):
    _add(guest_client, VariantFactory(price=Decimal("20.00")), 2)
    DiscountFactory(code="SAVE10", value=Decimal("10"))
    DiscountFactory(code="WELCOME5", kind="fixed", value=Decimal("5"), min_subtotal=Decimal("50"))
    r = guest_client.post("/api/v1/cart/apply-discount", {"code": "welcome5"}, format="json")
    assert r.status_code == 422 and r.json()["error"]["code"] == "discount_min_subtotal"
    r = guest_client.post("/api/v1/cart/apply-discount", {"code": "nope"}, format="json")
    assert r.status_code == 422 and r.json()["error"]["code"] == "discount_invalid"
    r = guest_client.post("/api/v1/cart/apply-discount", {"code": "save10"}, format="json")
    assert r.status_code == 200
    cart = r.json()
    assert cart["discountCode"] == "SAVE10" and cart["discount"] == "4.00" and cart["tax"] == "2.88"
    assert guest_client.post("/api/v1/cart/apply-discount", {}, format="json").status_code == 400
    r = guest_client.delete("/api/v1/cart/discount")
    assert r.status_code == 200 and r.json()["discountCode"] is None


# --- merge through the API (the signal from /auth/login and /auth/register) -------------------------------


def test_api_register_merges_the_guest_cart(guest_client):
    variant = VariantFactory()
    _add(guest_client, variant, 2)
    r = guest_client.post(
        "/api/v1/auth/register",
        {"email": "new@example.com", "password": PASSWORD, "name": "N"},
        format="json",
    )
    assert r.status_code == 201
    token = r.json()["accessToken"]
    guest_client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    cart = guest_client.get("/api/v1/cart").json()
    assert [(i["variantId"], i["quantity"]) for i in cart["items"]] == [(str(variant.pk), 2)]
    assert not Cart.objects.filter(session=guest_client.session_obj).exists()


def test_api_login_merges_line_by_line(guest_client):
    user = UserFactory()
    same, capped, new = VariantFactory(stock=100), VariantFactory(stock=100), VariantFactory()
    account = Cart.objects.create(user=user, discount=DiscountFactory(code="MINE"))
    CartLine.objects.create(cart=account, variant=same, quantity=1)
    CartLine.objects.create(cart=account, variant=capped, quantity=45)
    _add(guest_client, same, 2)
    _add(guest_client, capped, 10)
    _add(guest_client, new, 1)
    DiscountFactory(code="GUEST")
    guest_client.post("/api/v1/cart/apply-discount", {"code": "guest"}, format="json")

    r = guest_client.post("/api/v1/auth/login", {"email": user.email, "password": PASSWORD}, format="json")
    assert r.status_code == 200
    guest_client.credentials(HTTP_AUTHORIZATION=f"Bearer {r.json()['accessToken']}")
    cart = guest_client.get("/api/v1/cart").json()
    assert cart["id"] == str(account.pk)
    assert {i["variantId"]: i["quantity"] for i in cart["items"]} == {
        str(same.pk): 3,
        str(capped.pk): 50,
        str(new.pk): 1,
    }
    assert cart["discountCode"] == "MINE"
    assert Cart.objects.count() == 1


def test_api_login_carries_the_guest_discount_when_the_account_has_none(guest_client):
    user = UserFactory()
    _add(guest_client, VariantFactory())
    DiscountFactory(code="GUEST")
    guest_client.post("/api/v1/cart/apply-discount", {"code": "guest"}, format="json")
    r = guest_client.post("/api/v1/auth/login", {"email": user.email, "password": PASSWORD}, format="json")
    guest_client.credentials(HTTP_AUTHORIZATION=f"Bearer {r.json()['accessToken']}")
    assert guest_client.get("/api/v1/cart").json()["discountCode"] == "GUEST"


def test_schema_documents_every_cart_endpoint(api_client):
    r = api_client.get("/api/schema/?format=json")
    assert r.status_code == 200
    paths = json.loads(r.content)["paths"]
    assert {"get"} <= set(paths["/api/v1/cart"])
    assert {"post"} <= set(paths["/api/v1/cart/items"])
    assert {"put", "delete"} <= set(paths["/api/v1/cart/items/{item_id}"])
    assert {"post"} <= set(paths["/api/v1/cart/apply-discount"])
    assert "Cart" in str(paths["/api/v1/cart"]["get"]["responses"]["200"])
