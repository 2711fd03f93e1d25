"""Market-basket analysis: which products (or categories) are bought together, and what to
offer each customer next.

A *basket* is an order. An item (a product, or a product's category) is counted once per
basket however many lines hold it; lines without an item (free-text lines, products without
a category) are ignored, and an order with no item at all is not a basket. Rules are pairs
``antecedent => consequent`` of single items:

- ``baskets``: baskets holding both items;
- ``support = baskets / all baskets``;
- ``confidence = baskets / baskets holding the antecedent`` = P(consequent | antecedent);
- ``lift = confidence / (baskets holding the consequent / all baskets)``: how much more
  often the pair occurs than if the two items were bought independently (1 = no relation).

Speed: a pair can only reach ``min_support`` if both of its items do, so items below it are
dropped before the self-join of baskets on ``order_id``.
"""

from __future__ import annotations

from typing import Any, Literal

import narwhals as nw
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from vefa.analytics.metrics.params import require_columns
from vefa.analytics.metrics.params_b import BasketParams, check_count, in_window

Level = Literal["product", "category"]
LEVELS: dict[str, str] = {"product": "product_id", "category": "category_id"}
DEFAULTS = BasketParams()

LABELS: dict[str, Promise] = {
    "product": _("Product"),
    "category": _("Category"),
    "antecedent": _("Bought"),
    "consequent": _("Also bought"),
    "baskets": _("Orders with both"),
    "support": _("Support"),
    "confidence": _("Confidence"),
    "lift": _("Lift"),
    "score": _("Score"),
}

DESCRIPTIONS: dict[str, Promise] = {
    "support": _("Share of all orders that contain both items."),
    "confidence": _("Share of the orders with the first item that also contain the second."),
    "lift": _(
        "How many times more often the two items are bought together than if they were "
        "bought independently; above 1 means they go together."
    ),
    "score": _(
        "The highest confidence among the rules that lead to the item from something the "
        "customer bought."
    ),
}


def item_column(level: Any) -> str:
    """The line column of ``level`` ("product" → ``product_id``, "category" → ``category_id``)."""
    if not isinstance(level, str) or level not in LEVELS:
        raise ValueError(f"level must be one of {sorted(LEVELS)}, not {level!r}")
    return LEVELS[level]


def rules(
    lines: nw.LazyFrame[Any],
    *,
    level: Level = "product",
    min_support: float = DEFAULTS.min_support,
    min_confidence: float = DEFAULTS.min_confidence,
    max_rules: int = DEFAULTS.max_rules,
    as_of_day: int | None = None,
    window_days: int | None = None,
) -> nw.LazyFrame[Any]:
    """One-item ⇒ one-item association rules from the baskets of ``lines``.

    Returns antecedent, consequent (item ids), baskets (int), support, confidence, lift
    (floats; see the module docstring), only rules with ``support >= min_support`` and
    ``confidence >= min_confidence``, at most ``max_rules`` of them: the best by lift, then
    confidence, then the smaller antecedent and consequent ids (so the cut is
    deterministic). With ``as_of_day`` only lines of days before it count (and with
    ``window_days`` only the last ``window_days`` days).
    """
    params = BasketParams(min_support, min_confidence, max_rules)
    item = item_column(level)
    require_columns(
        lines, ("order_id", item, *(("day",) if as_of_day is not None else ())), "lines"
    )
    if as_of_day is not None:
        lines = lines.filter(in_window(as_of_day, window_days))
    elif window_days is not None:
        raise ValueError("window_days needs as_of_day")

    # Distinct (order, item) pairs and distinct orders by grouping: a hash aggregation is
    # cheaper than ``unique()``, which the SQL engines run as a window.
    present = lines.filter(~nw.col(item).is_null())
    items = (
        present.group_by("order_id", nw.col(item).alias("item"))
        .agg(nw.len().alias("lines"))
        .select("order_id", "item")
    )
    orders = (
        present.group_by("order_id")
        .agg(nw.len().alias("lines"))
        .select(nw.len().cast(nw.Int64).alias("orders"))
    )
    frequent = (
        items.group_by("item")
        .agg(nw.len().cast(nw.Int64).alias("item_baskets"))
        .join(orders, how="cross")
        .filter(nw.col("item_baskets") / nw.col("orders") >= params.min_support)
        .select("item", "item_baskets", "orders")
    )
    kept = items.join(frequent, on="item", how="inner")
    right = kept.select(
        "order_id",
        nw.col("item").alias("item_b"),
        nw.col("item_baskets").alias("item_baskets_b"),
    )
    # Both orders of every pair come out of the one join (``!=``): cheaper than counting
    # each unordered pair once and mirroring it, which would evaluate the join twice.
    pairs = (
        kept.join(right, on="order_id", how="inner")
        .filter(nw.col("item") != nw.col("item_b"))
        .group_by("item", "item_b", "item_baskets", "item_baskets_b", "orders")
        .agg(nw.len().cast(nw.Int64).alias("baskets"))
        .filter(nw.col("baskets") / nw.col("orders") >= params.min_support)
        .select(
            nw.col("item").alias("antecedent"),
            nw.col("item_b").alias("consequent"),
            nw.col("item_baskets").alias("antecedent_baskets"),
            nw.col("item_baskets_b").alias("consequent_baskets"),
            "orders",
            "baskets",
        )
    )
    confidence = nw.col("baskets") / nw.col("antecedent_baskets")
    return (
        pairs.with_columns(
            support=nw.col("baskets") / nw.col("orders"),
            confidence=confidence,
            # One division of integer products: the same double on every engine, and the
            # same for A => B as for B => A (the product commutes, the float quotient of
            # two quotients would not), so equal lifts really tie and fall to confidence.
            lift=(nw.col("baskets") * nw.col("orders"))
            / (nw.col("antecedent_baskets") * nw.col("consequent_baskets")),
        )
        .filter(nw.col("confidence") >= params.min_confidence)
        .sort(
            ["lift", "confidence", "antecedent", "consequent"],
            descending=[True, True, False, False],
        )
        .head(params.max_rules)
        .select(
            nw.col("antecedent").cast(nw.Int64),
            nw.col("consequent").cast(nw.Int64),
            "baskets",
            nw.col("support").cast(nw.Float64),
            nw.col("confidence").cast(nw.Float64),
            nw.col("lift").cast(nw.Float64),
        )
    )


