"""Server-side SVG charts for the sales analysis: no script, no chart library, no CDN.

Each chart is an ``<svg role="img">`` with a ``<title>`` and ``<desc>``, and every bar has
its own ``<title>`` ("label: value"), so screen readers and tooltips read the figures; the
page shows the same figures as a table next to it. Every text that comes from data (names
of products, people, tags, competitors …) is escaped with ``format_html`` — SVG is XML
and a name like ``<script>`` must stay text. Right-to-left pages get mirrored charts: labels
start at the right and bars grow to the left.

Bars are laid out one per row with the label above the bar, so a chart is narrow enough to
read on a 360 px phone without shrinking the text.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

WIDTH = 360
ROW = 34
BAR = 12
PAD = 4
LABEL_CHARS = 44
COLORS = ("#0d6efd", "#198754", "#6f42c1", "#fd7e14", "#20c997", "#d63384")

_ids = itertools.count(1)


@dataclass(frozen=True)
class Bar:
    label: str
    value: Decimal | int | float
    text: str  # the value as shown (formatted for the locale)


@dataclass(frozen=True)
class Series:
    name: str
    bars: Sequence[Bar]


def _short(label: str) -> str:
    label = label.replace("\n", " ")
    return label if len(label) <= LABEL_CHARS else label[: LABEL_CHARS - 1] + "…"


def _num(value: Decimal | int | float) -> float:
    return float(value) if value is not None else 0.0


def bar_chart(
    *,
    title: str,
    bars: Sequence[Bar],
    rtl: bool = False,
    empty: str = "",
) -> SafeString:
    """Horizontal bars, one per row (label above its bar, value at the bar's end)."""
    return grouped_bar_chart(title=title, groups=[Series(name="", bars=bars)], rtl=rtl,
                             empty=empty)  # fmt: skip


def grouped_bar_chart(
    *,
    title: str,
    groups: Sequence[Series],
    rtl: bool = False,
    empty: str = "",
) -> SafeString:
    """Horizontal bars; with several series each row holds one bar per series, in order.

    ``groups`` are the series; all have the same number of bars in the same row order.
    """
    if not groups or not groups[0].bars:
        return format_html('<p class="text-body-secondary small mb-0">{}</p>', empty)
    rows = len(groups[0].bars)
    per_row = len(groups)
    row_height = ROW + (per_row - 1) * (BAR + PAD)
    legend = 18 if per_row > 1 else 0
    height = legend + rows * row_height + PAD
    peak = max((abs(_num(b.value)) for s in groups for b in s.bars), default=0.0) or 1.0
    value_room = 110
    track = WIDTH - value_room
    chart_id = f"vefa-chart-{next(_ids)}"
    # "start" follows the text direction: the svg's direction="rtl" anchors it on the right.
    anchor_start = "start"
    parts: list[SafeString] = []
    if per_row > 1:
        x: float = WIDTH if rtl else 0
        for i, series in enumerate(groups):
            color = COLORS[i % len(COLORS)]
            box_x = x - 10 if rtl else x
            text_x = x - 14 if rtl else x + 14
            parts.append(
                format_html(
                    '<rect x="{}" y="3" width="10" height="10" fill="{}"></rect>'
                    '<text x="{}" y="12" text-anchor="{}" class="vefa-chart-legend">{}</text>',
                    box_x,
                    color,
                    text_x,
                    anchor_start,
                    series.name,
                )
            )
            step = 16 + 7 * len(series.name)
            x = x - step if rtl else x + step
    for row in range(rows):
        top = legend + row * row_height
        label = groups[0].bars[row].label
        parts.append(
            format_html(
                '<text x="{}" y="{}" text-anchor="{}" class="vefa-chart-label">{}</text>',
                WIDTH if rtl else 0,
                top + 13,
                anchor_start,
                _short(label),
            )
        )
        for i, series in enumerate(groups):
            bar = series.bars[row]
            length = max(abs(_num(bar.value)) / peak * track, 0.0 if not _num(bar.value) else 1.0)
            y = top + 18 + i * (BAR + PAD)
            left = WIDTH - length if rtl else 0.0
            value_x = WIDTH - length - 4 if rtl else length + 4
            name = f"{series.name} · " if series.name else ""
            parts.append(
                format_html(
                    "<g><title>{}{}: {}</title>"
                    '<rect x="{}" y="{}" width="{}" height="{}" rx="2" fill="{}"></rect>'
                    '<text x="{}" y="{}" text-anchor="{}" class="vefa-chart-value">{}'
                    "</text></g>",
                    name,
                    label,
                    bar.text,
                    f"{left:.1f}",
                    y,
                    f"{length:.1f}",
                    BAR,
                    COLORS[i % len(COLORS)],
                    f"{value_x:.1f}",
                    y + BAR - 2,
                    anchor_start,
                    bar.text,
                )
            )
    body = mark_safe("".join(parts))  # noqa: S308 (each part is built with format_html)
    return format_html(
        '<svg class="vefa-chart" role="img" aria-labelledby="{id}-title" '
        'viewBox="0 0 {w} {h}" width="100%" preserveAspectRatio="xMinYMin meet" '
        'xmlns="http://www.w3.org/2000/svg" direction="{dir}">'
        '<title id="{id}-title">{title}</title>{body}</svg>',
        id=chart_id,
        w=WIDTH,
        h=height,
        dir="rtl" if rtl else "ltr",
        title=title,
        body=body,
    )


def legend_items(names: Sequence[str]) -> SafeString:
    return format_html_join(
        "",
        '<span class="me-3"><span class="d-inline-block rounded-1 me-1" '
        'style="width:.8em;height:.8em;background:{}"></span>{}</span>',
        ((COLORS[i % len(COLORS)], n) for i, n in enumerate(names)),
    )
