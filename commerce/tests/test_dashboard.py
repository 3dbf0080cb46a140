"""The staff dashboard on the admin index: the figures against known data, their admin lists, staff
only, cached for a minute, and working without the cache. The browser check is test_browser_dashboard.py."""

from __future__ import annotations

import re
import socket
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.urls import reverse

from commerce.accounts.tests.factories import UserFactory
from commerce.dashboard import CACHE_KEY, store_figures, store_figures_cached
from orders.models import Order

from .store_week import Expected, _order, store_week

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_figures(settings):
    settings.ADMIN_MFA_REQUIRED = False
    cache.delete(CACHE_KEY)


@pytest.fixture
def staff_client(client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


def _tiles(html: str) -> dict[tuple[str, str], tuple[str, str]]:
    """(period, figure) -> (value, link) as the page shows them."""
    found = {}
    for period, block in re.findall(r'data-period="([^"]+)">(.*?)</ul>', html, flags=re.S):
        for url, name, value in re.findall(
            r'<a href="([^"]+)" data-figure="([^"]+)"><span class="dashboard-value">([^<]*)</span>', block
        ):
            found[(period, name)] = (value, url.replace("&amp;", "&"))
    return found


def test_the_figures_count_today_and_the_last_seven_days():
    expected = store_week()
    today, week = store_figures().periods

    assert (today.sales.orders, week.sales.orders) == (2, 3)
    assert (today.sales.revenue, week.sales.revenue) == (Decimal("130.00"), Decimal("170.00"))
    assert (today.sales.average_order_value, week.sales.average_order_value) == (
        Decimal("65.00"),
        Decimal("56.67"),
    )
    assert (f"{today.conversion.percent}%", f"{week.conversion.percent}%") == expected.conversion
    assert (today.abandoned, week.abandoned, today.recovered, week.recovered) == (2, 3, 1, 1)
    assert (f"{today.containment.percent}%", f"{week.containment.percent}%") == expected.containment


def test_the_admin_index_shows_each_figure_linking_to_its_admin_list(staff_client):
    store_week()
    response = staff_client.get(reverse("admin:index"))
    assert response.status_code == 200
    tiles = _tiles(response.content.decode())

    for name in ("orders", "revenue", "aov", "conversion", "abandoned", "recovered", "containment"):
        shown = (tiles[("0", name)][0], tiles[("1", name)][0])
        assert shown == getattr(Expected, name), name
    assert tiles[("now", "open_tickets")][0] == Expected.open_tickets
    assert tiles[("now", "low_stock")][0] == Expected.low_stock
    assert response.content.decode().count('<svg class="chart"') == 3

    # Each link opens its admin list, filtered to what the figure counts.
    listed = {}
    for key, (_, url) in tiles.items():
        page = staff_client.get(url)
        assert page.status_code == 200, url
        listed[key] = page.context["cl"].result_count
    assert listed[("0", "orders")] == 3  # the list shows today's cancelled order too; the figure does not
    assert listed[("1", "abandoned")] == 3 and listed[("0", "recovered")] == 1
    assert listed[("now", "open_tickets")] == 1 and listed[("now", "low_stock")] == 2


def test_the_voice_stats_page_is_listed_with_the_voice_models(staff_client):
    html = staff_client.get(reverse("admin:index")).content.decode()
    voice_section = html[html.index('class="app-voice') :]
    voice_section = voice_section[: voice_section.index("</table>")]
    assert reverse("admin:voice_recoveryjob_stats") in voice_section
    assert "Voice stats and charts" in voice_section


def test_the_dashboard_is_for_staff_only(client):
    login = reverse("admin:login")
    assert client.get(reverse("admin:index")).url.startswith(login)
    client.force_login(UserFactory(is_staff=False))
    response = client.get(reverse("admin:index"))
    assert response.status_code == 302 and response.url.startswith(login)


def test_the_figures_are_computed_once_a_minute(monkeypatch):
    stored = {}
    monkeypatch.setattr(
        "commerce.dashboard.cache.set", lambda key, value, timeout: stored.update({key: (value, timeout)})
    )
    first = store_figures_cached()
    assert stored[CACHE_KEY][1] == 60
    monkeypatch.setattr("commerce.dashboard.cache.get", lambda key: stored[key][0])
    _order(UserFactory(), "10.00", first.computed_at)

    assert store_figures_cached() is first  # a new order shows after the minute, not at once
    assert store_figures().periods[0].sales.orders == first.periods[0].sales.orders + 1
    assert Order.objects.count() == 1


def test_the_dashboard_works_with_the_cache_unreachable(staff_client, settings):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{closed_port}/0",
            "OPTIONS": {"socket_connect_timeout": 0.5},
        }
    }
    settings.RATE_LIMIT_ENABLED = False
    response = staff_client.get(reverse("admin:index"))
    assert response.status_code == 200
    assert 'data-figure="orders"' in response.content.decode()
