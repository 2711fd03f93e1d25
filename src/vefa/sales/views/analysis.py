"""The sales analysis page: charts (inline SVG) and their tables for a range and a currency."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from vefa.customers.choices import LifecycleStage
from vefa.interactions.choices import ActivityKind, InteractionKind
from vefa.interactions.filters import user_zone
from vefa.interactions.views._helpers import actor_of, hidden_as_404
from vefa.sales.choices import LostReason
from vefa.sales.forms.field import AnalysisForm, currency_choices
from vefa.sales.models import ExchangeRate, Pipeline
from vefa.sales.money import minor_digits
from vefa.sales.selectors.analysis import analysis_scope, default_pipeline, sales_analysis
from vefa.sales.views.analysis_charts import Bar, Series, bar_chart, grouped_bar_chart


@dataclass
class Panel:
    """One chart with its table: the same figures for eyes, screen readers and printing."""

    key: str
    title: str
    chart: str
    columns: list[str]
    rows: list[list[Any]] = field(default_factory=list)
    note: str = ""
    wide: bool = False


def _money(value: Decimal, currency: str) -> str:
    return formats.number_format(
        value, decimal_pos=minor_digits(currency), use_l10n=True, force_grouping=True
    )


def _pct(value: Decimal | None) -> str:
    if value is None:
        return "—"
    return formats.number_format(value, decimal_pos=1, use_l10n=True) + " %"


def _int(value: int) -> str:
    return formats.number_format(value, use_l10n=True, force_grouping=True)


def _label(row: dict[str, Any], names: dict[Any, str] | None = None) -> str:
    if row.get("key") == "__other__":
        return _("Other (%(n)d)") % {"n": row.get("other", 0)}
    if names and row.get("key") in names:
        return str(names[row["key"]])
    return str(row.get("label") or "") or _("(none)")


def _revenue_panel(
    key: str, title: str, rows: list[dict[str, Any]], currency: str, rtl: bool, names=None
) -> Panel:
    bars = [Bar(_label(r, names), r["amount"], _money(r["amount"], currency)) for r in rows]
    return Panel(
        key=key,
        title=title,
        chart=bar_chart(title=title, bars=bars, rtl=rtl, empty=_("No revenue in this range.")),
        columns=[_("Name"), _("Orders"), _("Revenue") + f" ({currency})"],
        rows=[[b.label, _int(r["count"]), b.text] for b, r in zip(bars, rows, strict=True)],
    )


def _default_range(today: datetime.date) -> tuple[datetime.date, datetime.date]:
    index = today.year * 12 + today.month - 1 - 11
    return datetime.date(index // 12, index % 12 + 1, 1), today


def build_panels(report: dict[str, Any], rtl: bool) -> list[Panel]:
    """The page's charts and tables from the report (labels translated here, not cached)."""
    cur = report["currency"]
    rev = report["revenue"]
    closed = report["closed"]
    panels: list[Panel] = []

    funnel = report["funnel"]
    funnel_bars = [
        Bar(r["label"], r["count"], f"{_int(r['count'])} ({_pct(r['share'])})")
        for r in funnel["stages"]
    ]
    title = _("Funnel: opportunities that reached each stage")
    panels.append(
        Panel(
            key="funnel",
            title=title,
            chart=bar_chart(
                title=title, bars=funnel_bars, rtl=rtl, empty=_("No opportunities in this range.")
            ),
            columns=[_("Stage"), _("Opportunities"), _("Share")],
            rows=[
                [b.label, _int(r["count"]), _pct(r["share"])]
                for b, r in zip(funnel_bars, funnel["stages"], strict=True)
            ],
            note=_(
                "%(n)s opportunities of the pipeline “%(pipeline)s” created in the range. From "
                "the change log: an opportunity reached a stage when it was in that stage or a "
                "later one; lost ones count up to their last open stage."
            )
            % {"n": _int(funnel["cohort"]), "pipeline": funnel.get("pipeline_name", "")},
        )
    )

    months = report["forecast"]
    month_labels = [formats.date_format(m["month"], "YEAR_MONTH_FORMAT") for m in months]
    labelled = list(zip(month_labels, months, strict=True))
    fc = Series(
        _("Forecast (weighted)"),
        [Bar(lbl, m["forecast"], _money(m["forecast"], cur)) for lbl, m in labelled],
    )
    ac = Series(_("Won"), [Bar(lbl, m["actual"], _money(m["actual"], cur)) for lbl, m in labelled])
    title = _("Forecast against actual per month")
    panels.append(
        Panel(
            key="forecast",
            title=title,
            chart=grouped_bar_chart(title=title, groups=[fc, ac], rtl=rtl),
            columns=[_("Month"), _("Forecast (weighted)"), _("Won")],
            rows=[
                [lbl, f.text, a.text]
                for lbl, f, a in zip(month_labels, fc.bars, ac.bars, strict=True)
            ],
            note=_(
                "Forecast: amount × probability of the opportunities expected to close in the "
                "month (not omitted), with their current probability. Won: the amount of the "
                "opportunities won in the month."
            ),
        )
    )

    dims = [
        ("rep", _("Revenue by salesperson"), rev["by_rep"], None),
        ("team", _("Revenue by team"), rev["by_team"], None),
        ("product", _("Revenue by product"), rev["by_product"], None),
        ("category", _("Revenue by product category"), rev["by_category"], None),
        ("country", _("Revenue by country"), rev["by_country"], None),
        ("city", _("Revenue by city"), rev["by_city"], None),
        (
            "lifecycle",
            _("Revenue by customer lifecycle stage"),
            rev["by_lifecycle"],
            {k: str(v) for k, v in LifecycleStage.choices},
        ),
        ("tag", _("Revenue by customer tag"), rev["by_tag"], None),
    ]
    for key, title, rows, names in dims:
        panels.append(_revenue_panel(key, title, rows, cur, rtl, names))

    reasons = {k: str(v) for k, v in LostReason.choices}
    lost_rows = closed["lost_reasons"]
    lost_bars = [Bar(_label(r, reasons), r["count"], _int(r["count"])) for r in lost_rows]
    title = _("Lost reasons")
    panels.append(
        Panel(
            key="lost",
            title=title,
            chart=bar_chart(title=title, bars=lost_bars, rtl=rtl, empty=_("No lost deals.")),
            columns=[_("Reason"), _("Deals"), _("Amount") + f" ({cur})"],
            rows=[
                [b.label, b.text, _money(r["amount"], cur)]
                for b, r in zip(lost_bars, lost_rows, strict=True)
            ],
        )
    )

    comp = closed["competitors"]
    won_s = Series(_("We won"), [Bar(c["label"], c["won"], _int(c["won"])) for c in comp])
    lost_s = Series(_("We lost"), [Bar(c["label"], c["lost"], _int(c["lost"])) for c in comp])
    title = _("Competitors: deals won and lost against them")
    panels.append(
        Panel(
            key="competitors",
            title=title,
            chart=grouped_bar_chart(
                title=title, groups=[won_s, lost_s], rtl=rtl, empty=_("No competitor recorded.")
            ),
            columns=[_("Competitor"), _("We won"), _("We lost"), _("Win rate")],
            rows=[[c["label"], _int(c["won"]), _int(c["lost"]), _pct(c["rate"])] for c in comp],
            note=_("Won: deals won while they had a bid. Lost: deals lost to them."),
        )
    )

    people = report["activities"]
    ikinds = {k: str(v) for k, v in InteractionKind.choices}
    akinds = {k: str(v) for k, v in ActivityKind.choices}
    touches = Series(
        _("Interactions"),
        [
            Bar(p["label"], sum(p["interactions"].values()), _int(sum(p["interactions"].values())))
            for p in people
        ],
    )
    done = Series(
        _("Completed activities"),
        [
            Bar(p["label"], sum(p["completed"].values()), _int(sum(p["completed"].values())))
            for p in people
        ],
    )
    title = _("Activities per salesperson")
    panels.append(
        Panel(
            key="activities",
            title=title,
            chart=grouped_bar_chart(
                title=title, groups=[touches, done], rtl=rtl, empty=_("No activities.")
            ),
            columns=[_("Salesperson"), _("Interactions"), _("Completed activities")],
            rows=[
                [
                    p["label"],
                    ", ".join(
                        f"{ikinds.get(k, k)} {_int(n)}"
                        for k, n in sorted(p["interactions"].items())
                    )
                    or "—",
                    ", ".join(
                        f"{akinds.get(k, k)} {_int(n)}" for k, n in sorted(p["completed"].items())
                    )
                    or "—",
                ]
                for p in people
            ],
        )
    )
    return panels


