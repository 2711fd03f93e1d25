"""vefa backup → vefa restore --verify on the configured database (SQLite or PostgreSQL),
and damaged or changed backups failing with a clear message."""

from __future__ import annotations

import io
import json
import sqlite3
import tarfile
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from tests.customers.factories import make_customer
from vefa.customers.models import Customer
from vefa.platform import backup as bk

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def data(rep, team):
    for i, name in enumerate(["Ayşe", "<b>x</b>", "=cmd|' /C calc'!A0", "علی", "O'Brien"]):
        make_customer(owner=rep, team=team, first_name=name, last_name=str(i))
    return Customer.objects.count()


def run(*args, **options) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out, **options)
    return out.getvalue()


def members(path: Path) -> dict[str, bytes]:
    with tarfile.open(path) as archive:
        return {m.name: archive.extractfile(m).read() for m in archive.getmembers()}


def rewrite(path: Path, changed: dict[str, bytes]) -> None:
    content = members(path) | changed
    with tarfile.open(path, "w") as archive:
        for name, raw in content.items():
            info = tarfile.TarInfo(name)
            info.size = len(raw)
            archive.addfile(info, io.BytesIO(raw))


def test_backup_restore_verify(data, tmp_path):
    target = tmp_path / "b.tar"
    printed = run("backup", out=str(target))
    assert "backup written" in printed
    manifest = json.loads(members(target)["manifest.json"])
    assert manifest["vendor"] == connection.vendor
    assert manifest["tables"]["customers_customer"]["rows"] == data
    assert set(members(target)) == {"manifest.json", manifest["database"]["member"]}
    # Refused while the database holds data.
    with pytest.raises(CommandError, match="not empty"):
        run("restore", str(target))
    # Changes after the backup are undone by the restore.
    Customer.objects.all().delete()
    make_customer(first_name="Later")
    printed = run("restore", str(target), force=True, verify=True)
    assert "verified" in printed and "customers_customer" in printed
    assert Customer.objects.count() == data
    assert not Customer.objects.filter(first_name="Later").exists()
    assert bk.compare(
        bk.Manifest.parse(members(target)["manifest.json"]), bk.current_digests(), "ok"
    ).ok


def test_a_changed_database_member_is_refused_before_restoring(data, tmp_path):
    target = tmp_path / "b.tar"
    run("backup", out=str(target))
    manifest = json.loads(members(target)["manifest.json"])
    name = manifest["database"]["member"]
    raw = bytearray(members(target)[name])
    raw[len(raw) // 2] ^= 0xFF
    rewrite(target, {name: bytes(raw)})
    Customer.objects.all().delete()
    with pytest.raises(CommandError, match="does not match its manifest"):
        run("restore", str(target), force=True, verify=True)
    assert Customer.objects.count() == 0  # nothing was written


def test_a_tampered_manifest_fails_verification(data, tmp_path):
    target = tmp_path / "b.tar"
    run("backup", out=str(target))
    manifest = json.loads(members(target)["manifest.json"])
    manifest["tables"]["customers_customer"]["rows"] += 1
    manifest["tables"]["accounts_user"]["sha256"] = "0" * 64
    rewrite(target, {"manifest.json": json.dumps(manifest).encode()})
    out = io.StringIO()
    with pytest.raises(CommandError, match="2 table\\(s\\) differ"):
        call_command("restore", str(target), force=True, verify=True, stdout=out)
    table = out.getvalue()
    assert "customers_customer" in table and "DIFFERENT" in table


@pytest.mark.parametrize(
    "content,message",
    [
        (b"not an archive at all", "cannot be read"),
        (None, "no manifest"),
        ({"manifest.json": b"{not json"}, "manifest cannot be read"),
        ({"manifest.json": b'{"format": "other"}'}, "not a Vefa backup manifest"),
    ],
)
def test_unreadable_backups_are_refused(content, message, tmp_path, db):
    target = tmp_path / "b.tar"
    if isinstance(content, bytes):
        target.write_bytes(content)
    else:
        with tarfile.open(target, "w") as archive:
            for name, raw in (content or {"other.txt": b"x"}).items():
                info = tarfile.TarInfo(name)
                info.size = len(raw)
                archive.addfile(info, io.BytesIO(raw))
    with pytest.raises(CommandError, match=message):
        run("restore", str(target), force=True, verify=True)
    with pytest.raises(CommandError, match="No backup"):
        run("restore", str(tmp_path / "missing.tar"))


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite file format")
def test_a_corrupted_sqlite_file_fails_its_integrity_check(data, tmp_path):
    target = tmp_path / "b.tar"
    run("backup", out=str(target))
    raw = bytearray(members(target)["database.sqlite3"])
    # Damage the pages after the first (the header stays, the b-trees break).
    for i in range(4096, len(raw), 7):
        raw[i] = 0x5A
    manifest = json.loads(members(target)["manifest.json"])
    import hashlib

    manifest["database"]["sha256"] = hashlib.sha256(bytes(raw)).hexdigest()
    rewrite(
        target, {"database.sqlite3": bytes(raw), "manifest.json": json.dumps(manifest).encode()}
    )
    with pytest.raises(CommandError, match=r"integrity|cannot be read"):
        run("restore", str(target), force=True, verify=True)


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite file format")
def test_the_backup_restores_into_a_new_sqlite_file(data, tmp_path):
    target = tmp_path / "b.tar"
    run("backup", out=str(target))
    work = tmp_path / "work"
    work.mkdir()
    manifest, database = bk.open_archive(target, work)
    fresh = sqlite3.connect(tmp_path / "new.sqlite3")
    source = sqlite3.connect(database)
    source.backup(fresh)
    assert bk.compare(manifest, bk.sqlite_digests(fresh), "ok").ok
    assert bk.table_rows_in_use(bk.sqlite_digests(sqlite3.connect(":memory:"))) == []
