"""Background work of segments: the daily size of every segment, call lists as jobs.

- ``marketing.segment_sizes`` (daily): counts every active segment (all customers, not one
  person's view) and keeps the day's figure in ``SegmentSize`` and ``Segment.last_count``.
  Running twice on a day replaces the day's figure, so a repeated slot changes nothing.
- ``marketing.segment_call_tasks`` (job): a call to make for the owner of each customer in a
  segment. It walks the customers in id order and saves its position, so a job resumed after
  a crash goes on where it stopped; a customer who already has the day's call for the
  segment is skipped, so no customer gets two.
"""

from __future__ import annotations

import datetime
import logging
from typing import Any

from vefa.platform.jobs import Progress, job_handler
from vefa.platform.models import Job
from vefa.platform.periodic import periodic

logger = logging.getLogger(__name__)

CALL_TASKS_KIND = "marketing.segment_call_tasks"
BATCH = 200


@periodic("marketing.segment_sizes", every=datetime.timedelta(days=1))
def segment_sizes() -> None:
    """Every day: the size of each active segment."""
    from vefa.marketing.models import Segment
    from vefa.marketing.services.segments import segment_write_size

    done = 0
    for segment in Segment.objects.filter(is_archived=False).select_related("owner").iterator():
        try:
            segment_write_size(segment=segment)
            done += 1
        except Exception:  # one broken segment must not stop the others
            logger.exception("segment %s could not be counted", segment.pk)
    logger.info("segment sizes written for %d segments", done)


@job_handler(CALL_TASKS_KIND)
def segment_call_tasks(job: Job, report: Progress) -> dict[str, Any]:
    """Create the calls of ``job.params`` (see ``segment_call_tasks_start``)."""
    from vefa.marketing.services.segments import call_tasks_batch

    return call_tasks_batch(job=job, report=report, batch=BATCH)
