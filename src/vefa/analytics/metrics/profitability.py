"""Customer profitability: what a customer earns us after what serving, marketing to and
selling to them costs.

Per customer, over the window ``[as_of_day - window_days, as_of_day)``, in cents:

- ``revenue``: the transactions' revenue; ``gross_margin = revenue - cost`` (the cost of
  goods of the transactions);
- ``service_cost = tickets x ticket_cost + returns x return_cost + complaint interactions
  x complaint_cost``;
- ``marketing_cost``: each campaign send's own ``cost``, or ``send_cost`` when it is null;
- ``sales_cost``: done activities, each at the unit cost of its kind (call, meeting,
  appointment, visit, task; other kinds cost nothing);
- ``net_margin = gross_margin - service_cost - marketing_cost - sales_cost``;
  ``unprofitable = net_margin < 0``.

Every cost frame is optional (None: that cost is 0), and the unit costs of ``CostParams``
default to 0. A customer appears when anything of the above happened in the window, so a
customer who only costs (tickets, visits, no purchase) is listed, as unprofitable.
"""

from __future__ import annotations

from typing import Any

import narwhals as nw
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from vefa.analytics.metrics.params import require_columns
from vefa.analytics.metrics.params_b import CostParams, check_window, in_window

MONEY = ("revenue", "gross_margin", "service_cost", "marketing_cost", "sales_cost", "net_margin")

LABELS: dict[str, Promise] = {
    "revenue": _("Revenue"),
    "gross_margin": _("Gross margin"),
    "service_cost": _("Service cost"),
    "marketing_cost": _("Marketing cost"),
    "sales_cost": _("Sales cost"),
    "net_margin": _("Net margin"),
    "unprofitable": _("Unprofitable"),
    "customers": _("Customers"),
    "unprofitable_customers": _("Unprofitable customers"),
}

DESCRIPTIONS: dict[str, Promise] = {
    "net_margin": _(
        "Revenue minus the cost of goods, service (tickets, returns, complaints), marketing "
        "(campaign sends) and sales work (calls, meetings, visits, tasks)."
    ),
}


def _per_customer(frame: nw.LazyFrame[Any], name: str, total: nw.Expr) -> nw.LazyFrame[Any]:
    """``total`` (an aggregation) per customer, as the int64 column ``name``."""
    return frame.group_by("customer_id").agg(total.cast(nw.Int64).alias(name))


def _counted(frame: nw.LazyFrame[Any], name: str, unit_cost: int) -> nw.LazyFrame[Any]:
    """Rows per customer x ``unit_cost``."""
    return _per_customer(frame, name, nw.len().cast(nw.Int64) * unit_cost)


def _kind_cost(costs: dict[str, int]) -> nw.Expr:
    """The summed unit cost of the rows' ``kind`` (0 for kinds without a cost)."""
    costed = [(kind, cost) for kind, cost in costs.items() if cost]
    if not costed:  # a sum of constant zeros is not an expression narwhals accepts
        return nw.len().cast(nw.Int64) * 0
    expression: Any = nw.lit(0, nw.Int64)
    for kind, cost in costed:
        expression = nw.when(nw.col("kind") == kind).then(nw.lit(cost)).otherwise(expression)
    return expression.cast(nw.Int64).sum()


