"""Service and marketing signals: complaints, ticket resolution, return rates, campaigns.

They read frames that the service and marketing parts of the CRM provide (``tickets``,
``returns``, ``campaign_sends``; their columns are listed in ``docs/analytics.md``). Every
function accepts ``None`` for such a frame and then returns an empty frame with the columns
it would have had, so pages and jobs need no special case while the frame does not exist.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import narwhals as nw
import pyarrow as pa
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from vefa.analytics.metrics.params import require_columns
from vefa.analytics.metrics.params_b import check_count, in_window

LABELS: dict[str, Promise] = {
    "complaints": _("Complaints"),
    "tickets": _("Tickets"),
    "resolved": _("Resolved"),
    "share_resolved": _("Share resolved"),
    "mean_days_to_resolve": _("Mean days to resolve"),
    "median_days_to_resolve": _("Median days to resolve"),
    "returned_quantity": _("Returned quantity"),
    "sold_quantity": _("Sold quantity"),
    "return_rate": _("Return rate"),
    "sends": _("Sends"),
    "customers": _("Customers"),
    "cost": _("Cost"),
    "revenue": _("Revenue"),
    "conversions": _("Conversions"),
    "conversion_rate": _("Conversion rate"),
    "roi": _("Return on cost"),
}

DESCRIPTIONS: dict[str, Promise] = {
    "median_days_to_resolve": _(
        "The middle value of the days from opening to resolution; with an even number of "
        "tickets, the mean of the two middle values."
    ),
    "return_rate": _("Returned quantity divided by the quantity sold in the same period."),
    "roi": _("Converted revenue minus cost, divided by cost."),
}

TICKET_GROUPS = ("type", "category")
RETURN_GROUPS = ("product_id", "reason")
_GROUP_TYPES: dict[str, pa.DataType] = {
    "type": pa.string(),
    "category": pa.string(),
    "product_id": pa.int64(),
    "reason": pa.string(),
}


def _empty(columns: dict[str, pa.DataType]) -> nw.LazyFrame[Any]:
    """An empty lazy frame with ``columns``, for a source frame that does not exist.

    There is no frame to take the engine from, so the frame is an Arrow one: it collects
    (and sorts, filters, joins with other Arrow frames) like any other result.
    """
    table = pa.table({name: pa.array([], type=kind) for name, kind in columns.items()})
    return nw.from_arrow(table, backend="pyarrow").lazy()


def _groups(by: Any, allowed: tuple[str, ...]) -> list[str]:
    if isinstance(by, str) or not isinstance(by, Sequence):
        raise TypeError(f"by must be a sequence of column names among {allowed}, not {by!r}")
    unknown = [name for name in by if name not in allowed]
    if unknown or len(set(by)) != len(by):
        raise ValueError(f"by must name distinct columns among {allowed}, not {list(by)!r}")
    return list(by)


def _join(left: nw.LazyFrame[Any], right: nw.LazyFrame[Any], on: list[str]) -> Any:
    """Join on ``on``, or a cross join of one-row frames when there is nothing to join on."""
    if on:
        return left.join(right, on=on, how="left")
    return left.join(right, how="cross")


def _summary(frame: nw.LazyFrame[Any], by: list[str], *aggregations: nw.Expr) -> Any:
    """Aggregations per ``by`` group, or over the whole frame (one row) without groups."""
    if by:
        return frame.group_by(*by).agg(*aggregations)
    return frame.select(*aggregations)


def complaints_per_day(
    tickets: nw.LazyFrame[Any] | None,
    *,
    as_of_day: int,
    window_days: int = 90,
    types: Sequence[str] = ("complaint",),
) -> nw.LazyFrame[Any]:
    """day, complaints: tickets of a type in ``types`` opened on each day of the window.

    Only days with at least one complaint have a row (a chart fills the other days with 0);
    the mean per day over the window is ``complaints summed / window_days``.
    """
    columns = {"day": pa.int32(), "complaints": pa.int64()}
    kinds = [types] if isinstance(types, str) else list(types)
    if not all(isinstance(kind, str) for kind in kinds):
        raise TypeError("types must be ticket type codes (strings)")
    window = in_window(as_of_day, window_days)
    if tickets is None:
        return _empty(columns)
    require_columns(tickets, ("day", "type"), "tickets")
    return (
        tickets.filter(window & nw.col("type").is_in(kinds))
        .group_by("day")
        .agg(nw.len().cast(nw.Int64).alias("complaints"))
        .select(nw.col("day").cast(nw.Int32), "complaints")
    )


def resolution(
    tickets: nw.LazyFrame[Any] | None,
    *,
    as_of_day: int,
    window_days: int = 90,
    by: Sequence[str] = (),
) -> nw.LazyFrame[Any]:
    """How many tickets opened in the window were resolved, and how fast.

    Per group of ``by`` (any of ``type``, ``category``; none: one row for all tickets):
    tickets (opened in ``[as_of_day - window_days, as_of_day)``), resolved (those with a
    ``resolved_day`` before ``as_of_day``), share_resolved, mean_days_to_resolve and
    median_days_to_resolve over the resolved ones. Days to resolve are
    ``resolved_day - day``, at least 0 (a resolution dated before the opening is a data
    error and counts as the same day). The median is exact: the middle value of the days
    ordered ascending, or the mean of the two middle values for an even count. Without
    resolved tickets share, mean and median are null (share: without tickets).
    """
    groups = _groups(by, TICKET_GROUPS)
    columns = {name: _GROUP_TYPES[name] for name in groups} | {
        "tickets": pa.int64(),
        "resolved": pa.int64(),
        "share_resolved": pa.float64(),
        "mean_days_to_resolve": pa.float64(),
        "median_days_to_resolve": pa.float64(),
    }
    window = in_window(as_of_day, window_days)
    if tickets is None:
        return _empty(columns)
    require_columns(tickets, ("ticket_id", "day", "resolved_day", *groups), "tickets")
    is_resolved = ~nw.col("resolved_day").is_null() & (nw.col("resolved_day") < as_of_day)
    opened = tickets.filter(window).with_columns(
        is_resolved=is_resolved.fill_null(False),
        days=nw.when(is_resolved)
        .then(
            nw.when(nw.col("resolved_day") >= nw.col("day"))
            .then(nw.col("resolved_day") - nw.col("day"))
            .otherwise(0)
        )
        .cast(nw.Int64),
    )
    stats = _summary(
        opened,
        groups,
        nw.len().cast(nw.Int64).alias("tickets"),
        nw.col("is_resolved").cast(nw.Int64).sum().cast(nw.Int64).alias("resolved"),
        nw.col("days").mean().cast(nw.Float64).alias("mean_days_to_resolve"),
    )
    resolved = opened.filter(nw.col("is_resolved"))
    sizes = _summary(resolved, groups, nw.len().cast(nw.Int64).alias("size"))
    position = nw.col("ticket_id").cum_count()
    ranked = resolved.with_columns(
        position=position.over(*groups, order_by=["days", "ticket_id"])
        if groups
        else position.over(order_by=["days", "ticket_id"])
    )
    size = nw.col("size")
    middle = _join(ranked, sizes, groups).filter(
        (nw.col("position") == (size + 1) // 2) | (nw.col("position") == size // 2 + 1)
    )
    medians = _summary(
        middle, groups, nw.col("days").mean().cast(nw.Float64).alias("median_days_to_resolve")
    )
    return _join(stats, medians, groups).select(
        *groups,
        "tickets",
        "resolved",
        nw.when(nw.col("tickets") > 0)
        .then(nw.col("resolved") / nw.col("tickets"))
        .cast(nw.Float64)
        .alias("share_resolved"),
        "mean_days_to_resolve",
        "median_days_to_resolve",
    )


def return_rates(
    returns: nw.LazyFrame[Any] | None,
    lines: nw.LazyFrame[Any],
    *,
    as_of_day: int,
    window_days: int = 365,
    by: Sequence[str] = ("product_id",),
) -> nw.LazyFrame[Any]:
    """Returned quantity over sold quantity, per group of ``by`` (``product_id``,
    ``reason``, both, or none for one overall row).

    Both quantities are of the window ``[as_of_day - window_days, as_of_day)``: returns by
    their own day, sales by the lines' day. The sold quantity is the product's when
    ``product_id`` is a group (returns without a product are then left out), else that of
    all lines — so ``by=("reason",)`` gives each reason's share of everything sold.
    Groups are those with returns; ``return_rate`` is null when nothing was sold.
    """
    groups = _groups(by, RETURN_GROUPS)
    columns = {name: _GROUP_TYPES[name] for name in groups} | {
        "returned_quantity": pa.float64(),
        "sold_quantity": pa.float64(),
        "return_rate": pa.float64(),
    }
    window = in_window(as_of_day, window_days)
    per_product = "product_id" in groups
    require_columns(lines, ("product_id", "day", "quantity"), "lines")
    sold_lines = lines.filter(window)
    sold_total = nw.col("quantity").cast(nw.Float64).sum().alias("sold_quantity")
    if returns is None:
        return _empty(columns)
    require_columns(returns, ("day", "quantity", *groups), "returns")
    returned = returns.filter(window)
    if per_product:
        returned = returned.filter(~nw.col("product_id").is_null())
        sold = (
            sold_lines.filter(~nw.col("product_id").is_null())
            .group_by("product_id")
            .agg(sold_total)
            .select(nw.col("product_id").cast(nw.Int64), "sold_quantity")
        )
        returned = returned.with_columns(nw.col("product_id").cast(nw.Int64))
    else:
        sold = sold_lines.select(sold_total)
    totals = _summary(
        returned,
        groups,
        nw.col("quantity").cast(nw.Float64).sum().alias("returned_quantity"),
    )
    return _join(totals, sold, ["product_id"] if per_product else []).select(
        *groups,
        "returned_quantity",
        nw.col("sold_quantity").fill_null(0.0),
        nw.when(nw.col("sold_quantity") > 0)
        .then(nw.col("returned_quantity") / nw.col("sold_quantity"))
        .cast(nw.Float64)
        .alias("return_rate"),
    )


def campaigns(
    campaign_sends: nw.LazyFrame[Any] | None,
    *,
    as_of_day: int,
    window_days: int | None = None,
    send_cost: int = 0,
) -> nw.LazyFrame[Any]:
    """Cost and revenue per campaign, from its sends before ``as_of_day`` (and within
    ``window_days`` when given).

    campaign_id, sends, customers (distinct), cost (each send's ``cost``, or ``send_cost``
    when null), revenue (the sends' ``converted_revenue``), conversions (sends with
    converted revenue above 0), conversion_rate (conversions / sends) and roi
    (``(revenue - cost) / cost``, null when the cost is 0).
    """
    check_count("send_cost", send_cost, minimum=0, maximum=10**12)
    columns = {
        "campaign_id": pa.int64(),
        "sends": pa.int64(),
        "customers": pa.int64(),
        "cost": pa.int64(),
        "revenue": pa.int64(),
        "conversions": pa.int64(),
        "conversion_rate": pa.float64(),
        "roi": pa.float64(),
    }
    window = in_window(as_of_day, window_days)
    if campaign_sends is None:
        return _empty(columns)
    require_columns(
        campaign_sends,
        ("campaign_id", "customer_id", "day", "cost", "converted_revenue"),
        "campaign_sends",
    )
    revenue = nw.col("converted_revenue").cast(nw.Int64).fill_null(0)
    per_customer = (
        campaign_sends.filter(window)
        .group_by("campaign_id", "customer_id")
        .agg(
            nw.len().cast(nw.Int64).alias("sends"),
            nw.col("cost").cast(nw.Int64).fill_null(send_cost).sum().cast(nw.Int64).alias("cost"),
            revenue.sum().cast(nw.Int64).alias("revenue"),
            (revenue > 0).cast(nw.Int64).sum().cast(nw.Int64).alias("conversions"),
        )
    )
    # Two steps (per campaign and customer, then per campaign) count the distinct customers
    # with a plain count, which every engine does the same way.
    return (
        per_customer.group_by("campaign_id")
        .agg(
            nw.col("sends").sum().cast(nw.Int64),
            nw.len().cast(nw.Int64).alias("customers"),
            nw.col("cost").sum().cast(nw.Int64),
            nw.col("revenue").sum().cast(nw.Int64),
            nw.col("conversions").sum().cast(nw.Int64),
        )
        .select(
            nw.col("campaign_id").cast(nw.Int64),
            "sends",
            "customers",
            "cost",
            "revenue",
            "conversions",
            (nw.col("conversions") / nw.col("sends")).cast(nw.Float64).alias("conversion_rate"),
            nw.when(nw.col("cost") > 0)
            .then((nw.col("revenue") - nw.col("cost")) / nw.col("cost"))
            .cast(nw.Float64)
            .alias("roi"),
        )
    )
