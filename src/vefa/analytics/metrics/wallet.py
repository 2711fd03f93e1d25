"""Share of wallet and category breadth: how much of what a customer could buy they buy
from us, and from how many of our categories.

Share of wallet is ``spend / wallet`` over the last 12 months (``window_days``). The wallet
is the customer's declared annual purchase potential (``declared_wallet``) when one above 0
is recorded; otherwise a peer estimate: the ``peer_percentile`` of the window's spend among
the buyers of the same industry and size band, the thought being that what the strongest
of comparable buyers spend is what such a customer could spend. The percentile is the
nearest-rank one (the value at rank ``ceil(p * n)`` of the ascending spends, ties broken
by ``customer_id``), computed in integers, so every engine picks the same customer.
"""

from __future__ import annotations

from typing import Any

import narwhals as nw
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from vefa.analytics.metrics.params import require_columns
from vefa.analytics.metrics.params_b import (
    BreadthParams,
    WalletParams,
    in_window,
    percentile_fraction,
)

LABELS: dict[str, Promise] = {
    "declared": _("Declared by the customer"),
    "peers": _("Estimated from comparable customers"),
    "spend": _("Spend in the last 12 months"),
    "wallet": _("Wallet"),
    "share": _("Share of wallet"),
    "categories_bought": _("Categories bought"),
    "categories_total": _("Categories"),
    "breadth": _("Category breadth"),
    "few_categories": _("Buys from few categories"),
}

DESCRIPTIONS: dict[str, Promise] = {
    "share": _(
        "Spend in the last 12 months divided by the wallet: the declared annual purchase "
        "potential, or else what the top 10 % of buyers of the same industry and size spend."
    ),
    "breadth": _("Categories the customer bought from, divided by the categories sold."),
}


def share_of_wallet(
    transactions: nw.LazyFrame[Any],
    customers: nw.LazyFrame[Any],
    *,
    as_of_day: int,
    params: WalletParams | None = None,
) -> nw.LazyFrame[Any]:
    """Spend, wallet and share of wallet of every customer of ``customers``.

    - ``spend``: revenue (cents) of the transactions in ``[as_of_day - window_days,
      as_of_day)``; 0 without any;
    - ``wallet`` and ``wallet_source``: ``declared_wallet`` ("declared") when above 0;
      else the peer estimate ("peers") when the customer's industry and size band are both
      known and at least ``min_peers`` customers of that pair bought in the window (peers
      are buyers, the customer included); the peer wallet is never below the customer's own
      spend, so a peer-based share is at most 1. A declared wallet is taken as declared: a
      share above 1 then says the declaration is out of date. Otherwise both are null;
    - ``share``: ``spend / wallet`` (float), null without a wallet.
    """
    params = params or WalletParams()
    require_columns(transactions, ("customer_id", "day", "revenue"), "transactions")
    require_columns(
        customers, ("customer_id", "industry", "size_band", "declared_wallet"), "customers"
    )
    fraction = percentile_fraction(params.peer_percentile)
    spend = (
        transactions.filter(in_window(as_of_day, params.window_days))
        .group_by("customer_id")
        .agg(nw.col("revenue").sum().cast(nw.Int64).alias("spend"))
    )
    people = customers.select(
        nw.col("customer_id").cast(nw.Int64),
        nw.col("industry").fill_null("").alias("industry"),
        nw.col("size_band").fill_null("").alias("size_band"),
        nw.col("declared_wallet").cast(nw.Int64),
    )
    with_spend = people.join(spend, on="customer_id", how="left").with_columns(
        nw.col("spend").fill_null(0)
    )
    group = ["industry", "size_band"]
    peers = (
        with_spend.filter(
            (nw.col("spend") > 0) & (nw.col("industry") != "") & (nw.col("size_band") != "")
        )
        .with_columns(
            peers=nw.col("customer_id").count().over(*group),
            position=nw.col("customer_id")
            .cum_count()
            .over(*group, order_by=["spend", "customer_id"]),
        )
        .filter(
            (nw.col("peers") >= params.min_peers)
            # ceil(p * n) = (num * n + den - 1) // den for p = num / den, in integers
            & (
                nw.col("position")
                == (nw.col("peers") * fraction.numerator + fraction.denominator - 1)
                // fraction.denominator
            )
        )
        .select(*group, nw.col("spend").alias("peer_wallet"))
    )
    declared = nw.col("declared_wallet").fill_null(0) > 0
    has_peers = ~nw.col("peer_wallet").is_null()
    return (
        with_spend.join(peers, on=group, how="left")
        .with_columns(
            wallet=nw.when(declared)
            .then(nw.col("declared_wallet"))
            .otherwise(
                nw.when(has_peers).then(
                    nw.when(nw.col("peer_wallet") >= nw.col("spend"))
                    .then(nw.col("peer_wallet"))
                    .otherwise(nw.col("spend"))
                )
            ),
            wallet_source=nw.when(declared)
            .then(nw.lit("declared"))
            .otherwise(nw.when(has_peers).then(nw.lit("peers"))),
        )
        .select(
            "customer_id",
            nw.col("spend").cast(nw.Int64),
            nw.col("wallet").cast(nw.Int64),
            nw.col("wallet_source").cast(nw.String),
            nw.when(nw.col("wallet") > 0)
            .then(nw.col("spend") / nw.col("wallet"))
            .cast(nw.Float64)
            .alias("share"),
        )
    )


