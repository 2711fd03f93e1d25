"""The demo company's three years of records, made in memory as rows ready to write.

Every value is what the services would have stored: names and ``name_key`` via
``derive_display_name`` and ``fold``, contact points through ``normalize_contact``, the
customer's primary e-mail/phone/city/country and ``last_interaction_at`` derived from its
records, lifecycle stamps as ``customer_update`` sets them. Times are business hours in the
customer's country, stored in UTC; the history ends now.
"""

from __future__ import annotations

import datetime
import itertools
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from vefa.common.text import fold
from vefa.customers.normalize import normalize_contact
from vefa.customers.services.customers import derive_display_name
from vefa.demo.company import MARKET_TEAMS, DemoStaff
from vefa.demo.history import (
    BUYER_KINDS,
    CURRENCY_SCALE,
    MARKETING,
    NOBODY,
    PROSPECT_KINDS,
    SERVICE,
    shape,
)
from vefa.demo.people import CustomerMaker, FastRandom, MadeCustomer, pick, weighted

DAY = 86_400
HOUR = 3_600
CUSTOMERS = 2_000
HISTORY_DAYS = 3 * 365
# Hours from UTC of the markets' main time zones (the demo ignores summer time).
UTC_OFFSET = {"TR": 3.0, "GB": 0.0, "US": -5.0, "RS": 1.0, "IR": 3.5}
STAGES = weighted((("customer", 56), ("prospect", 15), ("lead", 6), ("inactive", 14), ("lost", 9)))
# (interactions in the history, share) of one-time, occasional, regular and loyal buyers.
TIERS = (((3, 6), 0.25), ((8, 15), 0.35), ((18, 35), 0.25), ((36, 70), 0.15))
TAGS = ("VIP", "Key account", "Wholesale", "Newsletter", "Interior designer", "Trade fair")
TEXT_VERSIONS = ((0, "2023-01"), (500, "2024-06"), (900, "2025-09"))
_BUYER = weighted(BUYER_KINDS)
_PROSPECT = weighted(PROSPECT_KINDS)
_EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)


def to_datetime(epoch: int | None) -> datetime.datetime | None:
    return None if epoch is None else _EPOCH + datetime.timedelta(seconds=int(epoch))


@dataclass
class DemoData:
    """Rows per table as dicts of model field values (ids included), plus helpers' state."""

    rows: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    tags: list[tuple[int, int]] = field(default_factory=list)
    lead_tags: list[tuple[int, int]] = field(default_factory=list)

    def add(self, table: str, row: dict[str, Any]) -> dict[str, Any]:
        self.rows.setdefault(table, []).append(row)
        return row


class Ids:
    """The next free id of each table (the demo may be loaded next to existing records)."""

    def __init__(self, start: dict[str, int]) -> None:
        self._next = {table: itertools.count(value + 1) for table, value in start.items()}

    def __call__(self, table: str) -> int:
        return next(self._next[table])


@dataclass
class Customer:
    """A generated customer and what its history needs."""

    row: dict[str, Any]
    made: MadeCustomer
    created: int
    end: int
    count: int
    buyer: bool
    owner_id: int | None
    lost_at: int | None = None
    products: list[str] = field(default_factory=list)


