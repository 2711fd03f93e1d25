"""The background job of a duplicate search."""

from __future__ import annotations

from typing import Any

from vefa.platform.jobs import Progress, job_handler
from vefa.platform.models import Job


@job_handler("dedupe.run")
def run_dedupe(job: Job, report: Progress) -> dict[str, Any]:
    from vefa.dedupe.services import run_execute

    run = run_execute(int(job.params["run_id"]), report)
    return {
        "run": run.pk,
        "customers": run.customers_count,
        "clusters": run.clusters_count,
    }
