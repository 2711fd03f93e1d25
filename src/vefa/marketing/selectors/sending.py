"""Who may receive a campaign's message now: consent, an address, no suppression, the
contact caps and quiet hours.

The checks run per batch of recipients with a fixed number of queries (not one per
recipient). A refused recipient gets its final status and reason; one in quiet hours waits
(``not_before``) and is not refused.
"""

from __future__ import annotations

import datetime
import zoneinfo
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db.models import Count, Max, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from vefa.customers.choices import Channel, ConsentStatus, ContactPointKind
from vefa.customers.models import Address, Consent, ContactPoint
from vefa.customers.normalize import normalize_email, normalize_phone
from vefa.marketing.choices import CampaignChannel, RecipientStatus, SuppressionReason
from vefa.marketing.models import CampaignRecipient, MarketingSettings, Suppression

if TYPE_CHECKING:
    from vefa.customers.models import Customer

# The consent channel a campaign channel needs.
CONSENT_CHANNEL: dict[str, str] = {
    CampaignChannel.EMAIL: Channel.EMAIL,
    CampaignChannel.SMS: Channel.SMS,
    CampaignChannel.LETTER: Channel.POST,
    CampaignChannel.PHONE: Channel.PHONE,
}
# Channels that reach the customer at once and so respect quiet hours.
QUIET_HOURS_CHANNELS = frozenset({CampaignChannel.EMAIL, CampaignChannel.SMS})
# Statuses that count as a message for the contact caps: sent, or handed over (claimed).
COUNTED = Q(status=RecipientStatus.SENT) | Q(
    status=RecipientStatus.PENDING, claimed_at__isnull=False
)


def marketing_settings() -> MarketingSettings:
    """The installation's sending rules (the defaults until someone saves them)."""
    found = MarketingSettings.objects.filter(pk=1).first()
    return found if found is not None else MarketingSettings(pk=1)


@dataclass
class Verdict:
    """What to do with one recipient: send to ``address`` now, wait until ``not_before``,
    or stop with ``status`` and ``reason``."""

    status: str = RecipientStatus.PENDING
    reason: str = ""
    address: str = ""
    not_before: datetime.datetime | None = None

    @property
    def may_send(self) -> bool:
        return self.status == RecipientStatus.PENDING and self.not_before is None


def consented_customer_ids(customer_ids: Iterable[int], *, channel: str, purpose: str) -> set[int]:
    """The customers whose latest consent record for (channel, purpose) is a grant."""
    ids = list(customer_ids)
    latest: dict[int, str] = {}
    rows = (
        Consent.objects.filter(customer_id__in=ids, channel=channel, purpose=purpose)
        .order_by("customer_id", "-recorded_at", "-id")
        .values_list("customer_id", "status")
    )
    for customer_id, status in rows:
        latest.setdefault(customer_id, status)
    return {pk for pk, status in latest.items() if status == ConsentStatus.GRANTED}


def _clean_email(value: str) -> str:
    try:
        return normalize_email(value) if value else ""
    except ValueError:
        return ""


def _clean_phone(value: str, country: str) -> str:
    try:
        return normalize_phone(value, country or None).value if value else ""
    except ValueError:
        return ""


def addresses_for(customers: Sequence[Customer], channel: str) -> dict[int, str]:
    """Each customer's address on ``channel`` (normalised e-mail, E.164 phone, or a postal
    address's id for letters); customers without one are left out."""
    found: dict[int, str] = {}
    missing: list[int] = []
    for customer in customers:
        if channel == CampaignChannel.EMAIL:
            value = _clean_email(customer.primary_email)
        elif channel in (CampaignChannel.SMS, CampaignChannel.PHONE):
            value = _clean_phone(customer.primary_phone, customer.country)
        else:
            value = ""
        if value:
            found[customer.pk] = value
        else:
            missing.append(customer.pk)
    if not missing:
        return found
    if channel == CampaignChannel.LETTER:
        for customer_id, address_id in (
            Address.objects.filter(customer_id__in=missing)
            .order_by("customer_id", "-is_primary", "id")
            .values_list("customer_id", "pk")
        ):
            found.setdefault(customer_id, str(address_id))
        return found
    kinds = (
        [ContactPointKind.EMAIL]
        if channel == CampaignChannel.EMAIL
        else [ContactPointKind.MOBILE, ContactPointKind.PHONE]
    )
    points: dict[int, list[tuple[str, str]]] = {}
    for customer_id, kind, normalized in (
        ContactPoint.objects.filter(customer_id__in=missing, kind__in=kinds)
        .order_by("customer_id", "-is_primary", "id")
        .values_list("customer_id", "kind", "normalized")
    ):
        if normalized:
            points.setdefault(customer_id, []).append((kind, normalized))
    for customer_id, found_points in points.items():
        # Text messages go to a mobile number; a landline only when there is no mobile.
        mobiles = [value for kind, value in found_points if kind == ContactPointKind.MOBILE]
        found[customer_id] = mobiles[0] if mobiles else found_points[0][1]
    return found


