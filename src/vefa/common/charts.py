"""Server-side SVG charts for dashboards: no script, no chart library, no CDN.

App-independent: the analytics and the service dashboards build on these; amounts of money
are formatted by the app that knows the currency rules (``vefa.analytics.charts.fmt_money``).

Every builder returns markup that is safe to put in a page:

- every text that comes from data (product names, segment labels, formatted numbers) goes
  through ``format_html`` or ``escape``: SVG is XML, and a name like ``<script>`` must stay
  text;
- each chart is an ``<svg role="img">`` labelled by its ``<title>`` and ``<desc>``, and each
  mark (cell, bar, point) has its own ``<title>`` for tooltips and screen readers; the page
  shows the same figures as a table next to the chart;
- right to left: the layout is computed in left-to-right coordinates and mirrored
  (``x → WIDTH - x``) when the page language is written right to left; the ``<svg>`` then
  carries ``direction="rtl"`` so ``text-anchor`` ("start", "end") follows the reading
  direction of the mirrored text without a second set of anchors;
- numbers and shares are formatted for the active language with Babel, so a Persian page
  reads Persian grouping and words, a Turkish one a decimal comma.

Charts use a ``viewBox`` and ``width="100%"`` so they shrink on a phone instead of making the
page wider than the screen.
"""

from __future__ import annotations

import datetime
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from babel.core import Locale
from babel.dates import format_skeleton
from babel.numbers import (
    format_compact_decimal,
    format_decimal,
    parse_pattern,
)
from django.utils import translation
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

# The width of a chart's coordinates. Charts scale to their column; 400 keeps the text
# readable on a 360 px phone (a wider chart would shrink it below 10 px).
WIDTH = 400
# A heat map gets wider than WIDTH so each column keeps at least this much room; it then
# scrolls sideways on a phone instead of shrinking.
MIN_CELL = 34
FONT = 12
SMALL = 11
BLUE = (13, 110, 253)
PALE = (231, 241, 255)
SERIES_COLORS = ("#0d6efd", "#198754", "#6f42c1", "#fd7e14")
NEGATIVE = "#dc3545"
BABEL_LOCALES = {"en": "en", "tr": "tr", "sr-latn": "sr_Latn", "fa": "fa"}
DASH = "—"


# --- formatting for the active language -------------------------------------------------------


def babel_locale() -> str:
    """The Babel locale of the active Django language (``sr-latn`` → ``sr_Latn``)."""
    language = (translation.get_language() or "en").lower()
    return BABEL_LOCALES.get(language, BABEL_LOCALES.get(language.split("-")[0], "en"))


def finite(value: object) -> float | None:
    """``value`` as a finite float, or ``None`` (null, NaN, infinite, not a number)."""
    if value is None or isinstance(value, bool):
        return None
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError, OverflowError):
        return None
    return number if math.isfinite(number) else None


def fmt_int(value: object) -> str:
    """A whole number with the language's grouping (``12,345`` / ``12.345``); ``—`` if none."""
    number = finite(value)
    if number is None:
        return DASH
    return str(format_decimal(round(number), format="#,##0", locale=babel_locale()))


def fmt_decimal(value: object, digits: int = 2) -> str:
    number = finite(value)
    if number is None:
        return DASH
    pattern = "#,##0." + "0" * digits if digits > 0 else "#,##0"
    return str(format_decimal(number, format=pattern, locale=babel_locale()))


def _percent(number: float, digits: int) -> str:
    """``number`` (a share) in the language's own percent pattern (``12.5%``, ``%12,5``)
    with exactly ``digits`` decimals."""
    locale = Locale.parse(babel_locale())
    pattern = parse_pattern(locale.percent_formats[None].pattern)
    pattern.frac_prec = (digits, digits)
    return str(pattern.apply(number, locale))