def category_breadth(
    lines: nw.LazyFrame[Any],
    *,
    as_of_day: int,
    categories: nw.LazyFrame[Any] | None = None,
    params: BreadthParams | None = None,
) -> nw.LazyFrame[Any]:
    """From how many categories each customer bought in the window, out of how many.

    Customers: those with a line in ``[as_of_day - window_days, as_of_day)``.
    ``categories_bought``: distinct non-null ``category_id`` of their lines in the window.
    ``categories_total``: the distinct categories sold to anyone in the window, or, when
    ``categories`` is given (a frame with ``category_id``, e.g. the active categories of
    the catalogue), the distinct ids of that frame; only those then count as bought.
    ``breadth``: bought / total (null when the total is 0). ``few_categories``: any set
    threshold of ``BreadthParams`` is met (at most ``few_max_categories`` categories, or a
    breadth of at most ``few_max_share``).
    """
    params = params or BreadthParams()
    require_columns(lines, ("customer_id", "category_id", "day"), "lines")
    if categories is not None:
        require_columns(categories, ("category_id",), "categories")
    recent = lines.filter(in_window(as_of_day, params.window_days))
    buyers = recent.select(nw.col("customer_id").cast(nw.Int64)).unique()
    pairs = (
        recent.filter(~nw.col("category_id").is_null())
        .select(nw.col("customer_id").cast(nw.Int64), nw.col("category_id").cast(nw.Int64))
        .unique()
    )
    if categories is None:
        universe = pairs.select("category_id").unique()
    else:
        universe = (
            categories.filter(~nw.col("category_id").is_null())
            .select(nw.col("category_id").cast(nw.Int64))
            .unique()
        )
        pairs = pairs.join(universe, on="category_id", how="inner")
    total = universe.select(nw.len().cast(nw.Int64).alias("categories_total"))
    bought = pairs.group_by("customer_id").agg(nw.len().cast(nw.Int64).alias("categories_bought"))
    frame = (
        buyers.join(bought, on="customer_id", how="left")
        .join(total, how="cross")
        .with_columns(nw.col("categories_bought").fill_null(0))
        .with_columns(
            breadth=nw.when(nw.col("categories_total") > 0).then(
                nw.col("categories_bought") / nw.col("categories_total")
            )
        )
    )
    few = nw.lit(False)
    if params.few_max_categories is not None:
        few = few | (nw.col("categories_bought") <= params.few_max_categories)
    if params.few_max_share is not None:
        few = few | (nw.col("breadth").fill_null(0.0) <= params.few_max_share)
    return frame.select(
        "customer_id",
        nw.col("categories_bought").cast(nw.Int64),
        nw.col("categories_total").cast(nw.Int64),
        nw.col("breadth").cast(nw.Float64),
        few.alias("few_categories"),
    )
