"""Background work of the help desk's e-mail: sending replies, polling the mailbox."""

from __future__ import annotations

import datetime
import logging

from django_tasks import task

from vefa.platform.periodic import periodic

logger = logging.getLogger(__name__)

# When a reply could not be sent: try again after these delays, then leave it failed.
RETRY_DELAYS = (
    datetime.timedelta(minutes=1),
    datetime.timedelta(minutes=5),
    datetime.timedelta(minutes=30),
    datetime.timedelta(hours=2),
)


@task()
def send_ticket_reply(*, message_id: int, attempt: int = 1) -> bool:
    """E-mail one public reply; on failure try again later (with a backend that can defer)."""
    from vefa.service.choices import DeliveryStatus
    from vefa.service.models import TicketMessage
    from vefa.service.services.email import reply_schedule, reply_send

    if reply_send(message_id=message_id):
        return True
    failed = TicketMessage.objects.filter(pk=message_id, delivery=DeliveryStatus.FAILED).exists()
    if failed and attempt <= len(RETRY_DELAYS):
        reply_schedule(message_id, attempt=attempt + 1, delay=RETRY_DELAYS[attempt - 1])
    return False


@periodic("service.poll_mailbox", every=datetime.timedelta(minutes=1))
def poll_mailbox() -> None:
    """Every minute: take in new mail from the help desk's IMAP mailbox, when one is set."""
    from vefa.service.services.email import imap_poll

    taken = imap_poll()
    if taken:
        logger.info("took in %d e-mails from the service mailbox", taken)