def fmt_share(value: object, digits: int = 1) -> str:
    """A share (0.256) as a percentage for the language (``25.6%``, ``%25,6`` …)."""
    number = finite(value)
    if number is None:
        return DASH
    return _percent(number, digits)


def fmt_change(value: object) -> str:
    """A relative change (0.12) with its sign: ``+12.0%`` / ``-3.5%``; ``—`` when unknown."""
    number = finite(value)
    if number is None:
        return DASH
    text = _percent(number, 1)
    return "+" + text if number > 0 else text


def cents_to_units(cents: object, currency: str) -> Decimal | None:
    """Integer cents as a ``Decimal`` amount in currency units (two decimals)."""
    if isinstance(cents, int) and not isinstance(cents, bool):
        whole = cents  # exact, however large (a float would round above 2**53)
    else:
        number = finite(cents)
        if number is None:
            return None
        whole = round(number)
    try:
        return (Decimal(whole) / 100).quantize(Decimal("0.01"))
    except InvalidOperation:
        return None


def fmt_compact_money(cents: object) -> str:
    """A short amount for an axis (``1.2M``, ``۱٫۲ میلیون``) without the currency."""
    number = finite(cents)
    if number is None:
        return DASH
    return str(format_compact_decimal(number / 100, locale=babel_locale(), fraction_digits=1))


def fmt_month(day: datetime.date) -> str:
    """A month as the language writes it short (``Mar 2025``)."""
    return str(format_skeleton("yMMM", day, locale=babel_locale()))


def fmt_date(day: datetime.date | None) -> str:
    if day is None:
        return DASH
    return str(format_skeleton("yMMMd", day, locale=babel_locale()))


# --- colours ------------------------------------------------------------------------------


def shade(share: float | None) -> str:
    """A blue for ``share`` (0 → pale, 1 → full); grey for no data."""
    if share is None:
        return "#f1f3f5"
    t = min(max(share, 0.0), 1.0)
    rgb = (round(PALE[i] + (BLUE[i] - PALE[i]) * t) for i in range(3))
    return "#{:02x}{:02x}{:02x}".format(*rgb)


def ink(share: float | None) -> str:
    """Text colour readable on ``shade(share)``."""
    return "#ffffff" if share is not None and share > 0.55 else "#212529"


# --- building blocks ------------------------------------------------------------------------


@dataclass
class _Canvas:
    """Marks in left-to-right coordinates; ``x``/``box`` mirror them for right to left."""

    rtl: bool
    width: float = WIDTH
    parts: list[SafeString] = field(default_factory=list)

    def x(self, x: float) -> float:
        return self.width - x if self.rtl else x

    def box(self, x: float, w: float) -> float:
        """The left edge of a box drawn from ``x`` to ``x + w`` (left to right)."""
        return self.width - x - w if self.rtl else x

    def add(self, markup: SafeString) -> None:
        self.parts.append(markup)

    def text(
        self,
        x: float,
        y: float,
        text: str,
        *,
        anchor: str = "start",
        css: str = "",
        size: int = FONT,
        fill: str = "",
        weight: str = "",
    ) -> None:
        """A label at (``x``, ``y``); ``anchor`` is logical (start/middle/end)."""
        style = f"font-size:{size}px" + (f";font-weight:{weight}" if weight else "")
        self.add(
            format_html(
                '<text x="{}" y="{}" text-anchor="{}" class="{}" style="{}"{}>{}</text>',
                _n(self.x(x)),
                _n(y),
                anchor,
                css or "vefa-chart-label",
                style,
                format_html(' fill="{}"', fill) if fill else "",
                isolate(text, self.rtl),
            )
        )

    def line(
        self, x1: float, y1: float, x2: float, y2: float, *, css: str, dash: bool = False
    ) -> None:
        self.add(
            format_html(
                '<line x1="{}" y1="{}" x2="{}" y2="{}" class="{}"{}></line>',
                _n(self.x(x1)),
                _n(y1),
                _n(self.x(x2)),
                _n(y2),
                css,
                mark_safe(' stroke-dasharray="4 3"') if dash else "",
            )
        )

    def body(self) -> SafeString:
        return mark_safe("".join(self.parts))  # noqa: S308 (each part built with format_html)


