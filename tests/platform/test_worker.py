"""Periodic jobs and the ``worker`` command: one run per slot, --once, clean shutdown."""

from __future__ import annotations

import datetime
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.core.management import call_command
from django.utils import timezone

from vefa.platform import jobs, periodic, scheduler
from vefa.platform.models import Job, PeriodicRun

pytestmark = pytest.mark.django_db

ran: list[str] = []
UTC = datetime.UTC


@pytest.fixture(autouse=True)
def _periodic_jobs(monkeypatch):
    """Only the test's periodic jobs are declared while it runs."""
    ran.clear()
    monkeypatch.setattr(periodic, "_jobs", {})

    @periodic.periodic("tests.every_minute", every=datetime.timedelta(minutes=1))
    def every_minute() -> None:
        ran.append("minute")

    @periodic.periodic("tests.broken", every=datetime.timedelta(hours=1))
    def broken() -> None:
        ran.append("broken")
        raise RuntimeError("disk full")


def test_slots_are_aligned_to_the_epoch():
    now = datetime.datetime(2025, 3, 1, 10, 17, 42, tzinfo=UTC)
    assert scheduler.slot_for(now, datetime.timedelta(minutes=1)) == now.replace(second=0)
    assert scheduler.slot_for(now, datetime.timedelta(hours=1)) == now.replace(minute=0, second=0)
    assert scheduler.slot_for(now, datetime.timedelta(days=1)) == now.replace(
        hour=0, minute=0, second=0
    )


def test_a_slot_is_claimed_once_and_the_next_slot_again():
    slot = datetime.datetime(2025, 3, 1, 10, 0, tzinfo=UTC)
    assert scheduler.periodic_claim("tests.every_minute", slot) is True
    assert scheduler.periodic_claim("tests.every_minute", slot) is False
    # An older slot arriving late (a slow worker) is not run either
    assert (
        scheduler.periodic_claim("tests.every_minute", slot - datetime.timedelta(minutes=1))
        is False
    )
    assert (
        scheduler.periodic_claim("tests.every_minute", slot + datetime.timedelta(minutes=1)) is True
    )


def test_run_due_runs_each_job_once_per_slot_and_records_errors():
    now = datetime.datetime(2025, 3, 1, 10, 0, 30, tzinfo=UTC)
    assert scheduler.run_due(now=now, enqueue=False) == ["tests.broken", "tests.every_minute"]
    assert scheduler.run_due(now=now + datetime.timedelta(seconds=20), enqueue=False) == []
    assert sorted(ran) == ["broken", "minute"]

    broken = PeriodicRun.objects.get(name="tests.broken")
    minute = PeriodicRun.objects.get(name="tests.every_minute")
    assert "disk full" in broken.last_error
    assert broken.last_finished_at is not None
    assert minute.last_error == ""
    assert minute.last_slot == datetime.datetime(2025, 3, 1, 10, 0, tzinfo=UTC)

    scheduler.run_due(now=now + datetime.timedelta(minutes=1), enqueue=False)
    assert sorted(ran) == ["broken", "minute", "minute"]


def test_two_schedulers_racing_for_a_slot_run_it_once():
    # Given two workers that both see the slot as due
    now = timezone.now()
    first = scheduler.run_due(now=now, enqueue=False)
    second = scheduler.run_due(now=now, enqueue=False)
    # Then only the first one ran the jobs
    assert len(first) == 2
    assert second == []
    assert ran.count("minute") == 1


def test_worker_once_runs_due_periodic_jobs_through_the_task_queue(capsys):
    call_command("worker", "--once")
    assert sorted(ran) == ["broken", "minute"]
    assert "periodic jobs queued: 2" in capsys.readouterr().out
    assert PeriodicRun.objects.get(name="tests.every_minute").last_started_at is not None


@pytest.fixture
def database_task_backend(settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    yield
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


def test_worker_once_runs_pending_jobs_from_the_database_queue(
    rep, database_task_backend, monkeypatch, committed
):
    from django_tasks_db.management.commands import db_worker
    from django_tasks_db.models import DBTaskResult

    monkeypatch.setattr(jobs, "_handlers", dict(jobs._handlers))
    # The worker recycles its connection between tasks; here that connection holds the
    # test's transaction, so it must stay open.
    monkeypatch.setattr(db_worker, "close_old_connections", lambda: None)

    @jobs.job_handler("tests.queued")
    def queued(job, report):
        report(1, 1)
        return {"ok": True}

    with committed():
        job = jobs.job_start(actor=rep, kind="tests.queued", title="Queued", params={})
    # Queued in the database, not run yet
    assert Job.objects.get(pk=job.pk).status == Job.Status.QUEUED
    assert DBTaskResult.objects.count() == 1

    call_command("worker", "--once")

    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED
    assert job.result == {"ok": True}
    run = DBTaskResult.objects.get(task_path="vefa.platform.tasks.run_job")
    assert run.status == "SUCCESSFUL"


def _env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "VEFA_TESTING"}}
    env.update(
        {
            "VEFA_DATA_DIR": str(tmp_path),
            "DJANGO_SETTINGS_MODULE": "vefa.config.settings",
            "PYTHONPATH": str(Path(__file__).resolve().parents[2] / "src"),
        }
    )
    return env


def test_vefa_worker_stops_cleanly_on_sigterm(tmp_path):
    env = _env(tmp_path)
    migrate = subprocess.run(
        [sys.executable, "-m", "vefa", "migrate", "--no-input", "-v0"],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert migrate.returncode == 0, migrate.stderr
    worker = subprocess.Popen(
        [sys.executable, "-m", "vefa", "worker", "--interval", "0.2"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert worker.stdout is not None
        started = worker.stdout.readline()
        assert "worker started" in started
        time.sleep(1.5)  # the scheduler claims the due periodic jobs meanwhile
        worker.send_signal(signal.SIGTERM)
        output, _ = worker.communicate(timeout=20)
    finally:
        if worker.poll() is None:
            worker.kill()
    assert worker.returncode == 0, output
    assert "worker stopped" in output


def test_search_bench_reports_percentiles(
    admin_user, rep, capsys, django_capture_on_commit_callbacks
):
    from vefa.customers.services import customer_create

    for name in ("Mehmet Kaya", "Jovana Petrović", "Ali Rezaei"):
        first, last = name.split()
        with django_capture_on_commit_callbacks(execute=True):
            customer_create(
                actor=rep, data={"kind": "person", "first_name": first, "last_name": last}
            )
    call_command("search_bench", "--queries", "6")
    out = capsys.readouterr().out
    assert "Administrator: 6 searches, p50" in out
    assert "Sales representative: 6 searches, p50" in out


def test_search_bench_needs_an_index(admin_user):
    from django.core.management import CommandError

    with pytest.raises(CommandError, match="empty"):
        call_command("search_bench", "--queries", "3")
