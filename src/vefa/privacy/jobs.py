"""Background jobs of the privacy app: preparing an export and running an erasure."""

from __future__ import annotations

from typing import Any

from vefa.platform.jobs import Progress, job_handler
from vefa.platform.models import Job
from vefa.privacy import services


@job_handler(services.EXPORT_JOB)
def run_export(job: Job, report: Progress) -> dict[str, Any]:
    """Write the ZIP again from the start when resumed: the archive is rebuilt whole."""

    def progress(done: int, total: int) -> None:
        report(done, total)

    return services.export_build(request_id=int(job.params["request_id"]), progress=progress)


@job_handler(services.ERASE_JOB)
def run_erasure(job: Job, report: Progress) -> dict[str, Any]:
    """One transaction; a resumed run finds the deletion log and returns it (idempotent)."""
    report(0, 1)
    return services.erasure_run(request_id=int(job.params["request_id"]))