def isolate(text: str, rtl: bool) -> str:
    """``text`` as its own bidirectional run on a right-to-left chart (like ``<bdi>``): an
    amount such as ``-TRY 450.00`` or an English label keeps its order instead of having
    its minus sign or last word moved to the other end by the surrounding Persian."""
    return f"\u2068{text}\u2069" if rtl and text else text


def _n(value: float) -> str:
    """A coordinate with one decimal, without trailing zeros."""
    text = f"{value:.1f}"
    return text[:-2] if text.endswith(".0") else text


def _svg(
    *,
    chart_id: str,
    title: str,
    description: str,
    height: float,
    rtl: bool,
    body: SafeString,
    width: float = WIDTH,
) -> SafeString:
    direction = "rtl" if rtl else "ltr"
    # A chart wider than usual keeps a minimum size (its box scrolls on a small screen).
    size = (
        f";min-width:{round(width * 0.8)}px;max-width:{round(width * 1.3)}px"
        if width > WIDTH
        else ""
    )
    return format_html(
        '<svg id="{id}" class="vefa-chart" role="img" aria-labelledby="{id}-title {id}-desc" '
        'viewBox="0 0 {w} {h}" width="100%" preserveAspectRatio="xMidYMin meet" '
        'xmlns="http://www.w3.org/2000/svg" direction="{dir}" '
        'style="direction:{dir}{size}" data-chart-title="{title}">'
        '<title id="{id}-title">{title}</title><desc id="{id}-desc">{desc}</desc>'
        "{body}</svg>",
        id=chart_id,
        w=_n(width),
        h=_n(height),
        dir=direction,
        size=size,
        title=title,
        desc=description,
        body=body,
    )


def empty_state(text: str) -> SafeString:
    return format_html('<p class="text-body-secondary small mb-0 vefa-chart-empty">{}</p>', text)


def _short(label: str, limit: int) -> str:
    label = " ".join(str(label).split())
    return label if len(label) <= limit else label[: limit - 1] + "…"


# --- heat map -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Cell:
    """One cell of a heat map: ``level`` (0..1) colours it, ``text`` is printed in it."""

    level: float | None
    text: str
    title: str
    href: str = ""


