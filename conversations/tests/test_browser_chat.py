"""Chatting with the assistant in Chromium, through the real chat panel over a real WebSocket.

A guest searches, adds "the second one" (answering the size question), looks at the cart, signs in
(the guest cart merges into the account) and checks out by chat with the address and card of an
earlier order. Daphne serves the site from a thread of the test process (``asgi_live_server``), so
the page, the socket and this test share one database and one channel layer. Outcomes are checked on
the page and in the database; screenshots land in ``test-artifacts/browser/``.
"""

from __future__ import annotations

import re
from decimal import Decimal

import pytest

from carts.models import CartLine
from carts.services import cart_add_item
from catalog.models import Variant
from commerce.accounts.shoppers import Shopper
from commerce.accounts.tests.factories import PASSWORD, UserFactory
from commerce.testing.browser import screenshot
from conversations.models import Message
from orders.models import Order
from orders.services import order_place
from orders.tests.conftest import ADDRESS

pytest_plugins = ["commerce.testing.browser"]
pytestmark = pytest.mark.browser

REPLY_TIMEOUT_MS = 15_000
PHONE_SMALL = {"width": 375, "height": 667}


def _replies(page):
    return page.locator("#chat-log [data-intent]")


def _open_chat(page) -> None:
    dock = page.locator("#chat-dock")
    if dock.get_attribute("open") is None:
        page.get_by_text("Ask the assistant", exact=True).click()
    page.locator("#chat-input").wait_for(state="visible")


def _wait_for_reply(page, *, after: int, do):
    """Runs ``do()`` and returns the assistant's next answer (a locator) once it is in the log."""
    do()
    page.wait_for_function(
        "n => document.querySelectorAll('#chat-log [data-intent]').length > n",
        arg=after,
        timeout=REPLY_TIMEOUT_MS,
    )
    return _replies(page).nth(after)


def _say(page, text: str):
    """Types ``text`` into the panel, presses Enter and returns the assistant's answer (a locator)."""
    box = page.locator("#chat-input")
    box.fill(text)
    return _wait_for_reply(page, after=_replies(page).count(), do=lambda: box.press("Enter"))


def _add_first_card_option(answer) -> str:
    """Picks the first size/colour on the answer's first product card, presses its Add to cart and
    waits for the card's confirmation; returns the chosen variant id."""
    card = answer.locator(".chat-product").first
    choice = card.locator("select option[value]:not([value=''])").first.get_attribute("value")
    card.locator("select").select_option(choice)
    card.get_by_role("button", name="Add to cart").click()
    card.get_by_role("status").filter(has_text="Added 1").wait_for()
    return choice


