"""The lossless JSON Lines export: export → import into an emptied database → export again
gives the same file; bad files and non-empty databases are refused."""

from __future__ import annotations

import datetime
import io
import json
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command

from tests.exports.conftest import HOSTILE
from vefa.customers.models import Customer
from vefa.customers.services.customers import customer_create
from vefa.exports import jsonl
from vefa.platform.models import ChangeLogEntry

pytestmark = pytest.mark.django_db


@pytest.fixture
def data(rep, admin_user):
    for value in HOSTILE[:6]:
        customer_create(
            actor=rep,
            data={"kind": "person", "first_name": value, "last_name": "Ş", "notes": "تهران\n<b>"},
            tags=["vip", "ویژه"],
            email="a@example.com",
        )
    org = customer_create(
        actor=admin_user,
        data={"kind": "organisation", "legal_name": "Acme", "annual_revenue": Decimal("12.34")},
    )
    # A time with microseconds and a JSON value survive exactly.
    Customer.objects.filter(pk=org.pk).update(
        last_interaction_at=datetime.datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=datetime.UTC),
        custom_fields={"nested": {"list": [1, 2.5, "ü"]}, "text": "=1+1"},
    )
    return org


def test_models_come_in_dependency_order():
    order = [m._meta.label_lower for m in jsonl.vefa_models()]
    assert order.index("accounts.user") < order.index("customers.customer")
    assert order.index("customers.customer") < order.index("customers.contactpoint")
    assert "customers.customer_tags" in order
    assert "exports.export" in order
    assert all(label.split(".")[0] not in ("auth", "contenttypes", "sessions") for label in order)


def test_round_trip_is_lossless(data):
    first = io.StringIO()
    rows = jsonl.export_all(first)
    text = first.getvalue()
    assert rows == len(text.splitlines()) - 1
    header = json.loads(text.splitlines()[0])
    assert header["format"] == "vefa-jsonl"
    assert ChangeLogEntry.objects.exists()
    before = Customer.objects.get(pk=data.pk)
    with pytest.raises(jsonl.ImportError_, match="not empty"):
        jsonl.import_all(io.StringIO(text))
    imported = jsonl.import_all(io.StringIO(text), flush=True)
    assert imported == rows
    second = io.StringIO()
    jsonl.export_all(second)
    assert second.getvalue() == text
    after = Customer.objects.get(pk=data.pk)
    assert after.last_interaction_at == before.last_interaction_at
    assert after.last_interaction_at.microsecond == 678901
    assert after.updated_at == before.updated_at  # not touched by auto_now
    assert after.custom_fields == {"nested": {"list": [1, 2.5, "ü"]}, "text": "=1+1"}
    assert after.annual_revenue == Decimal("12.34")
    assert set(after.tags.values_list("name", flat=True)) == set(
        before.tags.values_list("name", flat=True)
    )
    # New rows get fresh keys after the import (the sequences were reset).
    created = customer_create(
        actor=None or data.created_by, data={"kind": "person", "first_name": "New"}
    )
    assert created.pk > max(Customer.objects.exclude(pk=created.pk).values_list("pk", flat=True))


def test_commands_round_trip(data, tmp_path):
    first = tmp_path / "all.jsonl"
    second = tmp_path / "again.jsonl"
    call_command("export_all", out=str(first), stdout=io.StringIO())
    with pytest.raises(CommandError, match="not empty"):
        call_command("import_all", str(first), stdout=io.StringIO())
    call_command("import_all", str(first), flush=True, stdout=io.StringIO())
    call_command("export_all", out=str(second), stdout=io.StringIO())
    assert first.read_bytes() == second.read_bytes()


@pytest.mark.parametrize(
    "content,message",
    [
        ("", "empty"),
        ("not json\n", "empty or not"),
        ('{"format": "other"}\n', "not a Vefa export"),
        ('{"format": "vefa-jsonl", "version": 99}\n', "version"),
        ('{"format": "vefa-jsonl", "version": 1, "models": ["evil.model"]}\n', "does not know"),
        ('{"format": "vefa-jsonl", "version": 1, "models": []}\n{"x": 1}\n', "Line 2"),
        (
            '{"format": "vefa-jsonl", "version": 1, "models": []}\n'
            '{"model": "auth.user", "pk": 1, "fields": {}}\n',
            "unknown model",
        ),
    ],
)
def test_bad_files_are_refused(content, message, tmp_path):
    with pytest.raises(jsonl.ImportError_, match=message):
        jsonl.import_all(io.StringIO(content), flush=True)
    path = tmp_path / "bad.jsonl"
    path.write_text(content)
    with pytest.raises(CommandError):
        call_command("import_all", str(path), flush=True, stdout=io.StringIO())


def test_a_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(CommandError, match="Cannot read"):
        call_command("import_all", str(tmp_path / "missing.jsonl"), stdout=io.StringIO())


def test_a_broken_reference_rolls_everything_back(data):
    text = io.StringIO()
    jsonl.export_all(text)
    lines = text.getvalue().splitlines(keepends=True)
    broken = []
    for line in lines:
        record = json.loads(line)
        if record.get("model") == "customers.contactpoint":
            record["fields"]["customer_id"] = 987654321
            line = json.dumps(record) + "\n"
        broken.append(line)
    count = Customer.objects.count()
    with pytest.raises(Exception):  # noqa: B017 - the database's integrity error
        jsonl.import_all(iter(broken), flush=True)
    assert Customer.objects.count() == count


def test_the_vefa_command_knows_export_all(data, tmp_path, monkeypatch):
    from vefa import cli

    target = tmp_path / "cli.jsonl"
    monkeypatch.setattr(cli, "ensure_data_dir", lambda: tmp_path)
    assert cli._run(["export-all", "--out", str(target)]) == 0
    lines = target.read_text(encoding="utf-8").splitlines()
    assert json.loads(lines[0])["format"] == "vefa-jsonl"
    assert any('"model": "customers.customer"' in line for line in lines)
