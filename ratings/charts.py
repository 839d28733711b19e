"""Charts as inline SVG drawn on the server: no JavaScript chart library, nothing from a CDN, and
the figures are readable without scripts (each bar carries a <title> tooltip)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

LEVEL_COLOURS = {"5": "#1a7f37", "4": "#4caf50", "3": "#c9b400", "2": "#e67e22", "1": "#c0392b"}


def trend_svg(weeks: Sequence[dict[str, Any]], *, width: int = 720, height: int = 220) -> SafeString:
    """Weekly ratings as bars (count) with the satisfaction rate as a line (right axis, 0-100%)."""
    if not weeks:
        return mark_safe("")
    left, right, top, bottom = 44, 44, 14, 34
    plot_w, plot_h = width - left - right, height - top - bottom
    max_count = max((w["count"] for w in weeks), default=0) or 1
    step = plot_w / len(weeks)
    bar_w = max(2.0, step * 0.6)
    # Texts outside the f-strings: xgettext does not look inside f-strings.
    title = _("每周评价量与满意率")
    legend = _("柱：评价数（左轴）  线：满意率（右轴）")
    parts: list[str] = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" class="chart" role="img" '
        f'aria-label="{escape(title)}">',
        f'<line x1="{left}" y1="{top + plot_h}" x2="{left + plot_w}" y2="{top + plot_h}" class="axis"/>',
        f'<text x="{left - 6}" y="{top + 4}" text-anchor="end" class="tick">{max_count}</text>',
        f'<text x="{left - 6}" y="{top + plot_h}" text-anchor="end" class="tick">0</text>',
        f'<text x="{left + plot_w + 6}" y="{top + 4}" class="tick">100%</text>',
        f'<text x="{left + plot_w + 6}" y="{top + plot_h}" class="tick">0%</text>',
    ]
    points: list[str] = []
    label_every = max(1, len(weeks) // 8)
    for i, w in enumerate(weeks):
        x = left + i * step + (step - bar_w) / 2
        h = plot_h * w["count"] / max_count
        rate = w["satisfaction_rate"]
        label = f"{w['week']:%m-%d}"
        tip = _("%(week)s 起一周：%(count)s 条评价") % {"week": f"{w['week']:%Y-%m-%d}", "count": w["count"]}
        if rate is not None:
            tip += _("，满意率 %(rate)s") % {"rate": f"{rate * 100:.1f}%"}
        parts.append(
            f'<rect x="{x:.1f}" y="{top + plot_h - h:.1f}" width="{bar_w:.1f}" height="{h:.1f}" class="bar">'
            f"<title>{escape(tip)}</title></rect>"
        )
        if i % label_every == 0:
            parts.append(
                f'<text x="{x + bar_w / 2:.1f}" y="{top + plot_h + 14}" text-anchor="middle" class="tick">'
                f"{escape(label)}</text>"
            )
        if rate is not None:
            points.append(f"{x + bar_w / 2:.1f},{top + plot_h * (1 - rate):.1f}")
    if len(points) > 1:
        parts.append(f'<polyline points="{" ".join(points)}" class="rate"/>')
    for p in points:
        cx, cy = p.split(",")
        parts.append(f'<circle cx="{cx}" cy="{cy}" r="2.5" class="rate-dot"/>')
    parts.append(f'<text x="{left}" y="{height - 4}" class="legend">{escape(legend)}</text>')
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every text above is escaped


def levels_svg(by_level: dict[str, int], *, width: int = 360, height: int = 26) -> SafeString:
    """One stacked bar of the five levels (非常不满意 … 非常满意)."""
    total = sum(by_level.values())
    if not total:
        return mark_safe("")
    x = 0.0
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" class="levels" role="img">']
    for level in ("5", "4", "3", "2", "1"):
        n = by_level.get(level, 0)
        if not n:
            continue
        w = width * n / total
        tip = _("%(level)s 星：%(n)s 条（%(pct)s）") % {"level": level, "n": n, "pct": f"{n / total * 100:.1f}%"}
        parts.append(
            f'<rect x="{x:.1f}" y="0" width="{w:.1f}" height="{height}" fill="{LEVEL_COLOURS[level]}">'
            f"<title>{escape(tip)}</title></rect>"
        )
        x += w
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every text above is escaped