def _wait_until(page, condition, *, what: str) -> None:
    """Lets the page's event handlers (request routes among them) run until ``condition()`` holds."""
    for _ in range(REPLY_TIMEOUT_MS // 50):
        if condition():
            return
        page.wait_for_timeout(50)
    raise AssertionError(f"waited {REPLY_TIMEOUT_MS} ms for {what}")


def _guest_cart_lines(page):
    session_id = page.locator(".chat[data-session-id]").get_attribute("data-session-id")
    return list(CartLine.objects.filter(cart__session__key=session_id).select_related("variant"))


def _member_with_an_earlier_order():
    """A shopper whose last order left an address and a test card on file (what chat checkout reuses)."""
    user = UserFactory(email="ada@example.com")
    socks = Variant.objects.filter(stock__gte=5, product__name__icontains="sock").first()
    cart_add_item(shopper=Shopper(user=user, session=None), variant_id=socks.pk, quantity=1)
    order_place(user=user, shipping_address=ADDRESS, payment_method={"type": "card", "token": "pm_test_visa"})
    return user


def test_guest_searches_adds_by_reference_signs_in_and_checks_out_by_chat(demo_catalog, open_browser_page):
    user = _member_with_an_earlier_order()
    page = open_browser_page()
    page.goto("/")
    _open_chat(page)

    found = _say(page, "show me running shoes")
    cards = found.locator(".chat-product")
    assert cards.count() >= 2, found.inner_text()
    second_name = cards.nth(1).locator(".chat-product-name").inner_text()
    sizes_of_second = cards.nth(1).locator("select option[value]:not([value=''])").all_inner_texts()
    screenshot(page, "chat-1-search")

    answer = _say(page, "add the second one")
    for _ in range(3):  # the assistant asks for what it must not guess (size, then perhaps colour)
        if _guest_cart_lines(page):
            break
        text = answer.inner_text().lower()
        size, _, color = (part.strip() for part in sizes_of_second[0].partition("/"))
        answer = _say(page, f"size {size}" if "size" in text and size else color)
    lines = _guest_cart_lines(page)
    assert len(lines) == 1 and lines[0].quantity == 1, answer.inner_text()
    assert lines[0].variant.product.name in second_name
    expect_badge(page, 1)

    # On the cart page, what the assistant changes shows in the page's own list as well as the badge.
    page.goto("/cart/")
    _open_chat(page)
    cart_reply = _say(page, "show my cart")
    assert lines[0].variant.product.name in cart_reply.inner_text()
    _say(page, "make it 2")
    page.wait_for_function(
        "() => (document.querySelector('#cart input[name=quantity]') || {}).value === '2'",
        timeout=REPLY_TIMEOUT_MS,
    )
    expect_badge(page, 2)
    assert [line.quantity for line in _guest_cart_lines(page)] == [2]
    screenshot(page, "chat-2-cart")

    page.goto("/account/login/?next=/")
    page.get_by_label("E-mail").fill(user.email)
    page.locator("input[name=password]").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r"/$"))
    expect_badge(page, 2)  # the guest cart became the account's cart
    assert list(CartLine.objects.filter(cart__user=user).values_list("quantity", flat=True)) == [2]

    _open_chat(page)
    confirm = _say(page, "checkout")
    stated_total = re.search(r"total[^$]*\$(\d[\d,]*\.\d\d)", confirm.inner_text(), re.IGNORECASE)
    assert stated_total, confirm.inner_text()
    assert Order.objects.filter(user=user).count() == 1  # nothing placed before the yes
    placed = _say(page, "yes")
    screenshot(page, "chat-3-checkout")

    assert Order.objects.filter(user=user).count() == 2, placed.inner_text()
    order = Order.objects.filter(user=user).order_by("-id").first()
    bought = lines[0].variant
    assert [(line.variant_id, line.quantity, line.unit_price) for line in order.lines.all()] == [
        (bought.pk, 2, bought.price)
    ]
    assert order.total == Decimal(stated_total.group(1).replace(",", ""))
    assert order.shipping_address["line1"] == ADDRESS["line1"]
    assert order.number in placed.inner_text()
    assert not CartLine.objects.filter(cart__user=user).exists()
    expect_badge(page, 0)
    assert page.watch.problems() == []


def test_the_chat_panel_works_on_a_phone_sized_screen(demo_catalog, open_browser_page):
    page = open_browser_page(viewport=PHONE_SMALL)
    page.goto("/cart/")
    page.locator("#chat-dock > summary").focus()  # opened from the keyboard, as a screen reader user would
    page.keyboard.press("Enter")
    box = page.locator("#chat-input")
    box.wait_for(state="visible")
    where = box.bounding_box()
    assert box.is_visible() and where["y"] >= 0 and where["y"] + where["height"] <= PHONE_SMALL["height"] + 1
    assert where["x"] >= 0 and where["x"] + where["width"] <= PHONE_SMALL["width"] + 1
    # The open panel must not make the page scroll sideways.
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE_SMALL["width"]

    answer = _say(page, "hello")
    assert answer.get_attribute("data-intent") == "greeting"
    screenshot(page, "chat-phone", full_page=False)

    # A quick reply is sent as if typed; a product card's own Add to cart puts that size in the cart,
    # and the cart page behind the panel lists it.
    quick = answer.locator(".chat-suggestion", has_text=re.compile("^show me", re.IGNORECASE)).first
    sent = quick.get_attribute("data-text")
    found = _wait_for_reply(page, after=_replies(page).count(), do=quick.click)
    assert page.locator("#chat-log .chat-msg-user").last.inner_text().endswith(sent)
    assert found.get_attribute("data-intent") == "product_search"
    choice = _add_first_card_option(found)
    expect_badge(page, 1)
    page.locator("#cart input[name=quantity]").wait_for()  # the cart page lists the new line
    assert [(line.variant_id, line.quantity) for line in _guest_cart_lines(page)] == [(int(choice), 1)]
    screenshot(page, "chat-phone-added", full_page=False)

    # The cart page's own size/colour menu moves the line to another option (the chat's service).
    page.locator("#chat-dock > summary").click()  # close the panel to reach the page
    menu = page.locator("#cart select[name=variant]")
    other = menu.locator("option:not([selected]):not([disabled])").first.get_attribute("value")
    menu.select_option(other)
    page.locator("#cart .cart-notice", has_text="Size and colour changed.").wait_for()
    assert [(line.variant_id, line.quantity) for line in _guest_cart_lines(page)] == [(int(other), 1)]
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE_SMALL["width"]  # no sideways scroll
    screenshot(page, "cart-phone-option-changed")
    assert page.watch.problems() == []