def erased_form(address: str) -> str:
    """How the suppression of an erased person's address is stored: only a keyed hash of
    it (``vefa.privacy``), so an address brought back later (an import, a new sign-up) is
    still never sent to."""
    from vefa.privacy.subjects import address_hash

    return "erased:" + address_hash(address)[:40]


def suppressed_addresses(channel: str, addresses: Iterable[str]) -> set[str]:
    values = [a for a in set(addresses) if a]
    if not values or channel == CampaignChannel.LETTER:
        return set()
    limit = marketing_settings().soft_bounce_limit
    erased = {erased_form(a): a for a in values}
    found = (
        Suppression.objects.filter(channel=channel, address__in=[*values, *erased])
        .exclude(reason=SuppressionReason.SOFT_BOUNCES, soft_bounces__lt=limit)
        .values_list("address", flat=True)
    )
    return {erased.get(address, address) for address in found}


def recent_counts(
    customer_ids: Iterable[int], *, since: datetime.datetime, exclude_ids: Iterable[int] = ()
) -> dict[int, tuple[int, datetime.datetime | None]]:
    """Per customer: the messages sent (or handed over) since ``since`` and the latest."""
    rows = (
        CampaignRecipient.objects.filter(customer_id__in=list(customer_ids))
        .filter(COUNTED)
        .filter(Q(sent_at__gte=since) | Q(claimed_at__gte=since))
        .exclude(pk__in=list(exclude_ids))
        .values("customer_id")
        .annotate(n=Count("id"), last=Max("claimed_at"))
    )
    return {row["customer_id"]: (row["n"], row["last"]) for row in rows}


def last_contact(
    customer_ids: Iterable[int], *, exclude_ids: Iterable[int] = ()
) -> dict[int, datetime.datetime]:
    rows = (
        CampaignRecipient.objects.filter(customer_id__in=list(customer_ids))
        .filter(COUNTED)
        .exclude(pk__in=list(exclude_ids))
        .values("customer_id")
        .annotate(last=Max("claimed_at"))
    )
    return {row["customer_id"]: row["last"] for row in rows if row["last"] is not None}


def _in_quiet_hours(local: datetime.time, start: datetime.time, end: datetime.time) -> bool:
    if start == end:
        return False
    if start < end:
        return start <= local < end
    return local >= start or local < end


def quiet_until(
    now: datetime.datetime,
    *,
    zone: str,
    start: datetime.time | None,
    end: datetime.time | None,
) -> datetime.datetime | None:
    """When the quiet hours around ``now`` end (UTC), or ``None`` outside them."""
    if start is None or end is None:
        return None
    try:
        tz = zoneinfo.ZoneInfo(zone or "UTC")
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        tz = zoneinfo.ZoneInfo("UTC")
    local = now.astimezone(tz)
    if not _in_quiet_hours(local.time(), start, end):
        return None
    day = local.date()
    if local.time() >= end and start > end:
        day = day + datetime.timedelta(days=1)
    ends = datetime.datetime.combine(day, end, tzinfo=tz)
    if ends <= local:
        ends = ends + datetime.timedelta(days=1)
    return ends.astimezone(datetime.UTC)


