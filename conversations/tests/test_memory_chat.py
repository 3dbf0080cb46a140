"""Memory by chat, through the REST door (JWT): what is said is stored, used and forgotten for real."""

from __future__ import annotations

from decimal import Decimal

import pytest
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from carts.models import CartLine
from catalog.tests.factories import CategoryFactory, ProductFactory, VariantFactory
from commerce.accounts.tests.factories import UserFactory
from memory.models import Preference

pytestmark = pytest.mark.django_db

MESSAGE_URL = "/api/v1/interactions/message"


@pytest.fixture
def hoodie():
    category = CategoryFactory(name="Hoodies", slug="hoodies")
    product = ProductFactory(name="Cloud Hoodie", brand="Northpeak", category=category, tags=["hoodie"])
    for size in ("S", "M", "L"):
        VariantFactory(
            product=product, sku=f"CH-{size}", size=size, color="black", price=Decimal("60"), stock=5
        )
    return product


def _say(client: APIClient, text: str) -> dict:
    response = client.post(MESSAGE_URL, {"content": text}, format="json")
    assert response.status_code == 200, response.content
    return response.json()


def _member() -> tuple[object, APIClient]:
    user = UserFactory()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {RefreshToken.for_user(user).access_token}")
    return user, client


def test_a_size_said_in_chat_is_stored_used_for_the_next_add_and_forgotten_on_request(hoodie):
    user, client = _member()

    saved = _say(client, "I'm a medium in tops")
    assert saved["intent"] == "save_preference" and saved["actions"][0]["status"] == "succeeded"
    row = Preference.objects.get(user=user, key="sizes.tops")
    assert (row.value, row.source) == ("M", Preference.Source.CHAT)

    added = _say(client, "add a cloud hoodie")
    assert "I picked size M, as you prefer." in added["reply"]
    assert [(line.variant.sku, line.quantity) for line in CartLine.objects.filter(cart__user=user)] == [
        ("CH-M", 1)
    ]

    _say(client, "forget my tops size")
    assert not Preference.objects.filter(user=user).exists()


def test_an_unknown_value_is_refused_with_a_suggestion_and_nothing_is_stored(hoodie):
    user, client = _member()
    reply = _say(client, "remember I like Northpaek")
    assert reply["actions"][0]["status"] == "failed"
    assert "Northpeak" in reply["reply"]  # "did you mean"
    assert not Preference.objects.filter(user=user).exists()


def test_a_guest_is_told_memory_needs_an_account_and_nothing_is_stored(hoodie):
    reply = _say(APIClient(), "I'm a medium in tops")
    assert reply["actions"][0]["status"] == "skipped"
    assert not Preference.objects.exists()


def test_clear_memory_by_chat_asks_first_and_deletes_on_yes(hoodie):
    user, client = _member()
    _say(client, "I'm a medium in tops")
    question = _say(client, "forget everything about me")
    assert question["actions"][0]["status"] == "needs_confirmation"
    assert Preference.objects.filter(user=user).exists()
    _say(client, "yes")
    assert not Preference.objects.filter(user=user).exists()