def heat_map(
    *,
    chart_id: str,
    title: str,
    description: str,
    row_labels: Sequence[str],
    column_labels: Sequence[str],
    cells: Mapping[tuple[int, int], Cell],
    rtl: bool,
    x_title: str = "",
    y_title: str = "",
    empty: str = "",
    cell_height: float = 44,
    subtext: Mapping[tuple[int, int], str] | None = None,
) -> SafeString:
    """A grid of cells: rows top to bottom, columns from the reading start (left in English,
    right in Persian). Cells with an ``href`` are links (``<a>`` in SVG)."""
    if not row_labels or not column_labels or not cells:
        return empty_state(empty)
    label_w = min(max(max(len(str(label)) for label in row_labels) * 7 + 12, 36), 120)
    y_axis = 18 if y_title else 0
    left = y_axis + label_w
    top = 20 + (18 if x_title else 0)
    columns = len(column_labels)
    width = max(float(WIDTH), left + columns * MIN_CELL)
    canvas = _Canvas(rtl, width=width)
    cell_w = (width - left) / columns
    height = top + len(row_labels) * cell_height + 6
    if x_title:
        canvas.text(left + (width - left) / 2, 13, x_title, anchor="middle", css="vefa-chart-axis")
    if y_title:
        middle = top + len(row_labels) * cell_height / 2
        x = canvas.x(12)
        canvas.add(
            format_html(
                '<text x="{x}" y="{y}" text-anchor="middle" class="vefa-chart-axis" '
                'style="font-size:{s}px" transform="rotate(-90 {x} {y})">{t}</text>',
                x=_n(x),
                y=_n(middle),
                s=FONT,
                t=isolate(y_title, rtl),
            )
        )
    step = max(1, math.ceil(columns / 24))
    for j, label in enumerate(column_labels):
        if j % step == 0:
            canvas.text(
                left + (j + 0.5) * cell_w,
                top - 6,
                _short(label, 12),
                anchor="middle",
                size=SMALL if columns > 8 else FONT,
            )
    for i, label in enumerate(row_labels):
        canvas.text(
            left - 6,
            top + i * cell_height + cell_height / 2 + 4,
            _short(label, 16),
            anchor="end",
            size=SMALL if cell_height < 30 else FONT,
        )
        for j in range(columns):
            cell = cells.get((i, j))
            x = canvas.box(left + j * cell_w, cell_w)
            y = top + i * cell_height
            if cell is None:
                continue
            text_size = SMALL if cell_w < 60 or cell_height < 30 else FONT
            fits = len(cell.text) * text_size * 0.6 < cell_w - 2
            inner = format_html(
                '<title>{}</title><rect x="{}" y="{}" width="{}" height="{}" rx="3" fill="{}" '
                'class="vefa-chart-cell"></rect>{}',
                cell.title,
                _n(x + 1),
                _n(y + 1),
                _n(max(cell_w - 2, 1)),
                _n(max(cell_height - 2, 1)),
                shade(cell.level),
                format_html(
                    '<text x="{}" y="{}" text-anchor="middle" fill="{}" style="font-size:{}px" '
                    'class="vefa-chart-cell-text">{}</text>',
                    _n(x + cell_w / 2),
                    _n(y + cell_height / 2 + (0 if subtext else 4)),
                    ink(cell.level),
                    text_size,
                    isolate(cell.text, rtl),
                )
                if fits
                else "",
            )
            sub = (subtext or {}).get((i, j), "")
            if sub and fits and cell_height >= 36:
                inner = format_html(
                    '{}<text x="{}" y="{}" text-anchor="middle" fill="{}" style="font-size:{}px" '
                    'class="vefa-chart-cell-text">{}</text>',
                    inner,
                    _n(x + cell_w / 2),
                    _n(y + cell_height / 2 + 14),
                    ink(cell.level),
                    SMALL - 1,
                    isolate(sub, rtl),
                )
            if cell.href:
                canvas.add(
                    format_html(
                        '<a href="{}" class="vefa-chart-link" aria-label="{}">{}</a>',
                        cell.href,
                        cell.title,
                        inner,
                    )
                )
            else:
                canvas.add(format_html("<g>{}</g>", inner))
    return _svg(
        chart_id=chart_id,
        title=title,
        description=description,
        height=height,
        rtl=rtl,
        body=canvas.body(),
        width=width,
    )


# --- funnel ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Bar:
    label: str
    value: float | int | Decimal | None
    text: str


def funnel(
    *, chart_id: str, title: str, description: str, steps: Sequence[Bar], rtl: bool, empty: str
) -> SafeString:
    """Centred bars, one per step, width by value; the label and value above each bar."""
    if not steps or not any((finite(s.value) or 0) > 0 for s in steps):
        return empty_state(empty)
    canvas = _Canvas(rtl)
    peak = max((finite(s.value) or 0.0) for s in steps) or 1.0
    row = 46
    for i, step in enumerate(steps):
        value = max(finite(step.value) or 0.0, 0.0)
        w = max(value / peak * (WIDTH - 40), 2.0 if value else 0.0)
        top = i * row
        canvas.text(WIDTH / 2, top + 14, f"{step.label}: {step.text}", anchor="middle")
        canvas.add(
            format_html(
                '<g><title>{}: {}</title><rect x="{}" y="{}" width="{}" height="20" rx="3" '
                'fill="{}"></rect></g>',
                step.label,
                step.text,
                _n((WIDTH - w) / 2),
                top + 20,
                _n(w),
                SERIES_COLORS[0],
            )
        )
    return _svg(
        chart_id=chart_id,
        title=title,
        description=description,
        height=len(steps) * row + 4,
        rtl=rtl,
        body=canvas.body(),
    )