class DemoBuilder:
    """Makes the demo rows from a fixed seed; ``now`` is when the history ends."""

    def __init__(self, *, staff: DemoStaff, now: int, ids: Ids, tag_ids: dict[str, int]) -> None:
        self.rng = FastRandom(20_240_101)
        self.staff = staff
        self.now = now
        self.start = now - HISTORY_DAYS * DAY
        self.ids = ids
        self.tag_ids = tag_ids
        self.data = DemoData()
        self.maker = CustomerMaker(self.rng, today=to_date(now))
        self.emails: set[str] = set()
        self.names: set[str] = set()
        self.customers: list[Customer] = []
        self.order_number = itertools.count(10_001)
        self.service_id = staff.by_role("service_agent")[0].pk
        self.marketer_id = staff.by_role("marketer")[0].pk

    # --- time ---------------------------------------------------------------------------

    def business_time(self, country: str, earliest: int, latest: int) -> int:
        """A moment between ``earliest`` and ``latest`` during working hours in ``country``."""
        offset = int(UTC_OFFSET.get(country, 0.0) * HOUR)
        first_day = (earliest + offset) // DAY
        last_day = max(first_day, (latest + offset) // DAY)
        for _ in range(20):
            day = self.rng.randrange(first_day, last_day + 1)
            if datetime.date.fromordinal(719_163 + day).weekday() == 6:
                continue  # closed on Sundays
            moment = day * DAY + self.rng.randrange(9 * HOUR, 18 * HOUR) - offset
            if earliest <= moment <= latest:
                return moment
        return max(earliest, min(latest, earliest + (latest - earliest) // 2))

    # --- customers ----------------------------------------------------------------------

    def customers_all(self) -> None:
        for _ in range(CUSTOMERS):
            self.customer()

    def _made(self) -> MadeCustomer:
        """A customer whose organisation name and e-mail addresses are not taken yet."""
        made = self.maker.make()
        for _ in range(10):
            key = made.fields["name_key"]
            if made.fields["kind"] != "organisation" or key not in self.names:
                break
            # Another firm of the same name: make a different firm (not a person instead,
            # which would shift the share of organisations).
            made = self.maker.make(kind="organisation")
        self.names.add(made.fields["name_key"])
        for point in made.contact_points:
            if point["kind"] != "email":
                continue
            local, _, domain = point["value"].partition("@")
            address, number = point["value"], 1
            while address in self.emails:
                number += 1
                address = f"{local}{number}@{domain}"
            point["value"] = address
            self.emails.add(address)
        for point in made.contact_points:
            result = normalize_contact(point["kind"], point["value"], made.locale.country)
            point["normalized"] = result.value
            if result.country:
                point["country"] = result.country
        emails = [p for p in made.contact_points if p["kind"] == "email" and p["is_primary"]]
        made.fields["primary_email"] = emails[0]["normalized"] if emails else ""
        return made

    def customer(
        self,
        *,
        made: MadeCustomer | None = None,
        created: int | None = None,
        stage: str | None = None,
        source: str | None = None,
    ) -> Customer:
        rng = self.rng
        made = made or self._made()
        fields = made.fields
        country = made.locale.country
        stage = stage or pick(rng, STAGES)
        if created is None:
            if rng.random() < 0.15:  # the customers imported when Vefa went live
                created = self.business_time(country, self.start, self.start + 5 * DAY)
                source = "import"
            else:
                latest = self.now - 2 * DAY
                earliest = self.start + int((latest - self.start) * rng.random() ** 0.8)
                created = self.business_time(country, earliest, latest)
        remaining = self.now - created
        lost_at = None
        buyer = stage in ("customer", "inactive", "lost")
        if stage == "lead":
            count, end = rng.randrange(1, 4), self.now - rng.randrange(0, 20) * DAY
        elif stage == "prospect":
            count, end = rng.randrange(2, 9), self.now - rng.randrange(0, 30) * DAY
        elif stage == "inactive":
            count, end = rng.randrange(5, 16), created + int(remaining * rng.uniform(0.2, 0.5))
        elif stage == "lost":
            count, end = rng.randrange(6, 21), created + int(remaining * rng.uniform(0.4, 0.8))
            lost_at = min(self.now - DAY, end + rng.randrange(45, 120) * DAY)
        else:
            roll, (low, high) = rng.random(), TIERS[-1][0]
            for (tier_low, tier_high), share in TIERS:
                if roll < share:
                    low, high = tier_low, tier_high
                    break
                roll -= share
            count, end = rng.randrange(low, high + 1), self.now - rng.randrange(0, 40) * DAY
            # A customer of a few months has had fewer contacts than one of three years.
            count = max(low, round(count * min(1.0, remaining / (540 * DAY))))
        end = min(max(end, created + 2 * DAY), self.now)
        team_name = MARKET_TEAMS[made.locale.key]
        sellers = self.staff.sellers_for(made.locale.key)
        owner = None if rng.random() < 0.04 else rng.choice(sellers)
        display = derive_display_name(fields["kind"], fields)
        cid = self.ids("customers_customer")
        row = {
            **fields,
            "id": cid,
            "display_name": display,
            "name_key": fold(display)[:300],
            "source": source or fields["source"],
            "lifecycle_stage": stage,
            "owner_id": owner.pk if owner else None,
            "team_id": self.staff.teams[team_name].pk,
            "created_by_id": owner.pk if owner else None,
            "updated_by_id": owner.pk if owner else None,
            "created_at": created,
            "updated_at": created,
            "stage_changed_at": created,
            "became_customer_at": None,
            "lost_at": None,
            "last_interaction_at": None,
            "version": 1,
            "custom_fields": {},
        }
        customer = Customer(row, made, created, end, count, buyer, row["owner_id"], lost_at)
        self.data.add("customers_customer", row)
        self.customers.append(customer)
        self._children(customer)
        return customer

    def _children(self, customer: Customer) -> None:
        rng, made, row = self.rng, customer.made, customer.row
        stamps = {
            "customer_id": row["id"],
            "created_at": customer.created,
            "updated_at": customer.created,
            "created_by_id": customer.owner_id,
            "updated_by_id": customer.owner_id,
            "version": 1,
        }
        for point in made.contact_points:
            self.data.add(
                "customers_contactpoint",
                {**stamps, **point, "id": self.ids("customers_contactpoint")},
            )
        self.data.add(
            "customers_address", {**stamps, **made.address, "id": self.ids("customers_address")}
        )
        if made.fields["kind"] == "organisation" and rng.random() < 0.3:
            billing = dict(made.address, kind="billing", is_primary=False)
            billing["line1"] = made.locale.address_line(rng, rng.choice(made.locale.streets))
            self.data.add(
                "customers_address", {**stamps, **billing, "id": self.ids("customers_address")}
            )
        self._consents(customer, stamps)
        self._tags(customer)

    def _consents(self, customer: Customer, stamps: dict[str, Any]) -> None:
        rng, made = self.rng, customer.made
        texts = made.locale.texts
        day_number = (customer.created - self.start) // DAY
        version = [v for start, v in TEXT_VERSIONS if day_number >= start][-1]
        grants: list[tuple[str, str]] = []
        if made.fields["primary_email"] and rng.random() < 0.65:
            grants.append(("email", rng.choice(("newsletter", "marketing"))))
        if made.fields["kind"] == "person" and rng.random() < 0.3:
            grants.append(("sms", "marketing"))
        if rng.random() < 0.25:
            grants.append(("phone", "service"))
        if rng.random() < 0.08:
            grants.append(("post", "marketing"))
        for channel, purpose in grants:
            consent = {
                **stamps,
                "channel": channel,
                "purpose": purpose,
                "status": "granted",
                "source": rng.choice(texts.consent_sources),
                "text_version": version,
                "recorded_at": customer.created,
            }
            self.data.add("customers_consent", {**consent, "id": self.ids("customers_consent")})
            if channel == "email" and purpose == "newsletter":
                self.data.tags.append((customer.row["id"], self.tag_ids["Newsletter"]))
            if rng.random() < 0.1:  # changed their mind later
                when = self.business_time(made.locale.country, customer.created, self.now)
                withdrawn = {
                    **consent,
                    "status": "withdrawn",
                    "recorded_at": when,
                    "created_at": when,
                    "updated_at": when,
                }
                withdrawn["id"] = self.ids("customers_consent")
                self.data.add("customers_consent", withdrawn)

    def _tags(self, customer: Customer) -> None:
        rng, cid = self.rng, customer.row["id"]
        organisation = customer.made.fields["kind"] == "organisation"
        chances = {
            "VIP": 0.05,
            "Key account": 0.12 if organisation else 0.0,
            "Wholesale": 0.15 if organisation else 0.0,
            "Interior designer": 0.0 if organisation else 0.03,
            "Trade fair": 0.04,
        }
        for name, chance in chances.items():
            if rng.random() < chance:
                self.data.tags.append((cid, self.tag_ids[name]))

    # --- the contact history --------------------------------------------------------------

    def histories(self) -> None:
        for customer in self.customers:
            self.history(customer)

    def history(self, customer: Customer) -> None:
        rng, made, row = self.rng, customer.made, customer.row
        country = made.locale.country
        times = sorted(
            self.business_time(country, customer.created, customer.end)
            for _ in range(customer.count)
        )
        kinds = _BUYER if customer.buyer else _PROSPECT
        purchased: list[str] = []
        for number, when in enumerate(times):
            if number == 0:
                kind = rng.choice(("web", "visit", "call", "email"))
            elif number == 1 and customer.buyer:
                kind = "purchase"
            else:
                kind = pick(rng, kinds)
            if kind == "return" and not purchased:
                kind = "call"
            if customer.lost_at is not None and number == len(times) - 1:
                kind = "complaint" if purchased else kind
            product = (
                rng.choice(purchased) if kind in ("complaint", "return") and purchased else None
            )
            made_shape = shape(rng, made.locale.texts, kind, product)
            if kind in ("purchase", "pos"):
                purchased.append(made_shape.product)
            self.interaction(customer, made_shape, when)
            if kind == "purchase" and row["became_customer_at"] is None:
                row["became_customer_at"] = when
        self._stage_stamps(customer, times)

    def interaction(self, customer: Customer, made: Any, when: int) -> dict[str, Any]:
        rng, row = self.rng, customer.row
        user = {SERVICE: self.service_id, MARKETING: self.marketer_id, NOBODY: None}.get(
            made.recorded_by, customer.owner_id
        )
        subject = made.subject.replace("{ref}", f"SO-{next(self.order_number)}")
        amount = None
        currency = ""
        if made.price_cents:
            scale = CURRENCY_SCALE.get(row["currency"], 1)
            cents = made.price_cents * scale * rng.randrange(50, 250) // 100
            amount, currency = Decimal(cents) / 100, row["currency"]
        status = made.status
        if made.kind == "complaint":
            status = rng.choice(("open", "in_progress")) if self.now - when < 21 * DAY else "done"
        interaction = {
            "id": self.ids("interactions_interaction"),
            "customer_id": row["id"],
            "kind": made.kind,
            "direction": made.direction,
            "initiated_by": made.initiated_by,
            "channel": made.channel,
            "occurred_at": when,
            "subject": subject[:300],
            "body": made.body,
            "outcome": made.outcome if status == "done" else "",
            "status": status,
            "duration_minutes": made.duration_minutes,
            "amount": amount,
            "currency": currency,
            "user_id": user,
            "created_at": when,
            "updated_at": when,
            "created_by_id": user,
            "updated_by_id": user,
            "version": 1,
            "custom_fields": {},
        }
        self.data.add("interactions_interaction", interaction)
        if row["last_interaction_at"] is None or when > row["last_interaction_at"]:
            row["last_interaction_at"] = when
        return interaction

    def _stage_stamps(self, customer: Customer, times: list[int]) -> None:
        row = customer.row
        stage = row["lifecycle_stage"]
        if stage in ("customer", "inactive", "lost") and row["became_customer_at"] is None:
            row["became_customer_at"] = times[1] if len(times) > 1 else customer.created
        if stage == "customer":
            row["stage_changed_at"] = row["became_customer_at"]
        elif stage == "inactive":
            row["stage_changed_at"] = min(self.now - DAY, customer.end + 300 * DAY)
        elif stage == "lost":
            row["stage_changed_at"] = row["lost_at"] = customer.lost_at
        row["updated_at"] = max(row["created_at"], row["stage_changed_at"])


def to_date(epoch: int) -> datetime.date:
    value = to_datetime(epoch)
    assert value is not None
    return value.date()
