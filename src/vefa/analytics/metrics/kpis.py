"""Period-over-period key figures: the last complete month, quarter or year against the one
before it.

The *current* period is the last calendar period that ends on or before ``as_of_day`` (the
first day not counted): with ``as_of_day`` = 15 March and ``period="month"`` it is
February, and so it is with ``as_of_day`` = 1 March. The *previous* period is the one
before it. Each KPI is one row: ``kpi`` (code), ``current``, ``previous`` (float64) and
``change = (current - previous) / previous``, the relative change, null when ``previous``
is 0 or null (no basis to compare with).

- ``sales_growth``: revenue (cents) of the transactions of the period;
- ``new_customer_growth``: customers whose first purchase ever falls in the period;
- ``retention_rate``: of the customers who bought in the period before, the share who
  bought again in the period (null when nobody bought in the period before);
- ``active_share`` (with ``customers``): the share of the customers created before the
  period's end who bought in the period;
- ``satisfaction_change`` (with ``surveys``): the mean survey ``score`` of the period;
- ``marketing_cost_change`` (with ``campaign_sends``): the campaign send cost (cents) of
  the period.

A KPI whose frame is not given is not reported (no row).
"""

from __future__ import annotations

import datetime
from typing import Any, Literal

import narwhals as nw
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from vefa.analytics.engine import day_from_number, day_number, month_from_number, month_number
from vefa.analytics.metrics.params import require_columns
from vefa.analytics.metrics.params_b import check_day

Period = Literal["month", "quarter", "year"]
PERIOD_MONTHS: dict[str, int] = {"month": 1, "quarter": 3, "year": 12}

LABELS: dict[str, Promise] = {
    "sales_growth": _("Sales growth"),
    "new_customer_growth": _("New customers"),
    "retention_rate": _("Retention rate"),
    "active_share": _("Active customers"),
    "satisfaction_change": _("Satisfaction"),
    "marketing_cost_change": _("Marketing cost"),
    "month": _("Month"),
    "quarter": _("Quarter"),
    "year": _("Year"),
}

DESCRIPTIONS: dict[str, Promise] = {
    "sales_growth": _("Revenue of the period."),
    "new_customer_growth": _("Customers whose first purchase falls in the period."),
    "retention_rate": _("Share of the previous period's buyers who bought again."),
    "active_share": _("Share of the customers on record who bought in the period."),
    "satisfaction_change": _("Mean survey score of the period."),
    "marketing_cost_change": _("Cost of the campaign sends of the period."),
}


def period_bounds(period: Any, as_of_day: int, *, back: int = 0) -> tuple[int, int]:
    """``(first day, first day after)`` of the complete ``period`` ``back`` periods before
    the current one (``back=0``: the current period, the last complete one)."""
    if not isinstance(period, str) or period not in PERIOD_MONTHS:
        raise ValueError(f"period must be one of {sorted(PERIOD_MONTHS)}, not {period!r}")
    check_day("as_of_day", as_of_day)
    months = PERIOD_MONTHS[period]
    # The period holding as_of_day is never complete (as_of_day itself is not counted), so
    # the current period is the one before it.
    holding = month_number(day_from_number(as_of_day)) // months
    start = (holding - 1 - back) * months
    return _first_day(start), _first_day(start + months)


def _first_day(month: int) -> int:
    first: datetime.date = month_from_number(month)
    return day_number(first)


def _between(bounds: tuple[int, int], column: str = "day") -> nw.Expr:
    return (nw.col(column) >= bounds[0]) & (nw.col(column) < bounds[1])


def _flag(bounds: tuple[int, int]) -> nw.Expr:
    """1 when the customer has a row in ``bounds``, else 0 (as an aggregation)."""
    return nw.when(_between(bounds)).then(1).otherwise(0).max()


def _row(frame: nw.LazyFrame[Any], code: str, current: nw.Expr, previous: nw.Expr) -> Any:
    return frame.select(
        nw.lit(code, nw.String).alias("kpi"),
        current.cast(nw.Float64).alias("current"),
        previous.cast(nw.Float64).alias("previous"),
    )


