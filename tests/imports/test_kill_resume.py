"""Kill an import with SIGKILL half way, resume it: exact counts, nothing twice.

The import runs in a separate process against the test database (PostgreSQL: a second process
cannot open the in-memory SQLite test database). It kills itself at a chosen point: right
after a batch committed, or in the middle of a batch (rows written, transaction open).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.db import connection

from tests.imports.conftest import csv_bytes, error_rows
from vefa.customers.models import ContactPoint, Customer
from vefa.imports.models import ImportRowRecord, ImportRun, RunStatus

ROOT = Path(__file__).resolve().parents[2]
ROWS = 1_000
BATCH = 100

SCRIPT = """
import io, os, signal, sys
import django
django.setup()
from vefa.accounts.models import User
from vefa.imports import engine, services

mode, at, path, email = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
actor = User.objects.get(email=email)
with open(path, "rb") as stream:
    run = services.upload(actor=actor, entity="customers", name="big.csv", stream=stream)
services.start_import(actor=actor, run_id=run.pk, background=False)
print(run.pk, flush=True)

def die(batches):
    if mode == "after" and batches == at:
        os.kill(os.getpid(), signal.SIGKILL)

if mode == "inside":
    real = engine.Engine.write
    calls = {"n": 0}
    def write(self, decisions):
        result = real(self, decisions)
        calls["n"] += 1
        if calls["n"] == at:
            os.kill(os.getpid(), signal.SIGKILL)
        return result
    engine.Engine.write = write
services.execute_run(run.pk, after_batch=die, batch_rows=int(sys.argv[5]))
"""


def _env(tmp_path: Path) -> dict[str, str]:
    settings = connection.settings_dict
    url = "postgres://{USER}@{HOST}:{PORT}/{NAME}".format(
        USER=settings["USER"] or "postgres",
        HOST=settings["HOST"] or "127.0.0.1",
        PORT=settings["PORT"] or 5432,
        NAME=settings["NAME"],
    )
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "vefa.config.settings",
        "DATABASE_URL": url,
        # The same data directory: the uploaded file and the error report are shared.
        "VEFA_DATA_DIR": str(django_settings.DATA_DIR),
        "VEFA_SECRET_KEY": "import-kill-test-" + "x" * 40,
        "PYTHONPATH": str(ROOT / "src") + os.pathsep + os.environ.get("PYTHONPATH", ""),
    }


def _rows() -> list[list[object]]:
    rows: list[list[object]] = []
    for i in range(ROWS):
        email = f"kisi{i}@example.com" if i % 97 else "not-an-email"
        rows.append([f"Kişi {i}", email, f"+90 532 {i // 10000:03d} {i % 10000:04d}", "Konya"])
    return rows


@pytest.mark.skipif(
    "postgres" not in os.environ.get("DATABASE_URL", ""),
    reason="a second process cannot open the in-memory SQLite test database",
)
@pytest.mark.parametrize(("mode", "at"), [("after", 3), ("inside", 5)])
def test_killed_import_resumes_exactly(transactional_db, admin_user, tmp_path, mode, at):
    env = _env(tmp_path)
    source = tmp_path / "big.csv"
    source.write_bytes(csv_bytes(_rows(), ["Ad Soyad", "E-posta", "Telefon", "Şehir"]))
    killed = subprocess.run(
        [sys.executable, "-c", SCRIPT, mode, str(at), str(source), admin_user.email, str(BATCH)],
        env=env, cwd=ROOT, capture_output=True, timeout=300,
    )  # fmt: skip
    assert killed.returncode == -signal.SIGKILL, killed.stderr.decode()[-2000:]
    run = ImportRun.objects.get()
    committed = 3 if mode == "after" else 4
    assert run.status == RunStatus.RUNNING
    assert run.last_row == 1 + committed * BATCH
    assert Customer.objects.count() == run.created < ROWS
    resumed = subprocess.run(
        [sys.executable, "-m", "vefa.cli", "import", "--resume", str(run.pk),
         "--batch-size", str(BATCH)],
        env=env, cwd=ROOT, capture_output=True, timeout=300,
    )  # fmt: skip
    assert resumed.returncode == 0, resumed.stderr.decode()[-2000:]
    run.refresh_from_db()
    bad = len([i for i in range(ROWS) if i % 97 == 0])
    assert run.status == RunStatus.DONE
    assert (run.processed, run.created, run.error_rows) == (ROWS, ROWS - bad, bad)
    assert Customer.objects.count() == ROWS - bad
    emails = Counter(Customer.objects.values_list("primary_email", flat=True))
    assert max(emails.values()) == 1
    assert ContactPoint.objects.count() == 2 * (ROWS - bad)
    assert ImportRowRecord.objects.filter(object_type="customers.customer").count() == ROWS - bad
    listed = [int(r[0]) for r in error_rows(run)]
    assert listed == [i + 2 for i in range(ROWS) if i % 97 == 0]