def next_best(
    lines: nw.LazyFrame[Any],
    rules: nw.LazyFrame[Any],
    *,
    level: Level = "product",
    k: int = 3,
) -> nw.LazyFrame[Any]:
    """The ``k`` items to offer each customer next, from the association ``rules``.

    A candidate is the consequent of a rule whose antecedent the customer bought (in
    ``lines``), unless the customer already bought it too. Its ``score`` is the highest
    confidence among those rules: the best estimate of P(item | what the customer bought).
    Ties are broken by the highest lift among the same rules, then by the smaller item id.

    Returns customer_id, the item column of ``level`` (``product_id`` or ``category_id``),
    rank (1 = best, up to ``k``), score. Customers without a candidate have no row.
    """
    item = item_column(level)
    check_count("k", k, minimum=1, maximum=1000)
    require_columns(lines, ("customer_id", item), "lines")
    require_columns(rules, ("antecedent", "consequent", "confidence", "lift"), "rules")
    bought = (
        lines.filter(~nw.col(item).is_null())
        .group_by("customer_id", nw.col(item).alias("item"))
        .agg(nw.len().alias("lines"))
        .select("customer_id", "item")
    )
    candidates = (
        bought.join(
            rules.select("antecedent", "consequent", "confidence", "lift"),
            left_on="item",
            right_on="antecedent",
            how="inner",
        )
        .select("customer_id", nw.col("consequent").alias("item"), "confidence", "lift")
        .join(bought, on=["customer_id", "item"], how="anti")
        .group_by("customer_id", "item")
        .agg(nw.col("confidence").max().alias("score"), nw.col("lift").max().alias("lift"))
    )
    # A row number per customer in the order score desc, lift desc, item asc: counting the
    # (never null) item over that order gives 1, 2, 3 ... because (score, lift, item) is
    # unique within a customer.
    ranked = candidates.with_columns(
        order_score=-nw.col("score"), order_lift=-nw.col("lift")
    ).with_columns(
        rank=nw.col("item")
        .cum_count()
        .over("customer_id", order_by=["order_score", "order_lift", "item"])
    )
    return ranked.filter(nw.col("rank") <= k).select(
        nw.col("customer_id").cast(nw.Int64),
        nw.col("item").cast(nw.Int64).alias(item),
        nw.col("rank").cast(nw.Int64),
        nw.col("score").cast(nw.Float64),
    )
