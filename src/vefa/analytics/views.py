"""Pages of the analytical CRM: the dashboard, its CSV exports, the refresh button and its
progress, the refresh history, the settings, and the actions that turn an analytic list
(a set of customer-list filters) into a saved segment or into calls for each owner.

Every figure is built into a ``Panel``: one chart (inline SVG from ``analytics.charts``) and
one table of the same figures. The table is shown under the chart (in a ``<details>``, for
screen readers and printing) and is what the CSV export writes, with raw values instead of
formatted ones, so the page, the download and the picture never disagree.
"""

from __future__ import annotations

import csv
import datetime
import functools
import io
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.forms.models import fields_for_model
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseRedirect,
    QueryDict,
)
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from vefa.accounts.choices import Role
from vefa.analytics import charts, selectors, services
from vefa.analytics.engine import month_from_number
from vefa.analytics.models import AnalyticsSettings, Refresh
from vefa.common.errors import NotFound, PermissionDenied, ValidationFailed
from vefa.common.text import formula_safe as text_cell
from vefa.platform.models import Job

if TYPE_CHECKING:
    from vefa.accounts.models import User

# Cells of a CSV that a spreadsheet would read as a formula (or as a command) start with
# one of these; such a cell gets a leading apostrophe.
MAX_FILTERS_TEXT = 2_000
COHORTS_SHOWN = 24
RULES_SHOWN = 25
LADDER = ("one_time", "occasional", "regular", "loyal")


