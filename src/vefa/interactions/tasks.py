"""Background and periodic work of the interactions app."""

from __future__ import annotations

import datetime
import logging

from vefa.platform.periodic import periodic

logger = logging.getLogger(__name__)


@periodic("interactions.send_due_reminders", every=datetime.timedelta(minutes=1))
def send_due_reminders() -> None:
    """Every minute: turn due activity reminders into notifications (each exactly once)."""
    from vefa.interactions.services import reminders_send_due

    sent = reminders_send_due()
    if sent:
        logger.info("sent %d activity reminders", sent)
