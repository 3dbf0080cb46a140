"""The staff dashboard: the admin index opens on how the store is doing today and over the last 7 days.

Every figure comes from its app's selector (one place each): sales and conversion from ``orders``,
abandoned and voice-recovered carts from ``voice``, assistant containment and open tickets from
``conversations``, low stock from ``catalog``. This module, like ``commerce.urls``, sits above the apps
and only puts the figures together. They are computed at most once a minute (the shared cache); a
cache that cannot be reached costs only the caching, never the page. Days are UTC days.

:class:`DashboardAdminSite` is the admin site's class (``commerce.urls`` swaps it in): the stock index
with the dashboard above the app list, and the voice stats page listed with the voice models.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from django.core.cache import cache
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import SafeString
from redis.exceptions import RedisError

from catalog.selectors import low_stock_variants
from commerce.accounts.admin import StoreAdminSite
from commerce.charts import Bar, bar_chart
from commerce.money import money_str
from conversations.selectors import Containment, assistant_containment, open_tickets
from orders.selectors import NO_SALES, Conversion, Sales, sales_by_day, session_conversion
from voice.selectors import RecoveryDay, recovery_by_day

logger = logging.getLogger(__name__)

DAYS = 7
CACHE_KEY = "admin:dashboard:v1"
CACHE_SECONDS = 60


@dataclass(frozen=True)
class PeriodFigures:
    """One column of the dashboard: today, or the last 7 days (today included)."""

    label: str
    since: datetime
    sales: Sales
    conversion: Conversion
    abandoned: int
    recovered: int
    containment: Containment


@dataclass(frozen=True)
class DayFigures:
    day: date
    sales: Sales
    recovery: RecoveryDay


@dataclass(frozen=True)
class StoreFigures:
    computed_at: datetime
    periods: list[PeriodFigures]
    days: list[DayFigures]
    open_tickets: int
    low_stock_variants: int


def _day_start(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def store_figures(*, now: datetime | None = None) -> StoreFigures:
    """The dashboard's figures, read from the selectors (about a dozen aggregate queries)."""
    now = now or timezone.now()
    today = now.astimezone(UTC).date()
    first = today - timedelta(days=DAYS - 1)
    since, until = _day_start(first), now
    sales = sales_by_day(since=since, until=until)
    recovery = recovery_by_day(since=since, until=until)
    days = [
        DayFigures(day=day, sales=sales.get(day, NO_SALES), recovery=recovery.get(day, RecoveryDay()))
        for day in (first + timedelta(days=offset) for offset in range(DAYS))
    ]
    periods = []
    for label, start in (("Today", _day_start(today)), (f"Last {DAYS} days", since)):
        counted = [d for d in days if _day_start(d.day) >= start]
        periods.append(
            PeriodFigures(
                label=label,
                since=start,
                sales=sum((d.sales for d in counted), NO_SALES),
                conversion=session_conversion(since=start, until=until),
                abandoned=sum(d.recovery.abandoned for d in counted),
                recovered=sum(d.recovery.recovered for d in counted),
                containment=assistant_containment(since=start, until=until),
            )
        )
    return StoreFigures(
        computed_at=now,
        periods=periods,
        days=days,
        open_tickets=open_tickets().count(),
        low_stock_variants=low_stock_variants().count(),
    )


def store_figures_cached() -> StoreFigures:
    """:func:`store_figures`, computed at most once a minute for all staff."""
    try:
        cached = cache.get(CACHE_KEY)
    except (RedisError, OSError) as exc:  # the cache is down: compute, do not fail the admin
        logger.warning("dashboard: cache unreachable, figures computed without it: %s", exc)
        return store_figures()
    if isinstance(cached, StoreFigures):
        return cached
    figures = store_figures()
    try:
        cache.set(CACHE_KEY, figures, CACHE_SECONDS)
    except (RedisError, OSError) as exc:
        logger.warning("dashboard: figures not cached: %s", exc)
    return figures


# --- Rendering -------------------------------------------------------------------------------------
def _changelist(name: str, **filters: object) -> str:
    url = reverse(f"admin:{name}_changelist")
    return f"{url}?{urlencode({k: str(v) for k, v in filters.items()})}" if filters else url


@dataclass(frozen=True)
class Tile:
    """One figure on the dashboard: its value, what it means, and the admin list behind it."""

    title: str
    value: str
    detail: str
    url: str
    name: str  # a stable id for tests and styling


