"""A/B/C customer value classes and the Pareto (80/20) view of where the value comes from.

``value`` of a customer = sum over their orders in the window (``as_of_day - window_days``
… ``as_of_day - 1``) of ``revenue`` (basis ``"revenue"``) or ``revenue - cost`` (basis
``"margin"``), in cents. Only customers with an order in the window appear.

Customers are ranked by value, best first, ties broken by ``customer_id`` (lower first):
``value_rank`` 1 … ``n``. Shares are of the *positive* value: a loss-making customer (value
below zero, common with margin) or one with no value adds nothing to the running total, so
``cumulative_share`` rises from the first customer to exactly 1 and stays there; the
total a share is taken of is the sum of the positive values, so losses do not inflate the
shares of the others. When no customer has a positive value the shares are null and every
customer is C.

- ``cumulative_share`` = positive value of customers ranked 1 … ``value_rank`` ÷ the
  total positive value.
- ``value_class``: ``A`` when the share of the customers ranked before is below
  ``a_share`` (0.8), so A is the smallest set of best customers that reaches 80 % of the
  value (the customer who crosses the line is A, and the best customer is always A);
  ``B`` when that share is below ``b_share`` (0.95); ``C`` otherwise (every customer with
  value ≤ 0 among them).
- ``top_5_percent``: ``value_rank ≤ n × 5 %`` (none when there are fewer than 20 customers);
  ``bottom_20_percent``: among the ``n × 20 %`` lowest ranked (``n - value_rank + 1 ≤ n ×
  20 %``). Both are compared in integers, so they are exact.
"""

from __future__ import annotations

from typing import Any

import narwhals as nw
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from vefa.analytics.metrics.params import (
    Basis,
    ValueParams,
    check_day,
    check_positive,
    require_columns,
)

CLASSES: tuple[str, ...] = ("A", "B", "C")
COLUMNS = (
    "customer_id",
    "value",
    "value_rank",
    "cumulative_share",
    "value_class",
    "top_5_percent",
    "bottom_20_percent",
)
PARETO_COLUMNS = ("customer_share", "value_share")
SUMMARY_COLUMNS = ("customers", "customer_share_for_80", "top_5_share", "bottom_20_share")

LABELS: dict[str, Promise] = {
    "A": _("A: most valuable"),
    "B": _("B: middle"),
    "C": _("C: least valuable"),
}

DESCRIPTIONS: dict[str, Promise] = {
    "A": _("The best customers who together bring the first 80 % of the value."),
    "B": _("The next customers, up to 95 % of the value."),
    "C": _("The rest, including customers who bring no value or a loss."),
}


def value_classes(
    transactions: nw.LazyFrame[Any],
    *,
    as_of_day: int,
    window_days: int | None = None,
    basis: Basis | None = None,
    params: ValueParams | None = None,
) -> nw.LazyFrame[Any]:
    """Value, rank, cumulative share, A/B/C class and the top/bottom flags per customer.

    ``window_days`` and ``basis`` override ``params.window_days`` (365) and
    ``params.basis`` (``"revenue"``). Definitions in the module docstring.
    """
    params = params or ValueParams()
    as_of_day = check_day("as_of_day", as_of_day)
    window = check_positive(
        "window_days", params.window_days if window_days is None else window_days
    )
    basis = params.basis if basis is None else basis
    if basis == "revenue":
        amount = nw.col("revenue")
        require_columns(transactions, ("customer_id", "day", "revenue"), "transactions")
    elif basis == "margin":
        amount = nw.col("revenue") - nw.col("cost")
        require_columns(transactions, ("customer_id", "day", "revenue", "cost"), "transactions")
    else:
        raise ValueError(f"basis must be 'revenue' or 'margin', got {basis!r}")

    per_customer = (
        transactions.filter(nw.col("day") >= as_of_day - window, nw.col("day") < as_of_day)
        .group_by("customer_id")
        .agg(amount.sum().cast(nw.Int64).alias("value"))
        .with_columns(
            (-nw.col("value")).alias("_desc"),
            nw.col("value").clip(lower_bound=0).alias("_positive"),
        )
    )
    order = ["_desc", "customer_id"]
    ranked = per_customer.with_columns(
        nw.len().alias("_n"),
        nw.col("_positive").sum().cast(nw.Int64).alias("_total"),
        nw.col("customer_id").cum_count().over(order_by=order).cast(nw.Int64).alias("value_rank"),
        nw.col("_positive").cum_sum().over(order_by=order).cast(nw.Int64).alias("_running"),
    )
    has_total = nw.col("_total") > 0
    share_before = (nw.col("_running") - nw.col("_positive")) / nw.col("_total")
    shares = ranked.with_columns(
        nw.when(has_total)
        .then(nw.col("_running") / nw.col("_total"))
        .otherwise(nw.lit(None, dtype=nw.Float64))
        .alias("cumulative_share"),
        nw.when(has_total & (share_before < params.a_share))
        .then(nw.lit("A"))
        .when(has_total & (share_before < params.b_share))
        .then(nw.lit("B"))
        .otherwise(nw.lit("C"))
        .alias("value_class"),
        (nw.col("value_rank") * 20 <= nw.col("_n")).alias("top_5_percent"),
        ((nw.col("_n") - nw.col("value_rank") + 1) * 5 <= nw.col("_n")).alias("bottom_20_percent"),
    )
    return shares.select(*COLUMNS)