# --- matrix table (transitions) ---------------------------------------------------------------


def matrix_table(
    *,
    caption: str,
    corner: str,
    row_labels: Sequence[str],
    column_labels: Sequence[str],
    values: Mapping[tuple[int, int], int],
    empty: str,
) -> SafeString:
    """An HTML table whose cells are shaded by their share of the row (a transition matrix:
    rows "from", columns "to"); the diagonal (no change) is framed. Tables follow the page's
    direction by themselves."""
    if not values or not any(values.values()):
        return empty_state(empty)
    head = format_html_join(
        "", '<th scope="col" class="text-center small">{}</th>', ((c,) for c in column_labels)
    )
    rows: list[SafeString] = []
    for i, label in enumerate(row_labels):
        total = sum(values.get((i, j), 0) for j in range(len(column_labels)))
        cells: list[SafeString] = []
        for j, _column in enumerate(column_labels):
            count = values.get((i, j), 0)
            share = count / total if total else None
            cells.append(
                format_html(
                    '<td class="text-center{}" style="background:{};color:{}" title="{}">{}</td>',
                    " vefa-diagonal" if row_labels[i] == column_labels[j] else "",
                    shade(share) if count else "transparent",
                    ink(share) if count else "inherit",
                    fmt_share(share) if share is not None else DASH,
                    fmt_int(count),
                )
            )
        rows.append(
            format_html(
                '<tr><th scope="row" class="small fw-normal"><bdi>{}</bdi></th>{}</tr>',
                label,
                mark_safe("".join(cells)),  # noqa: S308 (built with format_html)
            )
        )
    return format_html(
        '<div class="table-responsive"><table class="table table-sm table-bordered '
        'vefa-matrix mb-0"><caption class="visually-hidden">{}</caption><thead><tr>'
        '<th scope="col" class="small">{}</th>{}</tr></thead><tbody>{}</tbody></table></div>',
        caption,
        corner,
        head,
        mark_safe("".join(rows)),  # noqa: S308 (built with format_html)
    )


# --- line (Pareto curve) ------------------------------------------------------------------------


