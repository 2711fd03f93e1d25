"""Background tasks of the portal: e-mailing sign-in and invitation links.

The link's token is made inside the task, so it is written nowhere but into the e-mail (only
its hash is stored); a failing mail server is logged, and the contact asks again.
"""

from __future__ import annotations

import datetime
import logging
import smtplib

from django_tasks import task

from vefa.platform.periodic import periodic

logger = logging.getLogger(__name__)


@task()
def send_sign_in_link(*, email: str, link_base: str) -> bool:
    """E-mail a sign-in link if an active account has ``email`` (nothing otherwise)."""
    from vefa.portal.services import sign_in_link_send

    try:
        return sign_in_link_send(email=email, link_base=link_base)
    except (smtplib.SMTPException, OSError):
        logger.exception("The portal sign-in link could not be e-mailed")
        return False


@task()
def send_portal_link(*, account_id: int, purpose: str, link_base: str) -> bool:
    """E-mail an invitation (or sign-in) link to an active portal account."""
    from vefa.portal.models import PortalAccount
    from vefa.portal.services import link_send

    account = (
        PortalAccount.objects.select_related("contact")
        .filter(pk=account_id, is_active=True)
        .first()
    )
    if account is None:
        return False
    try:
        link_send(account=account, purpose=purpose, link_base=link_base)
    except (smtplib.SMTPException, OSError):
        logger.exception("The portal invitation could not be e-mailed")
        return False
    return True


@periodic("portal.purge_links", every=datetime.timedelta(hours=1))
def purge_links() -> None:
    """Hourly: forget sign-in and invitation links a day after they were used or expired."""
    from vefa.portal.services import links_purge

    links_purge()