def pareto(value_frame: nw.LazyFrame[Any], *, points: int = 100) -> nw.LazyFrame[Any]:
    """Points of the Pareto curve: customer_share (best first) against value_share.

    The customers ranked by ``value_rank`` are cut into ``points`` equal parts (fewer when
    there are fewer customers); each part gives the point of its last customer:
    ``customer_share`` = that customer's ``value_rank`` ÷ ``n``, ``value_share`` = their
    ``cumulative_share``. The curve starts at (0, 0), which is not listed.
    """
    points = check_positive("points", points)
    require_columns(value_frame, ("value_rank", "cumulative_share"), "value_frame")
    n = nw.col("_n")
    return (
        value_frame.with_columns(nw.len().alias("_n"))
        .with_columns(((nw.col("value_rank") * points + n - 1) // n).alias("_point"))
        .group_by("_point")
        .agg(
            (nw.col("value_rank").max() / nw.col("_n").max()).alias("customer_share"),
            nw.col("cumulative_share").max().alias("value_share"),
        )
        .select(*PARETO_COLUMNS)
    )


def pareto_summary(value_frame: nw.LazyFrame[Any]) -> nw.LazyFrame[Any]:
    """One row: customers, customer_share_for_80, top_5_share, bottom_20_share.

    - ``customer_share_for_80``: the share of customers, best first, needed to reach 80 %
      of the positive value (the classic "20 % of customers bring 80 %" figure);
    - ``top_5_share``: value of the ``top_5_percent`` customers ÷ total positive value;
    - ``bottom_20_share``: value of the ``bottom_20_percent`` customers ÷ total positive
      value — negative when the lowest fifth loses money on balance.

    Shares are null when there is no positive value (or no customer).
    """
    require_columns(
        value_frame,
        ("value", "value_rank", "cumulative_share", "top_5_percent", "bottom_20_percent"),
        "value_frame",
    )
    value = nw.col("value")
    totals = value_frame.select(
        nw.len().cast(nw.Int64).alias("customers"),
        value.clip(lower_bound=0).sum().cast(nw.Int64).alias("_total"),
        nw.when(nw.col("cumulative_share") >= 0.8)
        .then(nw.col("value_rank"))
        .otherwise(nw.lit(None, dtype=nw.Int64))
        .min()
        .alias("_rank_80"),
        nw.when(nw.col("top_5_percent"))
        .then(value)
        .otherwise(nw.lit(0, dtype=nw.Int64))
        .sum()
        .cast(nw.Int64)
        .alias("_top"),
        nw.when(nw.col("bottom_20_percent"))
        .then(value)
        .otherwise(nw.lit(0, dtype=nw.Int64))
        .sum()
        .cast(nw.Int64)
        .alias("_bottom"),
    )
    has_total = nw.col("_total") > 0
    null = nw.lit(None, dtype=nw.Float64)
    return totals.select(
        "customers",
        nw.when(has_total)
        .then(nw.col("_rank_80") / nw.col("customers"))
        .otherwise(null)
        .alias("customer_share_for_80"),
        nw.when(has_total)
        .then(nw.col("_top") / nw.col("_total"))
        .otherwise(null)
        .alias("top_5_share"),
        nw.when(has_total)
        .then(nw.col("_bottom") / nw.col("_total"))
        .otherwise(null)
        .alias("bottom_20_share"),
    )
