"""Every kind of page in Chromium with the Content-Security-Policy on, and the features still working.

The policy (commerce/settings.py, issue 12) allows scripts and styles only from this origin or with the
request's nonce, and no eval. Chromium logs each thing it blocks as a console error, which the browser
fixture turns into a failure (``PageWatch``), and sends a report to ``/csp-report/``, which is counted:
a tour that works while both stay silent shows the pages need nothing the policy forbids. The last test
proves the watch can see a violation: an injected inline script is blocked, logged and reported.
"""

from __future__ import annotations

import base64
import re
import time
from urllib.parse import urlsplit

import pytest
from django_otp.oath import TOTP
from prometheus_client import REGISTRY

from carts.models import CartLine
from catalog.models import Product, Variant
from commerce.accounts.tests.factories import PASSWORD, UserFactory
from commerce.testing.browser import screenshot
from orders.models import Order

pytest_plugins = ["commerce.testing.browser"]
pytestmark = pytest.mark.browser

REPLY_TIMEOUT_MS = 15_000


def _reports_received() -> float:
    return sum(
        sample.value
        for metric in REGISTRY.collect()
        if metric.name == "csp_violation_reports"
        for sample in metric.samples
        if sample.name == "csp_violation_reports_total"
    )


def _expect_badge(page, count: int) -> None:
    page.wait_for_function(
        "n => (document.querySelector('#cart-badge .badge') || {}).textContent == String(n)",
        arg=count,
        timeout=REPLY_TIMEOUT_MS,
    )


def _sign_in(page, email: str, path: str = "/account/login/") -> None:
    page.goto(f"{path}?next=/")
    page.locator("input[name=username]").fill(email)
    page.locator("input[name=password]").fill(PASSWORD)
    with page.expect_navigation():
        page.locator("input[name=password]").press("Enter")
    page.wait_for_load_state("networkidle")


def test_a_shopper_browses_buys_and_reads_their_pages_without_a_csp_violation(demo_catalog, browser_page):
    page = browser_page
    reports_before = _reports_received()
    user = UserFactory(email="csp-shopper@example.com")

    # Listing: the filter form swaps the results through HTMX.
    page.goto("/products/?q=running+shoes")
    page.wait_for_load_state("networkidle")
    brand = page.locator("#filter-brand option[value]:not([value=''])").first.get_attribute("value")
    page.locator("#filter-brand").select_option(brand)
    page.wait_for_url(re.compile(r"brand="))
    page.wait_for_load_state("networkidle")
    assert page.locator("#results a[href*='/products/']").count() > 0

    # Product page: the variant picker's script (static/js/product.js) updates price and stock.
    product = Product.objects.filter(variants__stock__gte=5).distinct().first()
    page.goto(f"/products/{product.pk}/")
    radios = [r for r in page.locator("input[name=variant_id]").all() if r.is_enabled()]
    choice = radios[-1]
    choice.check()
    variant = Variant.objects.get(pk=int(choice.get_attribute("value")))
    assert page.locator("#stock-state").inner_text().startswith(f"{variant.size} · {variant.color}")
    page.get_by_role("button", name=re.compile("add to cart", re.IGNORECASE)).click()
    _expect_badge(page, 1)

    # Cart page: the quantity field posts through HTMX and the page and badge follow.
    page.goto("/cart/")
    quantity = page.locator("#cart input[name=quantity]")
    quantity.fill("2")
    quantity.dispatch_event("change")
    _expect_badge(page, 2)
    assert CartLine.objects.get(variant=variant).quantity == 2

    # Signed in (the guest cart comes along), checkout through the HTMX form.
    _sign_in(page, user.email)
    _expect_badge(page, 2)
    page.goto("/checkout/")
    page.get_by_label("Full name").fill("Ada Lovelace")
    page.get_by_label("Address").fill("1 Analytical Way")
    page.get_by_label("City").fill("London")
    page.get_by_label("Postal code").fill("N1 9GU")
    page.get_by_role("button", name=re.compile("place order", re.IGNORECASE)).click()
    page.wait_for_url(re.compile(r"/orders/[^/]+/confirmation/"))
    order = Order.objects.get(user=user)
    screenshot(page, "csp-1-confirmation")

    for path in ("/orders/", f"/orders/{order.number}/", "/account/", "/account/memory/", "/kiosk/"):
        response = page.goto(path)
        assert response.status == 200 and urlsplit(page.url).path == path, page.url
        assert "'nonce-" in response.headers["content-security-policy"]
        page.wait_for_load_state("networkidle")

    # The kiosk's chat panel sends and receives over its socket under connect-src.
    box = page.locator("#chat-input")
    box.fill("hello")
    box.press("Enter")
    page.locator("#chat-log [data-intent]").first.wait_for(timeout=REPLY_TIMEOUT_MS)
    screenshot(page, "csp-2-kiosk")

    page.goto("/account/register/")
    page.goto("/")
    page.wait_for_load_state("networkidle")
    assert page.watch.problems() == []
    time.sleep(0.5)  # reports are sent after the console line; give any a moment to arrive
    assert _reports_received() == reports_before