def judge(
    recipients: Sequence[CampaignRecipient],
    *,
    channel: str,
    purpose: str,
    rules: MarketingSettings | None = None,
    now: datetime.datetime | None = None,
) -> dict[int, Verdict]:
    """A verdict per recipient (by row id); recipients need ``customer`` loaded.

    Order of the checks: consent, address, suppression, caps, quiet hours. The caps count
    messages sent or handed over in the window, this batch's earlier approvals included, so
    a batch never takes a customer over the cap.
    """
    rules = rules or marketing_settings()
    now = now or timezone.now()
    customers = [r.customer for r in recipients]
    ids = [c.pk for c in customers]
    consent_channel = CONSENT_CHANNEL.get(channel, channel)
    consented = consented_customer_ids(ids, channel=consent_channel, purpose=purpose)
    addresses = addresses_for(customers, channel)
    suppressed = suppressed_addresses(channel, addresses.values())
    row_ids = [r.pk for r in recipients]
    window_start = now - datetime.timedelta(days=rules.cap_days)
    counts = recent_counts(ids, since=window_start, exclude_ids=row_ids)
    frequency_ids = [c.pk for c in customers if c.contact_frequency_days]
    last = last_contact(frequency_ids, exclude_ids=row_ids) if frequency_ids else {}
    approved_now: dict[int, int] = {}
    verdicts: dict[int, Verdict] = {}
    for recipient in recipients:
        customer = recipient.customer
        pk = customer.pk
        if pk not in consented:
            verdicts[recipient.pk] = Verdict(
                RecipientStatus.NO_CONSENT,
                _("No consent for %(channel)s (%(purpose)s).")
                % {"channel": consent_channel, "purpose": purpose},
            )
            continue
        address = addresses.get(pk, "")
        if not address:
            verdicts[recipient.pk] = Verdict(
                RecipientStatus.NO_ADDRESS, _("No address for this channel.")
            )
            continue
        if address in suppressed:
            verdicts[recipient.pk] = Verdict(
                RecipientStatus.SUPPRESSED, _("The address is suppressed."), address=address
            )
            continue
        sent, _last = counts.get(pk, (0, None))
        if sent + approved_now.get(pk, 0) >= rules.cap_messages:
            verdicts[recipient.pk] = Verdict(
                RecipientStatus.CAPPED,
                _("Already %(n)d messages in %(days)d days.")
                % {"n": sent + approved_now.get(pk, 0), "days": rules.cap_days},
                address=address,
            )
            continue
        if customer.contact_frequency_days:
            latest = last.get(pk)
            if approved_now.get(pk) or (
                latest is not None
                and latest > now - datetime.timedelta(days=customer.contact_frequency_days)
            ):
                verdicts[recipient.pk] = Verdict(
                    RecipientStatus.CAPPED,
                    _("The customer wants at most one message every %(days)d days.")
                    % {"days": customer.contact_frequency_days},
                    address=address,
                )
                continue
        not_before = None
        if channel in QUIET_HOURS_CHANNELS:
            if customer.quiet_hours_start is not None and customer.quiet_hours_end is not None:
                start, end = customer.quiet_hours_start, customer.quiet_hours_end
            else:
                start, end = rules.quiet_hours_start, rules.quiet_hours_end
            not_before = quiet_until(now, zone=rules.time_zone, start=start, end=end)
        verdicts[recipient.pk] = Verdict(address=address, not_before=not_before)
        if not_before is None:
            approved_now[pk] = approved_now.get(pk, 0) + 1
    return verdicts


def recipient_for_token(token: Any) -> CampaignRecipient | None:
    """The recipient of a message by its link token (public pages), or ``None``."""
    if not isinstance(token, str) or not (8 <= len(token) <= 32) or not token.isalnum():
        return None
    return (
        CampaignRecipient.objects.select_related("campaign", "customer").filter(token=token).first()
    )


def suppressions_visible(actor: Any) -> bool:
    from vefa.accounts.access import can

    return actor is not None and can(actor, "view", MarketingSettings(pk=1))


def suppression_page(
    *, actor: Any, cursor: str | None = None, query: str = "", channel: str = "", size: int = 50
) -> Any:
    """One page of suppressed addresses, newest first; ``NotFound`` for whoever may not
    see the marketing settings."""
    from vefa.common.errors import NotFound
    from vefa.common.paging import keyset_page

    if not suppressions_visible(actor):
        raise NotFound(_("Not found."))
    queryset = Suppression.objects.select_related("customer", "campaign")
    if channel in CampaignChannel.values:
        queryset = queryset.filter(channel=channel)
    text = " ".join(str(query or "").split()).lower()[:254]
    if text:
        queryset = queryset.filter(address__startswith=text)
    return keyset_page(queryset, ordering="-created_at", cursor=cursor, size=max(1, min(size, 200)))
