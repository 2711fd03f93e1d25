"""Consent per channel and purpose: an append-only history of grants and withdrawals.

Withdrawing is exactly as easy as granting: one call (one button) with the channel and the
purpose. Each row records the source, the version of the consent text, who recorded it and
when. The current state of a (channel, purpose) is its latest row.
"""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from vefa.customers.choices import Channel, ConsentPurpose, ConsentStatus
from vefa.customers.models import Consent, Customer
from vefa.customers.services._common import as_text, get_for, invalid
from vefa.platform.records import record_create

if TYPE_CHECKING:
    from vefa.accounts.models import User

# Where a consent recorded by a colleague in Vefa came from, when nothing more is known.
DEFAULT_SOURCE = "crm"
DEFAULT_TEXT_VERSION = "1"


def _latest(customer: Customer, channel: str, purpose: str) -> Consent | None:
    return (
        Consent.objects.filter(customer=customer, channel=channel, purpose=purpose)
        .order_by("-recorded_at", "-id")
        .first()
    )


def _record(
    *,
    actor: User,
    customer_id: int,
    channel: Any,
    purpose: Any,
    status: str,
    source: Any,
    text_version: Any,
    recorded_at: datetime.datetime | None,
) -> Consent:
    errors: dict[str, list[str]] = {}
    if channel not in Channel.values:
        errors["channel"] = [_("Choose a valid channel.")]
    if purpose not in ConsentPurpose.values:
        errors["purpose"] = [_("Choose a valid purpose.")]
    if recorded_at is not None and (
        not isinstance(recorded_at, datetime.datetime)
        or timezone.is_naive(recorded_at)
        or recorded_at > timezone.now() + datetime.timedelta(minutes=5)
    ):
        errors["recorded_at"] = [_("Enter a time that is not in the future.")]
    if errors:
        raise invalid(errors)
    source_text = as_text(source, field="source", max_length=100) or DEFAULT_SOURCE
    version_text = as_text(text_version, field="text_version", max_length=50)
    with transaction.atomic():
        customer = get_for(Customer.objects.all(), actor=actor, pk=customer_id)
        latest = _latest(customer, channel, purpose)
        if not version_text:
            version_text = latest.text_version if latest is not None else DEFAULT_TEXT_VERSION
        if (
            latest is not None
            and latest.status == status
            and (status == ConsentStatus.WITHDRAWN or latest.text_version == version_text)
            and recorded_at is None
        ):
            # Asked twice (a double click, a retried request): the state is already right.
            return latest
        consent = Consent(
            customer=customer,
            channel=channel,
            purpose=purpose,
            status=status,
            source=source_text,
            text_version=version_text,
            recorded_at=recorded_at or timezone.now(),
        )
        return record_create(consent, actor=actor)


def consent_grant(
    *,
    actor: User,
    customer_id: int,
    channel: str,
    purpose: str,
    source: str = DEFAULT_SOURCE,
    text_version: str = "",
    recorded_at: datetime.datetime | None = None,
) -> Consent:
    """Record that the customer agreed to be contacted on ``channel`` for ``purpose``.

    ``source`` says where the consent was given (web form, call, paper …) and
    ``text_version`` which wording was agreed to (defaults to the last version recorded for
    this channel and purpose). Granting what is already granted with the same text is a no-op.
    """
    return _record(
        actor=actor,
        customer_id=customer_id,
        channel=channel,
        purpose=purpose,
        status=ConsentStatus.GRANTED,
        source=source,
        text_version=text_version,
        recorded_at=recorded_at,
    )


def consent_withdraw(
    *,
    actor: User,
    customer_id: int,
    channel: str,
    purpose: str,
    source: str = DEFAULT_SOURCE,
    text_version: str = "",
    recorded_at: datetime.datetime | None = None,
) -> Consent:
    """Record that the customer withdrew (or refused) consent for ``channel`` and ``purpose``.

    Needs nothing more than the grant did. Withdrawing what is already withdrawn is a no-op.
    """
    return _record(
        actor=actor,
        customer_id=customer_id,
        channel=channel,
        purpose=purpose,
        status=ConsentStatus.WITHDRAWN,
        source=source,
        text_version=text_version,
        recorded_at=recorded_at,
    )