def pareto_line(
    *,
    chart_id: str,
    title: str,
    description: str,
    points: Sequence[tuple[float, float]],
    mark_x: float | None,
    rtl: bool,
    x_title: str,
    y_title: str,
    mark_label: str,
    empty: str,
) -> SafeString:
    """The cumulative share of value (y) against the share of customers, best first (x),
    with the 80 % line and the share of customers that reaches it, and the diagonal of an
    even spread for comparison. Both axes run 0..100 %; x runs from the reading start."""
    clean = [
        (min(max(x, 0.0), 1.0), min(max(y, 0.0), 1.0))
        for x, y in ((finite(a), finite(b)) for a, b in points)
        if x is not None and y is not None
    ]
    if not clean:
        return empty_state(empty)
    canvas = _Canvas(rtl)
    left, right, top, bottom = 56.0, 16.0, 12.0, 44.0
    plot_h = 240.0
    plot_w = WIDTH - left - right
    height = top + plot_h + bottom

    def px(x: float) -> float:
        return left + x * plot_w

    def py(y: float) -> float:
        return top + (1 - y) * plot_h

    for tick in (0.0, 0.25, 0.5, 0.75, 1.0):
        canvas.line(left, py(tick), left + plot_w, py(tick), css="vefa-chart-grid")
        canvas.text(left - 6, py(tick) + 4, fmt_share(tick, 0), anchor="end", size=SMALL)
        canvas.text(px(tick), top + plot_h + 16, fmt_share(tick, 0), anchor="middle", size=SMALL)
    canvas.text(left + plot_w / 2, height - 6, x_title, anchor="middle", css="vefa-chart-axis")
    y_x = canvas.x(12)
    canvas.add(
        format_html(
            '<text x="{x}" y="{y}" text-anchor="middle" class="vefa-chart-axis" '
            'style="font-size:{s}px" transform="rotate(-90 {x} {y})">{t}</text>',
            x=_n(y_x),
            y=_n(top + plot_h / 2),
            s=FONT,
            t=isolate(y_title, rtl),
        )
    )
    canvas.line(px(0), py(0), px(1), py(1), css="vefa-chart-reference", dash=True)
    canvas.line(px(0), py(0.8), px(1), py(0.8), css="vefa-chart-mark", dash=True)
    if mark_x is not None and finite(mark_x) is not None:
        mx = min(max(float(mark_x), 0.0), 1.0)
        canvas.line(px(mx), py(0), px(mx), py(0.8), css="vefa-chart-mark", dash=True)
        canvas.text(
            px(mx) + 6,
            py(0.8) + 16,
            mark_label,
            anchor="start",
            css="vefa-chart-mark-label",
            size=SMALL,
        )
    path = " ".join(
        f"{'M' if k == 0 else 'L'}{_n(canvas.x(px(x)))},{_n(py(y))}"
        for k, (x, y) in enumerate([(0.0, 0.0), *clean])
    )
    canvas.add(
        format_html(
            '<path d="{}" fill="none" stroke="{}" stroke-width="2.5" class="vefa-chart-curve">'
            "<title>{}</title></path>",
            path,
            SERIES_COLORS[0],
            title,
        )
    )
    return _svg(
        chart_id=chart_id,
        title=title,
        description=description,
        height=height,
        rtl=rtl,
        body=canvas.body(),
    )


# --- histogram --------------------------------------------------------------------------------


def histogram(
    *,
    chart_id: str,
    title: str,
    description: str,
    bins: Sequence[Bar],
    rtl: bool,
    x_title: str,
    empty: str,
) -> SafeString:
    """Vertical bars of equal width side by side (bins in order from the reading start), the
    value above each bar and the bin's label below."""
    if not bins or not any((finite(b.value) or 0) > 0 for b in bins):
        return empty_state(empty)
    canvas = _Canvas(rtl)
    top, bottom, side = 22.0, 52.0, 8.0
    plot_h = 200.0
    height = top + plot_h + bottom
    slot = (WIDTH - 2 * side) / len(bins)
    peak = max((finite(b.value) or 0.0) for b in bins) or 1.0
    canvas.line(side, top + plot_h, WIDTH - side, top + plot_h, css="vefa-chart-axis-line")
    for k, item in enumerate(bins):
        value = max(finite(item.value) or 0.0, 0.0)
        h = value / peak * plot_h
        h = max(h, 1.0) if value else 0.0
        x = side + k * slot
        canvas.add(
            format_html(
                '<g><title>{}: {}</title><rect x="{}" y="{}" width="{}" height="{}" rx="2" '
                'fill="{}"></rect></g>',
                item.label,
                item.text,
                _n(canvas.box(x + slot * 0.12, slot * 0.76)),
                _n(top + plot_h - h),
                _n(slot * 0.76),
                _n(h),
                SERIES_COLORS[0],
            )
        )
        canvas.text(
            x + slot / 2,
            top + plot_h - h - 5,
            item.text,
            anchor="middle",
            size=SMALL,
            css="vefa-chart-value",
        )
        canvas.text(
            x + slot / 2, top + plot_h + 16, _short(item.label, 18), anchor="middle", size=SMALL
        )
    canvas.text(WIDTH / 2, height - 8, x_title, anchor="middle", css="vefa-chart-axis")
    return _svg(
        chart_id=chart_id,
        title=title,
        description=description,
        height=height,
        rtl=rtl,
        body=canvas.body(),
    )


