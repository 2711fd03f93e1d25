"""Launching, pausing, resuming and cancelling campaigns, and the exactly-once sender.

Launching draws the audience once: a ``CampaignRecipient`` row per customer (the ledger),
the random hold-out control group and the A/B variants by weight. The background job then
sends the pending rows in batches (``send_batch``), each over one connection, checking
consent, address, suppression, caps and quiet hours just before sending. A row is claimed
(``claimed_at``) at the moment the message is handed over for good; a claimed row is never
sent again (docs/adr/0011-exactly-once-campaign-sending.md).
"""

from __future__ import annotations

import datetime
import json
import logging
import os
import random
import secrets
import subprocess
import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.db import connection, transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from vefa.common.errors import ValidationFailed
from vefa.customers.services._common import as_pk, get_for, invalid, not_found
from vefa.marketing.choices import CampaignChannel, CampaignStatus, RecipientStatus
from vefa.marketing.models import (
    Campaign,
    CampaignRecipient,
    CampaignVariant,
    MarketingSettings,
    TemplateVersion,
)
from vefa.marketing.rendering import pick_version, recommended_products_for, render_message
from vefa.marketing.selectors.sending import COUNTED, judge, marketing_settings
from vefa.platform.records import record_update

if TYPE_CHECKING:
    from vefa.accounts.models import User
    from vefa.customers.models import Customer
    from vefa.platform.models import Job

logger = logging.getLogger(__name__)

SEND_JOB = "marketing.send"
BATCH_SIZE = 200
MAX_ATTEMPTS = 5
RETRY_AFTER = datetime.timedelta(minutes=15)
TOKEN_BYTES = 16  # 32 hexadecimal characters
INSERT_CHUNK = 2000
INTERACTION_KIND: dict[str, str] = {
    CampaignChannel.EMAIL: "email",
    CampaignChannel.SMS: "sms",
    CampaignChannel.LETTER: "letter",
    CampaignChannel.PHONE: "call",
}
ACTIVE = (CampaignStatus.SCHEDULED, CampaignStatus.SENDING)


def new_token() -> str:
    return secrets.token_hex(TOKEN_BYTES)


# --- checks ---------------------------------------------------------------------------------


def _variants_ready(campaign: Campaign) -> list[CampaignVariant]:
    variants = list(
        CampaignVariant.objects.filter(campaign=campaign)
        .select_related("template")
        .prefetch_related("template__versions")
        .order_by("code")
    )
    return [
        v
        for v in variants
        if v.template.channel == campaign.channel and list(v.template.versions.all())
    ]


def campaign_problems(campaign: Campaign) -> dict[str, list[str]]:
    """What keeps the campaign from being launched, by field (empty when complete)."""
    errors: dict[str, list[str]] = {}
    if campaign.status != CampaignStatus.DRAFT:
        errors["status"] = [_("Only a draft campaign can be launched.")]
    if campaign.journey_id is None and not campaign.segments.exists():
        errors["segments"] = [_("Choose at least one segment as the audience.")]
    if not _variants_ready(campaign):
        errors["variants"] = [
            _("Add a variant whose template is for this channel and has a version.")
        ]
    return errors


# --- launching ------------------------------------------------------------------------------


def _weighted(variants: list[CampaignVariant], rng: random.Random) -> CampaignVariant:
    return rng.choices(variants, weights=[max(1, v.weight) for v in variants], k=1)[0]


def _insert(rows: list[CampaignRecipient]) -> None:
    for start in range(0, len(rows), INSERT_CHUNK):
        CampaignRecipient.objects.bulk_create(
            rows[start : start + INSERT_CHUNK], ignore_conflicts=True
        )


def _audience_ids(campaign: Campaign) -> list[int]:
    from vefa.marketing.selectors.segments import audience_queryset

    segment_ids = list(campaign.segments.values_list("pk", flat=True))
    exclusion_ids = list(campaign.exclusions.values_list("pk", flat=True))
    queryset = audience_queryset(segment_ids=segment_ids, exclusion_ids=exclusion_ids)
    return list(queryset.order_by("pk").values_list("pk", flat=True).distinct())


