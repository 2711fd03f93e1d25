"""In-app notifications, and e-mail when an e-mail server is configured.

A notification goes to one user and is seen only by that user: every read and write here
takes the recipient (or the actor, who must be the recipient). ``dedupe_key`` makes sending
idempotent, so a reminder job that runs twice, or a service retried after a crash, never
notifies twice.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from vefa.common.errors import NotFound, ValidationFailed
from vefa.common.paging import Page, keyset_page
from vefa.platform.models import Notification

if TYPE_CHECKING:
    from vefa.accounts.models import User

logger = logging.getLogger(__name__)

MAX_TEXT = 300
MAX_URL = 300
MAX_VERB = 50
MAX_DEDUPE = 150


def _clean(*, verb: str, text: str, url: str, model: str, dedupe_key: str) -> dict[str, str]:
    errors: dict[str, list[str]] = {}
    verb = (verb or "").strip()
    text = " ".join((text or "").split())
    if not verb:
        errors["verb"] = [_("This field is required.")]
    elif len(verb) > MAX_VERB:
        errors["verb"] = [_("At most %(n)d characters.") % {"n": MAX_VERB}]
    if not text:
        errors["text"] = [_("This field is required.")]
    if len(dedupe_key or "") > MAX_DEDUPE:
        errors["dedupe_key"] = [_("At most %(n)d characters.") % {"n": MAX_DEDUPE}]
    url = (url or "").strip()
    # Only links inside Vefa: a notification must never send someone to another site.
    if url and (not url.startswith("/") or url.startswith("//") or len(url) > MAX_URL):
        errors["url"] = [_("Enter a link inside Vefa, starting with /.")]
    if errors:
        raise ValidationFailed(_("Please correct the errors below."), fields=errors)
    if len(text) > MAX_TEXT:
        text = text[: MAX_TEXT - 1] + "…"
    return {
        "verb": verb,
        "text": text,
        "url": url,
        "model": (model or "")[:100],
        "dedupe_key": dedupe_key or "",
    }


def email_configured() -> bool:
    return bool(getattr(settings, "EMAIL_HOST", ""))


def notification_send(
    *,
    recipient: User,
    verb: str,
    text: str,
    url: str = "",
    model: str = "",
    object_id: int | None = None,
    dedupe_key: str = "",
) -> Notification:
    """Notify ``recipient``; with the same non-empty ``dedupe_key`` only the first call counts.

    When an e-mail server is configured the notice is also e-mailed to an active recipient
    after the transaction commits; a failing mail server is logged and never fails the
    caller (the notice stays in the app, ``emailed_at`` stays empty).
    """
    values = _clean(verb=verb, text=text, url=url, model=model, dedupe_key=dedupe_key)
    if values["dedupe_key"]:
        existing = Notification.objects.filter(
            recipient=recipient, dedupe_key=values["dedupe_key"]
        ).first()
        if existing is not None:
            return existing
    try:
        with transaction.atomic():
            notification = Notification.objects.create(
                recipient=recipient, object_id=object_id, **values
            )
    except IntegrityError:
        # A concurrent send with the same key won the race: that one is the notification.
        return Notification.objects.get(recipient=recipient, dedupe_key=values["dedupe_key"])
    if email_configured() and recipient.is_active and recipient.email:
        transaction.on_commit(lambda: _enqueue_email(notification.pk))
    return notification


def _enqueue_email(notification_id: int) -> None:
    # Sent by the background worker so a slow mail server never slows a page down.
    from vefa.platform.tasks import send_notification_email

    try:
        send_notification_email.enqueue(notification_id=notification_id)
    except Exception:
        logger.warning("could not queue e-mail of notification %s", notification_id, exc_info=True)


def notification_email(*, notification_id: int) -> bool:
    """E-mail one notification to its recipient unless already done; ``True`` when sent."""
    notification = (
        Notification.objects.select_related("recipient")
        .filter(pk=notification_id, emailed_at__isnull=True)
        .first()
    )
    if notification is None:
        return False
    recipient = notification.recipient
    with translation.override(recipient.language or settings.LANGUAGE_CODE):
        subject = _("Vefa: %(text)s") % {"text": notification.text[:120]}
        body = notification.text
        if notification.url:
            base = getattr(settings, "VEFA_BASE_URL", "").rstrip("/")
            body += "\n\n" + (base + notification.url if base else notification.url)
        body += "\n\n" + _("You receive this because you use Vefa.")
    message = EmailMessage(
        subject=" ".join(subject.split()),
        body=body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[recipient.email],
    )
    try:
        message.send(fail_silently=False)
    except Exception:
        # The mail server being down must not break what the user was doing.
        logger.warning("could not e-mail notification %s", notification_id, exc_info=True)
        return False
    Notification.objects.filter(pk=notification_id, emailed_at__isnull=True).update(
        emailed_at=timezone.now()
    )
    return True


def notification_list(
    *, actor: User, cursor: str | None = None, size: int = 25, unread_only: bool = False
) -> Page[Notification]:
    """The actor's own notifications, newest first, one keyset page."""
    qs = Notification.objects.filter(recipient=actor)
    if unread_only:
        qs = qs.filter(read_at__isnull=True)
    return keyset_page(qs, ordering="-created_at", cursor=cursor, size=max(1, min(size, 100)))


UNREAD_BADGE_LIMIT = 99


def notification_unread_count(*, actor: User) -> int:
    """Unread notifications of the actor, counted up to 100 (the badge shows "99+")."""
    return Notification.objects.filter(recipient=actor, read_at__isnull=True)[
        : UNREAD_BADGE_LIMIT + 1
    ].count()


def notification_get(*, actor: User, pk: int) -> Notification:
    notification = Notification.objects.filter(pk=pk, recipient=actor).first()
    if notification is None:
        raise NotFound(_("Not found."))
    return notification


def notification_mark_read(*, actor: User, pk: int) -> Notification:
    """Mark one of the actor's notifications read (someone else's is not found)."""
    notification = notification_get(actor=actor, pk=pk)
    if notification.read_at is None:
        notification.read_at = timezone.now()
        Notification.objects.filter(pk=notification.pk, read_at__isnull=True).update(
            read_at=notification.read_at
        )
    return notification


def notification_mark_all_read(*, actor: User) -> int:
    """Mark every unread notification of the actor read; returns how many."""
    return Notification.objects.filter(recipient=actor, read_at__isnull=True).update(
        read_at=timezone.now()
    )
