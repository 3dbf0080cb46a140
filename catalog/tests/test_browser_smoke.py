"""Browser smoke test: a shopper's first minutes in the store, in headless Chromium against a live server.

Home -> search "running shoes" -> a running shoe -> choose a size and colour -> see the stock state ->
add to cart. One screenshot per page lands in ``test-artifacts/browser/`` (kept by CI as an artifact),
plus the listing at phone size. Selectors are roles, labels and visible text, what a shopper sees.
"""

from __future__ import annotations

import re

import pytest

from carts.models import CartLine
from commerce.testing.browser import PHONE, screenshot

pytest_plugins = ["commerce.testing.browser"]
pytestmark = pytest.mark.browser

PRODUCT_HREF = re.compile(r"/products/(\d+)/?$")
STOCK_STATE = re.compile(r"in stock|only \d+ left|sold out|out of stock", re.IGNORECASE)


def _result_links(page) -> list[tuple[str, str]]:
    """(href, card text) of each product in the result list, in page order, one per product."""
    found: dict[str, str] = {}
    for link in page.locator("main a[href*='/products/']").all():
        href = link.get_attribute("href") or ""
        if not PRODUCT_HREF.search(href.split("?")[0]):
            continue
        # A card often links its image and its title to the same product: keep the longest text.
        text = " ".join(link.inner_text().split())
        if len(text) >= len(found.get(href, "")):
            found[href] = text
    return list(found.items())


def _choose_variant(page):
    """Checks an available size/colour other than the pre-selected one; returns (radio, its label text).

    The chooser is the group named for size and colour; each choice is a radio button whose label
    says its size and stock state. The last one is taken so the choice changes something: it is in
    another colour than the first whenever the product has more than one.
    """
    chooser = page.get_by_role("group", name=re.compile(r"size|colou?r", re.IGNORECASE)).first
    radios = [r for r in chooser.get_by_role("radio").all() if r.is_enabled() and not r.is_checked()]
    assert radios, "the product page offers no other size or colour to choose"
    choice = radios[-1]
    choice.check()
    return choice, " ".join(choice.locator("xpath=ancestor::label[1]").inner_text().split())


def test_shopper_searches_running_shoes_chooses_a_variant_and_adds_it_to_the_cart(demo_catalog, browser_page):
    page = browser_page
    assert demo_catalog >= 150

    page.goto("/")
    expect_title = page.title()
    assert "Stride & Thread" in expect_title
    assert page.locator("main a[href*='/products/']").count() > 0, "home shows no products"
    screenshot(page, "1-home")

    search = page.get_by_role("searchbox", name=re.compile("search", re.IGNORECASE)).first
    search.fill("running shoes")
    search.press("Enter")
    page.wait_for_url(re.compile(r"/products/\?.*q=running\+shoes"))
    page.wait_for_load_state("networkidle")
    results = _result_links(page)
    screenshot(page, "2-listing-running-shoes")
    assert len(results) >= 5, f"expected several running shoes, got {results}"
    # Relevance: the best matches are running shoes (road or trail), not socks or shorts that mention running.
    for href, text in results[:5]:
        assert re.search(r"running shoes", text, re.IGNORECASE), f"{href} is not a running shoe: {text!r}"

    in_stock = [(href, text) for href, text in results if re.search(r"in stock|only \d+ left", text, re.I)]
    assert in_stock, "every running shoe on the first page is sold out"
    first_href, first_text = in_stock[0]
    page.locator(f"main a[href='{first_href}']").first.click()
    page.wait_for_url(re.compile(PRODUCT_HREF.pattern.replace("$", "")))
    heading = page.get_by_role("heading", level=1)
    assert re.search(r"running shoes", heading.inner_text(), re.IGNORECASE)
    assert heading.inner_text().strip() in first_text
    screenshot(page, "3-product")

    choice, choice_label = _choose_variant(page)
    assert choice.is_checked()
    stock = STOCK_STATE.search(choice_label)
    assert stock, f"the chosen variant does not say whether it is in stock: {choice_label!r}"
    screenshot(page, "4-variant-chosen")

    page.get_by_role("button", name=re.compile("add to cart", re.IGNORECASE)).click()
    page.get_by_role("link", name=re.compile(r"^cart, 1 item$", re.IGNORECASE)).wait_for()
    page.get_by_role("status").filter(has_text=re.compile("view cart", re.IGNORECASE)).first.wait_for()
    screenshot(page, "5-added-to-cart")
    # The line holds the variant the shopper chose, not the one the page pre-selected.
    assert CartLine.objects.filter(variant_id=int(choice.get_attribute("value")), quantity=1).exists()
    assert page.watch.problems() == []


def test_listing_fits_a_phone_screen_without_sideways_scrolling(demo_catalog, open_browser_page):
    page = open_browser_page(viewport=PHONE, is_mobile=True, has_touch=True)
    page.goto("/products/?q=hoodie")
    page.wait_for_load_state("networkidle")
    assert len(_result_links(page)) >= 3
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    screenshot(page, "6-listing-phone", full_page=False)
    screenshot(page, "7-listing-phone-full")
    assert overflow <= 0, f"the listing is {overflow}px wider than a 390px phone screen"
    assert page.watch.problems() == []