@login_required
@require_GET
@hidden_as_404
def analysis(request: HttpRequest) -> HttpResponse:
    """Sales analysis for a date range in one reporting currency."""
    actor = actor_of(request)
    analysis_scope(actor)  # 404 for roles that see no opportunities
    today = timezone.now().astimezone(user_zone(actor)).date()
    start, end = _default_range(today)
    pipelines = list(Pipeline.objects.filter(is_active=True).order_by("order", "name"))
    rated = ExchangeRate.objects.values_list("currency", flat=True).distinct()
    currencies = currency_choices([*rated])
    default_currency = str(getattr(settings, "VEFA_DEFAULT_CURRENCY", "TRY"))
    default = default_pipeline()
    initial = {
        "start": start,
        "end": end,
        "currency": default_currency if default_currency in currencies else currencies[0],
        "pipeline": default.pk if default else None,
    }
    data = {k: request.GET.get(k, "") for k in initial} if request.GET else None
    if data is not None:
        for k, v in initial.items():
            if not data[k] and v is not None:
                data[k] = v.isoformat() if isinstance(v, datetime.date) else str(v)
    form = AnalysisForm(
        data,
        initial=initial,
        currencies=currencies,
        pipelines=[(p.pk, p.name) for p in pipelines],
    )
    if data is not None and not form.is_valid():
        return render(
            request, "sales/analysis/analysis.html", {"form": form, "report": None}, status=422
        )
    values: dict[str, Any] = form.cleaned_data if data is not None else initial
    report = sales_analysis(
        actor=actor,
        start=values["start"],
        end=values["end"],
        currency=values["currency"],
        pipeline_id=values.get("pipeline"),
    )
    rtl = translation.get_language_bidi()
    context = {
        "form": form,
        "report": report,
        "panels": build_panels(report, rtl),
        "cur": report["currency"],
        "revenue_total": _money(report["revenue"]["total"], report["currency"]),
        "won_amount": _money(report["closed"]["won_amount"], report["currency"]),
        "win_rate": _pct(report["closed"]["win_rate"]),
        "orders": _int(report["revenue"]["orders"]),
        "cycle_days": (
            formats.number_format(report["closed"]["cycle_days"], decimal_pos=1, use_l10n=True)
            if report["closed"]["cycle_days"] is not None
            else "—"
        ),
    }
    return render(request, "sales/analysis/analysis.html", context)


urlpatterns = [path("analysis/", analysis, name="analysis")]
