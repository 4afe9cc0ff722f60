"""A small server-rendered SVG chart of response times (no JavaScript, no chart library): a bar per
week for the median time to a first reply, a tick for the 90th percentile."""

from __future__ import annotations

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from .metrics import Figures

WIDTH, HEIGHT = 640, 240
LEFT, RIGHT, TOP, BOTTOM = 44, 12, 16, 40


def _nice_max(value: float) -> float:
    for step in (1, 2, 4, 6, 12, 24, 48, 72, 96, 168, 336):
        if value <= step:
            return float(step)
    return float(int(value / 168 + 1) * 168)


def response_chart(weeks: list[Figures]) -> SafeString:
    values = [w.p90_first_hours or w.median_first_hours or 0 for w in weeks]
    top = _nice_max(max(values, default=0) or 1)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    slot = plot_w / max(1, len(weeks))
    bar_w = max(4.0, slot * 0.55)

    def y(hours: float) -> float:
        return TOP + plot_h - plot_h * min(hours, top) / top

    parts = [
        f'<svg class="forum-chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-labelledby="chart-title chart-desc"'
        ' xmlns="http://www.w3.org/2000/svg">',
        '<title id="chart-title">Time to first reply, per week</title>',
        '<desc id="chart-desc">Bars: median hours until someone other than the asker replied. Ticks: 90th percentile.'
        " The table below has the same figures.</desc>",
    ]
    for fraction in (0, 0.25, 0.5, 0.75, 1):
        hours = top * fraction
        parts.append(
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y(hours):.1f}" y2="{y(hours):.1f}" class="grid"/>'
            f'<text x="{LEFT - 6}" y="{y(hours) + 4:.1f}" text-anchor="end" class="axis">{hours:g}h</text>'
        )
    for index, week in enumerate(weeks):
        x = LEFT + slot * index + (slot - bar_w) / 2
        label = escape(week.label)
        if week.median_first_hours is not None:
            h = week.median_first_hours
            parts.append(
                f'<rect x="{x:.1f}" y="{y(h):.1f}" width="{bar_w:.1f}" height="{TOP + plot_h - y(h):.1f}" class="bar">'
                f"<title>{label}: median {h:.1f} h, {week.questions} questions</title></rect>"
            )
        if week.p90_first_hours is not None:
            p = week.p90_first_hours
            parts.append(
                f'<line x1="{x - 2:.1f}" x2="{x + bar_w + 2:.1f}" y1="{y(p):.1f}" y2="{y(p):.1f}" class="p90"/>'
            )
        if index % max(1, len(weeks) // 6) == 0:
            parts.append(
                f'<text x="{x + bar_w / 2:.1f}" y="{HEIGHT - BOTTOM + 16}" text-anchor="middle" class="axis">'
                f"{label}</text>"
            )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - numbers we computed and escaped labels only
