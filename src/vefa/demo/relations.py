"""Relationships between the demo customers, and the demo leads (in every status).

Converted leads are the earlier lives of customers: the lead carries the customer's name,
e-mail, phone and source, and points at the customer it became (``lead_convert`` leaves the
same trail). The other leads are people and firms not yet qualified.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from typing import Any

from vefa.customers.normalize import normalize_email, normalize_phone
from vefa.customers.services.leads import lead_name_key
from vefa.demo.build import DAY, Customer, DemoBuilder
from vefa.demo.company import MARKET_TEAMS

# How many leads of each status the demo has.
LEAD_STATUSES = (("new", 40), ("contacted", 40), ("qualified", 25), ("unqualified", 25))
CONVERTED_LEADS = 30
# (youngest, oldest) age in days of a lead of each status.
LEAD_AGE = {"new": (0, 14), "contacted": (5, 60), "qualified": (10, 90), "unqualified": (20, 300)}
LEAD_SCORE = {"new": (5, 40), "contacted": (20, 60), "qualified": (55, 90), "unqualified": (0, 25)}
LEAD_SOURCES = ("web", "web", "event", "referral", "campaign", "social", "cold_call", "partner")


def _relationship(
    b: DemoBuilder, source: Customer, target: Customer, kind: str, **extra: Any
) -> None:
    when = max(source.created, target.created)
    owner = source.owner_id
    b.data.add(
        "customers_customerrelationship",
        {"id": b.ids("customers_customerrelationship"), "from_customer_id": source.row["id"],
         "to_customer_id": target.row["id"], "kind": kind, "created_at": when,
         "updated_at": when, "created_by_id": owner, "updated_by_id": owner, "version": 1,
         **extra},
    )  # fmt: skip


def _birth(customer: Customer) -> datetime.date:
    return customer.made.fields.get("birth_date") or datetime.date.max


def relationships(b: DemoBuilder) -> None:
    """Who works where, spouses, households, parents, parent companies and referrals."""
    rng = b.rng
    people: dict[str, list[Customer]] = defaultdict(list)
    firms: dict[str, list[Customer]] = defaultdict(list)
    for customer in b.customers:
        market = customer.made.locale.key
        (people if customer.made.fields["kind"] == "person" else firms)[market].append(customer)
    linked: set[tuple[int, int, str]] = set()

    def link(source: Customer, target: Customer, kind: str, **extra: Any) -> None:
        key = (source.row["id"], target.row["id"], kind)
        reverse = (target.row["id"], source.row["id"], kind)
        if source is target or key in linked or reverse in linked:
            return
        linked.add(key)
        _relationship(b, source, target, kind, **extra)

    for market, persons in people.items():
        organisations = firms.get(market, [])
        texts = persons[0].made.locale.texts
        for person in persons:
            if organisations and rng.random() < 0.35:
                firm = rng.choice(organisations)
                link(person, firm, "works_at", job_title=rng.choice(texts.job_titles))
        married = [p for p in persons if p.made.fields.get("marital_status") == "married"]
        rng.shuffle(married)
        for first, second in zip(married[:24:2], married[1:24:2], strict=False):
            link(first, second, "spouse")
        by_surname: dict[str, list[Customer]] = defaultdict(list)
        for person in persons:
            by_surname[person.made.fields["last_name"]].append(person)
        for family in by_surname.values():
            if len(family) >= 2 and rng.random() < 0.3:
                older, younger = sorted(family[:2], key=_birth)
                link(older, younger, "household")
        for parent, child in zip(organisations[:8:2], organisations[1:8:2], strict=False):
            link(parent, child, "parent_company")
        for person in persons:
            if person.row["source"] == "referral":
                earlier = [p for p in persons if p.created < person.created]
                if earlier:
                    link(person, rng.choice(earlier[-40:]), "referred_by")


def leads(b: DemoBuilder) -> None:
    """Open leads in every status, and the converted leads of some recent customers."""
    rng = b.rng
    for status, count in LEAD_STATUSES:
        for _ in range(count):
            made = b.maker.make(kind="person")
            market = made.locale.key
            youngest, oldest = LEAD_AGE[status]
            created = b.business_time(
                made.locale.country, b.now - oldest * DAY, b.now - youngest * DAY - 3600
            )
            company = ""
            if rng.random() < 0.5:
                firm = b.maker.make(kind="organisation")
                while firm.locale.key != market:
                    firm = b.maker.make(kind="organisation")
                company = firm.fields["trade_name"]
            email = next(p["value"] for p in made.contact_points if p["kind"] == "email")
            phone = next(p["normalized"] for p in made.contact_points if p["kind"] != "email")
            low, high = LEAD_SCORE[status]
            _lead(b, market, created, status=status, score=rng.randrange(low, high + 1),
                  first_name=made.fields["first_name"], last_name=made.fields["last_name"],
                  company_name=company, email=email, phone=phone,
                  source=rng.choice(LEAD_SOURCES))  # fmt: skip
    recent = [
        c for c in b.customers
        if c.made.fields["kind"] == "person" and b.now - c.created < 400 * DAY
        and c.row["source"] != "import"
    ]  # fmt: skip
    rng.shuffle(recent)
    works_at = {
        r["from_customer_id"]: r["to_customer_id"]
        for r in b.data.rows.get("customers_customerrelationship", [])
        if r["kind"] == "works_at"
    }
    names = {c.row["id"]: c.row["display_name"] for c in b.customers}
    for customer in recent[:CONVERTED_LEADS]:
        fields = customer.row
        created = customer.created - rng.randrange(5, 40) * DAY
        company = names.get(works_at.get(fields["id"], 0), "")
        _lead(b, customer.made.locale.key, created, status="converted",
              score=rng.randrange(60, 96), first_name=fields["first_name"],
              last_name=fields["last_name"], company_name=company,
              email=fields["primary_email"], phone=fields["primary_phone"],
              source=fields["source"] or "web", converted_customer_id=fields["id"],
              converted_at=customer.created, owner_id=customer.owner_id)  # fmt: skip


def _lead(b: DemoBuilder, market: str, created: int, **values: Any) -> None:
    rng = b.rng
    owner_id = values.pop("owner_id", None)
    if owner_id is None and "owner_id" not in values:
        sellers = b.staff.sellers_for(market)
        owner_id = rng.choice(sellers).pk if rng.random() < 0.9 else None
    team = b.staff.teams[MARKET_TEAMS[market]].pk
    texts = next(c.made.locale.texts for c in b.customers if c.made.locale.key == market)
    values["email"] = normalize_email(values["email"]) if values["email"] else ""
    values["phone"] = normalize_phone(values["phone"]).value if values["phone"] else ""
    row = {
        "id": b.ids("customers_lead"),
        "job_title": rng.choice(texts.job_titles) if values.get("company_name") else "",
        "notes": rng.choice(texts.lead_notes) if rng.random() < 0.5 else "",
        "owner_id": owner_id,
        "team_id": team,
        "created_at": created,
        "updated_at": values.get("converted_at") or created,
        "created_by_id": owner_id,
        "updated_by_id": owner_id,
        "version": 2 if values.get("converted_at") else 1,
        "custom_fields": {},
        "converted_customer_id": None,
        "converted_at": None,
        **values,
    }
    row["name_key"] = lead_name_key(row)
    b.data.add("customers_lead", row)