# --- horizontal bars with negatives (profitability) -----------------------------------------


@dataclass(frozen=True)
class BarRow:
    """One row of a bar chart: a label and one (value, text) per series."""

    label: str
    values: Sequence[tuple[float | int | Decimal | None, str]]


def bar_chart(
    *,
    chart_id: str,
    title: str,
    description: str,
    rows: Sequence[BarRow],
    series: Sequence[str],
    rtl: bool,
    empty: str,
) -> SafeString:
    """Horizontal bars, a label above each row and one bar per series below it; negative
    values grow from the zero line towards the reading start, in red."""
    if not rows or not series:
        return empty_state(empty)
    numbers = [finite(v) or 0.0 for row in rows for v, _t in row.values]
    if not any(numbers):
        return empty_state(empty)
    canvas = _Canvas(rtl)
    low = min(min(numbers), 0.0)
    high = max(max(numbers), 0.0)
    span = (high - low) or 1.0
    value_room = 96.0
    track = WIDTH - 2 * value_room
    zero = value_room + (-low / span) * track
    legend = 20.0 if len(series) > 1 else 0.0
    bar, gap = 12.0, 4.0
    row_h = 18 + len(series) * (bar + gap) + 6
    height = legend + len(rows) * row_h + 4
    if len(series) > 1:
        x = 0.0
        for k, name in enumerate(series):
            canvas.add(
                format_html(
                    '<rect x="{}" y="4" width="10" height="10" fill="{}"></rect>',
                    _n(canvas.box(x, 10)),
                    SERIES_COLORS[k % len(SERIES_COLORS)],
                )
            )
            canvas.text(x + 14, 13, name, css="vefa-chart-legend", size=SMALL)
            x += 28 + len(name) * 7
    for i, row in enumerate(rows):
        top = legend + i * row_h
        canvas.text(0, top + 13, _short(row.label, 60))
        for k, (value, text) in enumerate(row.values):
            number = finite(value) or 0.0
            length = abs(number) / span * track
            length = max(length, 1.0) if number else 0.0
            y = top + 18 + k * (bar + gap)
            start = zero if number >= 0 else zero - length
            name = series[k] if k < len(series) else ""
            canvas.add(
                format_html(
                    '<g><title>{} · {}: {}</title><rect x="{}" y="{}" width="{}" height="{}" '
                    'rx="2" fill="{}"></rect></g>',
                    row.label,
                    name,
                    text,
                    _n(canvas.box(start, length)),
                    _n(y),
                    _n(length),
                    _n(bar),
                    NEGATIVE if number < 0 else SERIES_COLORS[k % len(SERIES_COLORS)],
                )
            )
            if number >= 0:
                canvas.text(
                    zero + length + 4, y + bar - 2, text, css="vefa-chart-value", size=SMALL
                )
            else:
                canvas.text(
                    zero - length - 4,
                    y + bar - 2,
                    text,
                    anchor="end",
                    css="vefa-chart-value",
                    size=SMALL,
                )
    if low < 0:
        canvas.line(zero, legend, zero, height - 2, css="vefa-chart-axis-line")
    return _svg(
        chart_id=chart_id,
        title=title,
        description=description,
        height=height,
        rtl=rtl,
        body=canvas.body(),
    )


# --- KPI tile -------------------------------------------------------------------------------


