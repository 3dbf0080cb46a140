"""The staff dashboard in Chromium: a staff member signs in to the admin, reads the figures (checked
against the week of data written here), sees the charts, follows a figure to its list; a screenshot is
kept (test-artifacts/browser/dashboard.png)."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from django.core.cache import cache

from commerce.accounts.tests.factories import PASSWORD, UserFactory
from commerce.dashboard import CACHE_KEY
from commerce.testing.browser import screenshot

from .store_week import Expected, store_week

pytest_plugins = ["commerce.testing.browser"]
pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

FIGURES = ("orders", "revenue", "aov", "conversion", "abandoned", "recovered", "containment")


def _value(page, period: str, figure: str) -> str:
    tile = page.locator(f'[data-period="{period}"] [data-figure="{figure}"] .dashboard-value')
    return tile.inner_text().strip()


def test_staff_read_the_stores_day_and_week_on_the_admin_index(browser_page, settings):
    settings.ADMIN_MFA_REQUIRED = False
    cache.delete(CACHE_KEY)
    store_week()
    UserFactory(email="manager@example.com", is_staff=True, is_superuser=True)
    page = browser_page

    page.goto("/admin/login/?next=/admin/")
    page.locator("input[name=username]").fill("manager@example.com")
    page.locator("input[name=password]").fill(PASSWORD)
    with page.expect_navigation():
        page.locator("input[name=password]").press("Enter")
    assert urlsplit(page.url).path == "/admin/"
    page.locator(".store-dashboard").wait_for()

    for figure in FIGURES:
        assert (_value(page, "0", figure), _value(page, "1", figure)) == getattr(Expected, figure), figure
    assert _value(page, "now", "open_tickets") == Expected.open_tickets
    assert _value(page, "now", "low_stock") == Expected.low_stock
    charts = page.locator(".dashboard-charts svg.chart")
    assert charts.count() == 3 and charts.first.bounding_box()["width"] > 200
    assert page.locator(".app-voice a", has_text="Voice stats and charts").count() >= 1
    screenshot(page, "dashboard")

    with page.expect_navigation():
        page.locator('[data-period="now"] [data-figure="low_stock"]').click()
    assert urlsplit(page.url).path == "/admin/catalog/variant/"
    assert page.locator("#result_list tbody tr").count() == 2
    assert page.watch.problems() == []
