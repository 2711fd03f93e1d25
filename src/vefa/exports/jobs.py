"""The background job that writes a large export and the periodic run of scheduled
exports."""

from __future__ import annotations

import datetime
from typing import Any

from vefa.platform.jobs import Progress, job_handler
from vefa.platform.models import Job
from vefa.platform.periodic import periodic


@job_handler("exports.export")
def run_export(job: Job, report: Progress) -> dict[str, Any]:
    """Write the export's file; an interrupted run writes it again from the start."""
    from vefa.exports.services import export_run

    export = export_run(int(job.params["export"]), report)
    return {"export": export.pk, "rows": export.rows}


@periodic("exports.run_scheduled", every=datetime.timedelta(minutes=15))
def run_scheduled_exports() -> None:
    from vefa.exports.services import schedules_run_due

    schedules_run_due()
