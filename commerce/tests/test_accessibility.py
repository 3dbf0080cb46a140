"""Accessibility of the store's pages, checked by axe-core in Chromium (issue 19).

axe-core (the engine behind most audit tools) comes bundled in the ``axe-playwright-python`` package,
so nothing is downloaded at run time. Every page a shopper reaches is scanned: a serious or critical
violation fails the test, moderate and minor ones are printed (``-s`` shows them). The keyboard test
opens, uses and closes the chat panel with Tab/Enter/Escape only, checks that the focused control
shows a visible focus ring, and that a new assistant message lands in the log region a screen reader
announces (``role="log"``).
"""

from __future__ import annotations

import re

import pytest

from carts.services import cart_add_item
from catalog.models import LOW_STOCK_THRESHOLD, Variant
from commerce.accounts.shoppers import Shopper
from commerce.accounts.tests.factories import PASSWORD, UserFactory
from conversations.tests.test_browser_chat import _open_chat, _replies, _say, _wait_for_reply
from orders.services import order_place
from orders.tests.conftest import ADDRESS

pytest_plugins = ["commerce.testing.browser"]
pytestmark = pytest.mark.browser

PHONE_SMALL = {"width": 375, "height": 667}
FAILING_IMPACTS = {"serious", "critical"}


def _scan(page, name: str, failures: list[str], *, context: str | None = None) -> None:
    """Runs axe-core on ``page``; records serious/critical violations in ``failures``, prints the rest."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page, context=context)
    for violation in results.response["violations"]:
        targets = [" ".join(map(str, node["target"])) for node in violation["nodes"]][:5]
        line = f"{name}: [{violation['impact']}] {violation['id']}: {violation['help']} at {targets}"
        if violation["impact"] in FAILING_IMPACTS:
            failures.append(line)
        else:
            print(line)


def _sign_in(page, email: str) -> None:
    page.goto("/account/login/?next=/account/")
    page.get_by_label("E-mail").fill(email)
    page.locator("input[name=password]").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r"/account/$"))


def _member_with_an_order_and_a_full_cart():
    user = UserFactory(email="grace@example.com")
    shopper = Shopper(user=user, session=None)
    socks = Variant.objects.filter(stock__gte=5, product__name__icontains="sock").first()
    cart_add_item(shopper=shopper, variant_id=socks.pk, quantity=1)
    order_place(user=user, shipping_address=ADDRESS, payment_method={"type": "card", "token": "pm_test_visa"})
    shoe = Variant.objects.filter(stock__gte=5, product__name__icontains="running shoe").first()
    cart_add_item(shopper=shopper, variant_id=shoe.pk, quantity=1)
    return user


def _low_stock_variant() -> Variant:
    """A size with only a few left, preferably of a product that also has a sold-out size, so its page
    shows every stock state at once (the low one chosen, on the tinted background of a checked option)."""
    low = Variant.objects.filter(stock__gt=0, stock__lte=LOW_STOCK_THRESHOLD)
    sold_out = Variant.objects.filter(stock=0).values_list("product_id", flat=True)
    return low.filter(product_id__in=sold_out).first() or low.first()


def test_every_page_has_no_serious_or_critical_axe_violation(demo_catalog, open_browser_page):
    user = _member_with_an_order_and_a_full_cart()
    low = _low_stock_variant()
    assert low is not None, "the demo catalog has no low-stock size"
    failures: list[str] = []

    page = open_browser_page()
    for name, url in [
        ("home", "/"),
        ("search", "/products/?q=running+shoes"),
        ("listing filtered", "/products/?q=shoes&max_price=150&in_stock=1"),
        ("product with a low-stock size chosen", f"/products/{low.product_id}/?variant={low.pk}"),
        ("kiosk", "/kiosk/"),
        ("login", "/account/login/"),
        ("register", "/account/register/"),
    ]:
        page.goto(url)
        _scan(page, name, failures)
        if name.startswith("product"):
            # The colour is never the only cue: the state is also said in words.
            assert re.search(r"Only \d+ left", page.locator("#stock-state").inner_text())

    page.goto("/")
    _open_chat(page)
    assert _say(page, "show me running shoes").locator(".chat-product").count() >= 1
    _scan(page, "chat panel with product cards", failures)

    _sign_in(page, user.email)
    for name, url in [
        ("account", "/account/"),
        ("cart with items", "/cart/"),
        ("checkout", "/checkout/"),
        ("memory", "/account/memory/"),
        ("access tokens", "/account/tokens/"),
        ("orders", "/orders/"),
        ("order detail", f"/orders/{user.orders.first().number}/"),
    ]:
        page.goto(url)
        assert page.url.endswith(url), f"{name} redirected to {page.url}"
        _scan(page, name, failures)

    phone = open_browser_page(viewport=PHONE_SMALL)
    _sign_in(phone, user.email)
    phone.goto("/cart/")
    _scan(phone, "cart on a phone", failures)

    assert failures == [], "axe-core found serious or critical violations:\n" + "\n".join(failures)


def _focus_ring(page) -> dict:
    """The focused element's id/tag and whether its computed style draws a visible focus indicator."""
    return page.evaluate(
        """() => {
          const el = document.activeElement;
          const s = getComputedStyle(el);
          const outline = s.outlineStyle !== "none" && parseFloat(s.outlineWidth) > 0;
          const shadow = s.boxShadow && s.boxShadow !== "none";
          return {id: el.id, tag: el.tagName, visible: Boolean(outline || shadow),
                  outline: `${s.outlineStyle} ${s.outlineWidth} ${s.outlineColor}`, shadow: s.boxShadow};
        }"""
    )


def _tab_to(page, selector: str, *, limit: int = 60) -> dict:
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("s => document.activeElement.matches(s)", selector):
            return _focus_ring(page)
    raise AssertionError(f"{selector} never received focus from the keyboard")


def test_the_chat_panel_works_from_the_keyboard_and_announces_replies(demo_catalog, browser_page):
    page = browser_page
    page.goto("/")

    ring = _tab_to(page, "#chat-dock > summary")
    assert ring["visible"], f"the chat toggle has no visible focus indicator: {ring}"
    page.keyboard.press("Enter")
    box = page.locator("#chat-input")
    box.wait_for(state="visible")

    log = page.locator("#chat-log")
    assert log.get_attribute("role") == "log"
    assert log.get_attribute("aria-live") in {"polite", "assertive"}

    ring = _tab_to(page, "#chat-input")
    assert ring["visible"], f"the chat box has no visible focus indicator: {ring}"
    page.keyboard.type("show me running shoes")
    reply = _wait_for_reply(page, after=_replies(page).count(), do=lambda: page.keyboard.press("Enter"))
    assert reply.evaluate("el => Boolean(el.closest('[role=log]'))"), "the reply is outside the log region"
    assert reply.locator(".chat-product").count() >= 1

    page.keyboard.press("Escape")
    page.wait_for_function("() => !document.querySelector('#chat-dock').open")
    assert not box.is_visible()
    # Focus goes back to the toggle, so a keyboard user is not left on a hidden control.
    assert page.evaluate("() => document.activeElement.matches('#chat-dock > summary')")
