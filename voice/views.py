"""Pages: the recovery-code link said on a call, and the admin's voice stats page (inline SVG charts)."""

from __future__ import annotations

from decimal import Decimal

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse

from commerce.charts import Bar, bar_chart, hbar_chart, rate_gauge
from commerce.errors import DomainError
from commerce.money import money_str
from voice.selectors import voice_stats
from voice.services import recovery_code_redeem


@login_required
def recovery_code_open(request: HttpRequest, code: str) -> HttpResponse:
    """``/voice/r/<code>/``: the shopper's cart, restored when it was emptied since the call."""
    try:
        redemption = recovery_code_redeem(code=code, user=request.user)
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("carts:detail")
    if redemption.restored_lines:
        messages.success(
            request, f"Welcome back: {redemption.restored_lines} item(s) are in your cart again."
        )
    else:
        messages.info(request, "Welcome back: your cart is just as you left it.")
    return redirect("carts:detail")


CHART_CLASS = "voice-chart"


def stats_context(days: int = 14) -> dict:
    stats = voice_stats(days=days)
    label = lambda d: d.strftime("%d %b")  # noqa: E731
    calls = [
        Bar(label(d.day), d.calls, f"{d.day}: {d.calls} calls ({d.completed} completed, {d.failed} failed)")
        for d in stats.days
    ]
    spend = [
        Bar(label(d.day), float(d.spend), f"{d.day}: {money_str(d.spend)} estimated") for d in stats.days
    ]
    revenue = []
    for d in stats.days:
        amount = stats.recovered_by_day.get(d.day) or Decimal("0")
        revenue.append(Bar(label(d.day), float(amount), f"{d.day}: {money_str(amount)} recovered"))
    return {
        "stats": stats,
        "days": days,
        "calls_chart": bar_chart(calls, caption="Calls per day", css_class=CHART_CLASS),
        "outcomes_chart": hbar_chart(
            list(stats.outcomes.items()), caption="Job outcomes", css_class=CHART_CLASS
        ),
        "rate_chart": rate_gauge(stats.recovery_rate, caption="Recovery rate", css_class=CHART_CLASS),
        "revenue_chart": bar_chart(
            revenue, caption="Recovered revenue per day", color="#5b9a5b", css_class=CHART_CLASS
        ),
        "spend_chart": bar_chart(
            spend,
            caption="Estimated spend per day against the daily budget",
            color="#c9a227",
            line=float(stats.budget),
            line_label=f"budget {money_str(stats.budget)}",
            css_class=CHART_CLASS,
        ),
        "recovered_revenue": money_str(stats.recovered_revenue),
    }


def stats_page(request: HttpRequest, admin_context: dict) -> TemplateResponse:
    """Rendered by ``RecoveryJobAdmin.stats_view`` (admin-only; the admin site wraps it)."""
    try:
        days = min(max(int(request.GET.get("days", 14)), 1), 90)
    except ValueError:
        days = 14
    return TemplateResponse(request, "admin/voice/stats.html", {**admin_context, **stats_context(days)})