def campaign_launch(*, actor: User, campaign_id: Any) -> Campaign:
    """Draw the audience once, write the recipients' ledger and queue the sending job.

    A campaign with a start time in the future waits (``scheduled``) until then.
    """
    with transaction.atomic():
        campaign = get_for(Campaign.objects.all(), actor=actor, pk=campaign_id)
        campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
        errors = campaign_problems(campaign)
        if errors:
            raise invalid(errors)
        variants = _variants_ready(campaign)
        ids = _audience_ids(campaign)
        if not ids:
            raise invalid({"segments": [_("The audience is empty.")]})
        rng = random.SystemRandom()
        control = set(rng.sample(ids, k=len(ids) * campaign.control_percent // 100))
        rows = [
            CampaignRecipient(
                campaign_id=campaign.pk,
                customer_id=pk,
                status=RecipientStatus.CONTROL if pk in control else RecipientStatus.PENDING,
                variant=None if pk in control else _weighted(variants, rng),
                token=new_token(),
            )
            for pk in ids
        ]
        _insert(rows)
        now = timezone.now()
        later = campaign.starts_at is not None and campaign.starts_at > now
        campaign = record_update(
            campaign,
            actor=actor,
            data={
                "status": CampaignStatus.SCHEDULED if later else CampaignStatus.SENDING,
                "audience_drawn_at": now,
                "started_at": None if later else now,
            },
        )
        if not later:
            start_sending(campaign, actor=actor)
    return campaign


def start_sending(campaign: Campaign, *, actor: User | None) -> Job | None:
    """Queue the sending job unless one is already queued or running for the campaign."""
    from vefa.platform.jobs import job_start
    from vefa.platform.models import Job

    running = Job.objects.filter(
        kind=SEND_JOB,
        params__campaign_id=campaign.pk,
        status__in=[Job.Status.QUEUED, Job.Status.RUNNING],
    ).exists()
    if running:
        return None
    return job_start(
        actor=actor,
        kind=SEND_JOB,
        title=_("Sending “%(name)s”") % {"name": campaign.name[:150]},
        params={"campaign_id": campaign.pk},
    )


def _change_status(
    *, actor: User, campaign_id: Any, allowed: Iterable[str], to: str, message: str
) -> Campaign:
    with transaction.atomic():
        campaign = get_for(Campaign.objects.all(), actor=actor, pk=campaign_id)
        campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
        if campaign.status not in allowed:
            raise invalid({"status": [message]})
        data: dict[str, Any] = {"status": to}
        if to == CampaignStatus.CANCELLED:
            data["finished_at"] = timezone.now()
        return record_update(campaign, actor=actor, data=data)


def campaign_pause(*, actor: User, campaign_id: Any) -> Campaign:
    """Stop sending after the batch in flight; nothing is lost, ``campaign_resume`` goes on."""
    return _change_status(
        actor=actor,
        campaign_id=campaign_id,
        allowed=ACTIVE,
        to=CampaignStatus.PAUSED,
        message=_("Only a scheduled or sending campaign can be paused."),
    )


def campaign_resume(*, actor: User, campaign_id: Any) -> Campaign:
    campaign = _change_status(
        actor=actor,
        campaign_id=campaign_id,
        allowed=(CampaignStatus.PAUSED,),
        to=CampaignStatus.SENDING,
        message=_("Only a paused campaign can be resumed."),
    )
    with transaction.atomic():
        start_sending(campaign, actor=actor)
    return campaign


def campaign_cancel(*, actor: User, campaign_id: Any) -> Campaign:
    """Stop for good: the recipients not yet sent to stay unsent."""
    return _change_status(
        actor=actor,
        campaign_id=campaign_id,
        allowed=(*ACTIVE, CampaignStatus.PAUSED, CampaignStatus.DRAFT),
        to=CampaignStatus.CANCELLED,
        message=_("This campaign has already ended."),
    )


def send_to_customers(
    *,
    campaign_id: int,
    customer_ids: list[int],
    occasion: str,
    not_before: datetime.datetime | None = None,
) -> int:
    """Add recipients to a journey's campaign for ``occasion`` and queue sending; returns
    how many were new. No control group; the same customer and occasion twice adds nothing."""
    occasion = str(occasion or "")[:64]
    if not_before is not None and timezone.is_naive(not_before):
        raise ValidationFailed(
            _("Please correct the errors below."),
            fields={"not_before": [_("Give a time with its time zone.")]},
        )
    with transaction.atomic():
        campaign = Campaign.objects.filter(pk=as_pk(campaign_id)).first()
        if campaign is None:
            raise not_found()
        variants = _variants_ready(campaign)
        if not variants:
            raise invalid({"variants": [_("Add a variant whose template is for this channel.")]})
        wanted = list(dict.fromkeys(int(pk) for pk in customer_ids))
        existing = set(
            CampaignRecipient.objects.filter(
                campaign=campaign, occasion=occasion, customer_id__in=wanted
            ).values_list("customer_id", flat=True)
        )
        rng = random.SystemRandom()
        rows = [
            CampaignRecipient(
                campaign_id=campaign.pk,
                customer_id=pk,
                occasion=occasion,
                variant=_weighted(variants, rng),
                not_before=not_before,
                token=new_token(),
            )
            for pk in wanted
            if pk not in existing
        ]
        _insert(rows)
        created = CampaignRecipient.objects.filter(token__in=[row.token for row in rows]).count()
        if created:
            updates: dict[str, Any] = {}
            if campaign.status in (CampaignStatus.DRAFT, CampaignStatus.COMPLETED):
                updates["status"] = CampaignStatus.SENDING
                updates["finished_at"] = None
            if campaign.audience_drawn_at is None:
                updates["audience_drawn_at"] = timezone.now()
            if campaign.started_at is None:
                updates["started_at"] = timezone.now()
            if updates:
                Campaign.objects.filter(pk=campaign.pk).update(**updates)
                for key, value in updates.items():
                    setattr(campaign, key, value)
            if campaign.status == CampaignStatus.SENDING:
                start_sending(campaign, actor=None)
    return created


# --- sending ----------------------------------------------------------------------------------


@dataclass
class BatchResult:
    sent: int = 0
    refused: int = 0
    waiting: int = 0
    deferred: int = 0
    finished: bool = False
    details: dict[str, int] = field(default_factory=dict)


def recover_interrupted(campaign_id: int) -> int:
    """Rows claimed by a sender that died before recording the result were handed over
    (the claim is written just before the end of the message): record them as sent."""
    rows = list(
        CampaignRecipient.objects.filter(
            campaign_id=campaign_id, status=RecipientStatus.PENDING, claimed_at__isnull=False
        ).select_related("campaign")
    )
    if not rows:
        return 0
    for row in rows:
        row.status = RecipientStatus.SENT
        row.sent_at = row.claimed_at
    CampaignRecipient.objects.bulk_update(rows, ["status", "sent_at"])
    record_contact_history(rows)
    return len(rows)


@dataclass(frozen=True)
class ContactCap:
    """The global cap (``messages`` in ``days``) the claim checks once more."""

    messages: int
    days: int


# pg_advisory_xact_lock key space of the cap (high 32 bits; the customer id below).
_CAP_LOCK = 0x6D6B74 << 32


def _lock_customer_cap(customer_id: int) -> None:
    """Serialise claims for one customer (PostgreSQL; SQLite's IMMEDIATE transactions already
    serialise every writer)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_advisory_xact_lock(%s)", [_CAP_LOCK | (customer_id & 0xFFFFFFFF)]
            )


def _over_cap(row: CampaignRecipient, cap: ContactCap, now: datetime.datetime) -> str:
    """Why the row would take its customer over a cap now, or ``""``. ``judge`` decided on a
    batch read earlier; another campaign sending at the same time may have claimed messages
    for the same customer since, so the claim counts again under the customer's lock."""
    others = (
        CampaignRecipient.objects.filter(customer_id=row.customer_id)
        .filter(COUNTED)
        .exclude(pk=row.pk)
    )
    since = now - datetime.timedelta(days=cap.days)
    sent = others.filter(Q(sent_at__gte=since) | Q(claimed_at__gte=since)).count()
    if sent >= cap.messages:
        return _("Already %(n)d messages in %(days)d days.") % {"n": sent, "days": cap.days}
    every = row.customer.contact_frequency_days if row.customer_id else None
    if every and others.filter(claimed_at__gt=now - datetime.timedelta(days=every)).exists():
        return _("The customer wants at most one message every %(days)d days.") % {"days": every}
    return ""


_COUNTED_SQL = "(o.status = %s OR (o.status = %s AND o.claimed_at IS NOT NULL))"
_CLAIM_SQL = (
    "UPDATE {t} SET claimed_at = %s, address = %s, language = %s, message_id = %s, "
    "attempts = attempts + 1 "
    "WHERE id = %s AND status = %s AND claimed_at IS NULL "
    "AND (SELECT COUNT(*) FROM {t} o WHERE o.customer_id = %s AND o.id <> %s "
    "AND {counted} AND (o.sent_at >= %s OR o.claimed_at >= %s)) < %s"
)
_FREQUENCY_SQL = (
    " AND NOT EXISTS (SELECT 1 FROM {t} o WHERE o.customer_id = %s AND o.id <> %s "
    "AND {counted} AND o.claimed_at > %s)"
)


def _claim_sql(*, frequency: bool) -> str:
    """The claim as one statement: the row is claimed only while still pending and unclaimed
    and while the customer's messages in the cap window (and, with ``frequency``, within the
    customer's own interval) stay under the cap, counted as ``COUNTED`` does. Only the
    model's own table name is put into the text; every value is a parameter."""
    sql = _CLAIM_SQL + (_FREQUENCY_SQL if frequency else "")
    table = connection.ops.quote_name(CampaignRecipient._meta.db_table)
    return sql.replace("{counted}", _COUNTED_SQL).replace("{t}", table)


def _one_round_trip() -> bool:
    """Whether several statements can go to the database as one message: PostgreSQL with
    client-side parameter binding (Django's default) runs them as one transaction."""
    options = connection.settings_dict.get("OPTIONS") or {}
    return connection.vendor == "postgresql" and not options.get("server_side_binding")


def _claim_with_cap(
    row: CampaignRecipient,
    *,
    address: str,
    language: str,
    message_id: str,
    cap: ContactCap,
    now: datetime.datetime,
) -> bool:
    """The claiming statement with the caps counted in it; ``True`` when it claimed the row.

    On PostgreSQL the customer's lock and the statement travel together in one round trip,
    committed as one transaction (outside a transaction block) or inside the caller's."""
    pending = RecipientStatus.PENDING
    every = row.customer.contact_frequency_days if row.customer_id else None
    db_time = connection.ops.adapt_datetimefield_value
    since = db_time(now - datetime.timedelta(days=cap.days))
    params: list[Any] = [
        db_time(now),
        address,
        language,
        message_id,
        row.pk,
        pending,
        row.customer_id,
        row.pk,
        RecipientStatus.SENT,
        pending,
        since,
        since,
        cap.messages,
    ]
    if every:
        params += [
            row.customer_id,
            row.pk,
            RecipientStatus.SENT,
            pending,
            db_time(now - datetime.timedelta(days=every)),
        ]
    sql = _claim_sql(frequency=bool(every))
    together = _one_round_trip()
    if together:
        sql = "SELECT pg_advisory_xact_lock(%s); " + sql
        params.insert(0, _CAP_LOCK | (row.customer_id & 0xFFFFFFFF))
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        if together:
            cursor.nextset()
        return bool(cursor.rowcount == 1)


def _claim(
    row: CampaignRecipient,
    *,
    address: str,
    language: str,
    message_id: str,
    cap: ContactCap | None = None,
) -> bool:
    """Claim the row for good in its own committed transaction; ``False`` when taken, or
    when the customer reached the cap meanwhile (the row is then marked capped).

    The cap is counted again in the claiming statement itself (one round trip, the
    customer's lock included); only when that statement claims nothing is it worked out
    why, in a transaction of its own."""
    pending = RecipientStatus.PENDING
    now = timezone.now()
    if cap is not None:
        claimed = _claim_with_cap(
            row, address=address, language=language, message_id=message_id, cap=cap, now=now
        )
        if claimed:
            row.claimed_at = now
            return True
    with transaction.atomic():
        if cap is not None:
            _lock_customer_cap(row.customer_id)
            now = timezone.now()
            unclaimed = CampaignRecipient.objects.filter(
                pk=row.pk, status=pending, claimed_at__isnull=True
            )
            if not unclaimed.exists():
                return False
            reason = _over_cap(row, cap, now)
            if reason:
                unclaimed.update(status=RecipientStatus.CAPPED, reason=reason[:300])
                return False
        claimed = (
            CampaignRecipient.objects.filter(
                pk=row.pk, status=pending, claimed_at__isnull=True
            ).update(
                claimed_at=now,
                address=address,
                language=language,
                message_id=message_id,
                attempts=F("attempts") + 1,
            )
            == 1
        )
    if claimed:
        row.claimed_at = now
    return claimed


def _message_id(token: str, sender: str) -> str:
    domain = sender.rpartition("@")[2] or "localhost"
    return f"<{token}@{domain}>"


class _Pace:
    """At most ``rate`` hand-overs per second."""

    def __init__(self, rate: int) -> None:
        self.interval = 1.0 / max(1, rate)
        self.next_at = time.monotonic()

    def wait(self) -> None:
        now = time.monotonic()
        if self.next_at > now:
            time.sleep(self.next_at - now)
            now = self.next_at
        self.next_at = max(now, self.next_at) + self.interval


def _sender(campaign: Campaign, rules: MarketingSettings) -> tuple[str, str, str]:
    from django.conf import settings

    address = campaign.from_email or rules.from_email or str(settings.DEFAULT_FROM_EMAIL)
    name = campaign.from_name or rules.from_name
    reply_to = campaign.reply_to or rules.reply_to
    return address, name, reply_to


def _unclaimed(campaign_id: int, part: int = 0, parts: int = 1) -> QuerySet[CampaignRecipient]:
    """The campaign's pending, unclaimed rows; of ``parts`` senders, the ``part``-th takes
    the rows whose id leaves that remainder."""
    rows = CampaignRecipient.objects.filter(
        campaign_id=campaign_id, status=RecipientStatus.PENDING, claimed_at__isnull=True
    )
    if parts > 1:
        rows = rows.alias(part=F("id") % parts).filter(part=part)
    return rows


def _due_rows(
    campaign: Campaign, now: datetime.datetime, limit: int, part: int = 0, parts: int = 1
) -> list[CampaignRecipient]:
    return list(
        _unclaimed(campaign.pk, part, parts)
        .filter(Q(not_before__isnull=True) | Q(not_before__lte=now))
        .select_related("customer", "variant")
        .order_by("id")[:limit]
    )


def _versions(campaign: Campaign) -> dict[int, tuple[list[TemplateVersion], str, str]]:
    """Per variant: its template's versions, default language and subject override."""
    found = {}
    for variant in CampaignVariant.objects.filter(campaign=campaign).select_related("template"):
        versions = list(TemplateVersion.objects.filter(template_id=variant.template_id))
        found[variant.pk] = (versions, variant.template.default_language, variant.subject)
    return found


def _mark(rows: list[CampaignRecipient], fields: list[str]) -> None:
    if rows:
        CampaignRecipient.objects.bulk_update(rows, fields, batch_size=500)


def _mark_sent(rows: list[CampaignRecipient]) -> None:
    """Sent rows in one statement: their ``sent_at`` is the time of their claim."""
    if rows:
        CampaignRecipient.objects.filter(pk__in=[row.pk for row in rows]).update(
            status=RecipientStatus.SENT, sent_at=F("claimed_at")
        )


def send_batch(
    campaign_id: int,
    *,
    limit: int = BATCH_SIZE,
    now: datetime.datetime | None = None,
    session: Any = None,
    part: int = 0,
    parts: int = 1,
) -> BatchResult:
    """Send one batch of a campaign's due recipients; ``finished`` when none is left (of
    the rows of ``part`` when ``parts`` senders share the campaign)."""
    from vefa.marketing import channels

    result = BatchResult()
    campaign = Campaign.objects.filter(pk=campaign_id).first()
    if campaign is None or campaign.status != CampaignStatus.SENDING:
        result.finished = True
        return result
    now = now or timezone.now()
    rules = marketing_settings()
    rows = _due_rows(campaign, now, limit, part, parts)
    if not rows:
        result.finished = not _unclaimed(campaign.pk, part, parts).exists()
        return result
    verdicts = judge(rows, channel=campaign.channel, purpose=campaign.purpose, rules=rules, now=now)
    refused: list[CampaignRecipient] = []
    waiting: list[CampaignRecipient] = []
    ready: list[CampaignRecipient] = []
    for row in rows:
        verdict = verdicts[row.pk]
        if verdict.status != RecipientStatus.PENDING:
            row.status, row.reason, row.address = (
                verdict.status,
                verdict.reason[:300],
                verdict.address,
            )
            refused.append(row)
        elif verdict.not_before is not None:
            row.not_before = verdict.not_before
            waiting.append(row)
        else:
            row.address = verdict.address
            ready.append(row)
    _mark(refused, ["status", "reason", "address"])
    _mark(waiting, ["not_before"])
    result.refused, result.waiting = len(refused), len(waiting)
    if not ready:
        return result
    versions = _versions(campaign)
    sent: list[CampaignRecipient] = []
    failed: list[CampaignRecipient] = []
    bounced: list[CampaignRecipient] = []
    deferred: list[CampaignRecipient] = []
    sender, sender_name, reply_to = _sender(campaign, rules)
    pace = _Pace(rules.send_rate)
    link_cache: dict[tuple[int, str], int] = {}
    balances = points_balances([row.customer_id for row in ready])
    # The recommendations of the whole batch at once, when a template shows them.
    shows_products = any(
        "products" in _names(version, subject)
        for versions, _default, subject in versions.values()
        for version in versions
    )
    products = (
        recommended_products_for([row.customer_id for row in ready]) if shows_products else {}
    )
    uses_points = campaign.channel in (CampaignChannel.EMAIL, CampaignChannel.SMS)
    own_session = session is None
    if campaign.channel == CampaignChannel.EMAIL and session is None:
        session = channels.email_session()
    provider = channels.sms_provider() if campaign.channel == CampaignChannel.SMS else None
    try:
        for row in ready:
            customer = row.customer
            language = customer.language or ""
            found = versions.get(row.variant_id or 0)
            if found is None:
                row.status, row.reason = RecipientStatus.FAILED, _("The variant has no template.")
                failed.append(row)
                continue
            version = pick_version(found[0], language, found[1])
            if version is None:
                row.status, row.reason = RecipientStatus.FAILED, _("The template has no version.")
                failed.append(row)
                continue
            row.language = version.language
            try:
                rendered = render_message(
                    version=version,
                    customer=customer,
                    recipient=row,
                    subject=found[2],
                    company=sender_name,
                    balance=balances.get(customer.pk, 0)
                    if uses_points and "points_balance" in _names(version, found[2])
                    else None,
                    products=products.get(customer.pk) if shows_products else None,
                    track_opens=rules.track_opens,
                    link_cache=link_cache,
                )
            except ValidationFailed as exc:
                row.status = RecipientStatus.FAILED
                row.reason = str(exc.fields.get("text", [exc.message])[0])[:300]
                failed.append(row)
                continue
            message_id = _message_id(row.token, sender)
            row.message_id = message_id
            pace.wait()
            outcome = _hand_over(
                campaign,
                row,
                rendered=rendered,
                session=session,
                provider=provider,
                sender=sender,
                sender_name=sender_name,
                reply_to=reply_to,
                organisation=rules.postal_address,
                cap=ContactCap(rules.cap_messages, rules.cap_days),
            )
            if outcome.result == "sent":
                # Handed over at the claim, just before the message's end.
                row.status, row.sent_at = RecipientStatus.SENT, row.claimed_at or timezone.now()
                sent.append(row)
            elif outcome.result == "refused":
                row.status, row.reason = RecipientStatus.FAILED, outcome.detail[:300]
                failed.append(row)
                if campaign.channel == CampaignChannel.EMAIL and row.claimed_at is None:
                    bounced.append(row)
            elif outcome.result == "deferred":
                row.attempts += 1
                if row.attempts >= MAX_ATTEMPTS:
                    row.status, row.reason = RecipientStatus.FAILED, outcome.detail[:300]
                    failed.append(row)
                else:
                    row.not_before = timezone.now() + RETRY_AFTER * row.attempts
                    row.reason = outcome.detail[:300]
                    deferred.append(row)
    finally:
        if own_session and session is not None:
            session.close()
        _mark_sent(sent)
        _mark(failed, ["status", "reason", "language"])
        _mark(deferred, ["not_before", "reason", "attempts"])
        if sent:
            record_contact_history(sent, campaign=campaign)
        if bounced:
            from vefa.marketing.services.suppressions import suppress_refused

            suppress_refused(bounced, campaign=campaign)
    result.sent, result.deferred = len(sent), len(deferred)
    result.refused += len(failed)
    return result


def points_balances(customer_ids: list[int]) -> dict[int, int]:
    """The loyalty points balance of each customer, in one query."""
    from django.db.models import Sum

    from vefa.marketing.models import PointsEntry

    rows = (
        PointsEntry.objects.filter(customer_id__in=customer_ids)
        .values("customer_id")
        .annotate(total=Sum("points"))
    )
    return {row["customer_id"]: int(row["total"] or 0) for row in rows}


def _names(version: TemplateVersion, subject: str) -> frozenset[str]:
    from vefa.marketing.rendering import _compile

    return _compile(version, subject).names


def _hand_over(
    campaign: Campaign,
    row: CampaignRecipient,
    *,
    rendered: Any,
    session: Any,
    provider: Any,
    sender: str,
    sender_name: str,
    reply_to: str,
    organisation: str,
    cap: ContactCap | None = None,
) -> Any:
    from vefa.marketing import channels

    def claim() -> bool:
        ok = _claim(
            row,
            address=row.address,
            language=row.language,
            message_id=row.message_id,
            cap=cap,
        )
        return ok

    if campaign.channel == CampaignChannel.EMAIL:
        data = channels.build_email(
            rendered=rendered,
            sender=sender,
            sender_name=sender_name,
            to=row.address,
            message_id=row.message_id,
            reply_to=reply_to,
            organisation=organisation,
        )
        return session.deliver(sender=sender, recipient=row.address, data=data, claim=claim)
    if campaign.channel == CampaignChannel.SMS:
        if not claim():
            return channels.Outcome("skipped")
        try:
            provider_id = provider.send(
                to=row.address, text=channels.sms_text(rendered), reference=row.token
            )
        except channels.SmsError as exc:
            # Claimed: never sent again (the provider may have taken it before failing).
            return channels.Outcome("refused", str(exc))
        if provider_id:
            CampaignRecipient.objects.filter(pk=row.pk).update(message_id=provider_id[:255])
        return channels.Outcome("sent")
    if campaign.channel == CampaignChannel.PHONE:
        if not claim():
            return channels.Outcome("skipped")
        return _call_task(campaign, row, rendered)
    # Letters: approved for the print file.
    if not claim():
        return channels.Outcome("skipped")
    return channels.Outcome("sent")


def _call_task(campaign: Campaign, row: CampaignRecipient, rendered: Any) -> Any:
    from vefa.accounts.models import User
    from vefa.interactions.choices import ActivityKind
    from vefa.interactions.services.activities import activity_create
    from vefa.marketing import channels

    customer: Customer = row.customer
    # The task is the owner's own: planned in their name, for their customer (a marketer
    # may not assign work to other people's staff). Without an owner, the campaign's owner.
    owner_id = customer.owner_id or campaign.owner_id
    actor = User.objects.filter(pk=owner_id, is_active=True).first() if owner_id else None
    if actor is None or owner_id is None:
        return channels.Outcome("refused", _("Nobody owns this customer or campaign."))
    try:
        activity_create(
            actor=actor,
            kind=ActivityKind.CALL,
            subject=(rendered.subject or campaign.name)[:300],
            owner_id=owner_id,
            customer_id=customer.pk,
            due_at=timezone.now() + datetime.timedelta(days=1),
            description=rendered.text,
            reminder_minutes=[],
        )
    except Exception as exc:  # a refused task must not stop the batch
        logger.warning(
            "call task for recipient %s refused: %s %s", row.pk, exc, getattr(exc, "fields", "")
        )
        return channels.Outcome("refused", str(exc)[:300])
    return channels.Outcome("sent")


def record_contact_history(
    rows: list[CampaignRecipient], *, campaign: Campaign | None = None
) -> None:
    """One contact-history entry per sent row, written in bulk (the send must not wait on
    one insert per message), and the customers' last contact moved forward."""
    from vefa.customers.models import Customer
    from vefa.interactions.models import Interaction

    if not rows:
        return
    campaign = campaign or rows[0].campaign
    kind = INTERACTION_KIND.get(campaign.channel, "email")
    subject = _("Campaign: %(name)s") % {"name": campaign.name}
    entries = [
        Interaction(
            customer_id=row.customer_id,
            kind=kind,
            direction="outbound",
            initiated_by="company",
            channel="",
            occurred_at=row.sent_at or timezone.now(),
            subject=subject[:300],
            related_model="marketing.campaign",
            related_id=campaign.pk,
            external_id=f"marketing:{row.token}",
        )
        for row in rows
    ]
    Interaction.objects.bulk_create(entries, batch_size=500, ignore_conflicts=True)
    latest = max(entry.occurred_at for entry in entries)
    ids = [row.customer_id for row in rows]
    Customer.objects.filter(pk__in=ids).filter(
        Q(last_interaction_at__isnull=True) | Q(last_interaction_at__lt=latest)
    ).update(last_interaction_at=latest)


def finish_if_done(campaign_id: int) -> bool:
    """Mark the campaign completed when no recipient is left to send to."""
    with transaction.atomic():
        pending = CampaignRecipient.objects.filter(
            campaign_id=campaign_id, status=RecipientStatus.PENDING
        ).exists()
        if pending:
            return False
        done = Campaign.objects.filter(pk=campaign_id, status=CampaignStatus.SENDING).update(
            status=CampaignStatus.COMPLETED, finished_at=timezone.now()
        )
    return bool(done)


def send_campaign(
    campaign_id: int,
    *,
    report: Any = None,
    limit: int = BATCH_SIZE,
    part: int = 0,
    parts: int = 1,
    recover: bool = True,
) -> dict[str, int]:
    """Send every due recipient of the campaign (of ``part`` of ``parts`` senders), batch by
    batch, until none is due or the campaign is paused or cancelled. Safe to run again after
    a crash, and at the same time as other senders: a row is sent by whoever claims it.
    ``recover`` first records as sent the rows an earlier, dead sender claimed (not while
    other senders of the campaign are running: their claimed rows are not dead)."""
    if recover:
        recover_interrupted(campaign_id)
    totals = {"sent": 0, "refused": 0, "waiting": 0, "deferred": 0}
    total = CampaignRecipient.objects.filter(
        campaign_id=campaign_id, status=RecipientStatus.PENDING
    ).count()
    done = 0
    while True:
        batch = send_batch(campaign_id, limit=limit, part=part, parts=parts)
        for key in totals:
            totals[key] += getattr(batch, key)
        done += batch.sent + batch.refused
        if report is not None:
            report(min(done, total), total)
        if batch.finished or (batch.sent + batch.refused + batch.deferred) == 0:
            break
    if parts == 1:
        finish_if_done(campaign_id)
    return totals


# --- several sending processes ---------------------------------------------------------------

SENDERS_SETTING = "VEFA_MARKETING_SENDERS"
MAX_SENDERS = 16
_SENDER_SCRIPT = (
    "import sys, django; django.setup(); "
    "from vefa.marketing.services.sending import sender_process_main; sender_process_main()"
)


def sender_count() -> int:
    """How many processes send one campaign: ``VEFA_MARKETING_SENDERS``; by default one per
    CPU up to four on PostgreSQL (rendering is CPU work, the round trips overlap), and one on
    SQLite, whose writers take turns: a second sender mostly waits for the write lock."""
    from vefa.marketing.rendering import setting_text

    text = setting_text(SENDERS_SETTING).strip()
    if not text:
        if connection.vendor == "sqlite":
            return 1
        return max(1, min(4, os.cpu_count() or 1))
    try:
        wanted = int(text)
    except ValueError:
        logger.warning("%s=%r is not a number; sending with one process", SENDERS_SETTING, text)
        return 1
    return max(1, min(wanted, MAX_SENDERS))


def _shared_database() -> bool:
    """Whether another process sees what this one committed: not the in-memory SQLite
    database, and not from inside a transaction that has not committed yet."""
    if connection.in_atomic_block:
        return False
    if connection.vendor != "sqlite":
        return True
    from django.db.backends.sqlite3.creation import DatabaseCreation

    return not DatabaseCreation.is_in_memory_db(connection.settings_dict["NAME"])


def _start_sender(campaign_id: int, part: int, parts: int) -> subprocess.Popen[bytes]:
    from django.conf import settings

    env = dict(os.environ)
    env["DJANGO_SETTINGS_MODULE"] = str(settings.SETTINGS_MODULE)
    env["VEFA_DATA_DIR"] = str(settings.DATA_DIR)
    return subprocess.Popen(  # noqa: S603 (this interpreter, our own code, numbers)
        [sys.executable, "-c", _SENDER_SCRIPT, str(campaign_id), str(part), str(parts)],
        env=env,
        stdout=subprocess.PIPE,
    )


def sender_process_main() -> None:
    """A helper sending process: sends its part and prints its totals as JSON."""
    campaign_id, part, parts = (int(value) for value in sys.argv[1:4])
    totals = send_campaign(campaign_id, part=part, parts=parts, recover=False)
    sys.stdout.write(json.dumps(totals))
    sys.stdout.flush()


def send_with_processes(
    campaign_id: int, *, senders: int, report: Any = None, limit: int = BATCH_SIZE
) -> dict[str, int]:
    """Send with ``senders`` processes: this one and ``senders - 1`` helpers, each taking the
    rows whose id leaves its remainder. The claim keeps it exactly once whatever happens
    (even two senders on the same rows); when the helpers are done this process sends what
    is still due (a helper that died leaves its rows to it) and completes the campaign."""
    recover_interrupted(campaign_id)
    total = CampaignRecipient.objects.filter(
        campaign_id=campaign_id, status=RecipientStatus.PENDING
    ).count()

    def progress(*_args: Any) -> None:
        if report is not None:
            left = _unclaimed(campaign_id).count()
            report(max(0, total - left), total)

    helpers = [_start_sender(campaign_id, part, senders) for part in range(1, senders)]
    totals = {"sent": 0, "refused": 0, "waiting": 0, "deferred": 0}
    try:
        mine = send_campaign(
            campaign_id, report=progress, limit=limit, part=0, parts=senders, recover=False
        )
        for key in totals:
            totals[key] += mine[key]
        for helper in helpers:
            while True:
                try:
                    output, _err = helper.communicate(timeout=1)
                    break
                except subprocess.TimeoutExpired:
                    progress()
            if helper.returncode != 0:
                logger.warning(
                    "sending process %s of campaign %s exited with %s; its rows are sent here",
                    helper.pid,
                    campaign_id,
                    helper.returncode,
                )
                continue
            try:
                theirs = json.loads(output or b"{}")
            except ValueError:
                theirs = {}
            for key in totals:
                totals[key] += int(theirs.get(key, 0))
    finally:
        for helper in helpers:
            if helper.poll() is None:
                helper.kill()
                helper.wait()
    rest = send_campaign(campaign_id, report=progress, limit=limit)
    for key in totals:
        totals[key] += rest[key]
    return totals


def start_due_campaigns(now: datetime.datetime | None = None) -> list[int]:
    """Start scheduled campaigns whose time has come and queue campaigns with recipients
    whose wait (quiet hours, a retry) is over."""
    now = now or timezone.now()
    started: list[int] = []
    for campaign in Campaign.objects.filter(
        status=CampaignStatus.SCHEDULED, starts_at__lte=now
    ).order_by("starts_at", "pk")[:100]:
        with transaction.atomic():
            updated = Campaign.objects.filter(
                pk=campaign.pk, status=CampaignStatus.SCHEDULED
            ).update(status=CampaignStatus.SENDING, started_at=now)
            if updated:
                campaign.status = CampaignStatus.SENDING
                start_sending(campaign, actor=None)
                started.append(campaign.pk)
    due = (
        CampaignRecipient.objects.filter(
            campaign__status=CampaignStatus.SENDING,
            status=RecipientStatus.PENDING,
            claimed_at__isnull=True,
        )
        .filter(Q(not_before__isnull=True) | Q(not_before__lte=now))
        .values_list("campaign_id", flat=True)
        .distinct()[:100]
    )
    for campaign in Campaign.objects.filter(pk__in=list(due)):
        with transaction.atomic():
            if start_sending(campaign, actor=None) is not None:
                started.append(campaign.pk)
    return started


def send_job(job: Job, report: Any) -> dict[str, int]:
    """The sending job: ``sender_count()`` processes when they can share the database."""
    campaign_id = as_pk(job.params.get("campaign_id"))
    senders = sender_count() if _shared_database() else 1
    if senders > 1:
        return send_with_processes(campaign_id, senders=senders, report=report)
    return send_campaign(campaign_id, report=report)


def rendered_for_recipient(recipient: CampaignRecipient) -> Any:
    """The message of a recipient again (the view-in-browser page), or ``None``."""
    if recipient.variant_id is None:
        return None
    variant = (
        CampaignVariant.objects.select_related("template").filter(pk=recipient.variant_id).first()
    )
    if variant is None:
        return None
    versions = list(TemplateVersion.objects.filter(template_id=variant.template_id))
    language = recipient.language or recipient.customer.language or ""
    version = pick_version(versions, language, variant.template.default_language)
    if version is None:
        return None
    rules = marketing_settings()
    return render_message(
        version=version,
        customer=recipient.customer,
        recipient=recipient,
        subject=variant.subject,
        company=recipient.campaign.from_name or rules.from_name,
    )
