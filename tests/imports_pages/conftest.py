"""Fixtures of the wizard and adapter tests: roles, files in memory, a run helper."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest

from tests.factories import CustomerFactory, UserFactory
from vefa.accounts.choices import Role
from vefa.imports import services
from vefa.imports.models import ImportRun

HOSTILE = [
    "<script>alert(1)</script>",
    "'; DROP TABLE sales_product; --",
    "=cmd|' /C calc'!A0",
    '@HYPERLINK("http://x")',
    "\u202eevil\u202c",
    "مریم رضایی",
]


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def marketer(db, team):
    return UserFactory(role=Role.MARKETER, team=team)


@pytest.fixture
def agent(db, team):
    return UserFactory(role=Role.SERVICE_AGENT, team=team)


@pytest.fixture
def customer(db, admin_user):
    from vefa.customers.models import ContactPoint

    found = CustomerFactory(
        owner=admin_user,
        team=admin_user.team,
        primary_email="ayse@example.com",
        tax_number="1234567890",
    )
    ContactPoint.objects.create(
        customer=found,
        kind="email",
        value="ayse@example.com",
        normalized="ayse@example.com",
        is_primary=True,
    )
    return found


@pytest.fixture
def product(db, admin_user):
    from vefa.sales.services.catalogue import product_create

    return product_create(actor=admin_user, sku="TEA-1", name="Çay", list_price="50", tax_rate="20")


def csv_bytes(
    rows: list[list[object]],
    header: list[str],
    *,
    delimiter: str = ",",
    encoding: str = "utf-8",
) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter)
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().encode(encoding)


def upload(actor, data: bytes, *, entity: str, name: str = "file.csv") -> ImportRun:
    return services.upload(actor=actor, entity=entity, name=name, stream=io.BytesIO(data))


def run_file(
    actor, data: bytes, *, entity: str, name: str = "file.csv", batch_rows: int = 1000, **settings
) -> ImportRun:
    """Upload, start (not in the background) and run an import to its end."""
    run = upload(actor, data, entity=entity, name=name)
    services.start_import(actor=actor, run_id=run.pk, background=False, **settings)
    return services.execute_run(run.pk, batch_rows=batch_rows)


def error_rows(run: ImportRun) -> list[list[str]]:
    from django.core.files.storage import default_storage

    if not run.errors_file:
        return []
    with default_storage.open(run.errors_file, "rb") as handle:
        text = handle.read().decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text)))[1:]


def money(value: object) -> Decimal:
    return Decimal(str(value))
