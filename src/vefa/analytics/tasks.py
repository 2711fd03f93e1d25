"""Background work of the analytical CRM: the refresh job, the nightly refresh, call tasks."""

from __future__ import annotations

import datetime
import logging
from typing import Any

from django.utils import timezone

from vefa.analytics.services import CALL_TASKS_JOB, REFRESH_JOB
from vefa.platform.jobs import Progress, job_handler
from vefa.platform.models import Job
from vefa.platform.periodic import periodic

logger = logging.getLogger(__name__)


@job_handler(REFRESH_JOB)
def run_refresh(job: Job, report: Progress) -> dict[str, Any]:
    """Run the refresh the job was started for (again from the start after a crash: every
    step is idempotent, see ``analytics.refresh``)."""
    from vefa.analytics import refresh
    from vefa.analytics.models import Refresh

    row = Refresh.objects.get(pk=int(job.params["refresh_id"]))
    figures = refresh.run(row, progress=report)
    return {"refresh_id": row.pk, "seconds": figures.get("seconds", {}).get("total")}


@periodic("analytics.nightly_refresh", every=datetime.timedelta(hours=24))
def nightly_refresh() -> None:
    """Once a day: queue a refresh unless the administrators switched the nightly run off."""
    from vefa.analytics.models import AnalyticsSettings
    from vefa.analytics.services import refresh_request

    if AnalyticsSettings.current().nightly:
        refresh = refresh_request(actor=None)
        logger.info("analytics refresh %s queued", refresh.pk)


@job_handler(CALL_TASKS_JOB)
def plan_calls(job: Job, report: Progress) -> dict[str, Any]:
    """Plan one call per customer of the list, assigned to the customer's owner.

    Customers without an owner get the person who started the job. A customer that already
    has an open call with the same subject is skipped, so a restarted job plans nothing
    twice; the position is checkpointed so a restart continues after the last customer.
    """
    from vefa.analytics.services import MAX_CALL_TASKS
    from vefa.customers.selectors import customer_list
    from vefa.interactions.choices import ActivityKind, ActivityStatus
    from vefa.interactions.models import Activity
    from vefa.interactions.services.activities import activity_create

    actor = job.user
    if actor is None:
        return {"planned": 0}
    params = job.params
    subject = str(params["subject"])
    due_day = datetime.date.fromisoformat(str(params["due"]))
    due_at = timezone.make_aware(
        datetime.datetime.combine(due_day, datetime.time(10, 0)), timezone.get_current_timezone()
    )
    cursor = (job.checkpoint or {}).get("cursor")
    planned = int((job.checkpoint or {}).get("planned", 0))
    seen = int((job.checkpoint or {}).get("seen", 0))
    while seen < MAX_CALL_TASKS:
        page = customer_list(actor=actor, filters=params["filters"], cursor=cursor, size=100)
        for customer in page.items:
            already = Activity.objects.filter(
                customer=customer,
                kind=ActivityKind.CALL,
                subject=subject,
                status=ActivityStatus.PLANNED,
            ).exists()
            if not already:
                activity_create(
                    actor=actor,
                    kind=ActivityKind.CALL,
                    subject=subject,
                    owner_id=customer.owner_id or actor.pk,
                    customer_id=customer.pk,
                    due_at=due_at,
                )
                planned += 1
            seen += 1
        cursor = page.next_cursor
        report(seen, None, checkpoint={"cursor": cursor, "planned": planned, "seen": seen})
        if not cursor:
            break
    return {"planned": planned, "customers": seen}
