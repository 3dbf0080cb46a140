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


@pytest.fixture
def neon_jacket():
    category = CategoryFactory(name="Jackets", slug="jackets")
    product = ProductFactory(
        name="Neon Shell", brand="Voltage", category=category, tags=["jacket", "featured"]
    )
    VariantFactory(product=product, sku="NS-M", size="M", color="neon yellow", price=Decimal("80"), stock=5)
    return product


def _rows(user) -> dict[str, object]:
    return dict(Preference.objects.filter(user=user).values_list("key", "value"))


def test_a_dislike_of_a_brand_the_nlu_does_not_know_is_stored_as_a_dislike(hoodie):
    ProductFactory(name="Pace Cap", brand="Pace", category=hoodie.category)  # a brand the NLU's lexicon lacks
    user, client = _member()
    reply = _say(client, "I don't like Northpeak or Voltage")  # Voltage: not in the catalog
    assert reply["actions"][0]["status"] == "failed"
    assert not Preference.objects.filter(user=user).exists()

    reply = _say(client, "I like denim but not Northpeak")
    assert reply["actions"][0]["status"] == "failed"  # no denim in this catalog: nothing half-saved
    assert not Preference.objects.filter(user=user).exists()

    _say(client, "I don't like Pace")
    assert _rows(user) == {"dislikedBrands": ["Pace"]}


def test_forget_one_value_keeps_the_rest_of_the_list(hoodie):
    ProductFactory(name="Stride Tee", brand="Stride", category=hoodie.category)
    user, client = _member()
    _say(client, "remember I like Northpeak and Stride")
    assert _rows(user) == {"brands": ["Northpeak", "Stride"]}

    reply = _say(client, "forget that I like Northpeak")
    assert reply["actions"][0]["status"] == "succeeded"
    assert _rows(user) == {"brands": ["Stride"]}

    reply = _say(client, "forget that I like Nike")  # never saved: nothing changes
    assert "didn't have" in reply["reply"]
    assert _rows(user) == {"brands": ["Stride"]}


def test_clear_memory_by_chat_keeps_everything_on_no(hoodie):
    user, client = _member()
    _say(client, "I'm a medium in tops")
    _say(client, "forget everything about me")
    reply = _say(client, "no")
    assert reply["actions"][0]["status"] == "skipped"
    assert _rows(user) == {"sizes.tops": "M"}


def test_show_memory_lists_what_is_stored_with_the_memory_page(hoodie):
    user, client = _member()
    _say(client, "I'm a medium in tops")
    _say(client, "I like black")
    reply = _say(client, "what do you remember about me")
    assert "tops M" in reply["reply"] and "black" in reply["reply"]
    assert "memory page" in reply["reply"]
    _say(client, "forget my tops size")
    assert "tops M" not in _say(client, "what do you remember about me")["reply"]


def test_guest_memory_requests_store_nothing_and_ask_nothing(hoodie):
    client = APIClient()
    for text in ("what do you remember about me", "forget my shoe size", "forget everything about me"):
        reply = _say(client, text)
        assert reply["actions"][0]["status"] == "skipped", text
    assert _say(client, "yes")["actions"] == []  # nothing was waiting for a yes
    assert not Preference.objects.exists()


def test_recommendations_give_their_reason_and_sink_a_disliked_colour(hoodie, neon_jacket):
    user, client = _member()
    featured = _say(client, "what would you recommend for me?")
    assert [p["name"] for p in featured["products"]][0] == "Neon Shell"  # no memory: featured first

    _say(client, "I don't like neon")
    assert _rows(user) == {"dislikedColors": ["neon"]}
    ranked = _say(client, "what would you recommend for me?")
    assert [p["name"] for p in ranked["products"]] == ["Cloud Hoodie", "Neon Shell"]

    _say(client, "I love Northpeak")
    liked = _say(client, "anything new in my style?")
    assert liked["products"][0]["name"] == "Cloud Hoodie"
    assert "because you like Northpeak" in liked["reply"]


def test_a_remembered_size_that_is_sold_out_is_said_and_asked_and_nothing_is_added(hoodie):
    user, client = _member()
    hoodie.variants.filter(size="M").update(stock=0)
    _say(client, "I'm a medium in tops")
    reply = _say(client, "add a cloud hoodie")
    assert reply["actions"][0]["status"] == "skipped"
    assert "sold out" in reply["reply"] and "Which size" in reply["reply"]
    assert not CartLine.objects.filter(cart__user=user).exists()
    _say(client, "L")
    assert [line.variant.sku for line in CartLine.objects.filter(cart__user=user)] == ["CH-L"]


def test_a_remembered_colour_fills_in_after_the_size(hoodie):
    VariantFactory(product=hoodie, sku="CH-M-RED", size="M", color="red", price=Decimal("60"), stock=5)
    user, client = _member()
    _say(client, "I'm a medium in tops")
    _say(client, "I like red")
    reply = _say(client, "add a cloud hoodie")
    assert "I picked size M, as you prefer." in reply["reply"] and "red" in reply["reply"]
    assert [line.variant.sku for line in CartLine.objects.filter(cart__user=user)] == ["CH-M-RED"]


def test_without_a_remembered_size_the_size_is_asked(hoodie):
    user, client = _member()
    reply = _say(client, "add a cloud hoodie")
    assert reply["actions"][0]["status"] == "skipped" and "Which size" in reply["reply"]
    assert "as you prefer" not in reply["reply"]
    assert not CartLine.objects.filter(cart__user=user).exists()
