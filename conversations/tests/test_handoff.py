"""Handoff codes: a guest continues the same conversation and cart on another device with a one-time code."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from carts.models import Cart
from carts.services import cart_add_item
from catalog.tests.factories import CategoryFactory, ProductFactory, VariantFactory
from commerce.accounts.models import ShopperSession
from commerce.accounts.shoppers import PAGE_SESSION_KEY, Shopper
from commerce.accounts.tests.factories import UserFactory
from conversations import errors, services
from conversations.assistant.pipeline import respond
from conversations.models import Conversation, HandoffCode, Message

pytestmark = pytest.mark.django_db

CODE = re.compile(r"\b([2-9A-HJKMNP-Z]{4}-[2-9A-HJKMNP-Z]{4})\b")
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def trail_runner():
    category = CategoryFactory(name="Running Shoes", slug="running-shoes")
    product = ProductFactory(name="Trail Runner 2", brand="Stride", category=category, tags=["running"])
    VariantFactory(product=product, size="10", price=Decimal("129.99"), stock=8)
    return product


def _page_guest() -> tuple[Client, ShopperSession]:
    """A browser that opened the chat panel, which starts its guest session."""
    client = Client()
    assert client.get("/chat/panel/").status_code == 200
    return client, ShopperSession.objects.get(key=client.session[PAGE_SESSION_KEY])


def _issue_on_page(client: Client) -> str:
    response = client.post("/chat/handoff/", **HTMX)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="chat-handoff"' in html and "/chat/continue/" in html
    return CODE.search(html).group(1)


def _redeem_on_page(client: Client, code: str, *, ip: str = "203.0.113.7"):
    return client.post("/chat/continue/", {"code": code}, REMOTE_ADDR=ip)


def _issue(session: ShopperSession, user=None) -> str:
    return services.handoff_code_issue(shopper=Shopper(user=user, session=session)).code


def _redeem(code: str, *, ip: str = "203.0.113.7", session: ShopperSession | None = None, user=None):
    return services.handoff_redeem(code=code, user=user, session=session, client_ip=ip)


# --- the happy path ----------------------------------------------------------------------------


def test_second_device_sees_the_first_devices_cart_history_and_dialogue_state(trail_runner):
    laptop, laptop_session = _page_guest()
    guest = Shopper(user=None, session=laptop_session)
    cart_add_item(shopper=guest, variant_id=trail_runner.variants.get().pk, quantity=1)
    respond(shopper=guest, text="show me running shoes", channel="web")
    code = _issue_on_page(laptop)

    phone, phone_session = _page_guest()
    assert phone_session != laptop_session
    assert phone.get("/chat/continue/").status_code == 200
    response = _redeem_on_page(phone, code)

    assert response.status_code == 302
    assert phone.session[PAGE_SESSION_KEY] == laptop_session.key
    panel = phone.get("/chat/panel/").content.decode()
    assert "show me running shoes" in panel and laptop_session.key in panel
    assert "Trail Runner 2" in phone.get("/cart/").content.decode()
    # "the first one" means the product the laptop's search showed: the dialogue state came along.
    on_phone = Shopper(user=None, session=ShopperSession.objects.get(key=phone.session[PAGE_SESSION_KEY]))
    reply = respond(shopper=on_phone, text="add the first one", channel="web")
    assert reply["actions"][0]["status"] == "succeeded", reply
    assert Cart.objects.get(session=laptop_session).lines.get().quantity == 2
    assert Conversation.objects.filter(session=laptop_session).count() == 1


def test_the_code_is_shown_once_and_only_its_keyed_hash_is_stored():
    session = ShopperSession.objects.create(channel="web")
    code = _issue(session)
    stored = HandoffCode.objects.get(session=session)
    assert code.replace("-", "") not in stored.digest
    assert len(stored.digest) == 64
    assert stored.expires_at - stored.created_at == timedelta(minutes=10)


def test_code_is_accepted_in_any_case_and_with_spaces():
    session = ShopperSession.objects.create(channel="web")
    code = _issue(session)
    typed = " " + code.replace("-", " ").lower() + " "
    assert _redeem(typed) == session


def test_a_new_code_replaces_the_previous_one():
    session = ShopperSession.objects.create(channel="web")
    first = _issue(session)
    second = _issue(session)
    with pytest.raises(errors.HandoffCodeNotFound):
        _redeem(first)
    assert _redeem(second) == session


# --- refusals ------------------------------------------------------------------------------------


def test_a_code_expires_after_ten_minutes():
    session = ShopperSession.objects.create(channel="web")
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        code = _issue(session)
        late = _issue(ShopperSession.objects.create(channel="web"))
    with time_machine.travel(start + timedelta(minutes=9, seconds=59), tick=False):
        assert _redeem(code) == session
    with (
        time_machine.travel(start + timedelta(minutes=10), tick=False),
        pytest.raises(errors.HandoffCodeExpired) as raised,
    ):
        _redeem(late)
    assert raised.value.status_code == 422 and raised.value.code == "handoff_code_expired"


def test_a_code_works_once():
    session = ShopperSession.objects.create(channel="web")
    code = _issue(session)
    assert _redeem(code) == session
    with pytest.raises(errors.HandoffCodeUsed) as raised:
        _redeem(code, ip="198.51.100.9")
    assert raised.value.status_code == 409


@pytest.mark.parametrize(
    ("typed", "error"),
    [
        ("ABCD-2345", errors.HandoffCodeNotFound),
        ("ABCD-234", errors.HandoffCodeInvalid),
        ("ABCD-O0I1", errors.HandoffCodeInvalid),
        ("x" * 500, errors.HandoffCodeInvalid),
    ],
)
def test_unknown_and_malformed_codes_are_refused(typed, error):
    ShopperSession.objects.create(channel="web")
    with pytest.raises(error):
        _redeem(typed)


def test_a_code_of_an_ended_session_is_expired():
    session = ShopperSession.objects.create(channel="web")
    code = _issue(session)
    session.ended_at = timezone.now()
    session.save()
    with pytest.raises(errors.HandoffCodeExpired):
        _redeem(code)


def test_wrong_codes_on_the_page_are_form_errors_and_change_nothing():
    phone, phone_session = _page_guest()
    response = _redeem_on_page(phone, "ABCD-2345")
    assert response.status_code == 404
    assert "That code is not right" in response.content.decode()
    assert phone.session[PAGE_SESSION_KEY] == phone_session.key
    assert _redeem_on_page(phone, "").status_code == 400


# --- guessing is rate limited --------------------------------------------------------------------


def test_five_wrong_codes_from_one_ip_block_even_a_right_code_for_ten_minutes():
    target = ShopperSession.objects.create(channel="web")
    code = _issue(target)
    for _ in range(services.HANDOFF_MAX_FAILURES):
        with pytest.raises(errors.HandoffCodeNotFound):
            _redeem("ZZZZ-ZZZZ", ip="203.0.113.50")
    with pytest.raises(errors.HandoffRateLimited) as raised:
        _redeem(code, ip="203.0.113.50")
    assert raised.value.status_code == 429
    assert not HandoffCode.objects.get(session=target).is_used()
    # Another client is not held back by the first one's guesses.
    assert _redeem(code, ip="203.0.113.51") == target


def test_wrong_codes_count_per_session_across_addresses():
    guesser = ShopperSession.objects.create(channel="web")
    for n in range(services.HANDOFF_MAX_FAILURES):
        with pytest.raises(errors.HandoffCodeNotFound):
            _redeem("ZZZZ-ZZZZ", ip=f"198.51.100.{n}", session=guesser)
    with pytest.raises(errors.HandoffRateLimited):
        _redeem("ZZZZ-ZZZZ", ip="198.51.100.99", session=guesser)


def test_rate_limit_is_a_429_on_the_page_and_in_the_api(api_client):
    phone, _ = _page_guest()
    for _ in range(services.HANDOFF_MAX_FAILURES):
        _redeem_on_page(phone, "ZZZZ-ZZZZ", ip="192.0.2.1")
    response = _redeem_on_page(phone, "ZZZZ-ZZZZ", ip="192.0.2.1")
    assert response.status_code == 429
    assert "Too many wrong codes" in response.content.decode()
    assert response["Retry-After"] == str(services.HANDOFF_FAILURE_WINDOW_SECONDS)
    api = api_client.post(
        "/api/v1/handoff/redeem", {"code": "ZZZZ-ZZZZ"}, format="json", REMOTE_ADDR="192.0.2.1"
    )
    assert api.status_code == 429
    # The contract's one limiter shape (CONTRACT.md section 6), like login, register and chat.
    assert api.json()["error"]["code"] == "rate_limited"
    assert api.json()["error"]["details"] == {"retryAfter": services.HANDOFF_FAILURE_WINDOW_SECONDS}
    assert api["Retry-After"] == str(services.HANDOFF_FAILURE_WINDOW_SECONDS)


# --- accounts ------------------------------------------------------------------------------------


def test_an_accounts_code_needs_that_account_on_the_other_device():
    user = UserFactory()
    session = ShopperSession.objects.create(channel="web", user=user)
    code = _issue(session, user=user)
    with pytest.raises(errors.HandoffSignInRequired) as raised:
        _redeem(code)
    assert raised.value.status_code == 403
    with pytest.raises(errors.HandoffSignInRequired):
        _redeem(code, user=UserFactory(), ip="192.0.2.2")
    assert _redeem(code, user=user, ip="192.0.2.3") == session


def test_a_guest_code_redeemed_while_signed_in_joins_the_account(trail_runner):
    session = ShopperSession.objects.create(channel="web")
    guest = Shopper(user=None, session=session)
    cart_add_item(shopper=guest, variant_id=trail_runner.variants.get().pk, quantity=2)
    respond(shopper=guest, text="hello", channel="web")
    user = UserFactory()
    code = _issue(session)

    assert _redeem(code, user=user) == session

    session.refresh_from_db()
    assert session.user == user
    assert Cart.objects.get(user=user).lines.get().quantity == 2
    assert not Cart.objects.filter(session=session).exists()
    assert Message.objects.filter(conversation__user=user, content="hello").exists()


# --- the API (an addition to the contract) ------------------------------------------------------------


def test_api_guest_hands_over_its_session_and_the_other_client_sees_cart_and_history(trail_runner):
    laptop = APIClient()
    created = laptop.post("/api/v1/sessions", {"channel": "web"}, format="json").json()
    key = created["sessionId"]
    laptop.credentials(HTTP_X_SESSION_ID=key)
    variant = trail_runner.variants.get()
    laptop.post(
        "/api/v1/cart/items",
        {"productId": str(trail_runner.pk), "variantId": str(variant.pk), "quantity": 1},
        format="json",
    )
    laptop.post("/api/v1/interactions/message", {"sessionId": key, "content": "hello there"}, format="json")

    issued = laptop.post("/api/v1/handoff/codes", {}, format="json")
    assert issued.status_code == 201
    body = issued.json()
    assert set(body) == {"code", "expiresAt", "sessionId"} and body["sessionId"] == key
    assert CODE.fullmatch(body["code"]) and body["expiresAt"].endswith("Z")

    phone = APIClient()
    redeemed = phone.post("/api/v1/handoff/redeem", {"code": body["code"]}, format="json")
    assert redeemed.status_code == 200
    assert redeemed.json()["sessionId"] == key and set(redeemed.json()) == {
        "sessionId",
        "channel",
        "expiresAt",
    }
    phone.credentials(HTTP_X_SESSION_ID=key)
    assert [i["name"] for i in phone.get("/api/v1/cart").json()["items"]] == ["Trail Runner 2"]
    history = phone.get(f"/api/v1/interactions/history?sessionId={key}").json()["items"]
    assert history[0]["content"] == "hello there"

    again = APIClient().post("/api/v1/handoff/redeem", {"code": body["code"]}, format="json")
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "handoff_code_used"


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"code": "ABCD-2345"}, 404, "handoff_code_not_found"),
        ({"code": "nope"}, 400, "handoff_code_invalid"),
        ({}, 400, "invalid_input"),
    ],
)
def test_api_refusals_use_the_contract_error_shape(api_client, body, status, code):
    response = api_client.post("/api/v1/handoff/redeem", body, format="json")
    assert response.status_code == status
    error = response.json()["error"]
    assert error["code"] == code and error["message"]


def test_api_code_needs_a_session_for_a_guest_and_uses_the_users_latest_when_signed_in(api_client):
    response = api_client.post("/api/v1/handoff/codes", {}, format="json")
    assert response.status_code == 400 and response.json()["error"]["details"]["field"] == "sessionId"
    user = UserFactory()
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {RefreshToken.for_user(user).access_token}")
    signed_in = api_client.post("/api/v1/handoff/codes", {}, format="json")
    assert signed_in.status_code == 201
    assert ShopperSession.objects.get(key=signed_in.json()["sessionId"]).user == user