def actor_of(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


def _hidden(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """A page the user may not open answers 404, like a page that does not exist."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except NotFound as exc:
            raise Http404(str(exc.message)) from exc

    return wrapper


def is_admin(actor: User) -> bool:
    return bool(actor.is_active and (actor.is_superuser or actor.role == Role.ADMIN))


# --- values and panels --------------------------------------------------------------------


@dataclass(frozen=True)
class V:
    """One table cell: the raw value (for the CSV) and the text shown on the page."""

    raw: Any
    text: str

    def __str__(self) -> str:
        return self.text


@dataclass
class Panel:
    """One figure of the dashboard: chart, table (page and CSV), note and export options."""

    key: str
    title: str
    chart: SafeString
    columns: list[str]
    rows: list[list[V]] = field(default_factory=list)
    note: str = ""
    wide: bool = False
    png: bool = True
    shown_rows: int | None = None
    # The table is the figure itself (shown open, not folded under the chart).
    plain_table: bool = False
    # Leading columns of text (names), aligned with the text; the others are numbers.
    text_columns: int = 1

    @property
    def chart_id(self) -> str:
        return f"chart-{self.key}"

    @property
    def table_rows(self) -> list[list[V]]:
        return self.rows if self.shown_rows is None else self.rows[: self.shown_rows]


def _labels(module: str) -> dict[str, str]:
    """The translated labels of a metric module's codes (``LABELS``) for the active language."""
    import importlib

    labels = getattr(importlib.import_module(f"vefa.analytics.metrics.{module}"), "LABELS", {})
    return {str(code): str(label) for code, label in labels.items()}


def _label(labels: Mapping[str, str], code: Any) -> str:
    text = str(code if code is not None else "")
    return labels.get(text, text or "—")


def _int(value: Any) -> V:
    return V(int(value) if value is not None else None, charts.fmt_int(value))


def _share(value: Any, digits: int = 1) -> V:
    number = charts.finite(value)
    return V(round(number, 6) if number is not None else None, charts.fmt_share(value, digits))


def _money(cents: Any, currency: str) -> V:
    return V(charts.cents_to_units(cents, currency), charts.fmt_money(cents, currency))


def _customers_url(filters: Mapping[str, Any]) -> str:
    return f"{reverse('customers:list')}?{urlencode(dict(filters))}"


def _act_url(filters: Mapping[str, Any]) -> str:
    return f"{reverse('analytics:act')}?{urlencode(dict(filters))}"


@dataclass
class Context:
    """What every panel builder needs besides the results."""

    board: selectors.Dashboard
    rtl: bool

    @property
    def results(self) -> selectors.Results:
        assert self.board.results is not None
        return self.board.results

    @property
    def currency(self) -> str:
        return self.board.currency


def _rfm_panel(ctx: Context) -> Panel:
    grid = {
        (int(r["r_score"]), int(r["f_score"])): r
        for r in ctx.results.rows("rfm_grid")
        if r["r_score"] is not None and r["f_score"] is not None
    }
    peak = max((int(r["customers"] or 0) for r in grid.values()), default=0) or 1
    r_scores = [5, 4, 3, 2, 1]
    f_scores = [1, 2, 3, 4, 5]
    cells: dict[tuple[int, int], charts.Cell] = {}
    subtext: dict[tuple[int, int], str] = {}
    rows: list[list[V]] = []
    for i, r in enumerate(r_scores):
        for j, f in enumerate(f_scores):
            row = grid.get((r, f), {})
            customers = int(row.get("customers") or 0)
            money = row.get("monetary") or 0
            cells[(i, j)] = charts.Cell(
                level=customers / peak if customers else 0.0,
                text=charts.fmt_int(customers),
                title=_("R %(r)s, F %(f)s: %(customers)s customers, %(money)s")
                % {
                    "r": r,
                    "f": f,
                    "customers": charts.fmt_int(customers),
                    "money": charts.fmt_money(money, ctx.currency),
                },
                href=_customers_url({"r_score": r, "f_score": f}),
            )
            subtext[(i, j)] = charts.fmt_compact_money(money)
            if row:
                rows.append(
                    [V(r, str(r)), V(f, str(f)), _int(customers), _money(money, ctx.currency)]
                )
    title = _("RFM grid: recency against frequency")
    chart = charts.heat_map(
        chart_id="chart-rfm",
        title=title,
        description=_(
            "Customers per recency score (rows, 5 = bought most recently) and frequency score "
            "(columns, 5 = buys most often), with their spend in the window."
        ),
        row_labels=[_("R %(n)s") % {"n": r} for r in r_scores],
        column_labels=[_("F %(n)s") % {"n": f} for f in f_scores],
        cells=cells if grid else {},
        subtext=subtext,
        rtl=ctx.rtl,
        x_title=_("Frequency score"),
        y_title=_("Recency score"),
        empty=_("No customer bought in the RFM window."),
    )
    return Panel(
        key="rfm",
        title=title,
        chart=chart,
        columns=[
            _("R score"),
            _("F score"),
            _("Customers"),
            _("Spend (%(currency)s)") % {"currency": ctx.currency},
        ],
        rows=rows,
        note=_(
            "Select a cell to open its customers; from there they can be saved as a segment. "
            "Colour: number of customers."
        ),
        wide=True,
    )


def _ladder_panel(ctx: Context) -> Panel:
    labels = _labels("ladder")
    steps = ctx.results.ladder_steps
    total = sum(steps.values())
    bars = [
        charts.Bar(_label(labels, code), steps.get(code, 0), charts.fmt_int(steps.get(code, 0)))
        for code in LADDER
    ]
    title = _("Loyalty ladder")
    return Panel(
        key="ladder",
        title=title,
        chart=charts.funnel(
            chart_id="chart-ladder",
            title=title,
            description=_("Customers on each step of the loyalty ladder, by orders in a year."),
            steps=bars,
            rtl=ctx.rtl,
            empty=_("No customer is on the ladder yet."),
        ),
        columns=[_("Step"), _("Customers"), _("Share")],
        rows=[
            [
                V(_label(labels, code), _label(labels, code)),
                _int(steps.get(code, 0)),
                _share(steps.get(code, 0) / total if total else None),
            ]
            for code in LADDER
        ],
    )


def _transitions_panel(ctx: Context) -> Panel:
    labels = _labels("ladder")
    order = ["none", *LADDER]
    values: dict[tuple[int, int], int] = {}
    rows: list[list[V]] = []
    for row in ctx.results.rows("ladder_transitions"):
        source, target = str(row["from_step"] or "none"), str(row["to_step"] or "none")
        count = int(row["customers"] or 0)
        if source in order and target in order:
            key = (order.index(source), order.index(target))
            values[key] = values.get(key, 0) + count
        rows.append(
            [
                V(_label(labels, source), _label(labels, source)),
                V(_label(labels, target), _label(labels, target)),
                _int(count),
            ]
        )
    names = [_label(labels, code) for code in order]
    title = _("Moves on the ladder in the last quarter")
    return Panel(
        key="transitions",
        title=title,
        chart=charts.matrix_table(
            caption=title,
            corner=_("From ↓ / to →"),
            row_labels=names,
            column_labels=names,
            values=values,
            empty=_("No moves to show yet."),
        ),
        columns=[_("From"), _("To"), _("Customers")],
        rows=rows,
        note=_("Rows: the step a quarter ago; columns: the step now. Shade: share of the row."),
        png=False,
    )


def _pareto_panel(ctx: Context) -> Panel:
    points = [
        (float(p["customer_share"]), float(p["value_share"]))
        for p in ctx.results.rows("pareto")
        if p["customer_share"] is not None and p["value_share"] is not None
    ]
    summary_rows = ctx.results.rows("pareto_summary")
    summary = summary_rows[0] if summary_rows else {}
    share_80 = summary.get("customer_share_for_80")
    title = _("Where the value comes from (Pareto)")
    chart = charts.pareto_line(
        chart_id="chart-pareto",
        title=title,
        description=_(
            "Cumulative share of the value against the share of customers, best customers "
            "first. The dashed lines mark 80 % of the value."
        ),
        points=points,
        mark_x=share_80,
        rtl=ctx.rtl,
        x_title=_("Share of customers, best first"),
        y_title=_("Share of value"),
        mark_label=_("%(share)s of customers") % {"share": charts.fmt_share(share_80)},
        empty=_("No customer value in the window."),
    )
    note = ""
    if summary:
        note = _(
            "%(share80)s of the customers bring 80 %% of the value; the top 5 %% bring "
            "%(top5)s and the bottom 20 %% bring %(bottom20)s (%(customers)s customers)."
        ) % {
            "share80": charts.fmt_share(share_80),
            "top5": charts.fmt_share(summary.get("top_5_share")),
            "bottom20": charts.fmt_share(summary.get("bottom_20_share")),
            "customers": charts.fmt_int(summary.get("customers")),
        }
    return Panel(
        key="pareto",
        title=title,
        chart=chart,
        columns=[_("Share of customers"), _("Share of value")],
        rows=[[_share(x), _share(y)] for x, y in points],
        note=note,
    )


def _band_label(band: int, bounds: tuple[int, int] | None) -> str:
    if bounds is None:
        return _("0 or less")
    low, high = bounds
    return f"{charts.fmt_compact_money(low * 100)}–{charts.fmt_compact_money(high * 100)}"


def _band_bounds(band: int) -> tuple[int, int] | None:
    """Band ``n`` ≥ 1 holds lifetime values from 10^(n-1) to 10^n currency units."""
    if band <= 0:
        return None
    return 10 ** (band - 1), 10**band


def _clv_panel(ctx: Context) -> Panel:
    rows_in = sorted(
        (r for r in ctx.results.rows("clv_distribution") if r["band"] is not None),
        key=lambda r: int(r["band"]),
    )
    bins: list[charts.Bar] = []
    rows: list[list[V]] = []
    for row in rows_in:
        band = int(row["band"])
        bounds = _band_bounds(band)
        label = _band_label(band, bounds)
        customers = int(row["customers"] or 0)
        bins.append(charts.Bar(label, customers, charts.fmt_int(customers)))
        rows.append(
            [
                V(label, label),
                V(bounds[0] if bounds else None, charts.fmt_int(bounds[0]) if bounds else "—"),
                V(bounds[1] if bounds else 0, charts.fmt_int(bounds[1]) if bounds else "0"),
                _int(customers),
                _money(row["clv"], ctx.currency),
            ]
        )
    title = _("Customer lifetime value")
    return Panel(
        key="clv",
        title=title,
        chart=charts.histogram(
            chart_id="chart-clv",
            title=title,
            description=_("Customers by their expected lifetime value, in bands of powers of ten."),
            bins=bins,
            rtl=ctx.rtl,
            x_title=_("Lifetime value (%(currency)s)") % {"currency": ctx.currency},
            empty=_("No lifetime value could be computed yet."),
        ),
        columns=[
            _("Band"),
            _("From"),
            _("To"),
            _("Customers"),
            _("Lifetime value (%(currency)s)") % {"currency": ctx.currency},
        ],
        rows=rows,
    )


def _cohorts_panel(ctx: Context) -> Panel:
    data = [
        r
        for r in ctx.results.rows("cohorts")
        if r["cohort_month"] is not None and r["months_since"] is not None
    ]
    months = sorted({int(r["cohort_month"]) for r in data})[-COHORTS_SHOWN:]
    shown = set(months)
    width = min(
        max((int(r["months_since"]) for r in data if int(r["cohort_month"]) in shown), default=0)
        + 1,
        COHORTS_SHOWN,
    )
    cells: dict[tuple[int, int], charts.Cell] = {}
    month_labels = {m: charts.fmt_month(month_from_number(m)) for m in months}
    rows: list[list[V]] = []
    for r in sorted(data, key=lambda r: (int(r["cohort_month"]), int(r["months_since"]))):
        month, since = int(r["cohort_month"]), int(r["months_since"])
        if month not in shown or since >= width:
            continue
        label = month_labels[month]
        share = charts.finite(r["retained_share"])
        rows.append(
            [
                V(month_from_number(month).isoformat()[:7], label),
                _int(since),
                _int(r["customers"]),
                _int(r["cohort_customers"]),
                _share(r["retained_share"]),
                _share(r["revenue_share"]),
            ]
        )
        cells[(months.index(month), since)] = charts.Cell(
            level=share,
            text=charts.fmt_share(share, 0),
            title=_("%(cohort)s, month %(month)s: %(share)s of %(customers)s customers bought")
            % {
                "cohort": label,
                "month": charts.fmt_int(since),
                "share": charts.fmt_share(share),
                "customers": charts.fmt_int(r["cohort_customers"]),
            },
        )
    title = _("Cohorts: customers who bought again")
    return Panel(
        key="cohorts",
        title=title,
        chart=charts.heat_map(
            chart_id="chart-cohorts",
            title=title,
            description=_(
                "Each row is the month of the first purchase; each column the months since; "
                "the cell is the share of the cohort who bought in that month."
            ),
            row_labels=[month_labels[m] for m in months],
            column_labels=[charts.fmt_int(n) for n in range(width)],
            cells=cells,
            rtl=ctx.rtl,
            x_title=_("Months since the first purchase"),
            empty=_("No cohorts yet."),
            cell_height=22,
        ),
        columns=[
            _("Cohort"),
            _("Months since"),
            _("Customers"),
            _("Cohort size"),
            _("Customers retained"),
            _("Revenue retained"),
        ],
        rows=rows,
        wide=True,
    )


def _profitability_panel(ctx: Context) -> Panel:
    labels = _labels("rfm")
    order = list(labels)
    data = sorted(
        ctx.results.rows("profitability_by_segment"),
        key=lambda r: (
            order.index(r["rfm_segment"]) if r["rfm_segment"] in order else len(order),
            str(r["rfm_segment"]),
        ),
    )
    bar_rows = [
        charts.BarRow(
            _label(labels, r["rfm_segment"]),
            [
                (r["revenue"] or 0, charts.fmt_money(r["revenue"], ctx.currency)),
                (r["margin"] or 0, charts.fmt_money(r["margin"], ctx.currency)),
            ],
        )
        for r in data
    ]
    title = _("Profitability by RFM segment")
    return Panel(
        key="profitability",
        title=title,
        chart=charts.bar_chart(
            chart_id="chart-profitability",
            title=title,
            description=_(
                "Revenue and net margin (after the cost of goods, service, marketing and "
                "sales) of each RFM segment over the last 12 months."
            ),
            rows=bar_rows,
            series=[_("Revenue"), _("Net margin")],
            rtl=ctx.rtl,
            empty=_("No revenue in the last 12 months."),
        ),
        columns=[
            _("Segment"),
            _("Customers"),
            _("Revenue (%(currency)s)") % {"currency": ctx.currency},
            _("Net margin (%(currency)s)") % {"currency": ctx.currency},
            _("Unprofitable customers"),
        ],
        rows=[
            [
                V(_label(labels, r["rfm_segment"]), _label(labels, r["rfm_segment"])),
                _int(r["customers"]),
                _money(r["revenue"], ctx.currency),
                _money(r["margin"], ctx.currency),
                _int(r["unprofitable"]),
            ]
            for r in data
        ],
    )


def _product(names: Mapping[int, str], pk: Any) -> str:
    if pk is None:
        return "—"
    return names.get(int(pk)) or _("Product #%(id)s") % {"id": pk}


def _basket_panel(ctx: Context) -> Panel:
    names = ctx.board.product_names
    data = sorted(
        ctx.results.rows("basket_rules"),
        key=lambda r: (
            -(charts.finite(r["lift"]) or 0.0),
            -(charts.finite(r["confidence"]) or 0.0),
            r["antecedent"] or 0,
            r["consequent"] or 0,
        ),
    )
    rows = [
        [
            V(_product(names, r["antecedent"]), _product(names, r["antecedent"])),
            V(_product(names, r["consequent"]), _product(names, r["consequent"])),
            _int(r["baskets"]),
            _share(r["support"], 2),
            _share(r["confidence"]),
            V(
                round(float(r["lift"]), 4) if charts.finite(r["lift"]) is not None else None,
                charts.fmt_decimal(r["lift"], 2),
            ),
        ]
        for r in data
    ]
    title = _("Bought together")
    note = _(
        "Pairs of products in the same order: of the orders with the first, the share that "
        "also hold the second (confidence), and how much more often than by chance (lift)."
    )
    if len(rows) > RULES_SHOWN:
        note += " " + _("The %(n)s pairs with the highest lift are shown; the CSV has all.") % {
            "n": RULES_SHOWN
        }
    return Panel(
        key="basket",
        title=title,
        chart=mark_safe("")
        if rows
        else charts.empty_state(_("No pairs of products are bought together often enough.")),
        columns=[
            _("Bought"),
            _("Also bought"),
            _("Orders with both"),
            _("Support"),
            _("Confidence"),
            _("Lift"),
        ],
        rows=rows,
        note=note,
        png=False,
        shown_rows=RULES_SHOWN,
        plain_table=True,
        text_columns=2,
    )


# KPI code → (kind of value, higher is better).
KPI_KINDS: dict[str, tuple[str, bool]] = {
    "sales_growth": ("money", True),
    "new_customer_growth": ("count", True),
    "retention_rate": ("share", True),
    "active_share": ("share", True),
    "satisfaction_change": ("number", True),
    "marketing_cost_change": ("money", False),
}


def _kpi_value(kind: str, value: Any, currency: str) -> V:
    if kind == "money":
        return _money(value, currency)
    if kind == "count":
        return _int(value)
    if kind == "share":
        return _share(value)
    number = charts.finite(value)
    return V(number, charts.fmt_decimal(value, 2))


def _kpis_panel(ctx: Context) -> Panel:
    labels = _labels("kpis")
    known = list(KPI_KINDS)
    data = sorted(
        ctx.results.rows("kpis"),
        key=lambda r: (known.index(r["kpi"]) if r["kpi"] in known else len(known), r["kpi"]),
    )
    tiles: list[SafeString] = []
    rows: list[list[V]] = []
    for r in data:
        kind, better = KPI_KINDS.get(str(r["kpi"]), ("number", True))
        current = _kpi_value(kind, r["current"], ctx.currency)
        previous = _kpi_value(kind, r["previous"], ctx.currency)
        change = charts.finite(r["change"])
        label = _label(labels, r["kpi"])
        tiles.append(
            charts.kpi_tile(
                label=label,
                value=current.text,
                change=change,
                change_text=charts.fmt_change(change),
                previous=previous.text,
                higher_is_better=better,
            )
        )
        rows.append(
            [
                V(label, label),
                current,
                previous,
                V(round(change, 6) if change is not None else None, charts.fmt_change(change)),
            ]
        )
    tiles.append(
        charts.kpi_tile(
            label=_("Customers with results"),
            value=charts.fmt_int(ctx.results.customers),
            change=None,
            change_text="",
        )
    )
    grid = format_tiles(tiles)
    return Panel(
        key="kpis",
        title=_("Key figures: last complete month against the month before"),
        chart=grid,
        columns=[_("Figure"), _("This period"), _("Period before"), _("Change")],
        rows=rows,
        png=False,
        wide=True,
    )


def format_tiles(tiles: list[SafeString]) -> SafeString:
    return format_html(
        '<div class="row row-cols-2 row-cols-md-3 row-cols-xl-6 g-2">{}</div>',
        format_html_join("", '<div class="col">{}</div>', ((tile,) for tile in tiles)),
    )


PANELS: dict[str, Callable[[Context], Panel]] = {
    "kpis": _kpis_panel,
    "rfm": _rfm_panel,
    "ladder": _ladder_panel,
    "transitions": _transitions_panel,
    "pareto": _pareto_panel,
    "clv": _clv_panel,
    "cohorts": _cohorts_panel,
    "profitability": _profitability_panel,
    "basket": _basket_panel,
}


# --- CSV ------------------------------------------------------------------------------------


def formula_safe(value: Any) -> str:
    """A cell for a spreadsheet: text, never read as a formula (OWASP CSV injection).

    Every text cell that starts with ``= + - @``, a tab or a carriage return gets a leading
    apostrophe, so ``-2+3`` or ``-cmd|…`` from a product name is never run. Numbers are
    written as numbers (a negative margin stays a number); they come from the results, not
    from anything a person typed.
    """
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(round(value, 6))
    if isinstance(value, int | Decimal):
        return str(value)
    return text_cell(value.isoformat() if isinstance(value, datetime.date) else str(value))


def panel_csv(panel: Panel) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([formula_safe(c) for c in panel.columns])
    for row in panel.rows:
        writer.writerow([formula_safe(cell.raw) for cell in row])
    return buffer.getvalue()


# --- the dashboard ----------------------------------------------------------------------------


# The steps of a refresh (``Refresh.figures["seconds"]``) by name; others show their code.
STEP_LABELS: dict[str, Any] = {
    "extract": gettext_lazy("Reading the data"),
    "rfm": gettext_lazy("RFM"),
    "ladder": gettext_lazy("Loyalty ladder"),
    "value": gettext_lazy("Value classes"),
    "decline": gettext_lazy("Decline and overdue"),
    "cohorts": gettext_lazy("Cohorts"),
    "wallet": gettext_lazy("Share of wallet"),
    "profitability": gettext_lazy("Profitability"),
    "basket": gettext_lazy("Bought together"),
    "kpis": gettext_lazy("Key figures"),
    "clv": gettext_lazy("Lifetime value"),
    "combine": gettext_lazy("Combining the results"),
    "results": gettext_lazy("Writing the results"),
    "write_back": gettext_lazy("Writing the scores"),
}


def _figures(refresh: Refresh | None) -> list[tuple[str, str]]:
    """The last refresh's figures for people: seconds per step and counts."""
    if refresh is None:
        return []
    figures = refresh.figures or {}
    out: list[tuple[str, str]] = []
    seconds = figures.get("seconds") or {}
    if isinstance(seconds, dict):
        if "total" in seconds:
            out.append(
                (_("Total time"), _("%(s)s s") % {"s": charts.fmt_decimal(seconds["total"], 1)})
            )
        for step, value in seconds.items():
            if step != "total":
                label = str(STEP_LABELS.get(str(step), step))
                out.append((label, _("%(s)s s") % {"s": charts.fmt_decimal(value, 2)}))
    for key, label in (
        ("customers_scored", _("Customers scored")),
        ("scores_changed", _("Scores changed")),
        ("basket_rules", _("Basket rules")),
    ):
        if key in figures:
            out.append((str(label), charts.fmt_int(figures[key])))
    if figures.get("engine"):
        out.append((_("Engine"), str(figures["engine"])))
    if figures.get("clv_skipped"):
        out.append((_("Lifetime value skipped"), str(figures["clv_skipped"])))
    return out


@dataclass
class ListRow:
    item: selectors.AnalyticList
    count: str
    url: str
    act_url: str


@login_required
@require_GET
@_hidden
def dashboard(request: HttpRequest) -> HttpResponse:
    """All analytic figures of the latest refresh, the refresh button and its progress."""
    actor = actor_of(request)
    board = selectors.dashboard(actor)
    rtl = translation.get_language_bidi()
    panels: dict[str, Panel] = {}
    lists: list[ListRow] = []
    decline_page = None
    if board.results is not None:
        ctx = Context(board=board, rtl=rtl)
        panels = {key: build(ctx) for key, build in PANELS.items()}
        for item in selectors.ANALYTIC_LISTS:
            lists.append(
                ListRow(
                    item=item,
                    count=charts.fmt_int(board.results.list_counts.get(item.key, 0)),
                    url=_customers_url(item.filters),
                    act_url=_act_url(item.filters),
                )
            )
        decline_page = selectors.list_customers(
            actor, selectors.LISTS_BY_KEY["declining"].filters, size=10
        )
    as_of = board.refresh.as_of if board.refresh is not None else None
    context = {
        "board": board,
        "panels": panels,
        "lists": lists,
        "decline_page": decline_page,
        "decline_url": _customers_url(selectors.LISTS_BY_KEY["declining"].filters),
        "as_of": charts.fmt_date(as_of) if as_of else "",
        "as_of_iso": as_of.isoformat() if as_of else "",
        "figures": _figures(board.refresh),
        "can_refresh": services.can_refresh(actor),
        "is_admin": is_admin(actor),
        "refresh_form": RefreshForm(),
        "cell_form": CellForm(),
        "last_failed": board.last is not None and board.last.status == Refresh.Status.FAILED,
    }
    return render(request, "analytics/dashboard.html", context)


@login_required
@require_GET
@_hidden
def export_csv(request: HttpRequest, key: str) -> HttpResponse:
    """The table of one chart as CSV (UTF-8 with a byte order mark, so spreadsheets read
    Persian and Turkish letters right), formula-safe."""
    actor = actor_of(request)
    build = PANELS.get(key)
    if build is None:
        raise Http404(_("Not found."))
    board = selectors.dashboard(actor)
    if board.results is None:
        raise Http404(_("No figures yet."))
    panel = build(Context(board=board, rtl=False))
    as_of = board.refresh.as_of.isoformat() if board.refresh is not None else "latest"
    response = HttpResponse("\ufeff" + panel_csv(panel), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="analytics-{key}-{as_of}.csv"'
    return response


# --- refresh ----------------------------------------------------------------------------------


class RefreshForm(forms.Form):
    full = forms.BooleanField(
        label=gettext_lazy("Read everything again (full refresh)"), required=False
    )


@login_required
@require_POST
@_hidden
def refresh(request: HttpRequest) -> HttpResponse:
    """Queue a refresh (or show the one already under way) and go back to the dashboard."""
    actor = actor_of(request)
    selectors.refresh_current(actor)  # 404 for those who do not see the dashboards
    form = RefreshForm(request.POST)
    full = bool(form.is_valid() and form.cleaned_data["full"])
    row = services.refresh_request(actor=actor, full=full)  # 403 for roles that may not
    if row.status in (Refresh.Status.QUEUED, Refresh.Status.RUNNING):
        messages.info(request, _("The refresh is under way."))
    return HttpResponseRedirect(f"{reverse('analytics:dashboard')}#refresh")


@login_required
@require_GET
@_hidden
def refresh_status(request: HttpRequest, pk: int) -> HttpResponse:
    """The progress bar of a refresh; it polls itself every second until the run ends."""
    row = selectors.refresh_get(actor_of(request), pk)
    return render(request, "analytics/_refresh_status.html", {"row": row})


@login_required
@require_GET
@_hidden
def refresh_history(request: HttpRequest) -> HttpResponse:
    """The recent refresh runs with their time, counts and errors."""
    actor = actor_of(request)
    rows = selectors.refresh_history(actor)
    return render(
        request,
        "analytics/refreshes.html",
        {
            "rows": [(row, _figures(row)) for row in rows],
            "can_refresh": services.can_refresh(actor),
            "refresh_form": RefreshForm(),
        },
    )


# --- settings ---------------------------------------------------------------------------------

SETTINGS_GROUPS: list[tuple[Any, tuple[str, ...]]] = [
    (gettext_lazy("General"), ("reporting_currency", "nightly")),
    (
        gettext_lazy("RFM and loyalty ladder"),
        (
            "rfm_window_days",
            "ladder_window_days",
            "ladder_occasional_orders",
            "ladder_regular_orders",
            "ladder_loyal_orders",
        ),
    ),
    (
        gettext_lazy("Value classes and churn"),
        (
            "value_basis",
            "value_a_share",
            "value_b_share",
            "decline_share",
            "overdue_factor",
            "churn_p_alive",
        ),
    ),
    (gettext_lazy("Lifetime value"), ("clv_horizon_months", "clv_annual_discount")),
    (
        gettext_lazy("Cost to serve"),
        ("cost_per_activity", "cost_per_ticket", "cost_per_return", "cost_per_message"),
    ),
    (gettext_lazy("Bought together"), ("basket_min_support", "basket_min_confidence")),
]


def _settings_fields() -> dict[str, forms.Field]:
    fields = fields_for_model(AnalyticsSettings, exclude=["id", "updated_at"])
    fields["reporting_currency"] = forms.CharField(
        label=capfirst(AnalyticsSettings._meta.get_field("reporting_currency").verbose_name),
        max_length=3,
        min_length=3,
        help_text=gettext_lazy("ISO 4217 code, e.g. TRY, EUR, RSD, IRR."),
    )
    return dict(fields)


class SettingsForm(forms.Form):
    """The analytics settings; the checks across fields are the service's."""

    def __init__(self, *args: Any, read_only: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields.update(_settings_fields())
        for form_field in self.fields.values():
            form_field.disabled = read_only
            if isinstance(form_field.widget, forms.CheckboxInput):
                form_field.widget.attrs.setdefault("class", "form-check-input")
            elif isinstance(form_field.widget, forms.Select):
                form_field.widget.attrs.setdefault("class", "form-select")
            else:
                form_field.widget.attrs.setdefault("class", "form-control")

    def clean_reporting_currency(self) -> str:
        from vefa.sales.money import MoneyError, check_currency

        try:
            return check_currency(self.cleaned_data["reporting_currency"])
        except MoneyError:
            raise forms.ValidationError(_("Enter a three-letter currency code.")) from None

    def groups(self) -> list[tuple[Any, list[forms.BoundField]]]:
        seen: set[str] = set()
        out: list[tuple[Any, list[forms.BoundField]]] = []
        for title, names in SETTINGS_GROUPS:
            bound = [self[name] for name in names if name in self.fields]
            seen.update(names)
            if bound:
                out.append((title, bound))
        rest = [self[name] for name in self.fields if name not in seen]
        if rest:
            out.append((gettext_lazy("Other"), rest))
        return out


def _add_errors(form: forms.Form, exc: ValidationFailed) -> None:
    """The service's errors on the form's fields (others above the form)."""
    fields = getattr(exc, "fields", None) or {}
    for name, errors in fields.items():
        for error in errors:
            if name in form.fields:
                form.add_error(name, str(error))
            elif name == "__all__":
                form.add_error(None, str(error))
            else:
                form.add_error(None, f"{name}: {error}")
    if not fields:
        form.add_error(None, str(exc.message))


@login_required
@require_http_methods(["GET", "POST"])
@_hidden
def settings_page(request: HttpRequest) -> HttpResponse:
    """Windows, thresholds and costs of the analytics (administrators change them; other
    dashboard viewers read them)."""
    actor = actor_of(request)
    current = selectors.current_settings(actor)
    editable = is_admin(actor)
    if request.method == "POST" and not editable:
        raise DjangoPermissionDenied(_("Only administrators change the analytics settings."))
    initial = {name: getattr(current, name) for name in _settings_fields()}
    form = SettingsForm(
        request.POST if request.method == "POST" else None,
        initial=initial,
        read_only=not editable,
    )
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                services.settings_update(actor=actor, data=form.cleaned_data)
            except ValidationFailed as exc:
                _add_errors(form, exc)
            else:
                messages.success(
                    request,
                    _("The settings were saved; the next refresh uses them."),
                )
                return HttpResponseRedirect(reverse("analytics:settings"))
        status = 422
    return render(
        request,
        "analytics/settings.html",
        {"form": form, "editable": editable, "current": current},
        status=status,
    )


# --- from an analytic list to action ------------------------------------------------------------


def _filter_fields(actor: User) -> dict[str, forms.Field]:
    """The customer list's filters (its own and those other apps add), by parameter."""
    from vefa.customers.filters import NON_FILTER_PARAMS, CustomerFilterForm

    form = CustomerFilterForm({}, actor=actor)
    return {
        name: form_field
        for name, form_field in form.fields.items()
        if name not in NON_FILTER_PARAMS and name != "sort"
    }


def parse_filters(raw: str | Mapping[str, Any], actor: User) -> dict[str, str]:
    """The customer-list filters of an analytic list, from a query string or parameters.

    Only filters the customer list knows are taken; at least one is needed (an empty list
    would mean every customer). Values are checked by the customer list itself when the
    segment or the calls are created.
    """
    if isinstance(raw, str):
        if len(raw) > MAX_FILTERS_TEXT:
            raise ValidationFailed(
                _("Please correct the errors below."),
                fields={"filters": [_("The list is too long.")]},
            )
        data: Mapping[str, Any] = QueryDict(raw.lstrip("?"))
    else:
        data = raw
    known = _filter_fields(actor)
    unknown = sorted(
        str(k) for k in data if k not in known and k not in ("job", "csrfmiddlewaretoken")
    )
    clean: dict[str, str] = {}
    for name in known:
        value = data.get(name)
        if value not in (None, ""):
            clean[name] = str(value)[:200]
    errors: dict[str, list[str]] = {}
    if unknown:
        errors["filters"] = [_("Unknown filters: %(names)s") % {"names": ", ".join(unknown[:10])}]
    elif not clean:
        errors["filters"] = [_("Choose a list of customers first.")]
    if errors:
        raise ValidationFailed(_("Please correct the errors below."), fields=errors)
    return clean


def describe_filters(filters: Mapping[str, str], actor: User) -> list[tuple[str, str]]:
    """(label, value) of each filter for people (choice values by their labels)."""
    known = _filter_fields(actor)
    out: list[tuple[str, str]] = []
    for name, value in filters.items():
        form_field = known.get(name)
        label = str(form_field.label) if form_field is not None and form_field.label else name
        text = value
        choices = getattr(form_field, "choices", None)
        if choices:
            text = next((str(lbl) for key, lbl in choices if str(key) == value), value)
        out.append((label, text))
    return out


def default_name(filters: Mapping[str, str], actor: User) -> str:
    for item in selectors.ANALYTIC_LISTS:
        if dict(item.filters) == dict(filters):
            return str(item.title)[:100]
    text = ", ".join(f"{label}: {value}" for label, value in describe_filters(filters, actor))
    return text[:100]


class SegmentForm(forms.Form):
    filters = forms.CharField(widget=forms.HiddenInput, max_length=MAX_FILTERS_TEXT)
    name = forms.CharField(label=gettext_lazy("Name of the segment"), max_length=100)
    share_with_team = forms.BooleanField(label=gettext_lazy("Share with my team"), required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["name"].widget.attrs.update(
            {"class": "form-control", "autocomplete": "off", "dir": "auto"}
        )
        self.fields["share_with_team"].widget.attrs["class"] = "form-check-input"


class CallTasksForm(forms.Form):
    filters = forms.CharField(widget=forms.HiddenInput, max_length=MAX_FILTERS_TEXT)
    subject = forms.CharField(label=gettext_lazy("Subject of the call"), max_length=200)
    due = forms.DateField(
        label=gettext_lazy("Due on"),
        widget=forms.DateInput(attrs={"type": "date", "class": "form-control"}, format="%Y-%m-%d"),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["subject"].widget.attrs.update({"class": "form-control", "dir": "auto"})

    def clean_due(self) -> datetime.date:
        due: datetime.date = self.cleaned_data["due"]
        if due < timezone.localdate():
            raise forms.ValidationError(_("Choose today or a later day."))
        if due > timezone.localdate() + datetime.timedelta(days=366):
            raise forms.ValidationError(_("Choose a day within a year."))
        return due


class CellForm(forms.Form):
    """One cell of the RFM grid as an analytic list (R and F score)."""

    r_score = forms.TypedChoiceField(
        label=gettext_lazy("R score"), choices=[(n, n) for n in range(5, 0, -1)], coerce=int
    )
    f_score = forms.TypedChoiceField(
        label=gettext_lazy("F score"), choices=[(n, n) for n in range(1, 6)], coerce=int
    )


def _act_context(
    actor: User,
    filters: dict[str, str],
    *,
    segment_form: SegmentForm | None = None,
    calls_form: CallTasksForm | None = None,
    job: Job | None = None,
    filter_errors: list[str] | None = None,
) -> dict[str, Any]:
    query = urlencode(filters)
    preview = None
    preview_error = ""
    if filters:
        try:
            preview = selectors.list_customers(actor, filters, size=10)
        except ValidationFailed as exc:
            preview_error = "; ".join(
                f"{name}: {' '.join(str(e) for e in errors)}"
                for name, errors in (exc.fields or {}).items()
            ) or str(exc.message)
    name = default_name(filters, actor) if filters else ""
    return {
        "filters": filters,
        "query": query,
        "description": describe_filters(filters, actor),
        "customers_url": _customers_url(filters),
        "preview": preview,
        "preview_error": preview_error,
        "filter_errors": filter_errors or [],
        "segment_form": segment_form or SegmentForm(initial={"filters": query, "name": name}),
        "calls_form": calls_form
        or CallTasksForm(
            initial={
                "filters": query,
                "subject": _("Call: %(list)s") % {"list": name} if name else "",
                "due": timezone.localdate() + datetime.timedelta(days=1),
            }
        ),
        "job": job,
        "lists": [(item, _act_url(item.filters)) for item in selectors.ANALYTIC_LISTS],
    }


@login_required
@require_GET
@_hidden
def act(request: HttpRequest) -> HttpResponse:
    """An analytic list (customer filters in the query) with the forms that save it as a
    segment or plan a call for each customer; after planning, the job's progress."""
    actor = actor_of(request)
    selectors.current_settings(actor)  # 404 for those who do not see the dashboards
    params = request.GET.copy()
    job = None
    job_pk = params.pop("job", [""])[-1]
    if job_pk:
        from vefa.platform.jobs import job_get

        try:
            job = job_get(actor=actor, pk=job_pk)
        except NotFound:
            job = None
        if job is not None and job.kind != services.CALL_TASKS_JOB:
            job = None
    filter_errors: list[str] = []
    filters: dict[str, str] = {}
    if params:
        try:
            filters = parse_filters({k: params.get(k) for k in params}, actor)
        except ValidationFailed as exc:
            filter_errors = [str(e) for errors in (exc.fields or {}).values() for e in errors]
    context = _act_context(actor, filters, job=job, filter_errors=filter_errors)
    return render(request, "analytics/act.html", context, status=422 if filter_errors else 200)


@login_required
@require_GET
@_hidden
def act_cell(request: HttpRequest) -> HttpResponse:
    """The dashboard's "act on one RFM cell" form: on to the action page for that cell."""
    actor = actor_of(request)
    selectors.current_settings(actor)
    form = CellForm(request.GET)
    if not form.is_valid():
        messages.error(request, _("Choose an R score and an F score from 1 to 5."))
        return HttpResponseRedirect(f"{reverse('analytics:dashboard')}#panel-rfm")
    return HttpResponseRedirect(
        _act_url({"r_score": form.cleaned_data["r_score"], "f_score": form.cleaned_data["f_score"]})
    )


def _posted_filters(form: forms.Form, actor: User) -> dict[str, str] | None:
    try:
        return parse_filters(str(form.data.get("filters", "")), actor)
    except ValidationFailed as exc:
        for errors in (exc.fields or {}).values():
            for error in errors:
                form.add_error(None, error)
        return None


@login_required
@require_POST
@_hidden
def segment_create(request: HttpRequest) -> HttpResponse:
    """Save an analytic list as a segment (a saved view of the customer list) and open it."""
    actor = actor_of(request)
    selectors.current_settings(actor)
    form = SegmentForm(request.POST)
    filters = _posted_filters(form, actor)
    if form.is_valid() and filters is not None:
        try:
            view = services.segment_create(
                actor=actor,
                name=form.cleaned_data["name"],
                filters=filters,
                share_with_team=form.cleaned_data["share_with_team"],
            )
        except ValidationFailed as exc:
            _add_errors(form, exc)
        except PermissionDenied as exc:
            form.add_error(None, str(exc.message))
        else:
            messages.success(request, _("The segment was saved."))
            return HttpResponseRedirect(f"{reverse('customers:list')}?view={view.pk}")
    context = _act_context(actor, filters or {}, segment_form=form)
    if filters is None:
        context["query"] = str(form.data.get("filters", ""))[:MAX_FILTERS_TEXT]
    return render(request, "analytics/act.html", context, status=422)


@login_required
@require_POST
@_hidden
def call_tasks(request: HttpRequest) -> HttpResponse:
    """Plan a call for each customer of an analytic list (a background job) and show its
    progress."""
    actor = actor_of(request)
    selectors.current_settings(actor)
    form = CallTasksForm(request.POST)
    filters = _posted_filters(form, actor)
    if form.is_valid() and filters is not None:
        try:
            job = services.call_tasks_request(
                actor=actor,
                filters=filters,
                subject=form.cleaned_data["subject"],
                due=form.cleaned_data["due"],
            )
        except ValidationFailed as exc:
            _add_errors(form, exc)
        except PermissionDenied as exc:
            form.add_error(None, str(exc.message))
        else:
            messages.success(request, _("The calls are being planned."))
            return HttpResponseRedirect(
                f"{reverse('analytics:act')}?{urlencode({**filters, 'job': job.pk})}"
            )
    context = _act_context(actor, filters or {}, calls_form=form)
    return render(request, "analytics/act.html", context, status=422)
