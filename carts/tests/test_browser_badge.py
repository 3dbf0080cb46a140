"""The header's cart badge in Chromium: it follows every change it is told of, however close together.

The badge refreshes itself (``GET /cart/badge/``) on the page's ``cartChanged`` event, which the chat
panel fires when the assistant changed the cart. htmx wires up a swapped-in element only when it
settles (20 ms later), so a badge that replaced itself missed a second change announced inside that
window and kept the old count (the browser chat test caught it: "make it 2" answered 30 ms after
"show my cart", and the badge stayed at 1).
"""

from __future__ import annotations

import re

import pytest

from carts.models import CartLine
from carts.services import cart_add_item
from catalog.models import Variant
from commerce.accounts.shoppers import Shopper
from commerce.accounts.tests.factories import PASSWORD, UserFactory

pytest_plugins = ["commerce.testing.browser"]
pytestmark = pytest.mark.browser

TIMEOUT_MS = 10_000

# Announces a second change the moment the badge's first refresh has been swapped in, before htmx
# settles it: the window the badge used to be deaf in.
ANNOUNCE_AGAIN_ON_FIRST_SWAP = """() => {
  window.badgeRefreshesSwapped = 0;
  document.body.addEventListener("htmx:afterSwap", (evt) => {
    if (!(evt.detail.pathInfo.requestPath || "").endsWith("/cart/badge/")) return;
    window.badgeRefreshesSwapped += 1;
    if (window.badgeRefreshesSwapped === 1) htmx.trigger(document.body, "cartChanged");
  });
  htmx.trigger(document.body, "cartChanged");
}"""


def _badge_text(page) -> str:
    return page.locator("#cart-badge .badge").inner_text()


def _signed_in_with_one_item(open_browser_page, email: str):
    """A member with one item in the cart, signed in on the home page, whose badge says 1."""
    user = UserFactory(email=email)
    variant = Variant.objects.filter(stock__gte=5, product__is_active=True).first()
    cart_add_item(shopper=Shopper(user=user, session=None), variant_id=variant.pk, quantity=1)
    page = open_browser_page()
    page.goto("/account/login/?next=/")
    page.get_by_label("E-mail").fill(user.email)
    page.locator("input[name=password]").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r"/$"))
    assert _badge_text(page) == "1"
    return user, page


def _badge_refreshes_changing_the_cart_after_the_first(page, user, *, quantity: int) -> list[str]:
    """Every badge refresh's answer from now on, in order; right after the first one has read the
    cart, the cart's line is set to ``quantity``."""
    refreshes: list[str] = []

    def refresh(route):
        response = route.fetch()
        refreshes.append(response.text())
        if len(refreshes) == 1:
            CartLine.objects.filter(cart__user=user).update(quantity=quantity)
        route.fulfill(response=response)

    page.route("**/cart/badge/", refresh)
    return refreshes


def _wait_for_badge(page, text: str) -> None:
    page.wait_for_function(
        f"() => (document.querySelector('#cart-badge .badge') || {{}}).textContent === '{text}'",
        timeout=TIMEOUT_MS,
    )


def test_the_badge_shows_a_change_announced_while_its_last_refresh_settles(demo_catalog, open_browser_page):
    user, page = _signed_in_with_one_item(open_browser_page, "grace@example.com")

    # The first refresh reads the cart as it is (1); the cart then changes (3) before the page hears
    # of it, so only a second refresh can show the 3.
    refreshes = _badge_refreshes_changing_the_cart_after_the_first(page, user, quantity=3)
    page.evaluate(ANNOUNCE_AGAIN_ON_FIRST_SWAP)
    _wait_for_badge(page, "3")
    assert len(refreshes) == 2 and ">1</span>" in refreshes[0] and ">3</span>" in refreshes[1]
    assert page.locator("#cart-badge").get_attribute("aria-label") == "Cart, 3 items"
    assert page.locator("#cart-badge").count() == 1  # replaced, never nested or doubled
    assert page.watch.problems() == []


# Announces a second change while the badge's first refresh is still on its way to the server.
ANNOUNCE_AGAIN_WHILE_IN_FLIGHT = """() => {
  window.badgeRequestsSent = 0;
  document.body.addEventListener("htmx:beforeSend", (evt) => {
    if (!(evt.detail.requestConfig.path || "").endsWith("/cart/badge/")) return;
    window.badgeRequestsSent += 1;
    if (window.badgeRequestsSent === 1) setTimeout(() => htmx.trigger(document.body, "cartChanged"), 0);
  });
  htmx.trigger(document.body, "cartChanged");
}"""


def test_a_change_announced_while_a_refresh_is_in_flight_queues_one_more_and_aborts_none(
    demo_catalog, open_browser_page
):
    user, page = _signed_in_with_one_item(open_browser_page, "ada@example.com")

    # The first refresh is in flight when the page announces the second change; the cart changes (to
    # 2) after the first refresh has read it, so only the second one can show it.
    refreshes = _badge_refreshes_changing_the_cart_after_the_first(page, user, quantity=2)
    page.evaluate(ANNOUNCE_AGAIN_WHILE_IN_FLIGHT)
    _wait_for_badge(page, "2")
    assert page.evaluate("window.badgeRequestsSent") == 2
    assert [">1</span>" in refreshes[0], ">2</span>" in refreshes[1]] == [True, True]
    # htmx reports a refresh it aborts (hx-sync "replace") as a script error: none was aborted.
    assert page.watch.problems() == []
