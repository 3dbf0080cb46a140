"""What the catalog does with a signed-in shopper's memory: views feed it, "recommended" orders by it."""

from __future__ import annotations

import re

import pytest
from django.test import TestCase
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from catalog.models import Product
from commerce.accounts.tests.factories import UserFactory
from memory.models import Affinity
from memory.services import preferences_update

pytestmark = pytest.mark.django_db

NAME = re.compile(r'<h3 class="product-name">([^<]+)</h3>')


def _names(html: str) -> list[str]:
    return NAME.findall(html)


@pytest.fixture
def member(client):
    user = UserFactory()
    client.force_login(user)
    return user


def test_a_signed_in_product_view_becomes_an_interest_and_a_guests_does_not(client, small_catalog, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    hoodie = Product.objects.get(name="Campus Hoodie")

    client.get(f"/products/{hoodie.pk}/")  # a guest
    assert not Affinity.objects.exists()

    user = UserFactory()
    client.force_login(user)
    with TestCase.captureOnCommitCallbacks(execute=True):
        client.get(f"/products/{hoodie.pk}/")
    assert Affinity.objects.filter(user=user, kind="product", key=str(hoodie.pk)).exists()


def test_recommended_listing_puts_liked_style_first_with_its_reason(client, small_catalog, member):
    plain = _names(client.get("/products/").content.decode())
    preferences_update(user=member, changes={"brands": ["Denimworks"]})

    page = client.get("/products/?sort=recommended").content.decode()

    assert _names(page)[0] == "Slim Fit Jeans" != plain[0]
    assert "Because you like Denimworks" in page
    assert '<option value="recommended"' in page


def test_recommended_listing_sinks_a_disliked_brand(client, small_catalog, member):
    preferences_update(user=member, changes={"dislikedBrands": ["Stride"]})
    names = _names(client.get("/products/?sort=recommended").content.decode())
    assert names[-1] == "Velocity Running Shoes"


def test_recommended_without_memory_or_signed_out_is_the_plain_order(client, small_catalog, member):
    plain = _names(client.get("/products/").content.decode())
    assert _names(client.get("/products/?sort=recommended").content.decode()) == plain
    client.logout()
    page = client.get("/products/?sort=recommended").content.decode()
    assert _names(page) == plain
    assert '<option value="recommended"' not in page  # offered to signed-in shoppers only


def test_products_api_sort_recommended_uses_the_bearer_and_ignores_a_bad_token(small_catalog):
    user = UserFactory()
    preferences_update(user=user, changes={"brands": ["Denimworks"]})
    api = APIClient()
    plain = [p["name"] for p in api.get("/api/v1/products").json()["items"]]

    api.credentials(HTTP_AUTHORIZATION=f"Bearer {RefreshToken.for_user(user).access_token}")
    mine = [p["name"] for p in api.get("/api/v1/products", {"sort": "recommended"}).json()["items"]]
    assert mine[0] == "Slim Fit Jeans" and sorted(mine) == sorted(plain)

    api.credentials(HTTP_AUTHORIZATION="Bearer not-a-token")
    response = api.get("/api/v1/products", {"sort": "recommended"})
    assert response.status_code == 200
    assert [p["name"] for p in response.json()["items"]] == plain
    assert APIClient().get("/api/v1/products", {"sort": "cheapest"}).status_code == 400


def test_home_shows_a_for_you_row_and_the_memory_link_only_with_memory(client, small_catalog, member):
    page = client.get("/").content.decode()
    assert "What we remember" in page and 'id="for-you-title"' not in page
    preferences_update(user=member, changes={"brands": ["Denimworks"]})
    page = client.get("/").content.decode()
    assert 'id="for-you-title"' in page and "Because you like Denimworks" in page
    client.logout()
    assert "What we remember" not in client.get("/").content.decode()
