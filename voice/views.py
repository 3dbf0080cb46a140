"""Pages: the recovery-code link said on a call, and the admin's voice stats page (inline SVG charts)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

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


# --- Charts (server-side SVG: no JavaScript, no CDN) ---------------------------------------------
@dataclass(frozen=True)
class Bar:
    label: str
    value: float
    title: str


WIDTH, HEIGHT, PAD_LEFT, PAD_BOTTOM, PAD_TOP = 640, 220, 48, 28, 12


def bar_chart(
    bars: list[Bar], *, caption: str, color: str = "#447e9b", line: float | None = None, line_label: str = ""
) -> SafeString:
    """A vertical bar chart as inline SVG; an optional horizontal reference line (the budget)."""
    top = max([b.value for b in bars] + [line or 0, 1])
    plot_w, plot_h = WIDTH - PAD_LEFT - 8, HEIGHT - PAD_BOTTOM - PAD_TOP
    step = plot_w / max(len(bars), 1)
    bar_w = max(step * 0.7, 2)
    rects = []
    for i, bar in enumerate(bars):
        h = plot_h * bar.value / top
        x = PAD_LEFT + i * step + (step - bar_w) / 2
        y = PAD_TOP + plot_h - h
        rects.append((f"{x:.1f}", f"{y:.1f}", f"{bar_w:.1f}", f"{h:.1f}", color, bar.title))
    labels = [
        (f"{PAD_LEFT + i * step + step / 2:.1f}", HEIGHT - 8, bar.label)
        for i, bar in enumerate(bars)
        if len(bars) <= 8 or i % 2 == 0
    ]
    reference = ""
    if line is not None:
        ly = PAD_TOP + plot_h - plot_h * line / top
        reference = format_html(
            '<line x1="{}" x2="{}" y1="{}" y2="{}" stroke="#ba2121" stroke-dasharray="6 4"/>'
            '<text x="{}" y="{}" fill="#ba2121" font-size="11" text-anchor="end">{}</text>',
            PAD_LEFT,
            WIDTH - 8,
            f"{ly:.1f}",
            f"{ly:.1f}",
            WIDTH - 8,
            f"{ly - 4:.1f}",
            line_label,
        )
    return format_html(
        '<svg class="voice-chart" role="img" aria-label="{}" viewBox="0 0 {} {}" width="100%" '
        'xmlns="http://www.w3.org/2000/svg">'
        '<line x1="{}" x2="{}" y1="{}" y2="{}" stroke="#999"/>'
        '<text x="4" y="{}" font-size="11" fill="#666">{}</text>'
        '<text x="4" y="{}" font-size="11" fill="#666">0</text>{}{}{}</svg>',
        caption,
        WIDTH,
        HEIGHT,
        PAD_LEFT,
        WIDTH - 8,
        PAD_TOP + plot_h,
        PAD_TOP + plot_h,
        PAD_TOP + 10,
        _short(top),
        PAD_TOP + plot_h,
        format_html_join(
            "", '<rect x="{}" y="{}" width="{}" height="{}" fill="{}"><title>{}</title></rect>', rects
        ),
        format_html_join(
            "", '<text x="{}" y="{}" font-size="10" text-anchor="middle" fill="#333">{}</text>', labels
        ),
        reference,
    )


def hbar_chart(rows: list[tuple[str, int]], *, caption: str) -> SafeString:
    """Horizontal bars, one per label (job outcomes)."""
    top = max([v for _, v in rows] + [1])
    row_h, label_w, width = 22, 120, WIDTH
    height = row_h * len(rows) + 8
    parts = []
    for i, (label, value) in enumerate(rows):
        w = (width - label_w - 60) * value / top
        y = 4 + i * row_h
        parts.append((y + 14, label, label_w, y + 3, f"{w:.1f}", label_w + w + 6, y + 14, value))
    return format_html(
        '<svg class="voice-chart" role="img" aria-label="{}" viewBox="0 0 {} {}" width="100%" '
        'xmlns="http://www.w3.org/2000/svg">{}</svg>',
        caption,
        width,
        height,
        format_html_join(
            "",
            '<text x="4" y="{}" font-size="12" fill="#333">{}</text>'
            '<rect x="{}" y="{}" width="{}" height="15" fill="#79aec8"/>'
            '<text x="{}" y="{}" font-size="12" fill="#333">{}</text>',
            parts,
        ),
    )


def rate_gauge(percent: Decimal, *, caption: str) -> SafeString:
    width = 400
    filled = width * float(min(percent, Decimal(100))) / 100
    return format_html(
        '<svg class="voice-chart" role="img" aria-label="{}" viewBox="0 0 {} 40" width="400" '
        'xmlns="http://www.w3.org/2000/svg"><rect x="0" y="8" width="{}" height="20" fill="#eee"/>'
        '<rect x="0" y="8" width="{}" height="20" fill="#417690"/>'
        '<text x="{}" y="23" font-size="13" fill="#000" text-anchor="end">{}%</text></svg>',
        caption,
        width,
        width,
        f"{filled:.1f}",
        width - 6,
        percent,
    )


def _short(value: float) -> str:
    return f"{value:.0f}" if value >= 10 else f"{value:.2f}".rstrip("0").rstrip(".")


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
        "calls_chart": bar_chart(calls, caption="Calls per day"),
        "outcomes_chart": hbar_chart(list(stats.outcomes.items()), caption="Job outcomes"),
        "rate_chart": rate_gauge(stats.recovery_rate, caption="Recovery rate"),
        "revenue_chart": bar_chart(revenue, caption="Recovered revenue per day", color="#5b9a5b"),
        "spend_chart": bar_chart(
            spend,
            caption="Estimated spend per day against the daily budget",
            color="#c9a227",
            line=float(stats.budget),
            line_label=f"budget {money_str(stats.budget)}",
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
