"""Charts drawn on the server as inline SVG (no JavaScript, no CDN): the admin's voice stats page and
the staff dashboard on the admin index. Values are floats for geometry only; the figures shown beside a
chart (money included) come formatted from their selectors."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString


@dataclass(frozen=True)
class Bar:
    label: str
    value: float
    title: str


WIDTH, HEIGHT, PAD_LEFT, PAD_BOTTOM, PAD_TOP = 640, 220, 48, 28, 12


def bar_chart(
    bars: list[Bar],
    *,
    caption: str,
    color: str = "#447e9b",
    line: float | None = None,
    line_label: str = "",
    css_class: str = "chart",
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
        '<svg class="{}" role="img" aria-label="{}" viewBox="0 0 {} {}" width="100%" '
        'xmlns="http://www.w3.org/2000/svg">'
        '<line x1="{}" x2="{}" y1="{}" y2="{}" stroke="#999"/>'
        '<text x="4" y="{}" font-size="11" fill="#666">{}</text>'
        '<text x="4" y="{}" font-size="11" fill="#666">0</text>{}{}{}</svg>',
        css_class,
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


def hbar_chart(rows: list[tuple[str, int]], *, caption: str, css_class: str = "chart") -> SafeString:
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
        '<svg class="{}" role="img" aria-label="{}" viewBox="0 0 {} {}" width="100%" '
        'xmlns="http://www.w3.org/2000/svg">{}</svg>',
        css_class,
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


def rate_gauge(percent: Decimal, *, caption: str, css_class: str = "chart") -> SafeString:
    width = 400
    filled = width * float(min(percent, Decimal(100))) / 100
    return format_html(
        '<svg class="{}" role="img" aria-label="{}" viewBox="0 0 {} 40" width="400" '
        'xmlns="http://www.w3.org/2000/svg"><rect x="0" y="8" width="{}" height="20" fill="#eee"/>'
        '<rect x="0" y="8" width="{}" height="20" fill="#417690"/>'
        '<text x="{}" y="23" font-size="13" fill="#000" text-anchor="end">{}%</text></svg>',
        css_class,
        caption,
        width,
        width,
        f"{filled:.1f}",
        width - 6,
        percent,
    )


def _short(value: float) -> str:
    return f"{value:.0f}" if value >= 10 else f"{value:.2f}".rstrip("0").rstrip(".")
