"""What a new shopper sees on the home page and at checkout, in Chromium on a desktop and a phone
(issue 17): the catalog's own words in the hero, test cards instead of a typed token, no label for
the hidden idempotency field, and the free token field behind "Use another token"."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from carts.services import cart_add_item
from catalog.models import Variant
from catalog.services import catalog_import
from catalog.tests.factories import import_record as record
from commerce.accounts.shoppers import Shopper
from commerce.accounts.tests.factories import UserFactory
from commerce.testing.browser import DESKTOP, PHONE, screenshot
from commerce.tests.test_accessibility import _sign_in
from orders.models import Order

pytest_plugins = ["commerce.testing.browser"]
pytestmark = pytest.mark.browser

SIZES = pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])


@pytest.fixture
def kitchen_store(transactional_db):
    catalog_import(
        records=[
            record("Cast Iron Skillet", "Ferro", "Cookware > Pans", ["PAN-1"], stock=5),
            record("Carbon Steel Wok", "Ferro", "Cookware > Pans", ["PAN-2"], stock=5),
            record("Chef's Knife", "Edgeworth", "Cutlery > Knives", ["KNF-1"], stock=5),
        ]
    )


def _shopper_with_a_cart(email: str):
    user = UserFactory(email=email)
    cart_add_item(
        shopper=Shopper(user=user, session=None), variant_id=Variant.objects.get(sku="PAN-1").pk, quantity=1
    )
    return user


@SIZES
def test_the_home_page_hero_describes_the_loaded_catalog(kitchen_store, open_browser_page, viewport):
    page = open_browser_page(viewport=viewport)
    page.goto("/")

    hero = page.locator("section.hero")
    assert hero.get_by_role("heading", level=1).inner_text() == "Shop cookware and cutlery"
    assert hero.locator("p.muted").inner_text() == "Pans and knives from Ferro, Edgeworth and more."
    assert "Stride" not in hero.inner_text() and hero.is_visible()
    screenshot(page, f"home-hero-{viewport['width']}")


@SIZES
def test_checkout_offers_test_cards_and_hides_the_token_until_asked(
    kitchen_store, open_browser_page, viewport
):
    user = _shopper_with_a_cart(f"cards-{viewport['width']}@example.com")
    page = open_browser_page(viewport=viewport)
    _sign_in(page, user.email)
    page.goto("/checkout/")

    form = page.locator("#checkout-form")
    assert "Idempotency key" not in form.inner_text()
    assert page.get_by_text("no real card is charged").is_visible()
    approved = page.get_by_label("Test card — approved")
    assert approved.is_checked() and page.get_by_label("Test card — declined").is_visible()
    token = page.get_by_label("Payment token")
    assert not token.is_visible()
    page.get_by_text("Use another token").click()
    assert token.is_visible()
    screenshot(page, f"checkout-cards-{viewport['width']}")

    for name, value in {
        "name": "Ada Lovelace",
        "line1": "1 Analytical Way",
        "city": "London",
        "postalCode": "N1",
    }.items():
        form.locator(f"input[name={name}]").fill(value)
    page.get_by_label("Test card — declined").check()
    page.get_by_role("button", name=re.compile("Place order")).click()
    expect(page.get_by_text("The card was declined.")).to_be_visible()
    assert not Order.objects.exists()

    page.get_by_label("Test card — approved").check()
    page.get_by_role("button", name=re.compile("Place order")).click()
    page.wait_for_url(re.compile(r"/orders/[A-Z0-9]+/confirmation/|/confirmation"))
    assert Order.objects.get(user=user).payment_token == "pm_test_visa"
