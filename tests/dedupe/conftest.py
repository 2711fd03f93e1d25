"""Fixtures of the duplicate review tests: customers written from the labelled generator."""

from __future__ import annotations

import datetime
from typing import Any

import pytest

from tests.factories import UserFactory
from vefa.accounts.choices import Role
from vefa.common.text import fold
from vefa.dedupe import synthetic

HOSTILE = [
    "<script>alert(1)</script>",
    "=cmd|' /C calc'!A0",
    "'; DROP TABLE customers_customer; --",
    "\u202egnp.exe",
    "علی رضایی‎ — «ویژه»",
]


def write_customers(rows: list[dict[str, Any]], owner=None, team=None) -> dict[int, int]:
    """Create customers (and their primary addresses) from generator rows; returns
    {customer id: entity}."""
    from vefa.customers.models import Address, Customer

    made = Customer.objects.bulk_create(
        [
            Customer(
                kind=row["kind"],
                first_name=row["first_name"][:100],
                last_name=row["last_name"][:100],
                display_name=row["display_name"][:300],
                name_key=fold(row["display_name"])[:300],
                primary_email=row["email"],
                primary_phone=row["phone"][:32],
                tax_number=row["tax_number"],
                birth_date=datetime.date.fromisoformat(row["birth_date"])
                if row["birth_date"]
                else None,
                city=row["city"],
                country={"tr": "TR", "sr": "RS", "fa": "IR"}.get(row.get("language", ""), "TR"),
                lifecycle_stage="customer",
                owner=owner,
                team=team,
            )
            for row in rows
        ]
    )
    Address.objects.bulk_create(
        [
            Address(
                customer=customer,
                kind="billing",
                line1="Cadde 1",
                city=row["city"] or "-",
                postal_code=row["postcode"],
                country=customer.country,
                is_primary=True,
            )
            for customer, row in zip(made, rows, strict=True)
            if row["postcode"]
        ]
    )
    return {customer.pk: row["entity"] for customer, row in zip(made, rows, strict=True)}


def person(first: str, last: str, **extra: Any) -> dict[str, Any]:
    row = {
        "entity": extra.pop("entity", 0),
        "kind": "person",
        "first_name": first,
        "last_name": last,
        "display_name": f"{first} {last}",
        "email": "",
        "phone": "",
        "tax_number": "",
        "birth_date": "",
        "city": "İstanbul",
        "postcode": "34000",
        "language": "tr",
    }
    row.update(extra)
    return row


@pytest.fixture
def marketer(db, team):
    return UserFactory(role=Role.MARKETER, team=team)


@pytest.fixture
def labelled(db):
    """300 generated customers in the database and their truth labels."""
    return write_customers(synthetic.generate(300, seed=11))


@pytest.fixture
def twins(db):
    """Two entries of one person (Latin and Cyrillic) and a third, different person."""
    rows = [
        person("Milica", "Đorđević", email="milica.djordjevic@eunet.rs", phone="+381641234567",
               birth_date="1990-04-02", city="Beograd", postcode="11000", language="sr"),
        person("Милица", "Ђорђевић", phone="064 123 4567", birth_date="1990-04-02",
               city="Београд", postcode="11000", language="sr", email="milica.djordjevic@eunet.rs"),
        person("Ayşe", "Yılmaz", email="ayse@example.com", phone="+905321112233", entity=1),
    ]  # fmt: skip
    ids = list(write_customers(rows))
    return ids
