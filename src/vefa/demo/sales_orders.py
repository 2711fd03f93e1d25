"""Demo orders: one per purchase in the contact history, plus cancelled ones, moved along
their flow as far as time allows, with shipments and payments (see ``vefa.demo.sales``)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from vefa.demo.build import DAY, HOUR
from vefa.demo.sales_catalogue import (
    CARRIERS,
    OWN_FLEET,
    TAX_RATES,
)
from vefa.demo.sales_core import Buyer, Line, SalesCore
from vefa.sales import models as sales
from vefa.sales.money import round_money

CANCELLED_SHARE = 0.025


class OrderMaker(SalesCore):
    """Orders, their lines, shipments and payments."""

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
