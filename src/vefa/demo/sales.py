"""The demo company's sales: catalogue, prices, exchange rates, pipeline, quotes, orders,
shipments, payments, contracts and this year's targets, consistent with its customers.

Every purchase in the demo contact history becomes an order (its first line is the product
the purchase names, its total is the purchase's amount, the purchase links back to it as
``sales.order:<id>``, and other interactions that cite an order number cite a real one).
Cancelled orders have no purchase, as ``vefa.sales.services.orders`` removes it. Won
opportunities end in one of those orders through an accepted quote; lost ones carry a reason
and often the competitor that won; contracts renew through the renewals pipeline.

Amounts are computed with ``vefa.sales.money`` exactly as the services store them; document
numbers come from ``vefa.sales.numbering.reserve_numbers``. The rows are made in memory from
a fixed seed (``SalesBuilder``) and written in bulk with the demo loader (``bulk_create``
would overwrite the historical creation times). The exchange rates are a generated, drifting
series, not real quotations.
"""

from __future__ import annotations

import bisect
import calendar
import datetime
import json
import re
from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db import models

from vefa.demo.bench.generate import ts
from vefa.demo.bench.loaders import Loader
from vefa.demo.bench.tables import TableSpec
from vefa.demo.build import DAY, DemoBuilder, Ids, to_date
from vefa.demo.sales_core import ONE, Existing, SalesData, epoch_of
from vefa.demo.sales_pipeline import PipelineMaker
from vefa.sales import models as sales
from vefa.sales.numbering import reserve_numbers
from vefa.sales.services.orders import (
    INTERACTION_MODEL,
    interaction_status_for,
    purchase_external_id,
)

_REF = re.compile(r"SO-\d+")

# The tables written, parents first.
MODELS: tuple[type[models.Model], ...] = (
    sales.ProductCategory,
    sales.Product,
    sales.PriceList,
    sales.PriceListItem,
    sales.ExchangeRate,
    sales.Competitor,
    sales.Contract,
    sales.Opportunity,
    sales.OpportunityLine,
    sales.OpportunityCompetitor,
    sales.Quote,
    sales.QuoteLine,
    sales.Order,
    sales.OrderLine,
    sales.Shipment,
    sales.Payment,
    sales.SalesTarget,
)


class SalesBuilder(PipelineMaker):
    """Makes the sales rows for a demo built by ``DemoBuilder`` (whose history it links)."""

    def build(self) -> SalesData:
        """Every sales record, parents before children; numbers last (in time order)."""
        self.rates()
        self.catalogue()
        self.customers()
        self.competitor_rows()
        self.order_rows()
        self.opportunities()
        self.contracts()
        self.targets()
        self.numbers()
        self.link_history()
        return self.data

    def targets(self) -> None:
        """Monthly revenue targets in euros for every seller and sales team this year: last
        year's net revenue in the month plus growth."""
        year = self.today.year
        actual: dict[tuple[str, int, int], Decimal] = defaultdict(Decimal)
        for order in self.orders:
            day = to_date(order["ordered_at"])
            if order["status"] == "cancelled" or day.year != year - 1:
                continue
            net = order["total"] - order["tax_total"]
            euros = net / self.rate(order["currency"], day)
            actual[("user", order["owner_id"] or 0, day.month)] += euros
            actual[("team", order["team_id"] or 0, day.month)] += euros
        created = min(self.now, epoch_of(datetime.date(year, 1, 1)) - 20 * DAY)
        teams = {u.team_id for u in self.sellers.values() if u.team_id}
        whom = [("user", u.pk) for u in self.sellers.values()] + [
            ("team", t) for t in sorted(teams)
        ]
        for kind, pk in whom:
            for month in range(1, 13):
                base = actual.get((kind, pk, month), Decimal(0))
                growth = Decimal(self.rng.randrange(105, 125)) / 100
                amount = max(
                    Decimal(5000), (base * growth / 1000).quantize(ONE, ROUND_HALF_UP) * 1000
                )
                last_day = calendar.monthrange(year, month)[1]
                self.data.add(
                    sales.SalesTarget,
                    {
                        "id": self.ids("sales_salestarget"),
                        "user_id": pk if kind == "user" else None,
                        "team_id": pk if kind == "team" else None,
                        "period_kind": "month",
                        "period_start": datetime.date(year, month, 1),
                        "period_end": datetime.date(year, month, last_day),
                        "metric": "revenue",
                        "amount": amount,
                        "currency": "EUR",
                        **self.stamps(created, self.creator),
                    },
                )

    # --- numbers and the contact history ---------------------------------------------------

    def numbers(self) -> None:
        """Document numbers in the order the documents were made, per kind and year."""
        quotes = [q for q in self.data.rows[sales.Quote] if q["previous_id"] is None]
        by_previous = {q["previous_id"]: q for q in self.data.rows[sales.Quote] if q["previous_id"]}
        groups = (
            ("order", self.orders, "ordered_at"),
            ("quote", quotes, "created_at"),
            ("contract", self.data.rows[sales.Contract], "created_at"),
        )
        for kind, rows, key in groups:
            by_year: dict[int, list[dict[str, Any]]] = defaultdict(list)
            for row in sorted(rows, key=lambda r: (r[key], r["id"])):
                by_year[to_date(row[key]).year].append(row)
            for year, documents in sorted(by_year.items()):
                for row, number in zip(
                    documents, self.reserve(kind, len(documents), year), strict=True
                ):
                    row["number"] = number
                    later = by_previous.get(row["id"]) if kind == "quote" else None
                    while later is not None:
                        later["number"] = number
                        later = by_previous.get(later["id"])

    def link_history(self) -> None:
        """Each purchase interaction becomes its order's; order numbers cited elsewhere in a
        customer's history point at the customer's latest order before that moment."""
        by_customer: dict[int, list[tuple[int, str]]] = defaultdict(list)
        for order in self.orders:
            purchase = order["_purchase"]
            if order["status"] == "cancelled" or purchase is None:
                continue
            by_customer[order["customer_id"]].append((order["ordered_at"], order["number"]))
            purchase.update(
                amount=order["total"].quantize(Decimal("0.01"), rounding=ROUND_HALF_UP),
                currency=order["currency"],
                status=interaction_status_for(order["status"]),
                related_model=INTERACTION_MODEL,
                related_id=order["id"],
                external_id=purchase_external_id(order["id"]),
                subject=_REF.sub(order["number"], purchase["subject"])[:300],
            )
        for interaction in self.b.data.rows.get("interactions_interaction", []):
            if interaction.get("external_id") or "SO-" not in interaction["subject"]:
                continue
            orders = by_customer.get(interaction["customer_id"])
            if not orders:
                continue
            at = bisect.bisect_right(orders, (interaction["occurred_at"], "\uffff")) - 1
            number = orders[max(at, 0)][1]
            interaction["subject"] = _REF.sub(number, interaction["subject"])[:300]


