"""Background tasks and periodic jobs of the platform."""

from __future__ import annotations

import datetime
import logging
from typing import Any

from django.utils import timezone
from django_tasks import task

from vefa.platform.periodic import periodic

logger = logging.getLogger(__name__)

IDEMPOTENCY_KEEP = datetime.timedelta(days=2)


@task()
def run_job(*, job_id: int) -> dict[str, Any]:
    """Run one platform job (see ``vefa.platform.jobs``); safe to deliver twice."""
    from vefa.platform.jobs import job_run

    job = job_run(job_id)
    return {"job_id": job_id, "status": job.status if job is not None else "skipped"}


@task()
def send_notification_email(*, notification_id: int) -> bool:
    """E-mail one notification (a failing mail server is logged, not retried in a loop)."""
    from vefa.platform.notifications import notification_email

    return notification_email(notification_id=notification_id)


@task()
def reindex_customer_search(*, customer_id: int) -> None:
    """Re-index the search entries of a customer's records (after its owner, team or name
    changed, or it was deleted)."""
    from vefa.platform.search.indexer import reindex_customer_children

    reindex_customer_children(customer_id)


@task()
def run_periodic(*, name: str, slot: str) -> None:
    """Run one slot of a periodic job that the scheduler claimed."""
    from vefa.platform.scheduler import periodic_run_slot

    periodic_run_slot(name=name, slot=datetime.datetime.fromisoformat(slot))


@periodic("platform.requeue_interrupted_jobs", every=datetime.timedelta(minutes=5))
def requeue_interrupted_jobs() -> None:
    """Every five minutes: queue again jobs whose worker died while running them."""
    from vefa.platform.jobs import jobs_requeue_interrupted

    requeued = jobs_requeue_interrupted()
    if requeued:
        logger.info("queued %d interrupted jobs again", len(requeued))


@periodic("platform.purge_idempotency_records", every=datetime.timedelta(hours=1))
def purge_idempotency_records() -> None:
    """Hourly: forget API idempotency keys after two days (clients retry within minutes)."""
    from vefa.platform.models import IdempotencyRecord

    IdempotencyRecord.objects.filter(created_at__lt=timezone.now() - IDEMPOTENCY_KEEP).delete()


@periodic("platform.analyze_database", every=datetime.timedelta(hours=24))
def analyze_database() -> None:
    """Daily: refresh the SQLite planner's statistics so filtered lists read in sort order."""
    from vefa.platform.maintenance import database_analyze

    database_analyze()
