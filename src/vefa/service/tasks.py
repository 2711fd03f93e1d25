"""Background and periodic work of the service app."""

from __future__ import annotations

import datetime
import logging

from django_tasks import task

from vefa.platform.periodic import periodic

logger = logging.getLogger(__name__)


@periodic("service.sla_evaluate", every=datetime.timedelta(minutes=1))
def sla_evaluate() -> None:
    """Every minute: mark SLA warnings and breaches of open tickets, notify and escalate.

    Idempotent: a slot run twice, or a run after a crash, sends no notice twice.
    """
    from vefa.service.services.sla import sla_evaluate as evaluate

    counts = evaluate()
    if any(counts.values()):
        logger.info("SLA evaluation: %s", counts)


@task()
def send_notification_emails(*, notification_ids: list[int]) -> int:
    """E-mail a batch of notifications (the SLA evaluation queues them in bulk); each one is
    sent at most once, a failing mail server is logged. Returns how many were sent."""
    from vefa.platform.notifications import notification_email

    return sum(1 for pk in notification_ids if notification_email(notification_id=pk))