# --- loading -------------------------------------------------------------------------------


def _max_id(loader: Loader, model: type[models.Model]) -> int:
    table = model._meta.db_table
    return int(loader.scalar(f'SELECT COALESCE(MAX(id), 0) FROM "{table}"'))  # noqa: S608


def pipelines() -> dict[str, list[dict[str, Any]]]:
    """The stages of the default pipeline of each kind, in order."""
    found: dict[str, list[dict[str, Any]]] = {}
    for kind in ("new_business", "renewal"):
        pipeline = (
            sales.Pipeline.objects.filter(kind=kind, is_active=True)
            .order_by("-is_default", "order", "id")
            .first()
        )
        if pipeline is None:
            continue
        stages: list[dict[str, Any]] = [
            dict(s)
            for s in pipeline.stages.order_by("order", "id").values(
                "id", "pipeline_id", "kind", "order", "probability", "stale_after_days"
            )
        ]
        kinds = {s["kind"] for s in stages}
        if {"open", "won", "lost"} <= kinds:
            found[kind] = stages
    return found


def load_sales(builder: DemoBuilder, loader: Loader) -> dict[str, int]:
    """Make the sales records for the demo in ``builder``, link its purchase interactions
    (before they are written) and write the sales tables. Returns rows per table."""
    ids = Ids({m._meta.db_table: _max_id(loader, m) for m in MODELS})
    maker = SalesBuilder(
        builder,
        ids=ids,
        reserve=lambda kind, count, year: reserve_numbers(kind, count, year=year),
        pipelines=pipelines(),
        existing=Existing.load(),
    )
    data = maker.build()
    counts: dict[str, int] = {}
    for model in MODELS:
        rows = data.rows.get(model, [])
        if rows:
            counts[model._meta.db_table] = _copy(loader, model, rows)
    loader.reset_sequences(list(MODELS))
    return counts


def _copy(loader: Loader, model: type[models.Model], rows: list[dict[str, Any]]) -> int:
    spec = TableSpec.of(model)
    columns = set(spec.columns)
    times = {f.column for f in model._meta.concrete_fields if isinstance(f, models.DateTimeField)}
    out = []
    for row in rows:
        values: dict[str, Any] = {}
        for column, value in row.items():
            if column not in columns:
                continue
            if value is None or isinstance(value, bool | str):
                pass
            elif column in times:
                value = ts(value) + loader.ts_suffix
            elif isinstance(value, Decimal):
                value = str(value)
            elif isinstance(value, dict):
                value = json.dumps(value, ensure_ascii=False)
            elif isinstance(value, datetime.date):
                value = value.isoformat()
            values[column] = value
        out.append(spec.row(values))
    return loader.copy(spec.table, spec.columns, out)
