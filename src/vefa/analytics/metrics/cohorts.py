"""Acquisition cohorts: customers by the month of their first purchase, followed month by month.

From the transactions before ``as_of_day`` (all of them when it is None):

- ``cohort_month``: month number (``year * 12 + month - 1``) of a customer's first
  purchase; ``months_since`` = month - ``cohort_month`` (0 = the month of acquisition);
- ``customers``: customers of the cohort who bought in that month; ``revenue``: their
  revenue in it (cents);
- ``cohort_customers``: customers in the cohort (= ``customers`` at month 0);
  ``cohort_revenue_month0``: the cohort's revenue in its first month;
- ``retained_share`` = ``customers`` ÷ ``cohort_customers``;
- ``revenue_share`` = ``revenue`` ÷ ``cohort_revenue_month0``: revenue kept (or grown,
  above 1) relative to the first month; null when the first month's revenue is not positive.

Every month from the cohort's first to the last month with any purchase is listed, with 0
customers and 0 revenue where the cohort bought nothing (so the triangle has no holes
except for months in which nobody at all bought). The last month may be partial when
``as_of_day`` falls inside it.
"""

from __future__ import annotations

from typing import Any

import narwhals as nw
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from vefa.analytics.metrics.params import check_day, require_columns

COLUMNS = (
    "cohort_month",
    "months_since",
    "customers",
    "revenue",
    "cohort_customers",
    "cohort_revenue_month0",
    "retained_share",
    "revenue_share",
)

#: The two measures a cohort table can show, by their column names.
LABELS: dict[str, Promise] = {
    "retained_share": _("Customers retained"),
    "revenue_share": _("Revenue retained"),
}

DESCRIPTIONS: dict[str, Promise] = {
    "retained_share": _("Share of the cohort's customers who bought in the month."),
    "revenue_share": _("The cohort's revenue in the month relative to its first month."),
}


def cohorts(transactions: nw.LazyFrame[Any], *, as_of_day: int | None = None) -> nw.LazyFrame[Any]:
    """The cohort × months-since table of customers and revenue retained."""
    require_columns(transactions, ("customer_id", "day", "month", "revenue"), "transactions")
    if as_of_day is not None:
        as_of_day = check_day("as_of_day", as_of_day)
        transactions = transactions.filter(nw.col("day") < as_of_day)

    customer_months = (
        transactions.group_by("customer_id", "month")
        .agg(nw.col("revenue").sum().cast(nw.Int64).alias("revenue"))
        .with_columns(nw.col("month").min().over("customer_id").alias("cohort_month"))
    )
    cells = customer_months.group_by("cohort_month", "month").agg(
        nw.len().cast(nw.Int64).alias("customers"),
        nw.col("revenue").sum().cast(nw.Int64).alias("revenue"),
    )
    sizes = cells.filter(nw.col("month") == nw.col("cohort_month")).select(
        "cohort_month",
        nw.col("customers").alias("cohort_customers"),
        nw.col("revenue").alias("cohort_revenue_month0"),
    )
    months = customer_months.select("month").unique()
    zero = nw.lit(0, dtype=nw.Int64)
    return (
        sizes.join(months, how="cross")
        .filter(nw.col("month") >= nw.col("cohort_month"))
        .join(cells, on=["cohort_month", "month"], how="left")
        .with_columns(
            nw.col("cohort_month").cast(nw.Int32),
            (nw.col("month") - nw.col("cohort_month")).cast(nw.Int32).alias("months_since"),
            nw.col("customers").fill_null(zero),
            nw.col("revenue").fill_null(zero),
        )
        .with_columns(
            (nw.col("customers") / nw.col("cohort_customers")).alias("retained_share"),
            nw.when(nw.col("cohort_revenue_month0") > 0)
            .then(nw.col("revenue") / nw.col("cohort_revenue_month0"))
            .otherwise(nw.lit(None, dtype=nw.Float64))
            .alias("revenue_share"),
        )
        .select(*COLUMNS)
    )