def profitability(
    transactions: nw.LazyFrame[Any],
    *,
    activities: nw.LazyFrame[Any] | None = None,
    interactions: nw.LazyFrame[Any] | None = None,
    tickets: nw.LazyFrame[Any] | None = None,
    returns: nw.LazyFrame[Any] | None = None,
    campaign_sends: nw.LazyFrame[Any] | None = None,
    as_of_day: int,
    window_days: int = 365,
    params: CostParams | None = None,
) -> nw.LazyFrame[Any]:
    """customer_id, revenue, gross_margin, service_cost, marketing_cost, sales_cost,
    net_margin (int64 cents) and unprofitable (bool); see the module docstring."""
    params = params or CostParams()
    check_window("window_days", window_days)
    needs: dict[str, tuple[Any, tuple[str, ...]]] = {
        "transactions": (transactions, ("revenue", "cost")),
        "activities": (activities, ("kind", "status")),
        "interactions": (interactions, ("kind",)),
        "tickets": (tickets, ()),
        "returns": (returns, ()),
        "campaign_sends": (campaign_sends, ("cost",)),
    }
    for what, (frame, columns) in needs.items():
        if frame is not None or what == "transactions":
            require_columns(frame, ("customer_id", "day", *columns), what)
    window = in_window(as_of_day, window_days)
    parts: list[nw.LazyFrame[Any]] = [
        transactions.filter(window)
        .group_by("customer_id")
        .agg(
            nw.col("revenue").sum().cast(nw.Int64).alias("revenue"),
            (nw.col("revenue") - nw.col("cost")).sum().cast(nw.Int64).alias("gross_margin"),
        )
    ]
    if tickets is not None:
        parts.append(_counted(tickets.filter(window), "service_cost", params.ticket_cost))
    if returns is not None:
        parts.append(_counted(returns.filter(window), "service_cost", params.return_cost))
    if interactions is not None:
        complaints = interactions.filter(window & (nw.col("kind") == "complaint"))
        parts.append(_counted(complaints, "service_cost", params.complaint_cost))
    if campaign_sends is not None:
        send = nw.col("cost").cast(nw.Int64).fill_null(params.send_cost)
        parts.append(_per_customer(campaign_sends.filter(window), "marketing_cost", send.sum()))
    if activities is not None:
        done = activities.filter(window & nw.col("status").is_in(list(params.activity_statuses)))
        parts.append(_per_customer(done, "sales_cost", _kind_cost(params.activity_costs())))

    customers = nw.concat(
        [part.select(nw.col("customer_id").cast(nw.Int64)) for part in parts], how="vertical"
    ).unique()
    # One column per kind of cost: several parts may feed the same column (tickets,
    # returns and complaints are all service), so each part is joined under its own name
    # and the columns are added up afterwards.
    sums: dict[str, list[str]] = {name: [] for name in MONEY[:5]}
    frame = customers
    for number, part in enumerate(parts):
        renamed = {name: f"{name}_{number}" for name in part.collect_schema().names()}
        renamed.pop("customer_id")
        for name, alias in renamed.items():
            sums[name].append(alias)
        frame = frame.join(
            part.with_columns(nw.col("customer_id").cast(nw.Int64)).rename(renamed),
            on="customer_id",
            how="left",
        )
    totals = {
        name: nw.sum_horizontal(*[nw.col(alias).fill_null(0) for alias in aliases])
        if aliases
        else nw.lit(0)
        for name, aliases in sums.items()
    }
    frame = frame.select(
        "customer_id", *[expression.cast(nw.Int64).alias(n) for n, expression in totals.items()]
    )
    return frame.with_columns(
        net_margin=nw.col("gross_margin")
        - nw.col("service_cost")
        - nw.col("marketing_cost")
        - nw.col("sales_cost")
    ).with_columns(unprofitable=nw.col("net_margin") < 0)


def by_segment(
    profit: nw.LazyFrame[Any], segments: nw.LazyFrame[Any], key: str
) -> nw.LazyFrame[Any]:
    """The profitability of ``profit`` summed per value of ``segments[key]``.

    ``segments`` has ``customer_id`` and the ``key`` column (e.g. ``rfm_segment`` of the
    RFM metric or ``value_class`` of the value classes). Customers of ``profit`` without a
    segment row form the segment null, so costs of customers outside every segment are not
    lost. Returns segment (the key's values), customers, the sums of revenue,
    gross_margin, service_cost, marketing_cost, sales_cost, net_margin,
    unprofitable_customers, and net_margin_per_customer (float).
    """
    if not isinstance(key, str) or key == "customer_id":
        raise ValueError(f"key must name a segment column other than customer_id, not {key!r}")
    require_columns(profit, ("customer_id", *MONEY, "unprofitable"), "profit")
    require_columns(segments, ("customer_id", key), "segments")
    codes = segments.select(nw.col("customer_id").cast(nw.Int64), nw.col(key).alias("segment"))
    return (
        profit.join(codes, on="customer_id", how="left")
        .group_by("segment")
        .agg(
            nw.len().cast(nw.Int64).alias("customers"),
            *[nw.col(name).sum().cast(nw.Int64) for name in MONEY],
            nw.col("unprofitable")
            .cast(nw.Int64)
            .sum()
            .cast(nw.Int64)
            .alias("unprofitable_customers"),
        )
        .with_columns(
            net_margin_per_customer=(nw.col("net_margin") / nw.col("customers")).cast(nw.Float64)
        )
    )
