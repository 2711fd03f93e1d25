"""Charts of the planning pages as inline SVG, drawn on the server (no script, no CDN).

The chart scales to its container through ``viewBox``; every bar carries a ``<title>`` (the
browser's tooltip and the screen reader's text) and the page shows the same figures in a
table next to it.
"""

from __future__ import annotations

from decimal import Decimal

from django.utils.formats import date_format, number_format
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from vefa.sales.selectors.planning_forecast import Forecast

WIDTH = 960
HEIGHT = 320
LEFT = 70
RIGHT = 10
TOP = 16
BOTTOM = 40

# (attribute, CSS colour, label) of the bars in each month, in drawing order.
SERIES: tuple[tuple[str, str, str], ...] = (
    ("weighted", "#0d6efd", "Weighted pipeline"),
    ("commit", "#198754", "Commit"),
    ("best_case", "#20c997", "Best case"),
    ("target", "#6c757d", "Target"),
)


def _labels() -> dict[str, str]:
    return {
        "weighted": _("Weighted pipeline"),
        "commit": _("Commit"),
        "best_case": _("Best case"),
        "target": _("Target"),
        "history": _("History-based"),
    }


def _nice_max(value: Decimal) -> Decimal:
    """A round top for the axis (1, 2 or 5 × 10ⁿ) at or above ``value``."""
    if value <= 0:
        return Decimal(1)
    exponent = len(str(int(value))) - 1
    base = Decimal(10) ** exponent
    for step in (1, 2, 5, 10):
        if value <= base * step:
            return base * step
    return base * 10


def forecast_svg(result: Forecast) -> SafeString:
    """Bars per month (weighted, commit, best case, target) and the history-based line."""
    labels = _labels()
    values: list[Decimal] = []
    for month in result.months:
        for attr, _colour, _label in SERIES:
            value = getattr(month, attr)
            if value is not None:
                values.append(value)
        values.append(month.history)
    top = _nice_max(max(values, default=Decimal(0)))
    plot_w = WIDTH - LEFT - RIGHT
    plot_h = HEIGHT - TOP - BOTTOM
    group = plot_w / max(len(result.months), 1)
    bar = group * 0.8 / len(SERIES)

    def y(value: Decimal) -> float:
        return TOP + plot_h - float(value / top) * plot_h

    parts: list[str] = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'class="vefa-chart w-100 h-auto" role="img" direction="ltr" '
        f'aria-label="{escape(_("Forecast by month"))}" font-size="12" '
        f'font-family="system-ui, sans-serif">'
    ]
    for i in range(5):
        tick = top * i / 4
        ty = y(tick)
        parts.append(
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{ty:.1f}" y2="{ty:.1f}" '
            f'stroke="#dee2e6" stroke-width="1"/>'
            f'<text x="{LEFT - 6}" y="{ty + 4:.1f}" text-anchor="end" fill="#6c757d">'
            f"{escape(number_format(tick, 0, force_grouping=True))}</text>"
        )
    points: list[str] = []
    for index, month in enumerate(result.months):
        x0 = LEFT + index * group + group * 0.1
        for position, (attr, colour, _label) in enumerate(SERIES):
            value = getattr(month, attr)
            if value is None or value <= 0:
                continue
            bx = x0 + position * bar
            by = y(value)
            title = f"{labels[attr]} · {date_format(month.month, 'YEAR_MONTH_FORMAT')}: " + (
                f"{number_format(value, 2, force_grouping=True)} {result.currency}"
            )
            parts.append(
                f'<rect x="{bx:.1f}" y="{by:.1f}" width="{bar * 0.9:.1f}" '
                f'height="{TOP + plot_h - by:.1f}" fill="{colour}">'
                f"<title>{escape(title)}</title></rect>"
            )
        cx = LEFT + index * group + group / 2
        points.append(f"{cx:.1f},{y(month.history):.1f}")
        parts.append(
            f'<text x="{cx:.1f}" y="{HEIGHT - BOTTOM + 16}" text-anchor="middle" fill="#495057">'
            f"{escape(date_format(month.month, 'M'))}</text>"
        )
        if index == 0 or month.month.month == 1:
            parts.append(
                f'<text x="{cx:.1f}" y="{HEIGHT - BOTTOM + 30}" text-anchor="middle" '
                f'fill="#6c757d">{month.month.year}</text>'
            )
    if points:
        parts.append(
            f'<polyline points="{" ".join(points)}" fill="none" stroke="#fd7e14" '
            f'stroke-width="2" stroke-dasharray="6 3"><title>{escape(labels["history"])}</title>'
            "</polyline>"
        )
    parts.append(
        f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{TOP + plot_h}" y2="{TOP + plot_h}" '
        f'stroke="#495057"/></svg>'
    )
    return mark_safe("".join(parts))  # noqa: S308 - every text above is escaped


def legend() -> list[tuple[str, str]]:
    """(colour, label) of the chart's series for the legend under it."""
    labels = _labels()
    return [(colour, labels[attr]) for attr, colour, _label in SERIES] + [
        ("#fd7e14", labels["history"])
    ]
