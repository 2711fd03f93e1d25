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
import math
import re
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db import models

from vefa.demo.bench.generate import ts
from vefa.demo.bench.loaders import Loader
from vefa.demo.bench.tables import TableSpec
from vefa.demo.build import DAY, HOUR, UTC_OFFSET, DemoBuilder, Ids, to_date
from vefa.demo.company import LOGINS
from vefa.demo.people import FastRandom, pick, weighted
from vefa.demo.pools import Texts
from vefa.demo.pools.en import TEXTS as ENGLISH
from vefa.demo.sales_catalogue import (
    CARRIERS,
    CATALOGUE,
    COMPETITORS,
    CONTRACT_TITLES,
    DELIVERY,
    DISCONTINUED,
    INTRODUCED_LATER,
    OWN_FLEET,
    TAX_RATES,
)
from vefa.sales import models as sales
from vefa.sales.money import line_amounts, minor_digits, round_money, totals
from vefa.sales.numbering import reserve_numbers
from vefa.sales.services.orders import (
    INTERACTION_MODEL,
    interaction_status_for,
    purchase_external_id,
)

SEED = 20_240_303
CURRENCIES = ("TRY", "RSD", "IRR", "GBP", "USD")
# Euro → currency at the start of the history, at its end, and daily volatility.
RATES = {
    "TRY": (31.0, 48.5, 0.004),
    "RSD": (117.2, 117.1, 0.0006),
    "IRR": (44_500.0, 47_800.0, 0.002),
    "GBP": (0.865, 0.855, 0.003),
    "USD": (1.08, 1.12, 0.004),
}
# Prices follow the rates in steps: monthly where prices move fast, quarterly elsewhere.
MONTHLY_REPRICING = frozenset({"TRY", "IRR"})
NEW_BUSINESS_WON, NEW_BUSINESS_LOST, NEW_BUSINESS_OPEN = 240, 150, 210
CANCELLED_SHARE = 0.025
CONTRACT_CHAINS, ENDED_CHAINS, RENEWING_SOON = 48, 14, 14
LOST_REASONS = weighted(
    (
        ("price", 30),
        ("competitor", 25),
        ("no_budget", 12),
        ("no_decision", 10),
        ("timing", 8),
        ("features", 5),
        ("no_response", 8),
        ("other", 2),
    )
)
_REF = re.compile(r"SO-\d+")
_EPOCH_ORDINAL = 719_163  # date(1970, 1, 1).toordinal()
ONE = Decimal(1)

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

Reserve = Callable[[str, int, int], list[str]]


def epoch_of(day: datetime.date) -> int:
    return (day.toordinal() - _EPOCH_ORDINAL) * DAY


@dataclass
class Product:
    row: dict[str, Any]
    family: str
    eur: Decimal
    cost: Decimal  # in EUR
    qclass: str
    since: int
    until: int | None

    @property
    def service(self) -> bool:
        return str(self.row["sku"]).startswith("SRV-")

    def sold_at(self, when: int) -> bool:
        return self.since <= when and (self.until is None or when < self.until)


@dataclass
class Buyer:
    """What the sales records need to know about a demo customer."""

    row: dict[str, Any]
    texts: Texts
    country: str
    created: int
    wholesale: bool
    address: str
    contacts: list[int] = field(default_factory=list)

    @property
    def id(self) -> int:
        return int(self.row["id"])

    @property
    def person(self) -> bool:
        return bool(self.row["kind"] == "person")

    @property
    def currency(self) -> str:
        return str(self.row["currency"])


@dataclass
class Line:
    product: Product
    quantity: Decimal
    unit_price: Decimal
    discount: Decimal
    unit_cost: Decimal


@dataclass
class SalesData:
    rows: dict[type[models.Model], list[dict[str, Any]]] = field(
        default_factory=lambda: defaultdict(list)
    )

    def add(self, model: type[models.Model], row: dict[str, Any]) -> dict[str, Any]:
        self.rows[model].append(row)
        return row


