"""The base of the demo sales maker: exchange rates, the catalogue and price lists, what
it needs to know about the demo customers, and document lines priced and computed as the
services compute them (see ``vefa.demo.sales``)."""

from __future__ import annotations

import datetime
import math
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db import models

from vefa.demo.build import DAY, HOUR, UTC_OFFSET, DemoBuilder, Ids, to_date
from vefa.demo.company import LOGINS
from vefa.demo.people import FastRandom, pick, weighted
from vefa.demo.pools import Texts
from vefa.demo.pools.en import TEXTS as ENGLISH
from vefa.demo.sales_catalogue import (
    CATALOGUE,
    COMPETITORS,
    DELIVERY,
    DISCONTINUED,
    INTRODUCED_LATER,
    TAX_RATES,
)
from vefa.sales import models as sales
from vefa.sales.money import line_amounts, minor_digits, round_money, totals

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
_EPOCH_ORDINAL = 719_163  # date(1970, 1, 1).toordinal()
ONE = Decimal(1)

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


@dataclass(frozen=True)
class Existing:
    """Catalogue records the installation has already (the demo reuses or steps around them)."""

    rates: frozenset[tuple[str, str, datetime.date]] = frozenset()
    categories: dict[str, int] = field(default_factory=dict)  # top-level, by name
    competitors: dict[str, int] = field(default_factory=dict)
    skus: frozenset[str] = frozenset()

    @classmethod
    def load(cls) -> Existing:
        return cls(
            rates=frozenset(
                sales.ExchangeRate.objects.values_list("currency", "quote_currency", "day")
            ),
            categories=dict(
                sales.ProductCategory.objects.filter(parent=None).values_list("name", "id")
            ),
            competitors=dict(sales.Competitor.objects.values_list("name", "id")),
            skus=frozenset(sales.Product.objects.values_list("sku", flat=True)),
        )


@dataclass
class SalesData:
    rows: dict[type[models.Model], list[dict[str, Any]]] = field(
        default_factory=lambda: defaultdict(list)
    )

    def add(self, model: type[models.Model], row: dict[str, Any]) -> dict[str, Any]:
        self.rows[model].append(row)
        return row


class SalesCore:
    """Rates, catalogue, customers and lines; the makers of orders, pipeline and contracts
    build on it."""

    def __init__(
        self,
        builder: DemoBuilder,
        *,
        ids: Ids,
        reserve: Reserve,
        pipelines: dict[str, list[dict[str, Any]]],
        existing: Existing | None = None,
    ) -> None:
        self.b = builder
        self.rng = FastRandom(SEED)
        self.now = builder.now
        self.start = builder.start
        self.today = to_date(builder.now)
        self.ids = ids
        self.reserve = reserve
        self.stages = pipelines  # pipeline kind → its stages (id, pipeline_id, kind, …)
        self.existing = existing or Existing()
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
                    if base == quote or (base, quote, day) in self.existing.rates:
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
            category: dict[str, Any] = {"id": self.existing.categories.get(name)}
            if category["id"] is None:
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
                    "sku": self.sku(f"{code}-{number:03d}"),
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
                if product.service:
                    break  # services cost the same for everyone
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

    def sku(self, sku: str) -> str:
        """``sku``, or a variant of it when a product of the installation has it already."""
        candidate, number = sku, 1
        while candidate in self.existing.skus:
            number += 1
            candidate = f"{sku}-{number}"
        return candidate

    def competitor_rows(self) -> None:
        for name, site, markets in COMPETITORS:
            competitor = self.existing.competitors.get(name)
            if competitor is None:
                competitor = self.data.add(
                    sales.Competitor,
                    {
                        "id": self.ids("sales_competitor"),
                        "name": name,
                        "website": site,
                        "notes": "",
                        **self.stamps(self.start - 20 * DAY, self.creator),
                    },
                )["id"]
            for market in markets:
                self.competitors[market].append(competitor)


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