def test_staff_use_the_admin_and_developers_the_api_docs_without_a_csp_violation(
    demo_catalog, browser_page, settings
):
    page = browser_page
    reports_before = _reports_received()
    UserFactory(email="csp-staff@example.com", is_staff=True, is_superuser=True)
    product = Product.objects.first()
    variant = product.variants.first()

    # Staff MFA on in both passes: the staff member enrols an authenticator (its page is checked too),
    # which verifies this session, then uses the admin.
    settings.ADMIN_MFA_REQUIRED = True
    page.goto("/account/login/?next=/account/mfa/")
    page.locator("input[name=username]").fill("csp-staff@example.com")
    page.locator("input[name=password]").fill(PASSWORD)
    with page.expect_navigation():
        page.locator("input[name=password]").press("Enter")
    assert urlsplit(page.url).path == "/account/mfa/"
    assert page.locator(".mfa-qr svg").count() == 1
    secret = page.locator(".mfa-secret").inner_text().strip()
    page.locator("input[name=token]").fill(f"{TOTP(base64.b32decode(secret)).token():06d}")
    with page.expect_navigation():
        page.locator("input[name=token]").press("Enter")
    assert page.locator(".mfa-codes li").count() == settings.MFA_BACKUP_CODES
    screenshot(page, "csp-3-mfa-codes")
    for path in (
        "/admin/",
        "/admin/catalog/product/",
        f"/admin/catalog/product/{product.pk}/change/",
        "/admin/catalog/variant/",
        f"/admin/catalog/variant/{variant.pk}/change/",
        "/admin/orders/order/",
        "/admin/voice/recoveryjob/",
        "/admin/voice/recoveryjob/stats/",
        "/admin/accounts/user/add/",
    ):
        response = page.goto(path)
        assert response.status == 200 and urlsplit(page.url).path == path, page.url
        page.wait_for_load_state("networkidle")
    # The changelist's search and the admin's own scripts (actions, filters) still run.
    page.goto("/admin/catalog/product/")
    page.locator("#action-toggle").check()
    assert page.locator("input.action-select:checked").count() > 0
    screenshot(page, "csp-3-admin")

    page.goto("/api/docs/")
    page.locator(".swagger-ui .info").wait_for(timeout=REPLY_TIMEOUT_MS)
    screenshot(page, "csp-4-api-docs")
    assert page.watch.problems() == []
    time.sleep(0.5)
    assert _reports_received() == reports_before


def test_an_injected_inline_script_is_blocked_logged_and_reported(demo_catalog, browser_page):
    page = browser_page
    reports_before = _reports_received()
    page.goto("/")
    page.evaluate(
        """() => {
          const script = document.createElement("script");
          script.textContent = "window.injected = true";
          document.body.appendChild(script);
        }"""
    )
    assert page.evaluate("window.injected === undefined")
    deadline = time.monotonic() + 10
    while _reports_received() == reports_before and time.monotonic() < deadline:
        page.wait_for_timeout(100)
    assert _reports_received() == reports_before + 1
    blocked = [e for e in page.watch.js_errors if "Content Security Policy" in e]
    assert blocked, page.watch.js_errors
    page.watch.js_errors.clear()  # the one violation this test made on purpose