def kpi_tile(
    *,
    label: str,
    value: str,
    change: float | None,
    change_text: str,
    previous: str = "",
    higher_is_better: bool = True,
) -> SafeString:
    """A key figure with its change against the previous period: an arrow up or down
    (green when the change is good, red when bad) and the words for screen readers."""
    number = finite(change)
    if number is None or number == 0:
        arrow, tone, words = "▬", "text-body-secondary", _("no change")
        if number is None:
            words = _("no comparison")
    elif number > 0:
        arrow, words = "▲", _("up")
        tone = "text-success" if higher_is_better else "text-danger"
    else:
        arrow, words = "▼", _("down")
        tone = "text-danger" if higher_is_better else "text-success"
    line = (
        format_html(
            '<div class="small {tone}"><span aria-hidden="true">{arrow}</span> '
            '<span class="visually-hidden">{words}</span><bdi>{change}</bdi>{previous}</div>',
            tone=tone,
            arrow=arrow,
            words=words,
            change=change_text,
            previous=format_html(
                ' <bdi class="text-body-secondary">({})</bdi>',
                _("before: %(value)s") % {"value": previous},
            )
            if previous
            else "",
        )
        if change_text
        else ""
    )
    return format_html(
        '<div class="border rounded p-2 h-100 vefa-kpi">'
        '<div class="small text-body-secondary">{label}</div>'
        '<div class="fs-5 text-break"><bdi>{value}</bdi></div>{line}</div>',
        label=label,
        value=value,
        line=line,
    )


# --- bars over time ---------------------------------------------------------------------------


def time_bars(
    *,
    chart_id: str,
    title: str,
    description: str,
    bars: Sequence[Bar],
    rtl: bool,
    empty: str,
    max_labels: int = 8,
) -> SafeString:
    """Narrow vertical bars side by side, one per period in time order from the reading start
    (days of a month or a year): a tick label under every few bars (at most ``max_labels``),
    the peak written above the plot, each bar's label and value in its ``<title>``."""
    if not bars or not any((finite(b.value) or 0) > 0 for b in bars):
        return empty_state(empty)
    canvas = _Canvas(rtl)
    top, bottom, side = 20.0, 30.0, 8.0
    plot_h = 140.0
    height = top + plot_h + bottom
    slot = (WIDTH - 2 * side) / len(bars)
    peak = max((finite(b.value) or 0.0) for b in bars) or 1.0
    canvas.line(side, top, WIDTH - side, top, css="vefa-chart-grid", dash=True)
    peak_bar = max(bars, key=lambda b: finite(b.value) or 0.0)
    canvas.text(side, top - 6, peak_bar.text, size=SMALL, css="vefa-chart-value")
    canvas.line(side, top + plot_h, WIDTH - side, top + plot_h, css="vefa-chart-axis-line")
    # As many tick labels as fit side by side without touching (about 0.6 em per character).
    longest = max(len(_short(b.label, 12)) for b in bars)
    fit = max(1, int((WIDTH - 2 * side) // (longest * SMALL * 0.6 + 8)))
    step = max(1, math.ceil(len(bars) / max(min(max_labels, fit), 1)))
    for k, item in enumerate(bars):
        value = max(finite(item.value) or 0.0, 0.0)
        h = value / peak * plot_h
        h = max(h, 1.0) if value else 0.0
        x = side + k * slot
        width = max(slot * 0.8, 0.6)
        canvas.add(
            format_html(
                '<g><title>{}: {}</title><rect x="{}" y="{}" width="{}" height="{}" '
                'fill="{}"></rect></g>',
                item.label,
                item.text,
                _n(canvas.box(x + (slot - width) / 2, width)),
                _n(top + plot_h - h),
                _n(width),
                _n(h),
                SERIES_COLORS[0],
            )
        )
        if k % step == 0:
            canvas.line(x + slot / 2, top + plot_h, x + slot / 2, top + plot_h + 4,
                        css="vefa-chart-axis-line")  # fmt: skip
            canvas.text(
                x + slot / 2, top + plot_h + 17, _short(item.label, 12), anchor="middle",
                size=SMALL,
            )  # fmt: skip
    return _svg(
        chart_id=chart_id,
        title=title,
        description=description,
        height=height,
        rtl=rtl,
        body=canvas.body(),
    )
