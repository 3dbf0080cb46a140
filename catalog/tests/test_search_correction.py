"""Typos are corrected against the live catalog's own words (category names, tags, brands, names,
colours), the same way for the products API, the listing page and the chat, on SQLite and PostgreSQL."""

from __future__ import annotations

from decimal import Decimal

import pytest

from catalog.selectors import product_search, search_correction
from catalog.services import catalog_listing_changed
from catalog.tests.factories import CategoryFactory, ProductFactory, VariantFactory
from commerce.accounts.models import ShopperSession
from commerce.accounts.shoppers import Shopper
from conversations.assistant.pipeline import respond

pytestmark = pytest.mark.django_db


@pytest.fixture
def unseen_catalog():
    """Running shoes whose names never say "running" (their category does), and a sock that does."""
    shoes = CategoryFactory(name="Running Shoes", slug="running-shoes")
    for name in ("Cloudrift 3", "Tempo Glide", "Aeroflux"):
        product = ProductFactory(name=name, brand="Kestrel", category=shoes, tags=["road"])
        VariantFactory(product=product, size="10", color="black", price=Decimal("120.00"), stock=5)
    socks = CategoryFactory(name="Socks", slug="socks")
    sock = ProductFactory(name="No-Show Running Socks", brand="Kestrel", category=socks, tags=["socks"])
    VariantFactory(product=sock, size="M", color="white", price=Decimal("9.00"), stock=50)
    hoodies = CategoryFactory(name="Hoodies", slug="hoodies")
    hoodie = ProductFactory(name="Harbor Fleece", brand="Lumen", category=hoodies, tags=["hoodie"])
    VariantFactory(product=hoodie, size="M", color="grey", price=Decimal("55.00"), stock=5)
    pants = CategoryFactory(name="Jeans", slug="jeans")
    jeans = ProductFactory(name="Slim 512", brand="Lumen", category=pants, tags=["denim"])
    VariantFactory(product=jeans, size="32", color="blue", price=Decimal("70.00"), stock=5)


def test_misspelt_words_are_corrected_into_the_catalogs_own_words(unseen_catalog):
    assert search_correction("runing shoes") == "running shoes"
    assert search_correction("hoddie") == "hoodie"
    assert search_correction("jens") == "jeans"
    assert search_correction("running shoes") is None  # nothing to correct
    assert search_correction("velocity jeans") is None  # not close to any catalog word: left alone


def test_a_typo_search_finds_the_running_shoes_not_the_running_socks(unseen_catalog):
    names = [p.name for p in product_search(query="runing shoes")]
    assert set(names) >= {"Cloudrift 3", "Tempo Glide", "Aeroflux"}
    assert names[0] != "No-Show Running Socks"


def test_the_vocabulary_follows_the_catalog_when_it_changes(unseen_catalog):
    assert search_correction("stomr") is None
    parkas = CategoryFactory(name="Parkas", slug="parkas")
    ProductFactory(name="Storm Shell", brand="Lumen", category=parkas, tags=["parka"])
    catalog_listing_changed()  # what every catalog write calls (model signals, the import)
    assert search_correction("stomr") == "storm"


def test_the_api_says_what_it_searched_for(unseen_catalog, api_client):
    body = api_client.get("/api/v1/products", {"query": "runing shoes", "limit": 24}).json()
    assert body["correctedQuery"] == "running shoes"
    assert {p["name"] for p in body["items"]} >= {"Cloudrift 3", "Tempo Glide", "Aeroflux"}
    plain = api_client.get("/api/v1/products", {"query": "running shoes"}).json()
    assert "correctedQuery" not in plain and set(plain) == {"items", "total", "limit", "offset"}


def test_the_listing_page_says_what_it_searched_for(unseen_catalog, client):
    page = client.get("/products/", {"q": "runing shoes"}).content.decode()
    assert "Showing results for <strong>running shoes</strong>" in page and "Cloudrift 3" in page


def test_the_chat_corrects_the_same_way(unseen_catalog):
    guest = Shopper(user=None, session=ShopperSession.objects.create(channel="web"))
    reply = respond(shopper=guest, text="shw me runing shoes pls", channel="web")
    names = [p["name"] for p in reply["products"]]
    assert names and names[0] != "No-Show Running Socks"
    assert set(names) & {"Cloudrift 3", "Tempo Glide", "Aeroflux"}


@pytest.mark.postgres
def test_a_typo_search_on_postgresql_uses_the_same_correction(unseen_catalog):
    test_a_typo_search_finds_the_running_shoes_not_the_running_socks(unseen_catalog)


def test_the_apis_remembered_correction_follows_a_catalog_write(unseen_catalog, api_client):
    """The API remembers a query's correction per catalog version: a product that makes the typed word
    a catalog word (a write, so a new version) is searched for as typed on the very next request."""
    params = {"query": "stomr"}
    assert "correctedQuery" not in api_client.get("/api/v1/products", params).json()
    parkas = CategoryFactory(name="Parkas", slug="parkas")
    ProductFactory(name="Storm Shell", brand="Lumen", category=parkas, tags=["parka"])
    catalog_listing_changed()
    assert api_client.get("/api/v1/products", params).json()["correctedQuery"] == "storm"

    ProductFactory(name="Stomr Runner", brand="Lumen", category=parkas)  # now the catalog's own word
    catalog_listing_changed()
    assert "correctedQuery" not in api_client.get("/api/v1/products", params).json()
