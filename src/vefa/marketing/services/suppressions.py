"""Suppressed addresses: nothing is sent to them on their channel.

Written when a customer unsubscribes, when an address bounces hard (or soft too often),
when a recipient complains, and by hand. Soft bounces are counted on a row with the reason
``soft_bounces`` that suppresses only once the count reaches the settings' limit.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils.translation import gettext as _

from vefa.accounts.access import can
from vefa.common.errors import PermissionDenied
from vefa.customers.normalize import normalize_email, normalize_phone
from vefa.customers.services._common import as_pk, invalid, not_found
from vefa.marketing.choices import CampaignChannel, SuppressionReason
from vefa.marketing.models import (
    Campaign,
    CampaignRecipient,
    MarketingSettings,
    Suppression,
)
from vefa.platform.audit import log_change, snapshot

if TYPE_CHECKING:
    from vefa.accounts.models import User

SUPPRESSIBLE = (CampaignChannel.EMAIL, CampaignChannel.SMS, CampaignChannel.PHONE)
MAX_NOTE = 300


def normalize_address(channel: str, address: Any) -> str:
    """The comparable form of an address on ``channel``; ``ValueError`` when invalid."""
    text = str(address or "").strip()
    if channel == CampaignChannel.EMAIL:
        return normalize_email(text)
    if channel in (CampaignChannel.SMS, CampaignChannel.PHONE):
        return normalize_phone(text).value
    raise ValueError(_("Choose e-mail, SMS or phone."))


def _may_keep(actor: User) -> None:
    if not can(actor, "change", MarketingSettings(pk=1)):
        raise PermissionDenied(_("Your role cannot change suppressed addresses."))


def suppress(
    *,
    channel: str,
    address: str,
    reason: str,
    customer_id: int | None = None,
    campaign_id: int | None = None,
    note: str = "",
) -> Suppression:
    """Suppress an already normalised address (idempotent: an existing row is kept, and a
    row that only counted soft bounces becomes a real suppression)."""
    with transaction.atomic():
        found = (
            Suppression.objects.select_for_update().filter(channel=channel, address=address).first()
        )
        if found is not None:
            if found.reason == SuppressionReason.SOFT_BOUNCES and reason != found.reason:
                found.reason = reason
                found.save(update_fields=["reason"])
            return found
        try:
            with transaction.atomic():
                return Suppression.objects.create(
                    channel=channel,
                    address=address,
                    reason=reason,
                    customer_id=customer_id,
                    campaign_id=campaign_id,
                    note=note[:MAX_NOTE],
                )
        except IntegrityError:
            return Suppression.objects.get(channel=channel, address=address)


def soft_bounce_limit() -> int:
    from vefa.marketing.selectors.sending import marketing_settings

    return marketing_settings().soft_bounce_limit


def count_soft_bounce(
    *, channel: str, address: str, customer_id: int | None, campaign_id: int | None
) -> Suppression:
    """Count one soft bounce; the address is suppressed when the count reaches the limit."""
    limit = soft_bounce_limit()
    with transaction.atomic():
        row = (
            Suppression.objects.select_for_update().filter(channel=channel, address=address).first()
        )
        if row is None:
            try:
                with transaction.atomic():
                    row = Suppression.objects.create(
                        channel=channel,
                        address=address,
                        reason=SuppressionReason.SOFT_BOUNCES,
                        soft_bounces=0,
                        customer_id=customer_id,
                        campaign_id=campaign_id,
                    )
            except IntegrityError:
                row = Suppression.objects.select_for_update().get(channel=channel, address=address)
        if row.reason != SuppressionReason.SOFT_BOUNCES:
            return row
        Suppression.objects.filter(pk=row.pk).update(soft_bounces=F("soft_bounces") + 1)
        row.refresh_from_db()
        if row.soft_bounces >= limit and not row.note:
            row.note = _("Suppressed after %(n)d soft bounces.") % {"n": row.soft_bounces}
            row.save(update_fields=["note"])
    return row


def suppress_refused(rows: list[CampaignRecipient], *, campaign: Campaign) -> int:
    """Addresses the mail server refused for good while sending: hard bounces."""
    for row in rows:
        suppress(
            channel=campaign.channel,
            address=row.address,
            reason=SuppressionReason.HARD_BOUNCE,
            customer_id=row.customer_id,
            campaign_id=campaign.pk,
            note=row.reason,
        )
    return len(rows)


def suppression_add(*, actor: User, channel: Any, address: Any, note: Any = "") -> Suppression:
    """Suppress an address by hand."""
    _may_keep(actor)
    errors: dict[str, list[str]] = {}
    if channel not in SUPPRESSIBLE:
        errors["channel"] = [_("Choose e-mail, SMS or phone.")]
    normalized = ""
    if not errors:
        try:
            normalized = normalize_address(str(channel), address)
        except ValueError as exc:
            errors["address"] = [str(exc)]
    note_text = " ".join(str(note or "").split())
    if len(note_text) > MAX_NOTE:
        errors["note"] = [_("At most %(n)d characters.") % {"n": MAX_NOTE}]
    if errors:
        raise invalid(errors)
    with transaction.atomic():
        if (
            Suppression.objects.filter(channel=channel, address=normalized)
            .exclude(reason=SuppressionReason.SOFT_BOUNCES)
            .exists()
        ):
            raise invalid({"address": [_("This address is already suppressed.")]})
        Suppression.objects.filter(
            channel=channel, address=normalized, reason=SuppressionReason.SOFT_BOUNCES
        ).delete()
        row = Suppression.objects.create(
            channel=channel, address=normalized, reason=SuppressionReason.MANUAL, note=note_text
        )
        log_change(actor=actor, instance=row, action="create", before=None, after=snapshot(row))
    return row


def suppression_remove(*, actor: User, suppression_id: Any, reason: Any) -> None:
    """Send to the address again; the reason is kept in the change log."""
    _may_keep(actor)
    text = " ".join(str(reason or "").split())
    if not text:
        raise invalid({"reason": [_("Say why the address may receive messages again.")]})
    if len(text) > MAX_NOTE:
        raise invalid({"reason": [_("At most %(n)d characters.") % {"n": MAX_NOTE}]})
    with transaction.atomic():
        row = Suppression.objects.select_for_update().filter(pk=as_pk(suppression_id)).first()
        if row is None:
            raise not_found()
        before = snapshot(row)
        before["removal_reason"] = text
        log_change(actor=actor, instance=row, action="delete", before=before, after=None)
        row.delete()
