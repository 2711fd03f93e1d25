"""Demo opportunities, quotes, contracts and renewals (see ``vefa.demo.sales``).

Won opportunities end in one of the demo orders (often through an accepted quote, sometimes
after a first version); lost ones carry a reason and often the competitor that won; open ones
are spread over the stages, some stale. Contracts run for a year and renew through the
renewals pipeline, whose opportunity the renewal reminder opens.
"""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext

from vefa.demo.build import DAY, HOUR, to_date
from vefa.demo.people import pick, weighted
from vefa.demo.sales_catalogue import (
    CONTRACT_TITLES,
    TAX_RATES,
)
from vefa.demo.sales_core import Buyer, Line, epoch_of, family_names, nice
from vefa.demo.sales_orders import OrderMaker
from vefa.sales import models as sales
from vefa.sales.money import line_amounts, round_money

NEW_BUSINESS_WON, NEW_BUSINESS_LOST, NEW_BUSINESS_OPEN = 240, 150, 210
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


class PipelineMaker(OrderMaker):
    """Opportunities with their lines and competing bids, quotes, contracts, renewals."""

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
        steps = [
            text
            for kind in ("task", "call")
            for text in buyer.texts.activities[kind]
            if "{product}" in text
        ]
        next_step = rng.choice(steps).replace("{product}", product)
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
        titles = CONTRACT_TITLES.get(buyer.texts.language, CONTRACT_TITLES["en"])
        title, euros = rng.choice(titles), rng.randrange(2_000, 40_000)
        for index, end in enumerate(ends):
            start = end - datetime.timedelta(days=364)
            last = index == len(ends) - 1
            status = (
                "active"
                if not ended
                else rng.choice(("expired", "expired", "expired", "cancelled"))
            )
            contract = self.contract(
                buyer, start, end, status if last else "renewed", title=title, euros=euros
            )
            euros = euros * rng.randrange(102, 111) // 100  # a little more each year
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
        self, buyer: Buyer, start: datetime.date, end: datetime.date, status: str, *,
        title: str = "", euros: int = 0,
    ) -> dict[str, Any]:  # fmt: skip
        """A one-year contract worth ``euros`` a year (in the customer's currency)."""
        rng = self.rng
        owner = self.owner_of(buyer)
        created = min(self.now, max(buyer.created, epoch_of(start) - rng.randrange(3, 20) * DAY))
        euros = euros or rng.randrange(2_000, 40_000)
        value = nice(Decimal(euros) * self.rate(buyer.currency, start), buyer.currency)
        remind = rng.choice((30, 30, 45, 60))
        reminded = epoch_of(end) - remind * DAY + 8 * HOUR
        titles = CONTRACT_TITLES.get(buyer.texts.language, CONTRACT_TITLES["en"])
        title = title or rng.choice(titles)
        cancelled = status == "cancelled"
        return self.data.add(
            sales.Contract,
            {
                "id": self.ids("sales_contract"),
                "number": "",
                "customer_id": buyer.id,
                "title": title,
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
            open_stages = [s for s in stages if s["kind"] == "open"]
            stage = open_stages[-1] if soon and rng.random() < 0.6 else open_stages[0]
        else:
            stage = next(s for s in stages if s["kind"] == ("won" if won else "lost"))
        lines: list[Line] = []
        opportunity = self.opportunity(buyer, stage, created, lines, name_product=contract["title"])
        target = won["value"] if won else contract["value"]
        # named and valued as ``contracts_process_renewals`` opens it
        owner = next((u for u in self.b.staff.users.values() if u.pk == contract["owner_id"]), None)
        with translation.override((owner.language if owner else "") or settings.LANGUAGE_CODE):
            name = gettext("Renewal: %(title)s") % {"title": contract["title"]}
        opportunity.update(
            name=name[:200], amount=target, renewal_of_id=contract["id"], source="", contact_id=None
        )
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
