"""RFM: recency, frequency and monetary value of each customer, scored 1–5 and segmented.

Definitions (``as_of_day`` is the first day not counted; the window is the ``window_days``
days ``as_of_day - window_days`` … ``as_of_day - 1``, both ends included):

- ``recency_days`` = ``as_of_day`` - day of the customer's last purchase in the window
  (1 for a purchase the day before ``as_of_day``);
- ``frequency`` = orders in the window (every transaction row is one order, refunds written
  as orders with a negative amount included);
- ``monetary`` = sum of ``revenue`` of those orders, in cents (net of refunds, so it can be
  zero or negative).

Scores are quintiles, 5 = best. Customers are put in order of the measure, worst first —
last purchase day (older is worse), frequency, monetary — with ties broken by
``customer_id`` (lower id first), so each gets a distinct position ``rank`` from 1 to ``n``;
the score is ``ceil(5 * rank / n)``, computed exactly in integers (see ``quintile``). Every
score thus holds a fifth of the customers (±1), tied customers may straddle a score
boundary (the price of a deterministic split; it matters for frequency, where many
customers share 1 or 2 orders), and a single customer gets 5.

``rfm_score`` = ``r_score * 100 + f_score * 10 + m_score`` (e.g. 545). ``rfm_segment`` comes
from (R, F) through ``RfmParams.segments``; the default map is in ``params.DEFAULT_SEGMENTS``
and in ``docs/analytics.md``. Only customers with a purchase in the window appear.
"""

from __future__ import annotations

from typing import Any

import narwhals as nw
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from vefa.analytics.metrics.params import (
    RfmParams,
    check_day,
    check_positive,
    require_columns,
)

COLUMNS = (
    "customer_id",
    "recency_days",
    "frequency",
    "monetary",
    "r_score",
    "f_score",
    "m_score",
    "rfm_score",
    "rfm_segment",
)

LABELS: dict[str, Promise] = {
    "champions": _("Champions"),
    "loyal": _("Loyal"),
    "potential_loyalists": _("Potential loyalists"),
    "new": _("New customers"),
    "promising": _("Promising"),
    "need_attention": _("Need attention"),
    "about_to_sleep": _("About to sleep"),
    "at_risk": _("At risk"),
    "cannot_lose": _("Cannot lose them"),
    "hibernating": _("Hibernating"),
    "lost": _("Lost"),
}

DESCRIPTIONS: dict[str, Promise] = {
    "champions": _("Bought very recently and buy often."),
    "loyal": _("Buy often and bought recently."),
    "potential_loyalists": _("Recent customers with a few orders; could become loyal."),
    "new": _("Bought very recently for the first time or rarely."),
    "promising": _("Bought recently but rarely."),
    "need_attention": _("Middling recency and frequency; may slip without contact."),
    "about_to_sleep": _("Have not bought for a while and bought rarely."),
    "at_risk": _("Bought often, but not for a long time."),
    "cannot_lose": _("Were among the most frequent buyers, but have not bought for a long time."),
    "hibernating": _("Long since the last purchase and few orders."),
    "lost": _("Longest since the last purchase and few orders."),
}

SCORE_BUCKETS = 5


def position(order_by: list[str]) -> nw.Expr:
    """1, 2, … ``n`` over the rows in the order ``order_by`` (ascending; the last column must
    be a unique key, so the order, and the positions, are the same on every engine)."""
    return nw.col(order_by[-1]).cum_count().over(order_by=order_by)


def quintile(rank: str, n: str) -> nw.Expr:
    """The 1–5 score ``ceil(5 * rank / n)`` of the position column ``rank`` among ``n`` rows.

    Computed as ``1 + [5·rank > n] + [5·rank > 2n] + [5·rank > 3n] + [5·rank > 4n]``: the
    same integer (for rank ≥ 1, ``ceil(x)`` counts the k in 0 … 4 with x > k), exact, and
    four comparisons are cheaper for the engines than a floor division.
    """
    scaled = nw.col(rank) * SCORE_BUCKETS
    above = [(scaled > nw.col(n) * k).cast(nw.Int32) for k in range(1, SCORE_BUCKETS)]
    return sum(above, nw.lit(1, dtype=nw.Int32)).cast(nw.Int32)


def segment_expr(params: RfmParams) -> nw.Expr:
    """The segment code of ``r_score``/``f_score`` as one CASE expression of the rules."""
    conditions = [
        (
            nw.col("r_score").is_between(rule.r_min, rule.r_max)
            & nw.col("f_score").is_between(rule.f_min, rule.f_max),
            rule.code,
        )
        for rule in params.segments
    ]
    (first, first_code), *rest = conditions
    chain: Any = nw.when(first).then(nw.lit(first_code))
    for condition, code in rest:
        chain = chain.when(condition).then(nw.lit(code))
    # The rules cover every cell (checked by RfmParams), so this is never reached for
    # scores 1–5; null rather than a made-up segment if it ever were.
    expr: nw.Expr = chain.otherwise(nw.lit(None, dtype=nw.String))
    return expr


def rfm(
    transactions: nw.LazyFrame[Any],
    *,
    as_of_day: int,
    window_days: int | None = None,
    params: RfmParams | None = None,
) -> nw.LazyFrame[Any]:
    """Recency, frequency, monetary value, their 1–5 scores and the segment per customer.

    ``window_days`` overrides ``params.window_days`` (365 by default). See the module
    docstring for the definitions; the columns are ``COLUMNS``.
    """
    params = params or RfmParams()
    as_of_day = check_day("as_of_day", as_of_day)
    window = params.window_days if window_days is None else window_days
    window = check_positive("window_days", window)
    require_columns(transactions, ("customer_id", "day", "revenue"), "transactions")

    in_window = transactions.filter(nw.col("day") >= as_of_day - window, nw.col("day") < as_of_day)
    per_customer = in_window.group_by("customer_id").agg(
        nw.col("day").max().alias("last_day"),
        nw.len().cast(nw.Int64).alias("frequency"),
        nw.col("revenue").sum().cast(nw.Int64).alias("monetary"),
    )
    # Positions first, in a step of their own, so each window is computed once.
    ranked = per_customer.with_columns(
        nw.len().alias("_n"),
        position(["last_day", "customer_id"]).alias("_r"),
        position(["frequency", "customer_id"]).alias("_f"),
        position(["monetary", "customer_id"]).alias("_m"),
    )
    scored = ranked.with_columns(
        quintile("_r", "_n").alias("r_score"),
        quintile("_f", "_n").alias("f_score"),
        quintile("_m", "_n").alias("m_score"),
        (nw.lit(as_of_day) - nw.col("last_day")).cast(nw.Int32).alias("recency_days"),
    )
    return scored.with_columns(
        (nw.col("r_score") * 100 + nw.col("f_score") * 10 + nw.col("m_score"))
        .cast(nw.Int32)
        .alias("rfm_score"),
        segment_expr(params).alias("rfm_segment"),
    ).select(*COLUMNS)


def grid(rfm_frame: nw.LazyFrame[Any]) -> nw.LazyFrame[Any]:
    """The R×F heat map: customers and their monetary total per (r_score, f_score) cell.

    Only cells with customers appear; an absent cell has none. ``monetary`` is in cents.
    """
    require_columns(rfm_frame, ("r_score", "f_score", "monetary"), "rfm_frame")
    return rfm_frame.group_by("r_score", "f_score").agg(
        nw.len().cast(nw.Int64).alias("customers"),
        nw.col("monetary").sum().cast(nw.Int64).alias("monetary"),
    )
