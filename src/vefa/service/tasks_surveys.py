"""Background work of the surveys: e-mailing one invitation, sending an NPS survey."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django_tasks import task

from vefa.platform.jobs import job_handler

if TYPE_CHECKING:
    from vefa.platform.jobs import Progress
    from vefa.platform.models import Job


@task()
def send_survey_invitation(*, invitation_id: int) -> bool:
    """E-mail one survey invitation (safe to deliver twice: a sent one is skipped)."""
    from vefa.service.services.surveys import invitation_send

    return invitation_send(invitation_id=invitation_id)


@job_handler("service.survey_send")
def survey_send_job(job: Job, report: Progress) -> dict[str, Any]:
    """Invite an NPS survey's audience, with progress; resumes from its checkpoint."""
    from vefa.service.services.surveys import survey_send_run

    return survey_send_run(job, report)