def _share(part: str, whole: str) -> nw.Expr:
    return nw.when(nw.col(whole) > 0).then(nw.col(part) / nw.col(whole))


def kpis(
    transactions: nw.LazyFrame[Any],
    customers: nw.LazyFrame[Any] | None = None,
    *,
    period: Period = "month",
    as_of_day: int,
    surveys: nw.LazyFrame[Any] | None = None,
    campaign_sends: nw.LazyFrame[Any] | None = None,
) -> nw.LazyFrame[Any]:
    """kpi, current, previous, change: one row per KPI (see the module docstring)."""
    now = period_bounds(period, as_of_day)
    require_columns(transactions, ("customer_id", "day", "revenue"), "transactions")
    if customers is not None:
        require_columns(customers, ("customer_id", "created_day"), "customers")
    if surveys is not None:
        require_columns(surveys, ("day", "score"), "surveys")
    if campaign_sends is not None:
        require_columns(campaign_sends, ("day", "cost"), "campaign_sends")
    before = period_bounds(period, as_of_day, back=1)
    earlier = period_bounds(period, as_of_day, back=2)
    history = transactions.filter(nw.col("day") < now[1])

    def period_sum(bounds: tuple[int, int], column: str) -> nw.Expr:
        return nw.when(_between(bounds)).then(nw.col(column)).otherwise(0).sum()

    rows = [
        _row(history, "sales_growth", period_sum(now, "revenue"), period_sum(before, "revenue"))
    ]

    buyers = history.group_by("customer_id").agg(
        nw.col("day").min().alias("first_day"),
        _flag(now).alias("in_now"),
        _flag(before).alias("in_before"),
        _flag(earlier).alias("in_earlier"),
    )
    rows.append(
        _row(
            buyers,
            "new_customer_growth",
            nw.when(_between(now, "first_day")).then(1).otherwise(0).sum(),
            nw.when(_between(before, "first_day")).then(1).otherwise(0).sum(),
        )
    )
    retention = buyers.select(
        (nw.col("in_before") * nw.col("in_now")).sum().alias("kept_now"),
        nw.col("in_before").sum().alias("base_now"),
        (nw.col("in_earlier") * nw.col("in_before")).sum().alias("kept_before"),
        nw.col("in_earlier").sum().alias("base_before"),
    )
    rows.append(
        _row(
            retention,
            "retention_rate",
            _share("kept_now", "base_now"),
            _share("kept_before", "base_before"),
        )
    )
    if customers is not None:
        known = customers.select(nw.col("customer_id").cast(nw.Int64), "created_day").join(
            buyers.select(nw.col("customer_id").cast(nw.Int64), "in_now", "in_before"),
            on="customer_id",
            how="left",
        )
        on_record_now = (nw.col("created_day") < now[1]).cast(nw.Int64)
        on_record_before = (nw.col("created_day") < before[1]).cast(nw.Int64)
        active = known.select(
            (nw.col("in_now").fill_null(0) * on_record_now).sum().alias("a0"),
            on_record_now.sum().alias("n0"),
            (nw.col("in_before").fill_null(0) * on_record_before).sum().alias("a1"),
            on_record_before.sum().alias("n1"),
        )
        rows.append(_row(active, "active_share", _share("a0", "n0"), _share("a1", "n1")))
    if surveys is not None:

        def mean_score(bounds: tuple[int, int]) -> nw.Expr:
            return nw.when(_between(bounds)).then(nw.col("score").cast(nw.Float64)).mean()

        rows.append(_row(surveys, "satisfaction_change", mean_score(now), mean_score(before)))
    if campaign_sends is not None:
        sends = campaign_sends.with_columns(nw.col("cost").cast(nw.Int64).fill_null(0))
        rows.append(
            _row(
                sends,
                "marketing_cost_change",
                period_sum(now, "cost"),
                period_sum(before, "cost"),
            )
        )
    return nw.concat(rows, how="vertical").with_columns(
        change=nw.when(nw.col("previous") != 0).then(
            (nw.col("current") - nw.col("previous")) / nw.col("previous")
        )
    )