def expect_badge(page, count: int) -> None:
    page.wait_for_function(
        "n => (document.querySelector('#cart-badge .badge') || {}).textContent == String(n)",
        arg=count,
        timeout=REPLY_TIMEOUT_MS,
    )


KIOSK_SCREEN = {"width": 1080, "height": 1920}  # a portrait touch screen


def test_the_kiosk_opens_with_the_assistant_first_and_large_touch_targets(demo_catalog, open_browser_page):
    page = open_browser_page(viewport=KIOSK_SCREEN)
    page.goto("/kiosk/")
    box = page.locator("#chat-input")
    box.wait_for(state="visible")  # open on arrival: nothing to click first
    panel = page.locator(".chat-panel").bounding_box()
    products = page.locator("#kiosk-featured").bounding_box()
    assert panel["y"] < products["y"]  # the assistant comes before the products
    assert panel["width"] >= KIOSK_SCREEN["width"] * 0.8
    assert box.bounding_box()["height"] >= 56
    send = page.locator(".chat-form button[type=submit]")
    assert send.bounding_box()["height"] >= 56

    found = _say(page, "show me running shoes under $150")
    assert found.get_attribute("data-intent") == "product_search"
    choice = _add_first_card_option(found)
    cart = _say(page, "show my cart")
    assert cart.get_attribute("data-intent") == "view_cart"
    assert [(line.variant_id, line.quantity) for line in _guest_cart_lines(page)] == [(int(choice), 1)]
    assert Variant.objects.get(pk=choice).product.name in cart.inner_text()
    # the conversation is recorded as the kiosk's
    session_id = page.locator(".chat[data-session-id]").get_attribute("data-session-id")
    channels = set(
        Message.objects.filter(conversation__session__key=session_id).values_list("channel", flat=True)
    )
    assert channels == {"kiosk"}
    screenshot(page, "chat-kiosk", full_page=False)
    assert page.watch.problems() == []


def test_the_cart_page_shows_the_last_change_when_its_refreshes_overlap(demo_catalog, open_browser_page):
    """A slow refresh of the cart page (the one after "show my cart") is still on its way when the
    next answer ("make it 2") asks for another: the page ends on the cart as it is, not as it was."""
    page = open_browser_page()
    page.goto("/")
    _open_chat(page)
    choice = _add_first_card_option(_say(page, "show me running shoes"))
    page.goto("/cart/")
    _open_chat(page)

    held, let_through = [], []

    def hold_the_first_refresh(route):
        if route.request.headers.get("hx-request") != "true":
            route.continue_()
        elif held:
            let_through.append(route.request.url)
            route.continue_()
        else:
            held.append(route)  # answered below, after the cart has changed

    page.route("**/cart/", hold_the_first_refresh)
    _say(page, "show my cart")
    _wait_until(page, lambda: held, what="the cart page's refresh after 'show my cart'")
    stale = held[0].fetch()  # the cart as it is now (one pair), fetched before "make it 2" changes it
    _say(page, "make it 2")
    assert [(line.variant_id, line.quantity) for line in _guest_cart_lines(page)] == [(int(choice), 2)]
    assert let_through == []  # the refresh "make it 2" asked for waits for the held one to end
    held[0].fulfill(response=stale)
    page.wait_for_function(
        "() => (document.querySelector('#cart input[name=quantity]') || {}).value === '2'",
        timeout=REPLY_TIMEOUT_MS,
    )
    assert page.watch.problems() == []


def test_the_panel_reconnects_by_itself_after_a_redis_outage(demo_catalog, open_browser_page):
    """A socket refused for an outage is closed with 4503, which the ws extension would not retry:
    the panel shows the server's message, tries again (waiting longer each time) and, once Redis is
    back, talks again without a reload."""
    from commerce.testing.faults import CLOSED_REDIS_URL, redis_at

    page = open_browser_page()
    page.goto("/")
    status = page.locator("#chat-status")
    with redis_at(CLOSED_REDIS_URL):
        _open_chat(page)
        status.filter(has_text="Live chat is unavailable right now").wait_for(timeout=REPLY_TIMEOUT_MS)
        page.wait_for_timeout(1500)  # at least one retry, refused again: the message stays
        assert "unavailable" in status.inner_text()
    page.wait_for_function(
        "() => document.querySelector('#chat-status').textContent === ''", timeout=REPLY_TIMEOUT_MS
    )
    assert _say(page, "hello").get_attribute("data-intent") == "greeting"
    assert page.watch.problems() == []