def period_tiles(period: PeriodFigures) -> list[Tile]:
    since = period.since.isoformat()
    orders_url = _changelist("orders_order", created_at__gte=since)
    conversion, containment = period.conversion, period.containment
    return [
        Tile("Orders", str(period.sales.orders), "placed, cancelled ones left out", orders_url, "orders"),
        Tile("Revenue", money_str(period.sales.revenue), "order totals less refunds", orders_url, "revenue"),
        Tile(
            "Average order value",
            money_str(period.sales.average_order_value),
            "revenue / orders",
            orders_url,
            "aov",
        ),
        Tile(
            "Conversion",
            f"{conversion.percent}%",
            f"{conversion.with_order} of {conversion.sessions} shopper sessions ordered",
            _changelist("accounts_shoppersession", created_at__gte=since),
            "conversion",
        ),
        Tile(
            "Carts abandoned",
            str(period.abandoned),
            "found by the voice recovery scan",
            _changelist("voice_recoveryjob", created_at__gte=since),
            "abandoned",
        ),
        Tile(
            "Recovered by voice",
            str(period.recovered),
            "carts that became an order after a call",
            _changelist("voice_recoveryjob", recovered__exact=1, recovered_at__gte=since),
            "recovered",
        ),
        Tile(
            "Assistant containment",
            f"{containment.percent}%",
            f"{containment.without_ticket} of {containment.conversations} conversations without a ticket",
            _changelist("conversations_conversation", updated_at__gte=since),
            "containment",
        ),
    ]


def _charts(days: list[DayFigures]) -> list[tuple[str, SafeString]]:
    label = lambda d: d.strftime("%d %b")  # noqa: E731
    orders = [Bar(label(d.day), d.sales.orders, f"{d.day}: {d.sales.orders} orders") for d in days]
    revenue = [
        Bar(label(d.day), float(d.sales.revenue), f"{d.day}: {money_str(d.sales.revenue)}") for d in days
    ]
    abandoned = [
        Bar(
            label(d.day),
            d.recovery.abandoned,
            f"{d.day}: {d.recovery.abandoned} abandoned, {d.recovery.recovered} recovered by voice",
        )
        for d in days
    ]
    return [
        ("Orders per day", bar_chart(orders, caption="Orders per day")),
        ("Revenue per day", bar_chart(revenue, caption="Revenue per day", color="#5b9a5b")),
        ("Carts abandoned per day", bar_chart(abandoned, caption="Carts abandoned per day", color="#c9a227")),
    ]


def dashboard_context() -> dict[str, Any]:
    figures = store_figures_cached()
    now_tiles = [
        Tile(
            "Open tickets",
            str(figures.open_tickets),
            "waiting for staff",
            _changelist("conversations_supportticket", status__exact="open"),
            "open_tickets",
        ),
        Tile(
            "Low-stock variants",
            str(figures.low_stock_variants),
            "on sale with only a few left",
            _changelist("catalog_variant", level="low"),
            "low_stock",
        ),
    ]
    return {
        "dashboard": figures,
        # (heading, data-period, tiles): the two periods by index, then the figures of the moment.
        "dashboard_sections": [
            *((p.label, str(i), period_tiles(p)) for i, p in enumerate(figures.periods)),
            ("Now", "now", now_tiles),
        ],
        "dashboard_charts": _charts(figures.days),
    }


class DashboardAdminSite(StoreAdminSite):
    """The store's admin: the dashboard on the index, the voice stats page beside the voice models."""

    index_template = "admin/dashboard_index.html"

    def index(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> TemplateResponse:
        return super().index(request, {**dashboard_context(), **(extra_context or {})})

    def get_app_list(self, request: HttpRequest, app_label: str | None = None) -> list[dict[str, Any]]:
        app_list = super().get_app_list(request, app_label)
        for app in app_list:
            if app["app_label"] == "voice" and request.user.has_perm("voice.view_recoveryjob"):
                app["models"].append(
                    {
                        "name": "Voice stats and charts",
                        "object_name": "VoiceStats",
                        "admin_url": reverse("admin:voice_recoveryjob_stats"),
                        "add_url": None,
                        "view_only": True,
                        "perms": {"view": True},
                    }
                )
        return app_list
