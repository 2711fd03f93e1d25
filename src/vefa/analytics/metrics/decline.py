"""Declining customers (buying less than a year before) and overdue ones (late for their rhythm).

``decline``: with ``p = period_days`` (365), the *last* period is ``as_of_day - p`` …
``as_of_day - 1`` and the *previous* one ``as_of_day - 2p`` … ``as_of_day - p - 1`` (both
ends included; the column names say 12m because that is the default). For every customer
with an order in either period:

- ``orders_last_12m``, ``orders_prev_12m``: orders in each period;
- ``revenue_last_12m``, ``revenue_prev_12m``: their revenue in cents;
- ``order_change`` = (last - previous) ÷ previous orders; null without previous orders;
- ``revenue_change`` = (last - previous) ÷ previous revenue; null when the previous revenue
  is zero or negative (a change against a refund balance means nothing);
- ``declining``: at least ``min_prior_orders`` (2) previous orders, and ``order_change`` or
  ``revenue_change`` at or below ``-drop_share`` (-0.3). A customer who stopped buying has
  a change of -1 and so is declining.

``overdue``: from the purchases of the last ``overdue_history_days`` (730) before
``as_of_day``, per customer with an order in them:

- ``days_since_last`` = ``as_of_day`` - day of the last purchase;
- ``mean_gap_days`` = (last purchase day - first purchase day) ÷ (purchase days - 1), the
  mean of the gaps between consecutive distinct purchase days (orders on the same day are
  one purchase); null with fewer than ``overdue_min_orders`` (3) purchase days;
- ``overdue_ratio`` = ``days_since_last`` ÷ ``mean_gap_days`` (null with it);
- ``overdue``: ``overdue_ratio`` at least ``overdue_factor`` (1.5).
"""

from __future__ import annotations

from typing import Any

import narwhals as nw
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from vefa.analytics.metrics.params import DeclineParams, check_day, require_columns

COLUMNS = (
    "customer_id",
    "orders_last_12m",
    "orders_prev_12m",
    "revenue_last_12m",
    "revenue_prev_12m",
    "order_change",
    "revenue_change",
    "declining",
)
OVERDUE_COLUMNS = ("customer_id", "mean_gap_days", "days_since_last", "overdue_ratio", "overdue")

LABELS: dict[str, Promise] = {
    "declining": _("Declining"),
    "overdue": _("Overdue"),
}

DESCRIPTIONS: dict[str, Promise] = {
    "declining": _("Ordered or spent at least 30 % less in the last 12 months than before."),
    "overdue": _("Has not bought for at least 1.5 times their usual time between purchases."),
}

_NULL_FLOAT = nw.lit(None, dtype=nw.Float64)


def _change(last: str, previous: str) -> nw.Expr:
    """(last - previous) ÷ previous, null unless previous is positive."""
    expr: nw.Expr = (
        nw.when(nw.col(previous) > 0)
        .then((nw.col(last) - nw.col(previous)) / nw.col(previous))
        .otherwise(_NULL_FLOAT)
    )
    return expr


def decline(
    transactions: nw.LazyFrame[Any],
    *,
    as_of_day: int,
    params: DeclineParams | None = None,
) -> nw.LazyFrame[Any]:
    """Orders and revenue in the last and the previous period, their changes, ``declining``."""
    params = params or DeclineParams()
    as_of_day = check_day("as_of_day", as_of_day)
    require_columns(transactions, ("customer_id", "day", "revenue"), "transactions")
    split = as_of_day - params.period_days
    recent = nw.col("day") >= split
    zero = nw.lit(0, dtype=nw.Int64)
    per_customer = (
        transactions.filter(
            nw.col("day") >= as_of_day - 2 * params.period_days, nw.col("day") < as_of_day
        )
        .group_by("customer_id")
        .agg(
            recent.cast(nw.Int64).sum().cast(nw.Int64).alias("orders_last_12m"),
            (~recent).cast(nw.Int64).sum().cast(nw.Int64).alias("orders_prev_12m"),
            nw.when(recent)
            .then(nw.col("revenue"))
            .otherwise(zero)
            .sum()
            .cast(nw.Int64)
            .alias("revenue_last_12m"),
            nw.when(recent)
            .then(zero)
            .otherwise(nw.col("revenue"))
            .sum()
            .cast(nw.Int64)
            .alias("revenue_prev_12m"),
        )
        .with_columns(
            _change("orders_last_12m", "orders_prev_12m").alias("order_change"),
            _change("revenue_last_12m", "revenue_prev_12m").alias("revenue_change"),
        )
    )
    threshold = -params.drop_share
    dropped = (~nw.col("order_change").is_null() & (nw.col("order_change") <= threshold)) | (
        ~nw.col("revenue_change").is_null() & (nw.col("revenue_change") <= threshold)
    )
    declining = (nw.col("orders_prev_12m") >= params.min_prior_orders) & dropped
    return per_customer.with_columns(declining.fill_null(False).alias("declining")).select(*COLUMNS)


def overdue(
    transactions: nw.LazyFrame[Any],
    *,
    as_of_day: int,
    params: DeclineParams | None = None,
) -> nw.LazyFrame[Any]:
    """Mean gap between purchases, days since the last one, their ratio and ``overdue``."""
    params = params or DeclineParams()
    as_of_day = check_day("as_of_day", as_of_day)
    require_columns(transactions, ("customer_id", "day"), "transactions")
    per_customer = (
        transactions.filter(
            nw.col("day") >= as_of_day - params.overdue_history_days, nw.col("day") < as_of_day
        )
        .group_by("customer_id")
        .agg(
            nw.col("day").min().alias("_first"),
            nw.col("day").max().alias("_last"),
            nw.col("day").n_unique().cast(nw.Int64).alias("_days"),
        )
    )
    eligible = nw.col("_days") >= params.overdue_min_orders
    span = nw.col("_last") - nw.col("_first")
    gaps = nw.col("_days") - 1
    # days_since_last * gaps / span: one division of exact integers, so the ratio (and the
    # comparison with the factor) is the same on every engine.
    ratio = nw.when(eligible).then(nw.col("days_since_last") * gaps / span).otherwise(_NULL_FLOAT)
    return (
        per_customer.with_columns(
            (nw.lit(as_of_day) - nw.col("_last")).cast(nw.Int32).alias("days_since_last"),
            nw.when(eligible).then(span / gaps).otherwise(_NULL_FLOAT).alias("mean_gap_days"),
        )
        .with_columns(ratio.alias("overdue_ratio"))
        .with_columns(
            (nw.col("overdue_ratio") >= params.overdue_factor).fill_null(False).alias("overdue")
        )
        .select(*OVERDUE_COLUMNS)
    )
