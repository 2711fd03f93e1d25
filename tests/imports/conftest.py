"""Fixtures of the import tests: roles, files in memory, a run helper."""

from __future__ import annotations

import csv
import io

import pytest

from tests.factories import UserFactory
from vefa.accounts.choices import Role
from vefa.imports import services
from vefa.imports.models import ImportRun

HOSTILE = [
    "<script>alert(1)</script>",
    "'; DROP TABLE customers_customer; --",
    "=cmd|' /C calc'!A0",
    "+SUM(A1:A2)",
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
def other_marketer(db, team):
    return UserFactory(role=Role.MARKETER, team=team)


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


def xlsx_bytes(rows: list[list[object]], header: list[str]) -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def upload(actor, data: bytes, *, entity="customers", name="people.csv", source="") -> ImportRun:
    return services.upload(
        actor=actor, entity=entity, name=name, stream=io.BytesIO(data), source=source
    )


def run_file(
    actor, data: bytes, *, entity="customers", name="people.csv", batch_rows=1000, **settings
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
