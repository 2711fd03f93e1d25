"""The nightly data-quality run: check every customer again, then record the day's figures.

The hourly periodic job starts the run once a day (the first slot of a day without a
snapshot and without a run under way); the run is a platform job with progress and a
checkpoint, so an interrupted run resumes where it stopped.
"""

from __future__ import annotations

import datetime
import logging
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from vefa.platform.jobs import Progress, job_handler, job_start
from vefa.platform.models import Job
from vefa.platform.periodic import periodic

logger = logging.getLogger(__name__)

JOB_KIND = "quality.nightly"
BATCH = 500


@job_handler(JOB_KIND)
def nightly_run(job: Job, report: Progress) -> dict[str, Any]:
    """Refresh the findings of every customer in id order, then write the snapshot."""
    from vefa.customers.models import Customer
    from vefa.quality.services import findings_refresh, snapshot_write

    after = int((job.checkpoint or {}).get("after", 0))
    total = Customer.objects.filter(merged_into__isnull=True).count()
    done = Customer.objects.filter(merged_into__isnull=True, pk__lte=after).count()
    flagged = int((job.checkpoint or {}).get("flagged", 0))
    while True:
        ids = list(
            Customer.objects.filter(pk__gt=after, merged_into__isnull=True)
            .order_by("pk")
            .values_list("pk", flat=True)[:BATCH]
        )
        if not ids:
            break
        flagged += findings_refresh(ids)
        after = ids[-1]
        done += len(ids)
        report(done, total, checkpoint={"after": after, "flagged": flagged})
    day = datetime.date.fromisoformat(job.params["day"]) if job.params.get("day") else None
    snapshot = snapshot_write(day=day)
    return {"checked": done, "flagged": flagged, "snapshot": snapshot.day.isoformat()}


def nightly_start(*, day: datetime.date | None = None) -> Job | None:
    """Start the run unless today's snapshot exists or a run is under way."""
    from vefa.quality.models import QualitySnapshot

    day = day or timezone.localdate()
    if QualitySnapshot.objects.filter(day=day).exists():
        return None
    if Job.objects.filter(
        kind=JOB_KIND, status__in=[Job.Status.QUEUED, Job.Status.RUNNING]
    ).exists():
        return None
    return job_start(
        actor=None,
        kind=JOB_KIND,
        title=_("Data quality: nightly check of %(day)s") % {"day": day.isoformat()},
        params={"day": day.isoformat()},
    )


@periodic("quality.nightly", every=datetime.timedelta(hours=1))
def quality_nightly() -> None:
    job = nightly_start()
    if job is not None:
        logger.info("data quality: nightly run %s started", job.pk)
