"""The campaign sending job and the minute-by-minute start of due campaigns."""

from __future__ import annotations

import datetime
from typing import Any

from vefa.platform.jobs import Progress, job_handler
from vefa.platform.models import Job
from vefa.platform.periodic import periodic


@job_handler("marketing.send")
def send_campaign_job(job: Job, report: Progress) -> dict[str, Any]:
    """Send a campaign's due recipients in throttled batches (resumable, exactly once)."""
    from vefa.marketing.services.sending import send_job

    return dict(send_job(job, report))


@periodic("marketing.start_due_campaigns", every=datetime.timedelta(minutes=1))
def start_due_campaigns() -> None:
    """Start scheduled campaigns whose time has come; go on after quiet hours and retries."""
    from vefa.marketing.services.sending import start_due_campaigns as start

    start()
