"""The loyalty ladder: customers by the number of orders in the last year, and moves between.

``orders`` = transactions (orders) of the customer in the window ``as_of_day -
window_days`` … ``as_of_day - 1`` (both ends included). ``ladder_step``, with the default
``LadderParams``: ``one_time`` 1 order, ``occasional`` 2–3, ``regular`` 4–9, ``loyal`` 10 or
more. Customers without an order in the window are not on the ladder (they appear as
``none`` in ``transitions``).

``transitions(previous, current)`` compares two ladders (say, as of a year ago and as of
today) and counts the customers per (from_step, to_step), so the page can show who climbed,
who stayed and who fell off.
"""

from __future__ import annotations

from typing import Any

import narwhals as nw
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from vefa.analytics.metrics.params import LadderParams, check_day, require_columns

STEPS: tuple[str, ...] = ("one_time", "occasional", "regular", "loyal")
#: The step of a customer absent from one side of ``transitions``.
NONE = "none"

COLUMNS = ("customer_id", "orders", "ladder_step")
TRANSITION_COLUMNS = ("from_step", "to_step", "customers")

LABELS: dict[str, Promise] = {
    "one_time": _("One-time"),
    "occasional": _("Occasional"),
    "regular": _("Regular"),
    "loyal": _("Loyal"),
    "none": _("No orders"),
}

DESCRIPTIONS: dict[str, Promise] = {
    "one_time": _("One order in the last year."),
    "occasional": _("A few orders in the last year."),
    "regular": _("Order about every quarter or more often."),
    "loyal": _("Order about every month."),
    "none": _("No order in the period."),
}


def step_expr(params: LadderParams) -> nw.Expr:
    """The step code of the ``orders`` column (at least one order)."""
    orders = nw.col("orders")
    expr: nw.Expr = (
        nw.when(orders >= params.loyal_orders)
        .then(nw.lit("loyal"))
        .when(orders >= params.regular_orders)
        .then(nw.lit("regular"))
        .when(orders >= params.occasional_orders)
        .then(nw.lit("occasional"))
        .otherwise(nw.lit("one_time"))
    )
    return expr


def ladder(
    transactions: nw.LazyFrame[Any],
    *,
    as_of_day: int,
    params: LadderParams | None = None,
) -> nw.LazyFrame[Any]:
    """customer_id, orders (in the window), ladder_step — for customers with an order."""
    params = params or LadderParams()
    as_of_day = check_day("as_of_day", as_of_day)
    require_columns(transactions, ("customer_id", "day"), "transactions")
    in_window = transactions.filter(
        nw.col("day") >= as_of_day - params.window_days, nw.col("day") < as_of_day
    )
    return (
        in_window.group_by("customer_id")
        .agg(nw.len().cast(nw.Int64).alias("orders"))
        .with_columns(step_expr(params).alias("ladder_step"))
        .select(*COLUMNS)
    )


def transitions(previous: nw.LazyFrame[Any], current: nw.LazyFrame[Any]) -> nw.LazyFrame[Any]:
    """from_step, to_step, customers: how many customers moved from each step to each step.

    Both frames have ``customer_id`` and ``ladder_step`` (one row per customer, as
    ``ladder`` returns). A customer on one side only has the step ``none`` on the other.
    Only pairs with customers appear (the page fills the rest of the matrix with zeros).
    """
    require_columns(previous, ("customer_id", "ladder_step"), "previous")
    require_columns(current, ("customer_id", "ladder_step"), "current")
    before = previous.select("customer_id", nw.col("ladder_step").alias("from_step"))
    after = current.select("customer_id", nw.col("ladder_step").alias("to_step"))
    return (
        before.join(after, on="customer_id", how="full")
        .select(
            nw.col("from_step").fill_null(nw.lit(NONE)),
            nw.col("to_step").fill_null(nw.lit(NONE)),
        )
        .group_by("from_step", "to_step")
        .agg(nw.len().cast(nw.Int64).alias("customers"))
    )
