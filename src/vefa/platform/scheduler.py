"""The scheduler of periodic jobs declared with ``vefa.platform.periodic.periodic``.

Time is cut into slots of each job's ``every``, aligned to the Unix epoch (a job every hour
runs for the slot 10:00, then 11:00 …). A worker claims a slot with one conditional UPDATE:

    UPDATE platform_periodicrun SET last_slot = <slot>
    WHERE name = <job> AND (last_slot IS NULL OR last_slot < <slot>)

Exactly one of any number of workers sees "1 row updated", so a slot runs once. A slot that
was missed (no worker was running) is not made up for: the next slot runs.
"""

from __future__ import annotations

import datetime
import logging
import threading
import traceback

from django.db import IntegrityError, close_old_connections, transaction
from django.db.models import Q
from django.utils import timezone

from vefa.platform.models import PeriodicRun
from vefa.platform.periodic import PeriodicJob, jobs

logger = logging.getLogger(__name__)

EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)


def slot_for(now: datetime.datetime, every: datetime.timedelta) -> datetime.datetime:
    """The start of the slot ``now`` falls in."""
    seconds = max(1, int(every.total_seconds()))
    elapsed = int((now - EPOCH).total_seconds())
    return EPOCH + datetime.timedelta(seconds=elapsed - elapsed % seconds)


def _ensure_row(name: str) -> None:
    if PeriodicRun.objects.filter(name=name).exists():
        return
    try:
        with transaction.atomic():
            PeriodicRun.objects.create(name=name)
    except IntegrityError:
        pass  # another worker created it first


def periodic_claim(name: str, slot: datetime.datetime) -> bool:
    """Claim ``slot`` of job ``name`` for this worker; ``False`` if already claimed."""
    _ensure_row(name)
    claimed = (
        PeriodicRun.objects.filter(name=name)
        .filter(Q(last_slot__isnull=True) | Q(last_slot__lt=slot))
        .update(last_slot=slot)
    )
    return claimed == 1


def periodic_run_slot(*, name: str, slot: datetime.datetime) -> bool:
    """Run a claimed slot of job ``name``, recording start, end and the error if any."""
    job = jobs().get(name)
    if job is None:
        logger.warning("periodic job %s is no longer declared", name)
        return False
    PeriodicRun.objects.filter(name=name).update(last_started_at=timezone.now())
    try:
        job.func()
    except Exception:
        logger.exception("periodic job %s failed for slot %s", name, slot.isoformat())
        PeriodicRun.objects.filter(name=name).update(
            last_finished_at=timezone.now(), last_error=traceback.format_exc()[-4000:]
        )
        return False
    PeriodicRun.objects.filter(name=name).update(last_finished_at=timezone.now(), last_error="")
    return True


def run_due(*, now: datetime.datetime | None = None, enqueue: bool = True) -> list[str]:
    """Claim the current slot of every periodic job not yet run for it.

    With ``enqueue`` each claimed slot is handed to the task queue (the worker runs it);
    otherwise it runs here and now. Returns the names of the jobs claimed.
    """
    now = now or timezone.now()
    claimed: list[str] = []
    for name, job in sorted(jobs().items()):
        slot = slot_for(now, job.every)
        if not periodic_claim(name, slot):
            continue
        claimed.append(name)
        if enqueue:
            _enqueue(job, slot)
        else:
            periodic_run_slot(name=name, slot=slot)
    return claimed


def _enqueue(job: PeriodicJob, slot: datetime.datetime) -> None:
    from vefa.platform.tasks import run_periodic

    try:
        run_periodic.enqueue(name=job.name, slot=slot.isoformat())
    except Exception:
        logger.exception("could not queue periodic job %s", job.name)
        PeriodicRun.objects.filter(name=job.name).update(last_error=traceback.format_exc()[-4000:])


def seconds_until_next_slot(now: datetime.datetime | None = None) -> float:
    """How long until any periodic job's next slot starts (at most a minute)."""
    now = now or timezone.now()
    waits = [60.0]
    for job in jobs().values():
        start = slot_for(now, job.every)
        waits.append((start + job.every - now).total_seconds())
    return max(0.2, min(waits))


class SchedulerThread(threading.Thread):
    """Claims due slots until ``stop`` is set; errors are logged and the loop goes on."""

    def __init__(self, *, stop: threading.Event) -> None:
        super().__init__(name="vefa-scheduler", daemon=True)
        self.stop = stop

    def run(self) -> None:
        try:
            while not self.stop.is_set():
                close_old_connections()
                try:
                    run_due(enqueue=True)
                except Exception:
                    logger.exception("the scheduler could not check periodic jobs")
                self.stop.wait(seconds_until_next_slot())
        finally:
            from django.db import connections

            connections.close_all()
