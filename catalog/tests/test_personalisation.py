"""What the catalog does with a signed-in shopper's memory: views feed it, "recommended" orders by it."""

from __future__ import annotations

import re

import pytest
from django.test import TestCase
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from catalog.models import Category, Product
from catalog.tests.factories import ProductFactory, VariantFactory
from commerce.accounts.tests.factories import UserFactory
from memory.models import Affinity
from memory.services import preferences_update, profile_changed

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

    with TestCase.captureOnCommitCallbacks(execute=True):
        assert client.get(f"/products/{hoodie.pk}/").status_code == 200  # a guest
    assert not Affinity.objects.exists()

    user = UserFactory()
    client.force_login(user)
    with TestCase.captureOnCommitCallbacks(execute=True):
        client.get(f"/products/{hoodie.pk}/")
    assert Affinity.objects.filter(user=user, kind="product", key=str(hoodie.pk)).exists()
    assert Affinity.objects.filter(user=user, kind="brand", key="urban thread").exists()


def test_products_api_detail_records_a_view_for_a_bearer_only(small_catalog, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    jeans = Product.objects.get(name="Slim Fit Jeans")
    api = APIClient()

    with TestCase.captureOnCommitCallbacks(execute=True):
        assert api.get(f"/api/v1/products/{jeans.pk}").status_code == 200  # anonymous
        api.credentials(HTTP_AUTHORIZATION="Bearer not-a-token")
        assert api.get(f"/api/v1/products/{jeans.pk}").status_code == 200  # a bad token is a guest
    assert not Affinity.objects.exists()

    user = UserFactory()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {RefreshToken.for_user(user).access_token}")
    with TestCase.captureOnCommitCallbacks(execute=True):
        assert api.get(f"/api/v1/products/{jeans.pk}").json()["name"] == "Slim Fit Jeans"
    assert list(Affinity.objects.filter(user=user).values_list("kind", "key").order_by("kind")) == [
        ("brand", "denimworks"),
        ("category", str(jeans.category_id)),
        ("product", str(jeans.pk)),
    ]


def test_recommended_listing_puts_liked_style_first_with_its_reason(client, small_catalog, member):
    plain = _names(client.get("/products/").content.decode())
    preferences_update(user=member, changes={"brands": ["Denimworks"]})

    page = client.get("/products/?sort=recommended").content.decode()

    assert _names(page)[0] == "Slim Fit Jeans" != plain[0]
    assert "Because you like Denimworks" in page
    assert '<option value="recommended"' in page


def test_a_shopper_who_likes_denim_sees_denim_first_because_they_like_denim(client, small_catalog, member):
    VariantFactory(product=ProductFactory(name="Washed Denim Jacket", brand="Northpeak", tags=["denim"]))
    plain = _names(client.get("/products/").content.decode())
    assert plain[-1] == "Washed Denim Jacket"
    preferences_update(user=member, changes={"styles": ["denim"]})

    page = client.get("/products/?sort=recommended").content.decode()

    assert _names(page)[0] == "Washed Denim Jacket"
    assert sorted(_names(page)) == sorted(plain)
    card = page.split("Washed Denim Jacket</h3>", 1)[1].split('class="product-name"', 1)[0]
    assert '<span class="product-reason">Because you like denim</span>' in card


def test_recommended_listing_sinks_a_disliked_brand(client, small_catalog, member):
    preferences_update(user=member, changes={"dislikedBrands": ["Stride"]})
    names = _names(client.get("/products/?sort=recommended").content.decode())
    assert names[-1] == "Velocity Running Shoes"


def test_recommended_without_memory_or_signed_out_is_the_plain_order(client, small_catalog, member):
    plain = _names(client.get("/products/").content.decode())
    page = client.get("/products/?sort=recommended").content.decode()
    assert _names(page) == plain
    assert '<option value="recommended"' not in page  # nothing remembered: not offered
    client.logout()
    page = client.get("/products/?sort=recommended").content.decode()
    assert _names(page) == plain
    assert '<option value="recommended"' not in page  # offered to signed-in shoppers only


def test_recommended_listing_queries_do_not_grow_with_the_page(
    client, db, member, django_assert_max_num_queries
):
    denim = Category.objects.create(name="Jeans", slug="jeans")
    socks = Category.objects.create(name="Socks", slug="socks")
    for i in range(3):
        VariantFactory(product=ProductFactory(name=f"Sock {i}", brand="Stride", category=socks))
    VariantFactory(product=ProductFactory(name="Straight Jeans", brand="Denimworks", category=denim))
    preferences_update(user=member, changes={"brands": ["Denimworks"], "dislikedBrands": ["Stride"]})
    client.get("/products/?sort=recommended")  # warm the session rows
    # Both measured pages are cold: the catalog changed (a new search, order and cards) and so did the
    # shopper's memory (a new profile), as after an edit and a "remember I like ...".
    VariantFactory(product=ProductFactory(name="Sock 3", brand="Stride", category=socks))
    client.get("/products/")  # rebuild the cached facets
    profile_changed(user_id=member.pk)
    with django_assert_max_num_queries(40) as few:
        client.get("/products/?sort=recommended")
    baseline = len(few.captured_queries)  # read now: the next request resets the query log

    for i in range(4, 40):
        VariantFactory(product=ProductFactory(name=f"Sock {i}", brand="Stride", category=socks))
    client.get("/products/")  # the catalog changed: rebuild the cached facets
    profile_changed(user_id=member.pk)
    with django_assert_max_num_queries(baseline) as many:
        page = client.get("/products/?sort=recommended").content.decode()
    assert page.count('class="card product-card"') == 24
    assert _names(page)[0] == "Straight Jeans"
    assert len(many.captured_queries) == baseline
    # ranking, the cards' reasons and the sort menu share one read of the shopper's memory
    assert sum('"memory_preference"' in q["sql"] for q in many.captured_queries) == 1


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
    anonymous = APIClient().get("/api/v1/products", {"sort": "recommended"})
    assert anonymous.status_code == 200 and anonymous.json()["items"] == response.json()["items"]
    invalid = APIClient().get("/api/v1/products", {"sort": "cheapest"})
    assert invalid.status_code == 400 and invalid.json()["error"]["details"]["field"] == "sort"


def test_home_shows_a_for_you_row_and_the_memory_link_only_with_memory(client, small_catalog, member):
    page = client.get("/").content.decode()
    assert "What we remember" in page and 'id="for-you-title"' not in page
    preferences_update(user=member, changes={"brands": ["Denimworks"]})
    page = client.get("/").content.decode()
    assert 'id="for-you-title"' in page and "Because you like Denimworks" in page
    client.logout()
    assert "What we remember" not in client.get("/").content.decode()


def test_a_guests_cached_cards_never_stand_in_for_a_shoppers_own_order(client, db, member):
    from django.test import Client

    denim = Category.objects.create(name="Jeans", slug="jeans")
    socks = Category.objects.create(name="Socks", slug="socks")
    for i in range(3):
        VariantFactory(product=ProductFactory(name=f"Sock {i}", brand="Stride", category=socks))
    VariantFactory(product=ProductFactory(name="Straight Jeans", brand="Denimworks", category=denim))
    preferences_update(user=member, changes={"brands": ["Denimworks"], "dislikedBrands": ["Stride"]})
    guest_page = Client().get("/products/?sort=recommended").content.decode()  # cached for guests
    assert _names(guest_page)[0] == "Sock 0"  # a guest's "recommended" is the plain order
    assert _names(client.get("/products/?sort=recommended").content.decode())[0] == "Straight Jeans"


def test_a_stated_preference_reorders_the_next_recommended_page_at_once(client, small_catalog, member):
    """The shopper's order and cards are cached per memory version: a new like is a new version."""
    preferences_update(user=member, changes={"brands": ["Denimworks"]})
    first = _names(client.get("/products/?sort=recommended").content.decode())
    assert first[0] == "Slim Fit Jeans"
    assert _names(client.get("/products/?sort=recommended").content.decode()) == first  # from the cache

    preferences_update(user=member, changes={"brands": ["Urban Thread"]})
    again = _names(client.get("/products/?sort=recommended").content.decode())
    assert again[0] == "Campus Hoodie"
    assert sorted(again) == sorted(first)


def test_a_catalog_change_shows_in_a_cached_recommended_page(client, small_catalog, member):
    preferences_update(user=member, changes={"brands": ["Denimworks"]})
    client.get("/products/?sort=recommended")
    ProductFactory(name="Wide Leg Jeans", brand="Denimworks", category=Category.objects.get(name="Jeans"))
    VariantFactory(product=Product.objects.get(name="Wide Leg Jeans"))
    page = _names(client.get("/products/?sort=recommended").content.decode())
    assert set(page[:2]) == {"Slim Fit Jeans", "Wide Leg Jeans"}


def test_a_shoppers_cached_cards_are_never_shown_to_another(client, small_catalog, member):
    preferences_update(user=member, changes={"brands": ["Denimworks"]})
    mine = client.get("/products/?sort=recommended").content.decode()
    assert 'class="product-reason"' in mine

    other = UserFactory()
    preferences_update(user=other, changes={"brands": ["Urban Thread"]})
    client.force_login(other)
    theirs = client.get("/products/?sort=recommended").content.decode()
    assert _names(theirs)[0] == "Campus Hoodie"
    assert "because you like Denimworks" not in theirs
    client.logout()
    guest = client.get("/products/?sort=recommended").content.decode()
    assert 'class="product-reason"' not in guest


def test_products_api_recommended_order_follows_a_new_preference(small_catalog):
    user = UserFactory()
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {RefreshToken.for_user(user).access_token}")
    preferences_update(user=user, changes={"brands": ["Denimworks"]})
    body = api.get("/api/v1/products?sort=recommended").json()
    assert body["items"][0]["name"] == "Slim Fit Jeans"
    assert body["total"] == Product.objects.filter(is_active=True).count()
    preferences_update(user=user, changes={"brands": ["Urban Thread"]})
    assert api.get("/api/v1/products?sort=recommended").json()["items"][0]["name"] == "Campus Hoodie"