class SalesBuilder:
    """Makes the sales rows for a demo built by ``DemoBuilder`` (whose history it links)."""

    def __init__(
        self,
        builder: DemoBuilder,
        *,
        ids: Ids,
        reserve: Reserve,
        pipelines: dict[str, list[dict[str, Any]]],
        existing_rates: frozenset[tuple[str, str, datetime.date]] = frozenset(),
    ) -> None:
        self.b = builder
        self.rng = FastRandom(SEED)
        self.now = builder.now
        self.start = builder.start
        self.today = to_date(builder.now)
        self.ids = ids
        self.reserve = reserve
        self.stages = pipelines  # pipeline kind → its stages (id, pipeline_id, kind, …)
        self.existing_rates = existing_rates
        self.data = SalesData()
        self.products: list[Product] = []
        self.by_family: dict[str, list[Product]] = defaultdict(list)
        self.by_category: dict[int, list[Product]] = defaultdict(list)
        self.delivery: Product | None = None
        self.eur_to: dict[str, dict[int, Decimal]] = {}
        self.competitors: dict[str, list[int]] = defaultdict(list)
        self.buyers: dict[int, Buyer] = {}
        self.orders: list[dict[str, Any]] = []
        self.price_lists: dict[str, int] = {}
        self.creator = next(
            (u.pk for u in builder.staff.users.values() if u.role == "sales_manager"), None
        )
        self.sellers = {
            login.email: builder.staff.users[login.email]
            for login in LOGINS
            if login.markets and login.email in builder.staff.users
        }

    # --- the whole run ---------------------------------------------------------------------

    def build(self) -> SalesData:
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

    # --- small helpers ---------------------------------------------------------------------

    def stamps(self, created: int, user: int | None, updated: int | None = None) -> dict[str, Any]:
        return {
            "created_at": created,
            "updated_at": max(created, updated or created),
            "created_by_id": user,
            "updated_by_id": user,
            "version": 1,
        }

    def moment(self, country: str, earliest: int, latest: int) -> int:
        """A time in working hours in ``country`` between the bounds (or the earliest)."""
        if latest <= earliest:
            return earliest
        offset = int(UTC_OFFSET.get(country, 0.0) * HOUR)
        first, last = (earliest + offset) // DAY, (latest + offset) // DAY
        for _ in range(8):
            day = self.rng.randrange(first, last + 1)
            when = day * DAY + self.rng.randrange(9 * HOUR, 18 * HOUR) - offset
            if earliest <= when <= latest:
                return when
        return earliest + (latest - earliest) // 2

    def rate(self, currency: str, day: datetime.date) -> Decimal:
        """Euro → ``currency`` on ``day`` (the latest published rate)."""
        if currency == "EUR":
            return ONE
        series = self.eur_to[currency]
        ordinal = min(max(day.toordinal(), self.first_rate_day), self.last_rate_day)
        return series[ordinal]

    def price(self, product: Product, currency: str, when: int) -> Decimal:
        """The unit price the company asked in ``currency`` at ``when`` (prices are revised
        monthly or quarterly from the euro list, to round figures)."""
        if currency == "EUR":
            return product.eur
        day = to_date(when)
        month = day.month if currency in MONTHLY_REPRICING else (day.month - 1) // 3 * 3 + 1
        return nice(product.eur * self.rate(currency, day.replace(month=month, day=1)), currency)

    def cost(self, product: Product, currency: str, when: int) -> Decimal:
        return round_money(product.cost * self.rate(currency, to_date(when)), currency)

    def competitors_for(self, buyer: Buyer) -> list[int]:
        return self.competitors.get(buyer.country) or [
            i for v in self.competitors.values() for i in v
        ]

    # --- exchange rates --------------------------------------------------------------------

    def rates(self) -> None:
        """A drifting daily series per currency (published on working days), and every
        cross rate between the six currencies so reports convert into any of them."""
        rng = self.rng
        first = to_date(self.start) - datetime.timedelta(days=10)
        days = (self.today - first).days + 1
        self.first_rate_day, self.last_rate_day = first.toordinal(), self.today.toordinal()
        published: dict[str, list[tuple[datetime.date, Decimal]]] = {}
        for currency, (begin, end, vol) in RATES.items():
            level, series, values = math.log(begin), {}, []
            step = (math.log(end) - math.log(begin)) / days
            last = Decimal(0)
            for n in range(days):
                day = first + datetime.timedelta(days=n)
                trend = math.log(begin) + step * n
                level += step + vol * rng.gauss(0.0, 1.0) - 0.04 * (level - trend)
                if day.weekday() < 5 or not last:
                    last = Decimal(f"{math.exp(level):.6g}")
                    values.append((day, last))
                series[day.toordinal()] = last
            self.eur_to[currency] = series
            published[currency] = values
        published["EUR"] = [(d, ONE) for d, _ in published["TRY"]]
        codes = ("EUR", *CURRENCIES)
        user = self.creator
        for index, (day, _) in enumerate(published["EUR"]):
            per_eur = {c: published[c][index][1] for c in codes}
            created = epoch_of(day) + 15 * HOUR
            for base in codes:
                for quote in codes:
                    if base == quote or (base, quote, day) in self.existing_rates:
                        continue
                    value = (per_eur[quote] / per_eur[base]).quantize(Decimal("1e-10"))
                    self.data.add(
                        sales.ExchangeRate,
                        {
                            "id": self.ids("sales_exchangerate"),
                            "day": day,
                            "currency": base,
                            "quote_currency": quote,
                            "rate": value,
                            **self.stamps(min(created, self.now), user),
                        },
                    )

    # --- catalogue -------------------------------------------------------------------------

    def catalogue(self) -> None:
        rng, user = self.rng, self.creator
        opened = self.start - 30 * DAY
        span = self.now - self.start
        for code, name, items in CATALOGUE:
            category = self.data.add(
                sales.ProductCategory,
                {
                    "id": self.ids("sales_productcategory"),
                    "name": name,
                    "parent_id": None,
                    **self.stamps(opened, user),
                },
            )
            for number, (family, title, eur, unit, qclass) in enumerate(items, start=1):
                since = opened
                if title in INTRODUCED_LATER:
                    since = self.start + int(span * rng.uniform(0.35, 0.75))
                until = (
                    self.start + int(span * rng.uniform(0.45, 0.6))
                    if title in DISCONTINUED
                    else None
                )
                share = rng.uniform(0.3, 0.5) if code == "SRV" else rng.uniform(0.42, 0.66)
                cost = (Decimal(eur) * Decimal(f"{share:.2f}")).quantize(Decimal("0.01"))
                product = Product({}, family, Decimal(eur), cost, qclass, since, until)
                row = {
                    "id": self.ids("sales_product"),
                    "sku": f"{code}-{number:03d}",
                    "name": title,
                    "description": "",
                    "category_id": category["id"],
                    "unit": unit,
                    "list_price": self.price(product, "TRY", self.now),
                    "unit_cost": self.cost(product, "TRY", self.now),
                    "currency": "TRY",
                    "tax_rate": Decimal(TAX_RATES["TR"]),
                    "is_active": until is None,
                    "custom_fields": {},
                    **self.stamps(since, user, until),
                }
                product.row = self.data.add(sales.Product, row)
                self.products.append(product)
                self.by_category[category["id"]].append(product)
                if family:
                    self.by_family[family].append(product)
                if title == DELIVERY:
                    self.delivery = product
        self.price_list_rows()

    def price_list_rows(self) -> None:
        user, year = self.creator, self.today.year
        general = self.data.add(
            sales.PriceList,
            {
                "id": self.ids("sales_pricelist"),
                "name": "General price list",
                "currency": "EUR",
                "customer_group_id": None,
                "valid_from": to_date(self.start).replace(month=1, day=1),
                "valid_until": None,
                "is_active": True,
                **self.stamps(self.start - 30 * DAY, user),
            },
        )
        tag = self.b.tag_ids.get("Wholesale")
        wholesale = self.data.add(
            sales.PriceList,
            {
                "id": self.ids("sales_pricelist"),
                "name": "Wholesale",
                "currency": "TRY",
                "customer_group_id": tag,
                "valid_from": datetime.date(year, 1, 1),
                "valid_until": datetime.date(year, 12, 31),
                "is_active": tag is not None,
                **self.stamps(min(self.now, epoch_of(datetime.date(year, 1, 1))), user),
            },
        )
        self.price_lists = {"EUR": general["id"], "wholesale": wholesale["id"]}
        for product in self.products:
            if not product.row["is_active"]:
                continue
            created = max(product.since, general["created_at"])
            self.data.add(
                sales.PriceListItem,
                {
                    "id": self.ids("sales_pricelistitem"),
                    "price_list_id": general["id"],
                    "product_id": product.row["id"],
                    "min_quantity": Decimal(1),
                    "unit_price": product.eur,
                    **self.stamps(created, user),
                },
            )
            for quantity, share in ((1, "0.88"), (10, "0.82")):
                if quantity > 1 and product.qclass not in ("s", "d", "m"):
                    continue
                self.data.add(
                    sales.PriceListItem,
                    {
                        "id": self.ids("sales_pricelistitem"),
                        "price_list_id": wholesale["id"],
                        "product_id": product.row["id"],
                        "min_quantity": Decimal(quantity),
                        "unit_price": nice(product.row["list_price"] * Decimal(share), "TRY"),
                        **self.stamps(max(product.since, wholesale["created_at"]), user),
                    },
                )

    def wholesale_price(self, product: Product, quantity: Decimal) -> Decimal:
        share = "0.82" if quantity >= 10 and product.qclass in ("s", "d", "m") else "0.88"
        return nice(product.row["list_price"] * Decimal(share), "TRY")

    # --- customers -------------------------------------------------------------------------

    def customers(self) -> None:
        wholesale_tag = self.b.tag_ids.get("Wholesale")
        wholesale = {cid for cid, tag in self.b.data.tags if tag == wholesale_tag}
        addresses: dict[int, str] = {}
        for address in self.b.data.rows.get("customers_address", []):
            if address["is_primary"] or address["customer_id"] not in addresses:
                parts = (address["line1"], f"{address['postal_code']} {address['city']}".strip())
                addresses[address["customer_id"]] = "\n".join(
                    [*(p for p in parts if p), address["country"]]
                )
        for customer in self.b.customers:
            cid = customer.row["id"]
            self.buyers[cid] = Buyer(
                row=customer.row,
                texts=customer.made.locale.texts,
                country=customer.made.locale.country,
                created=customer.created,
                wholesale=cid in wholesale,
                address=addresses.get(cid, ""),
            )
        for relation in self.b.data.rows.get("customers_customerrelationship", []):
            firm = self.buyers.get(relation["to_customer_id"])
            if relation["kind"] == "works_at" and firm is not None:
                firm.contacts.append(relation["from_customer_id"])

    def family_of(self, buyer: Buyer, subject: str) -> str:
        """The catalogue family of the pool product named in ``subject``."""
        names = family_names(buyer.texts)
        for local in sorted(names, key=len, reverse=True):
            if local in subject:
                return names[local]
        return ""

    def owner_of(self, buyer: Buyer) -> int | None:
        owner = buyer.row["owner_id"]
        if owner is None:
            market = {u.team_id: u.pk for u in self.sellers.values()}
            owner = market.get(buyer.row["team_id"])
        return owner

    # --- lines -----------------------------------------------------------------------------

    def lines(self, buyer: Buyer, when: int, family: str = "", big: bool = False) -> list[Line]:
        """1–5 believable lines for ``buyer`` at ``when`` in its currency, sometimes with
        delivery and assembly or hours of installation."""
        rng = self.rng
        goods = [p for p in self.products if p.sold_at(when) and not p.service]
        first = [p for p in self.by_family.get(family, []) if p.sold_at(when)]
        count = int(pick(rng, _ORG_LINES if (big or not buyer.person) else _PERSON_LINES))
        chosen: list[Product] = [rng.choice(first or goods)]
        for _ in range(4 * count):
            if len(chosen) >= count:
                break
            same = [p for p in self.by_category[chosen[0].row["category_id"]] if p.sold_at(when)]
            product = rng.choice(same if rng.random() < 0.4 else goods)
            if product not in chosen:
                chosen.append(product)
        hours = [p for p in self.products if p.qclass == "h" and p.sold_at(when)]
        if not buyer.person and hours and rng.random() < 0.2:
            chosen.append(rng.choice(hours))
        if self.delivery and rng.random() < 0.3:
            chosen.append(self.delivery)
        discount = Decimal(pick(rng, _PERSON_DISCOUNT if buyer.person else _ORG_DISCOUNT))
        result = []
        for product in chosen:
            quantity = Decimal(self.quantity(product, buyer.person, big))
            price = self.price(product, buyer.currency, when)
            line_discount = discount
            if buyer.wholesale and not product.service:
                if buyer.currency == "TRY" and to_date(when).year == self.today.year:
                    price, line_discount = self.wholesale_price(product, quantity), Decimal(0)
                else:
                    line_discount = Decimal(10)
            cost = self.cost(product, buyer.currency, when)
            result.append(Line(product, quantity, price, line_discount, cost))
        return result

    def quantity(self, product: Product, person: bool, big: bool) -> int:
        rng, q = self.rng, product.qclass
        if q == "h":
            return rng.randrange(2, 17)
        if q == "m":
            return rng.randrange(3, 12) if person else rng.randrange(10, 80)
        if person:
            return rng.choice((1, 1, 1, 2, 4, 6)) if q == "s" else 1
        scale = 3 if big else 1
        if q == "s":
            return rng.randrange(4, 16 * scale)
        if q == "d":
            return rng.randrange(2, 8 * scale)
        return rng.choice((1, 1, 1, 2, 3)) if product.qclass == "1" else 1

    def document_lines(
        self, model: type[models.Model], parent: str, parent_id: int, lines: list[Line],
        currency: str, tax_rate: int, stamps: dict[str, Any],
    ) -> list[Any]:  # fmt: skip
        """Quote or order lines (rows written), and their amounts, as the services fill them."""
        figures = []
        for position, line in enumerate(lines):
            amounts = line_amounts(
                quantity=line.quantity,
                unit_price=line.unit_price,
                currency=currency,
                discount_percent=line.discount,
                tax_rate=tax_rate,
            )
            figures.append(amounts)
            row = {
                "id": self.ids(model._meta.db_table),
                parent: parent_id,
                "position": position,
                "product_id": line.product.row["id"],
                "sku": line.product.row["sku"],
                "description": line.product.row["name"],
                "quantity": line.quantity,
                "unit": line.product.row["unit"],
                "unit_price": line.unit_price,
                "discount_percent": line.discount,
                "tax_rate": Decimal(tax_rate),
                "gross": amounts.gross,
                "discount": amounts.discount,
                "net": amounts.net,
                "tax": amounts.tax,
                "total": amounts.total,
                **stamps,
            }
            if model is sales.OrderLine:
                row["unit_cost"] = line.unit_cost
            self.data.add(model, row)
        return figures

    def set_totals(self, row: dict[str, Any], figures: list[Any]) -> None:
        """As ``set_document_totals`` does."""
        sums = totals(figures, row["currency"])
        row["subtotal"] = sums.subtotal
        row["discount_total"] = sums.discount
        row["tax_total"] = sums.tax
        row["total"] = round_money(sums.total, row["currency"])

    # --- orders ----------------------------------------------------------------------------

    def order_rows(self) -> None:
        """An order for every purchase in the contact history, plus cancelled orders."""
        rng = self.rng
        purchases = [
            i
            for i in self.b.data.rows.get("interactions_interaction", [])
            if i["kind"] == "purchase"
        ]
        for interaction in purchases:
            buyer = self.buyers[interaction["customer_id"]]
            family = self.family_of(buyer, interaction["subject"])
            web = interaction["channel"] == "web"
            self.order(buyer, interaction["occurred_at"], family, web=web, purchase=interaction)
        buyers = sorted({i["customer_id"] for i in purchases})
        for _ in range(int(len(purchases) * CANCELLED_SHARE)):
            buyer = self.buyers[rng.choice(buyers)]
            when = self.moment(buyer.country, buyer.created, self.now - DAY)
            self.order(buyer, when, "", web=rng.random() < 0.4, cancelled=True)
        self.orders.sort(key=lambda o: (o["ordered_at"], o["id"]))

    def order(
        self, buyer: Buyer, when: int, family: str, *, web: bool,
        purchase: dict[str, Any] | None = None, cancelled: bool = False,
    ) -> dict[str, Any]:  # fmt: skip
        order_id = self.ids("sales_order")
        currency = buyer.currency
        user = None if web else buyer.row["owner_id"]
        row: dict[str, Any] = {
            "id": order_id,
            "number": "",
            "source": "ecommerce" if web else "manual",
            "external_id": f"WEB-{order_id + 480_000}" if web else "",
            "customer_id": buyer.id,
            "quote_id": None,
            "opportunity_id": None,
            "owner_id": buyer.row["owner_id"],
            "team_id": buyer.row["team_id"],
            "status": "draft",
            "ordered_at": when,
            "currency": currency,
            "paid_total": round_money(0, currency),
            "shipping_address": buyer.address,
            "notes": "",
            "confirmed_at": None,
            "shipped_at": None,
            "delivered_at": None,
            "invoiced_at": None,
            "paid_at": None,
            "cancelled_at": None,
            "custom_fields": {},
            **self.stamps(when, user),
            "_purchase": purchase,
            "_buyer": buyer,
        }
        lines = self.lines(buyer, when, family)
        self.fill_order(row, lines)
        self.progress(row, buyer, web=web, cancelled=cancelled)
        self.data.add(sales.Order, row)
        self.orders.append(row)
        return row

    def fill_order(self, row: dict[str, Any], lines: list[Line]) -> None:
        currency = row["currency"]
        stamps = self.stamps(row["created_at"], row["created_by_id"])
        tax = TAX_RATES.get(row["_buyer"].country, 20)
        figures = self.document_lines(
            sales.OrderLine, "order_id", row["id"], lines, currency, tax, stamps
        )
        self.set_totals(row, figures)
        cost = sum((line.quantity * line.unit_cost for line in lines), Decimal(0))
        row["cost_total"] = round_money(cost, currency)
        row["_lines"] = lines

    def progress(self, row: dict[str, Any], buyer: Buyer, *, web: bool, cancelled: bool) -> None:
        """Move the order along its flow as far as time allows; ship and take payment."""
        rng, now, when = self.rng, self.now, row["ordered_at"]
        confirmed = when + (rng.randrange(60, 2 * HOUR) if web else rng.randrange(HOUR, 30 * HOUR))
        shipped = confirmed + rng.randrange(1, 6) * DAY + rng.randrange(0, 8 * HOUR)
        transit = 8 if buyer.country == "IR" else 4
        delivered = shipped + rng.randrange(1, transit) * DAY + rng.randrange(0, 6 * HOUR)
        invoiced = delivered + rng.randrange(0, 3) * DAY + rng.randrange(HOUR, 4 * HOUR)
        terms = 2 if (buyer.person or web) else rng.randrange(7, 45)
        paid = invoiced + rng.randrange(0, terms) * DAY + rng.randrange(HOUR, 6 * HOUR)
        flow = [
            ("confirmed", confirmed),
            ("shipped", shipped),
            ("delivered", delivered),
            ("invoiced", invoiced),
            ("paid", paid),
        ]
        roll = rng.random()
        stop = "invoiced" if roll < 0.03 else "delivered" if roll < 0.04 else "paid"
        if cancelled:
            steps = rng.choice((0, 0, 1))
            flow = flow[:steps]
            cancel = (flow[-1][1] if flow else when) + rng.randrange(HOUR, 4 * DAY)
            flow.append(("cancelled", min(cancel, now)))
        reached = 0
        for status, moment in flow:
            if moment > now:
                break
            row["status"] = status
            row[f"{status}_at"] = moment
            row["updated_at"] = moment
            reached += 1
            if status == stop:
                break
        row["version"] = 1 + reached
        if cancelled:
            return
        self.shipments(row, buyer)
        self.payments(row, buyer, web=web)

    def shipments(self, row: dict[str, Any], buyer: Buyer) -> None:
        rng = self.rng
        status = row["status"]
        if status == "draft" or (status == "confirmed" and rng.random() < 0.6):
            return
        carriers = CARRIERS.get(buyer.country, CARRIERS["TR"])
        carrier, pattern = rng.choice(carriers)
        tracking = self.tracking(pattern)
        if buyer.country == "TR" and not buyer.person and rng.random() < 0.3:
            carrier, tracking = OWN_FLEET, ""
        shipped, delivered = row["shipped_at"], row["delivered_at"]
        parts = [(shipped, delivered)]
        if shipped and delivered and len(row["_lines"]) > 2 and rng.random() < 0.2:
            parts.append((shipped + (delivered - shipped) // 2, delivered))
        for number, (sent, arrived) in enumerate(parts):
            state = "delivered" if arrived else "in_transit" if sent else "preparing"
            user = row["owner_id"]
            created = sent or row["confirmed_at"]
            self.data.add(
                sales.Shipment,
                {
                    "id": self.ids("sales_shipment"),
                    "order_id": row["id"],
                    "carrier": carrier,
                    "tracking_number": tracking
                    if number == 0
                    else self.tracking(pattern)
                    if tracking
                    else "",
                    "status": state,
                    "shipped_at": sent,
                    "delivered_at": arrived,
                    "notes": "",
                    **self.stamps(created, user, arrived),
                    "version": 1 + (sent is not None) + (arrived is not None),
                },
            )

    def tracking(self, pattern: str) -> str:
        rng = self.rng
        letters = "ABCDEFGHJKLMNPRSTUVWXYZ"
        return "".join(
            str(rng.randrange(10)) if c == "#" else rng.choice(letters) if c == "@" else c
            for c in pattern
        )

    def payments(self, row: dict[str, Any], buyer: Buyer, *, web: bool) -> None:
        rng, currency, total = self.rng, row["currency"], row["total"]
        status = row["status"]
        plan: list[tuple[Decimal, int, str]] = []
        if web:
            if status != "draft":
                plan.append((total, row["confirmed_at"], "card"))
        else:
            method = (
                rng.choice(("card", "cash", "transfer"))
                if buyer.person
                else ("cheque" if buyer.country == "TR" and rng.random() < 0.15 else "transfer")
            )
            deposit_chance = {"paid": 0.2, "invoiced": 0.35}.get(status, 0.15)
            deposit = None
            if status != "draft" and rng.random() < deposit_chance:
                share = Decimal(rng.choice((30, 40, 50))) / 100
                deposit = round_money(total * share, currency)
                plan.append((deposit, row["confirmed_at"], "transfer"))
            if status == "paid":
                plan.append((total - (deposit or 0), row["paid_at"], method))
        paid = Decimal(0)
        for amount, when, method in plan:
            paid += amount
            reference = {
                "card": f"POS-{rng.randrange(100_000, 999_999)}",
                "transfer": f"TRF-{rng.randrange(10**8, 10**9)}",
                "cheque": f"CHQ-{rng.randrange(1000, 9999)}",
            }.get(method, "")
            self.data.add(
                sales.Payment,
                {
                    "id": self.ids("sales_payment"),
                    "order_id": row["id"],
                    "amount": amount,
                    "currency": currency,
                    "paid_at": when,
                    "method": method,
                    "reference": reference,
                    **self.stamps(when, row["owner_id"]),
                },
            )
        row["paid_total"] = round_money(paid, currency)

    # --- opportunities and quotes ----------------------------------------------------------

    def opportunities(self) -> None:
        pipeline = self.stages.get("new_business")
        if not pipeline:
            return
        rng = self.rng
        open_stages = [s for s in pipeline if s["kind"] == "open"]
        won = next(s for s in pipeline if s["kind"] == "won")
        lost = next(s for s in pipeline if s["kind"] == "lost")
        candidates = [
            o
            for o in self.orders
            if o["status"] != "cancelled" and o["ordered_at"] > self.start + 30 * DAY
        ]
        firms = [o for o in candidates if not o["_buyer"].person]
        people = [o for o in candidates if o["_buyer"].person]
        chosen = rng.sample(firms, min(len(firms), NEW_BUSINESS_WON * 4 // 5))
        chosen += rng.sample(people, min(len(people), NEW_BUSINESS_WON - len(chosen)))
        for order in sorted(chosen, key=lambda o: o["id"]):
            self.won_opportunity(order, won)
        everyone = [b for b in self.buyers.values() if b.created < self.now - 40 * DAY]
        for _ in range(NEW_BUSINESS_LOST):
            self.lost_opportunity(rng.choice(everyone), lost)
        active = [
            b
            for b in self.buyers.values()
            if b.row["lifecycle_stage"] in ("customer", "prospect", "lead")
        ]
        shares = weighted(tuple((str(i), w) for i, w in enumerate((30, 25, 25, 20))))
        for _ in range(NEW_BUSINESS_OPEN):
            stage = open_stages[min(int(pick(rng, shares)), len(open_stages) - 1)]
            self.open_opportunity(rng.choice(active), stage)

    def opportunity(
        self, buyer: Buyer, stage: dict[str, Any], created: int, lines: list[Line], *,
        name_product: str = "",
    ) -> dict[str, Any]:  # fmt: skip
        rng = self.rng
        owner = self.owner_of(buyer)
        product = name_product or rng.choice(buyer.texts.products)
        contact = rng.choice(buyer.contacts) if buyer.contacts and rng.random() < 0.8 else None
        row = {
            "id": self.ids("sales_opportunity"),
            "name": f"{buyer.row['display_name']}: {product}"[:200],
            "customer_id": buyer.id,
            "contact_id": contact,
            "pipeline_id": stage["pipeline_id"],
            "stage_id": stage["id"],
            "status": stage["kind"],
            "currency": buyer.currency,
            "probability": stage["probability"],
            "forecast_category": "pipeline",
            "owner_id": owner,
            "team_id": buyer.row["team_id"],
            "source": buyer.row["source"],
            "next_step": "",
            "follow_up_date": None,
            "follow_up_activity_id": None,
            "expected_close_date": None,
            "lost_reason": "",
            "lost_note": "",
            "lost_to_id": None,
            "stage_changed_at": created,
            "closed_at": None,
            "renewal_of_id": None,
            "custom_fields": {},
            **self.stamps(created, owner),
            "_buyer": buyer,
        }
        amount = Decimal(0)
        stamps = self.stamps(created, owner)
        for position, line in enumerate(lines):
            net = line_amounts(
                quantity=line.quantity, unit_price=line.unit_price, currency=buyer.currency,
                discount_percent=line.discount,
            ).total  # fmt: skip
            amount += net
            self.data.add(
                sales.OpportunityLine,
                {
                    "id": self.ids("sales_opportunityline"),
                    "opportunity_id": row["id"],
                    "position": position,
                    "product_id": line.product.row["id"],
                    "description": line.product.row["name"],
                    "quantity": line.quantity,
                    "unit_price": line.unit_price,
                    "discount_percent": line.discount,
                    "total": net,
                    **stamps,
                },
            )
        row["amount"] = round_money(amount, buyer.currency)
        return self.data.add(sales.Opportunity, row)

    def close(self, row: dict[str, Any], when: int, stage: dict[str, Any]) -> None:
        row.update(
            stage_id=stage["id"],
            status=stage["kind"],
            probability=stage["probability"],
            stage_changed_at=when,
            closed_at=when,
            updated_at=when,
            version=row["version"] + 3,
            forecast_category="commit" if stage["kind"] == "won" else "omitted",
        )
        row["expected_close_date"] = to_date(when)

    def won_opportunity(self, order: dict[str, Any], stage: dict[str, Any]) -> None:
        rng, buyer = self.rng, order["_buyer"]
        ordered = order["ordered_at"]
        created = max(buyer.created, ordered - rng.randrange(15, 120) * DAY)
        closed = max(created, ordered - rng.randrange(0, 2 * DAY))
        family = order["_lines"][0].product.family
        local = {v: k for k, v in family_names(buyer.texts).items()}.get(family, "")
        opportunity = self.opportunity(buyer, stage, created, order["_lines"], name_product=local)
        self.close(opportunity, closed, stage)
        self.bids(opportunity, buyer, chance=0.3)
        order["opportunity_id"] = opportunity["id"]
        if rng.random() < 0.6:
            quote = self.quotes(opportunity, buyer, created, closed, "accepted", order["_lines"])
            order["quote_id"], order["source"], order["external_id"] = quote["id"], "quote", ""

    def lost_opportunity(self, buyer: Buyer, stage: dict[str, Any]) -> None:
        rng = self.rng
        created = self.moment(buyer.country, buyer.created, self.now - 30 * DAY)
        closed = self.moment(
            buyer.country, created + 7 * DAY, min(self.now - DAY, created + 120 * DAY)
        )
        lines = self.lines(buyer, created, big=rng.random() < 0.3)
        opportunity = self.opportunity(buyer, stage, created, lines)
        self.close(opportunity, closed, stage)
        reason = pick(rng, LOST_REASONS)
        opportunity["lost_reason"] = reason
        winner = None
        if reason == "competitor" or (reason == "price" and rng.random() < 0.5):
            winner = rng.choice(self.competitors_for(buyer))
            opportunity["lost_to_id"] = winner
        self.bids(opportunity, buyer, chance=0.2, winner=winner)
        if rng.random() < 0.35:
            status = "rejected" if rng.random() < 0.75 else "expired"
            self.quotes(opportunity, buyer, created, closed, status, lines)

    def open_opportunity(self, buyer: Buyer, stage: dict[str, Any]) -> None:
        rng, now = self.rng, self.now
        stale = stage["stale_after_days"] * DAY
        created = max(buyer.created, now - rng.randrange(5, 150) * DAY)
        if rng.random() < 0.2:  # stale: in its stage longer than the stage allows
            moved = now - stale - rng.randrange(1, 45) * DAY
        else:
            moved = now - rng.randrange(0, max(stale, DAY))
        moved = max(created, moved)
        lines = self.lines(buyer, created, big=rng.random() < 0.3)
        opportunity = self.opportunity(buyer, stage, created, lines)
        order = stage["order"]
        category = ("pipeline", "pipeline", "best_case", "commit")[min(order, 3)]
        if category == "commit" and rng.random() < 0.2:
            category = "best_case"
        product = rng.choice(buyer.texts.products)
        kind = rng.choice(("task", "call"))
        next_step = rng.choice(buyer.texts.activities[kind]).replace("{product}", product)
        opportunity.update(
            stage_changed_at=moved,
            updated_at=moved,
            version=1 + order,
            forecast_category=category,
            next_step=next_step[:300],
            expected_close_date=self.today + datetime.timedelta(days=rng.randrange(-10, 120)),
            follow_up_date=self.today + datetime.timedelta(days=rng.randrange(-5, 15)),
        )
        self.bids(opportunity, buyer, chance=0.25)
        if order >= 2 and rng.random() < 0.85:
            self.quotes(opportunity, buyer, max(created, moved - 5 * DAY), None, "sent", lines)
        elif order == 1 and rng.random() < 0.1:
            self.quotes(opportunity, buyer, moved, None, "draft", lines)

    def bids(
        self, opportunity: dict[str, Any], buyer: Buyer, *, chance: float, winner: int | None = None
    ) -> None:
        rng = self.rng
        bidders = [winner] if winner else []
        if rng.random() < chance:
            bidders.append(rng.choice(self.competitors_for(buyer)))
        for competitor in dict.fromkeys(bidders):
            share = Decimal(rng.randrange(80, 112)) / 100
            self.data.add(
                sales.OpportunityCompetitor,
                {
                    "id": self.ids("sales_opportunitycompetitor"),
                    "opportunity_id": opportunity["id"],
                    "competitor_id": competitor,
                    "price": nice(opportunity["amount"] * share, buyer.currency),
                    "currency": buyer.currency,
                    "notes": "",
                    **self.stamps(opportunity["created_at"], opportunity["owner_id"]),
                },
            )

    def quotes(
        self, opportunity: dict[str, Any], buyer: Buyer, created: int, decided: int | None,
        status: str, lines: list[Line],
    ) -> dict[str, Any]:  # fmt: skip
        """The quote(s) of an opportunity: sometimes a first version that was revised."""
        rng = self.rng
        last = min(decided or self.now, self.now)
        issued = self.moment(buyer.country, created, max(created, last - DAY))
        previous = None
        if rng.random() < 0.3 and last - issued > 4 * DAY:
            first_lines = [
                Line(
                    x.product,
                    x.quantity,
                    x.unit_price,
                    max(Decimal(0), x.discount - 5),
                    x.unit_cost,
                )
                for x in lines
            ]
            previous = self.quote(opportunity, buyer, issued, None, "superseded", first_lines, None)
            issued = self.moment(buyer.country, issued + DAY, max(issued + DAY, last - DAY))
        if status == "expired":
            issued = max(created, min(issued, last - 35 * DAY))
        return self.quote(opportunity, buyer, issued, decided, status, lines, previous)

    def quote(
        self, opportunity: dict[str, Any], buyer: Buyer, issued: int, decided: int | None,
        status: str, lines: list[Line], previous: dict[str, Any] | None,
    ) -> dict[str, Any]:  # fmt: skip
        owner = opportunity["owner_id"]
        day = to_date(issued)
        price_list = None
        if buyer.currency == "EUR":
            price_list = self.price_lists.get("EUR")
        elif buyer.wholesale and buyer.currency == "TRY" and day.year == self.today.year:
            price_list = self.price_lists.get("wholesale")
        sent = issued + 2 * HOUR if status != "draft" else None
        if sent is not None and sent > self.now:
            sent = self.now
        valid = day + datetime.timedelta(days=30)
        if status == "sent" and valid < self.today:
            status = "expired"
        elif status == "expired" and valid >= self.today:
            status = "rejected"
        row: dict[str, Any] = {
            "id": self.ids("sales_quote"),
            "number": "",
            "revision": previous["revision"] + 1 if previous else 1,
            "previous_id": previous["id"] if previous else None,
            "customer_id": buyer.id,
            "contact_id": opportunity["contact_id"],
            "opportunity_id": opportunity["id"],
            "price_list_id": price_list,
            "owner_id": owner,
            "team_id": opportunity["team_id"],
            "status": status,
            "currency": buyer.currency,
            "language": buyer.row.get("language") or buyer.texts.language,
            "issued_on": day,
            "valid_until": valid,
            "notes": "",
            "terms": "",
            "sent_at": sent,
            "decided_at": decided if status in ("accepted", "rejected") else None,
            "custom_fields": {},
            **self.stamps(issued, owner, decided or sent),
            "_previous": previous,
        }
        stamps = self.stamps(issued, owner)
        tax = TAX_RATES.get(buyer.country, 20)
        figures = self.document_lines(
            sales.QuoteLine, "quote_id", row["id"], lines, buyer.currency, tax, stamps
        )
        self.set_totals(row, figures)
        if previous is not None:
            previous["updated_at"] = max(previous["updated_at"], issued)
        return self.data.add(sales.Quote, row)

    # --- contracts and renewals ------------------------------------------------------------

    def contracts(self) -> None:
        rng = self.rng
        firms = [
            b
            for b in self.buyers.values()
            if not b.person
            and b.row["lifecycle_stage"] in ("customer", "inactive")
            and b.created < self.now - 200 * DAY
        ]
        chosen = rng.sample(firms, min(len(firms), CONTRACT_CHAINS + ENDED_CHAINS))
        renewals = self.stages.get("renewal", [])
        for number, buyer in enumerate(chosen):
            if number < RENEWING_SOON:
                end = self.today + datetime.timedelta(days=rng.randrange(3, 31))
            elif number < CONTRACT_CHAINS:
                end = self.today + datetime.timedelta(days=rng.randrange(40, 360))
            else:
                end = self.today - datetime.timedelta(days=rng.randrange(5, 500))
            chain = [end]
            earliest = to_date(max(buyer.created, self.start))
            while rng.random() < 0.75 and chain[0] - datetime.timedelta(days=730) > earliest:
                chain.insert(0, chain[0] - datetime.timedelta(days=365))
            self.contract_chain(buyer, chain, renewals, ended=number >= CONTRACT_CHAINS)
        for buyer in rng.sample(firms, min(len(firms), 4)):  # drafts starting next month
            start = (self.today.replace(day=1) + datetime.timedelta(days=32)).replace(day=1)
            self.contract(
                buyer,
                start,
                start.replace(year=start.year + 1) - datetime.timedelta(days=1),
                "draft",
            )

    def contract_chain(
        self,
        buyer: Buyer,
        ends: list[datetime.date],
        renewals: list[dict[str, Any]],
        *,
        ended: bool,
    ) -> None:
        rng = self.rng
        previous: dict[str, Any] | None = None
        for index, end in enumerate(ends):
            start = end - datetime.timedelta(days=364)
            last = index == len(ends) - 1
            status = (
                "active"
                if not ended
                else rng.choice(("expired", "expired", "expired", "cancelled"))
            )
            contract = self.contract(buyer, start, end, status if last else "renewed")
            if previous is not None:
                previous["renewed_by_id"] = contract["id"]
                self.renewal(previous, buyer, renewals, won=contract)
            previous = contract
        if previous is not None and renewals:
            if previous["status"] == "expired":
                self.renewal(previous, buyer, renewals, won=None)
            elif previous["status"] == "active" and previous["reminded_at"] is not None:
                self.renewal(previous, buyer, renewals, won=None, still_open=True)

    def contract(
        self, buyer: Buyer, start: datetime.date, end: datetime.date, status: str
    ) -> dict[str, Any]:
        rng = self.rng
        owner = self.owner_of(buyer)
        created = min(self.now, max(buyer.created, epoch_of(start) - rng.randrange(3, 20) * DAY))
        value = nice(
            Decimal(rng.randrange(2_000, 40_000)) * self.rate(buyer.currency, start), buyer.currency
        )
        remind = rng.choice((30, 30, 45, 60))
        reminded = epoch_of(end) - remind * DAY + 8 * HOUR
        titles = CONTRACT_TITLES.get(buyer.texts.language, CONTRACT_TITLES["en"])
        cancelled = status == "cancelled"
        return self.data.add(
            sales.Contract,
            {
                "id": self.ids("sales_contract"),
                "number": "",
                "customer_id": buyer.id,
                "title": f"{rng.choice(titles)} {start.year}",
                "owner_id": owner,
                "team_id": buyer.row["team_id"],
                "status": status,
                "start_date": start,
                "end_date": end,
                "value": value,
                "currency": buyer.currency,
                "billing_period": rng.choice(("monthly", "quarterly", "yearly", "yearly")),
                "renewal_date": end,
                "remind_days_before": remind,
                "auto_renew": rng.random() < 0.2,
                "reminded_at": reminded if reminded <= self.now and not cancelled else None,
                "renewed_by_id": None,
                "notes": "",
                "custom_fields": {},
                **self.stamps(
                    created, owner, min(self.now, epoch_of(end)) if status != "active" else None
                ),
            },
        )

    def renewal(
        self, contract: dict[str, Any], buyer: Buyer, stages: list[dict[str, Any]], *,
        won: dict[str, Any] | None, still_open: bool = False,
    ) -> None:  # fmt: skip
        """The renewals-pipeline opportunity the contract's reminder opened."""
        rng = self.rng
        created = contract["reminded_at"] or epoch_of(contract["end_date"]) - 30 * DAY
        if still_open:
            soon = contract["end_date"] - self.today < datetime.timedelta(days=20)
            stage = stages[1] if soon and rng.random() < 0.6 and len(stages) > 1 else stages[0]
        else:
            stage = next(s for s in stages if s["kind"] == ("won" if won else "lost"))
        lines: list[Line] = []
        opportunity = self.opportunity(buyer, stage, created, lines, name_product=contract["title"])
        target = won["value"] if won else contract["value"]
        opportunity.update(amount=target, renewal_of_id=contract["id"], source="")
        if still_open:
            opportunity["expected_close_date"] = contract["end_date"]
            opportunity["forecast_category"] = "commit" if stage["order"] else "best_case"
            opportunity["follow_up_date"] = min(
                contract["end_date"], self.today + datetime.timedelta(days=7)
            )
            return
        closed = min(
            self.now, max(created, epoch_of(contract["end_date"]) - rng.randrange(0, 10) * DAY)
        )
        self.close(opportunity, closed, stage)
        if not won:
            opportunity["lost_reason"] = rng.choice(("price", "no_budget", "competitor", "timing"))
            if opportunity["lost_reason"] == "competitor":
                opportunity["lost_to_id"] = rng.choice(self.competitors_for(buyer))

    # --- targets ---------------------------------------------------------------------------

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

    def competitor_rows(self) -> None:
        for name, site, markets in COMPETITORS:
            row = self.data.add(
                sales.Competitor,
                {
                    "id": self.ids("sales_competitor"),
                    "name": name,
                    "website": site,
                    "notes": "",
                    **self.stamps(self.start - 20 * DAY, self.creator),
                },
            )
            for market in markets:
                self.competitors[market].append(row["id"])


_PERSON_LINES = weighted((("1", 55), ("2", 25), ("3", 12), ("4", 5), ("5", 3)))
_ORG_LINES = weighted((("1", 22), ("2", 25), ("3", 22), ("4", 16), ("5", 15)))
_PERSON_DISCOUNT = weighted((("0", 85), ("10", 10), ("15", 5)))
_ORG_DISCOUNT = weighted((("0", 55), ("5", 20), ("7.5", 10), ("10", 12), ("12.5", 3)))
_FAMILIES: dict[str, dict[str, str]] = {}


def family_names(texts: Texts) -> dict[str, str]:
    """Pool product (in ``texts``' language) → the English product family it names.

    The pools list the same products in the same order; the Serbian and Persian lists leave
    out "armchair" and "meeting pods"."""
    found = _FAMILIES.get(texts.language)
    if found is None:
        english = list(ENGLISH.products)
        if len(texts.products) != len(english):
            english = [p for p in english if p not in ("armchair", "meeting pods")]
        found = _FAMILIES[texts.language] = dict(zip(texts.products, english, strict=False))
    return found


def nice(value: Decimal, currency: str) -> Decimal:
    """``value`` to three significant figures, as a price list shows it (2,352.18 → 2,350)."""
    if value <= 0:
        return round_money(0, currency)
    step = max(ONE.scaleb(value.adjusted() - 2), ONE.scaleb(-minor_digits(currency)))
    return round_money((value / step).quantize(ONE, ROUND_HALF_UP) * step, currency)


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
    existing = frozenset(
        sales.ExchangeRate.objects.values_list("currency", "quote_currency", "day")
    )
    maker = SalesBuilder(
        builder,
        ids=ids,
        reserve=lambda kind, count, year: reserve_numbers(kind, count, year=year),
        pipelines=pipelines(),
        existing_rates=existing,
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
