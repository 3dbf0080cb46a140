"""The recovery code said on our phone call, typed in the chat: it brings the cart back exactly as
``/voice/r/<code>/`` does (voice.services.recovery_code_redeem: the shopper's own code, before it
expires, once), through the real doors -- REST ``interactions/message`` and the socket."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from carts.models import CartLine
from commerce.accounts.models import ShopperSession
from conversations.tests.conftest import open_socket, receive_until, run, send
from voice.models import RecoveryCode
from voice.services import job_attempt_begin
from voice.tests.factories import abandoned_cart, job_for, shopper

pytestmark = pytest.mark.django_db(transaction=True)

MESSAGE_URL = "/api/v1/interactions/message"


@pytest.fixture(autouse=True)
def _calls_at_any_hour(settings):
    settings.VOICE_QUIET_HOURS_START = settings.VOICE_QUIET_HOURS_END = 0


def _called_shopper(*, phone: str = "+14155550123", code_text: str | None = None):
    """A shopper we called about a two-line cart, who has emptied the cart since: (user, cart, code).
    ``code_text`` replaces the random code (a random one is all letters about one time in six)."""
    user = shopper(phone=phone)
    cart = abandoned_cart(user, lines=2)
    job_attempt_begin(job_id=job_for(cart).pk)
    if code_text is not None:
        RecoveryCode.objects.filter(job__cart=cart).update(code=code_text)
    code = RecoveryCode.objects.get(job__cart=cart)
    CartLine.objects.filter(cart=cart).delete()
    return user, cart, code


def _say(user, content: str) -> dict:
    client = APIClient()
    if user is not None:
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {RefreshToken.for_user(user).access_token}")
        body = {"content": content, "channel": "api"}
    else:
        body = {"sessionId": ShopperSession.objects.create(channel="api").key, "content": content}
    response = client.post(MESSAGE_URL, body, format="json")
    assert response.status_code == 200, response.content
    return response.json()


@pytest.mark.parametrize(
    "phrasing",
    [
        "my code is {code}",
        "here's my recovery code {lower}",
        "{code}",
        "{lower}",
        "the code from the call is {code}",
    ],
)
def test_a_signed_in_shopper_gets_the_recovered_cart_back_by_typing_the_code(phrasing):
    user, cart, code = _called_shopper(code_text="7K3M9X")
    reply = _say(user, phrasing.format(code=code.code, lower=code.code.lower()))
    assert reply["intent"] == "redeem_recovery_code"
    assert reply["actions"] == [
        {
            "type": "redeem_recovery_code",
            "status": "succeeded",
            "detail": f"Redeemed recovery code {code.code} (2 line(s) restored).",
        }
    ]
    assert CartLine.objects.filter(cart=cart).count() == 2
    code.refresh_from_db()
    assert code.used_at is not None


def test_a_code_is_used_once_in_the_chat_as_on_the_page():
    user, cart, code = _called_shopper()
    assert _say(user, f"my code is {code.code}")["actions"][0]["status"] == "succeeded"
    CartLine.objects.filter(cart=cart).delete()
    again = _say(user, f"my code is {code.code}")
    assert again["actions"][0]["status"] == "failed"
    assert "already been used" in again["reply"]
    assert not CartLine.objects.filter(cart=cart).exists()
    # the page refuses it too: one rule, the voice service's
    page = Client()
    page.force_login(user)
    response = page.get(f"/voice/r/{code.code}/", follow=True)
    assert "already been used" in response.content.decode()
    assert not CartLine.objects.filter(cart=cart).exists()


def test_an_expired_code_restores_nothing():
    user, cart, code = _called_shopper()
    RecoveryCode.objects.filter(pk=code.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    reply = _say(user, f"my code is {code.code}")
    assert reply["actions"][0]["status"] == "failed"
    assert "unknown or has expired" in reply["reply"]
    assert not CartLine.objects.filter(cart=cart).exists()
    code.refresh_from_db()
    assert code.used_at is None


def test_an_unknown_code_or_another_shoppers_code_restores_nothing():
    user, cart, code = _called_shopper()
    other, other_cart, _ = _called_shopper(phone="+14155550999")
    unknown = _say(user, "my recovery code is ZZZZ22")
    assert unknown["actions"][0]["status"] == "failed" and "unknown" in unknown["reply"]
    # without the word "recovery", a code no call gave out is tried as the discount code it may be
    assert _say(user, "my code is ZZZZ22")["actions"][0]["type"] == "apply_discount"
    theirs = _say(other, f"my code is {code.code}")
    assert theirs["actions"][0]["status"] == "failed" and "unknown" in theirs["reply"]
    assert not CartLine.objects.filter(cart__in=[cart, other_cart]).exists()
    code.refresh_from_db()
    assert code.used_at is None


def test_an_all_letter_code_typed_bare_in_lower_case_is_taken_for_a_word_but_named_it_is_redeemed():
    user, cart, code = _called_shopper(code_text="PQRSTW")
    assert _say(user, "pqrstw")["intent"] != "redeem_recovery_code"
    assert not CartLine.objects.filter(cart=cart).exists()
    assert _say(user, "PQRSTW")["actions"][0]["status"] == "succeeded"
    assert CartLine.objects.filter(cart=cart).count() == 2


def test_a_bare_code_that_is_no_recovery_code_is_still_an_order_number():
    user, _, _ = _called_shopper()
    reply = _say(user, "7H8J9K")
    assert reply["intent"] == "order_status"


def test_a_guest_is_asked_to_sign_in_and_the_code_stays_unused():
    _, cart, code = _called_shopper()
    reply = _say(None, f"my code is {code.code}")
    assert reply["actions"][0]["status"] == "skipped"
    assert "sign in" in reply["reply"]
    assert not CartLine.objects.filter(cart=cart).exists()
    code.refresh_from_db()
    assert code.used_at is None


def test_apply_code_is_still_a_discount_code_even_beside_a_live_recovery_code():
    user, _, code = _called_shopper()
    reply = _say(user, "apply code SAVE10")
    assert reply["intent"] == "apply_discount"
    assert [a["type"] for a in reply["actions"]] == ["apply_discount"]
    code.refresh_from_db()
    assert code.used_at is None


def _over_the_socket(path: str, content: str) -> dict:
    async def scenario():
        socket, _ = await open_socket(path)
        await send(socket, "message", {"content": content})
        response, _ = await receive_until(socket, "response")
        await socket.disconnect()
        return response["payload"]

    return run(scenario())


def test_the_socket_restores_the_cart_for_a_signed_in_shopper_and_asks_a_guest_to_sign_in():
    user, cart, code = _called_shopper()
    guest = _over_the_socket("/ws/chat/", f"my code is {code.code}")
    assert guest["actions"][0]["status"] == "skipped"
    assert not CartLine.objects.filter(cart=cart).exists()
    token = RefreshToken.for_user(user).access_token
    member = _over_the_socket(f"/ws/chat/?token={token}", code.code)
    assert member["intent"] == "redeem_recovery_code"
    assert member["actions"][0]["status"] == "succeeded"
    assert CartLine.objects.filter(cart=cart).count() == 2
    used = _over_the_socket(f"/ws/chat/?token={token}", f"my code is {code.code}")
    assert used["actions"][0]["status"] == "failed"
