"""What a message returned: clicks, opens, unsubscribes, bounces and replies.

These run for the public endpoints (no signed-in user): a recipient is identified by the
random token in its links, a click also by the link's signature. Each records the first
time on the recipient row, a ``MessageEvent`` and, for unsubscribes and replies, the
customer's contact history.
"""

from __future__ import annotations

import datetime
import email
import email.policy
import re
from dataclasses import dataclass
from email.message import Message
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from vefa.customers.choices import ConsentStatus
from vefa.customers.models import Consent
from vefa.marketing.choices import CampaignChannel, MessageEventKind, SuppressionReason
from vefa.marketing.models import CampaignLink, CampaignRecipient, MessageEvent, Suppression
from vefa.marketing.rendering import link_signature_valid
from vefa.marketing.selectors.sending import CONSENT_CHANNEL, marketing_settings
from vefa.marketing.services.suppressions import (
    count_soft_bounce,
    normalize_address,
    suppress,
)
from vefa.platform.records import record_create

_TOKEN = re.compile(r"^[0-9a-f]{32}$")
UNSUBSCRIBE_SOURCE = "unsubscribe link"


def _valid_token(token: Any) -> bool:
    return isinstance(token, str) and bool(_TOKEN.match(token))


def record_click(*, token: str, link_id: int, signature: str) -> str | None:
    """The address to send the visitor to, or ``None`` for a forged or unknown link.

    One read finds the link of the recipient's campaign and whether the recipient clicked
    before; a later click only counts on the link (one statement), the first one also
    records the time and its event."""
    if not _valid_token(token) or not link_signature_valid(token, link_id, signature):
        return None
    found = (
        CampaignRecipient.objects.filter(token=token, campaign__links__pk=link_id)
        .values_list("pk", "clicked_at", "campaign__links__url")
        .first()
    )
    if found is None:
        return None
    recipient_id, clicked_at, url = found
    if clicked_at is not None:
        CampaignLink.objects.filter(pk=link_id).update(clicks=F("clicks") + 1)
        return str(url)
    now = timezone.now()
    with transaction.atomic():
        CampaignLink.objects.filter(pk=link_id).update(clicks=F("clicks") + 1)
        first = CampaignRecipient.objects.filter(pk=recipient_id, clicked_at__isnull=True).update(
            clicked_at=now
        )
        if first:
            MessageEvent.objects.create(
                recipient_id=recipient_id,
                kind=MessageEventKind.CLICKED,
                occurred_at=now,
                link_id=link_id,
            )
    return str(url)


def record_open(*, token: str) -> bool:
    """Record the first open where the settings allow tracking opens."""
    if not _valid_token(token) or not marketing_settings().track_opens:
        return False
    now = timezone.now()
    with transaction.atomic():
        pk = CampaignRecipient.objects.filter(token=token).values_list("pk", flat=True).first()
        if pk is None:
            return False
        first = CampaignRecipient.objects.filter(pk=pk, opened_at__isnull=True).update(
            opened_at=now
        )
        if first:
            MessageEvent.objects.create(
                recipient_id=pk, kind=MessageEventKind.OPENED, occurred_at=now
            )
    return bool(first)


_UNSUBSCRIBE_FIELDS = (
    "address",
    "unsubscribed_at",
    "campaign__channel",
    "campaign__purpose",
    "campaign__name",
    "customer__primary_email",
    "customer__primary_phone",
)


def unsubscribe(*, token: str, source: str = UNSUBSCRIBE_SOURCE) -> bool:
    """Unsubscribe the recipient of a message from its channel and purpose: a suppression,
    a withdrawn consent, an event and a contact-history entry. Idempotent; ``False`` for an
    unknown token."""
    if not _valid_token(token):
        return False
    from vefa.interactions.models import Interaction

    now = timezone.now()
    with transaction.atomic():
        # Only the columns used (the customer has fifty), and only the recipient's row
        # locked: unsubscribes from one campaign do not queue behind each other.
        recipient = (
            CampaignRecipient.objects.select_for_update(of=("self",))
            .select_related("campaign", "customer")
            .only(*_UNSUBSCRIBE_FIELDS)
            .filter(token=token)
            .first()
        )
        if recipient is None:
            return False
        if recipient.unsubscribed_at is not None:
            return True
        campaign, customer = recipient.campaign, recipient.customer
        address = recipient.address
        if not address or (campaign.channel == CampaignChannel.LETTER):
            address = _current_address(campaign.channel, customer)
        if address and campaign.channel in (CampaignChannel.EMAIL, CampaignChannel.SMS):
            _suppress_unsubscribed(
                channel=campaign.channel,
                address=address,
                customer_id=customer.pk,
                campaign_id=campaign.pk,
            )
        channel = CONSENT_CHANNEL.get(campaign.channel, campaign.channel)
        latest = (
            Consent.objects.filter(customer=customer, channel=channel, purpose=campaign.purpose)
            .order_by("-recorded_at", "-id")
            .values_list("status", "text_version")
            .first()
        )
        if latest is None or latest[0] != ConsentStatus.WITHDRAWN:
            record_create(
                Consent(
                    customer=customer,
                    channel=channel,
                    purpose=campaign.purpose,
                    status=ConsentStatus.WITHDRAWN,
                    source=source[:100],
                    text_version=latest[1] if latest is not None else "1",
                    recorded_at=now,
                ),
                actor=None,
            )
        CampaignRecipient.objects.filter(pk=recipient.pk).update(unsubscribed_at=now)
        MessageEvent.objects.create(
            recipient=recipient, kind=MessageEventKind.UNSUBSCRIBED, occurred_at=now
        )
        Interaction.objects.create(
            customer=customer,
            kind="email" if campaign.channel == CampaignChannel.EMAIL else "web",
            direction="inbound",
            initiated_by="customer",
            occurred_at=now,
            subject=(_("Unsubscribed from “%(name)s”") % {"name": campaign.name})[:300],
            related_model="marketing.campaign",
            related_id=campaign.pk,
        )
    return True


def _suppress_unsubscribed(
    *, channel: str, address: str, customer_id: int, campaign_id: int
) -> None:
    """What ``suppress`` does for an unsubscribe, in two statements and no savepoint: the
    row is added unless one exists; a row that only counted soft bounces becomes a real
    suppression; any other existing row is kept as it is."""
    Suppression.objects.bulk_create(
        [
            Suppression(
                channel=channel,
                address=address,
                reason=SuppressionReason.UNSUBSCRIBED,
                customer_id=customer_id,
                campaign_id=campaign_id,
            )
        ],
        ignore_conflicts=True,
    )
    Suppression.objects.filter(
        channel=channel, address=address, reason=SuppressionReason.SOFT_BOUNCES
    ).update(reason=SuppressionReason.UNSUBSCRIBED)


def _current_address(channel: str, customer: Any) -> str:
    try:
        if channel == CampaignChannel.EMAIL and customer.primary_email:
            return normalize_address(channel, customer.primary_email)
        if channel in (CampaignChannel.SMS, CampaignChannel.PHONE) and customer.primary_phone:
            return normalize_address(channel, customer.primary_phone)
    except ValueError:
        return ""
    return ""


# --- bounces and replies -------------------------------------------------------------------


@dataclass
class Bounce:
    """One failed recipient of a delivery status notification (RFC 3464)."""

    recipient: str
    action: str
    status: str
    diagnostic: str
    message_id: str

    @property
    def hard(self) -> bool:
        return self.action == "failed" and self.status.startswith("5")


_STATUS = re.compile(r"\b([245])\.(\d{1,3})\.(\d{1,3})\b")


def parse_bounce(raw: bytes) -> list[Bounce]:
    """The failed or delayed recipients of a DSN (``multipart/report;
    report-type=delivery-status``); an empty list for any other message."""
    message = email.message_from_bytes(raw, policy=email.policy.compat32)
    if message.get_content_type() != "multipart/report":
        return []
    original_id = ""
    status_part: Message | None = None
    for part in message.walk():
        content_type = part.get_content_type()
        if content_type == "message/delivery-status":
            status_part = part
        elif content_type in ("message/rfc822", "text/rfc822-headers") and not original_id:
            original_id = _original_message_id(part)
    if status_part is None:
        return []
    bounces: list[Bounce] = []
    for fields in _status_groups(status_part):
        recipient = fields.get("final-recipient") or fields.get("original-recipient") or ""
        if not recipient:
            continue
        address = recipient.split(";", 1)[-1].strip().strip("<>")
        action = fields.get("action", "").strip().lower()
        if action not in ("failed", "delayed"):
            continue
        match = _STATUS.search(fields.get("status", ""))
        bounces.append(
            Bounce(
                recipient=address,
                action=action,
                status=".".join(match.groups()) if match else "",
                diagnostic=fields.get("diagnostic-code", "").strip()[:300],
                message_id=original_id,
            )
        )
    return bounces


def _status_groups(part: Message) -> list[dict[str, str]]:
    payload: Any = part.get_payload()
    texts: list[str] = []
    if isinstance(payload, list):
        for block in payload:
            texts.append("\n".join(f"{k}: {v}" for k, v in block.items()))
    else:
        raw: Any = part.get_payload(decode=True)
        texts = re.split(r"\r?\n\r?\n", (raw or b"").decode("utf-8", "replace"))
    groups = []
    for text in texts:
        fields: dict[str, str] = {}
        for line in re.split(r"\r?\n(?![ \t])", text):
            name, sep, value = line.partition(":")
            if sep:
                fields[name.strip().lower()] = " ".join(value.split())
        if fields:
            groups.append(fields)
    return groups


def _original_message_id(part: Message) -> str:
    payload: Any = part.get_payload()
    if isinstance(payload, list) and payload:
        inner = payload[0]
        return str(inner.get("Message-ID", "")).strip()
    raw: Any = part.get_payload(decode=True) or b""
    headers = email.message_from_bytes(raw.split(b"\r\n\r\n")[0].split(b"\n\n")[0])
    return str(headers.get("Message-ID", "")).strip()


def handle_bounce(raw: bytes) -> int:
    """Record a bounce message: a hard bounce suppresses the address, soft bounces are
    counted up to the limit. Returns how many recipients it concerned."""
    handled = 0
    now = timezone.now()
    for bounce in parse_bounce(raw):
        try:
            address = normalize_address(CampaignChannel.EMAIL, bounce.recipient)
        except ValueError:
            continue
        recipient = _recipient_by_message_id(bounce.message_id, address)
        customer_id = recipient.customer_id if recipient is not None else None
        campaign_id = recipient.campaign_id if recipient is not None else None
        with transaction.atomic():
            if bounce.hard:
                suppress(
                    channel=CampaignChannel.EMAIL,
                    address=address,
                    reason=SuppressionReason.HARD_BOUNCE,
                    customer_id=customer_id,
                    campaign_id=campaign_id,
                    note=bounce.diagnostic,
                )
            else:
                count_soft_bounce(
                    channel=CampaignChannel.EMAIL,
                    address=address,
                    customer_id=customer_id,
                    campaign_id=campaign_id,
                )
            if recipient is not None:
                first = CampaignRecipient.objects.filter(
                    pk=recipient.pk, bounced_at__isnull=True
                ).update(bounced_at=now)
                if first or bounce.hard:
                    MessageEvent.objects.create(
                        recipient=recipient,
                        kind=MessageEventKind.BOUNCED,
                        occurred_at=now,
                        detail=f"{bounce.status} {bounce.diagnostic}".strip()[:300],
                    )
        handled += 1
    return handled


def _recipient_by_message_id(message_id: str, address: str) -> CampaignRecipient | None:
    if message_id:
        found = CampaignRecipient.objects.filter(message_id=message_id).first()
        if found is not None:
            return found
    return (
        CampaignRecipient.objects.filter(address=address, sent_at__isnull=False)
        .order_by("-sent_at", "-id")
        .first()
    )


def record_reply(*, in_reply_to: str, references: str = "") -> bool:
    """The inbound mail code calls this for each message received: when it answers one of
    our campaign messages (by ``In-Reply-To`` or ``References``) the recipient has replied."""
    ids = list(re.findall(r"<[^<>\s]+>", f"{in_reply_to} {references}"))
    if not ids:
        return False
    recipient = CampaignRecipient.objects.filter(message_id__in=ids[:20]).first()
    if recipient is None:
        return False
    now = timezone.now()
    with transaction.atomic():
        first = CampaignRecipient.objects.filter(pk=recipient.pk, replied_at__isnull=True).update(
            replied_at=now
        )
        if first:
            MessageEvent.objects.create(
                recipient=recipient, kind=MessageEventKind.REPLIED, occurred_at=now
            )
    return True


def mark_delivered(*, recipient_ids: list[int], at: datetime.datetime | None = None) -> int:
    """Record delivery confirmations (a provider's delivery report)."""
    at = at or timezone.now()
    ids = list(
        CampaignRecipient.objects.filter(
            pk__in=recipient_ids, delivered_at__isnull=True
        ).values_list("pk", flat=True)
    )
    CampaignRecipient.objects.filter(pk__in=ids).update(delivered_at=at)
    MessageEvent.objects.bulk_create(
        [
            MessageEvent(recipient_id=pk, kind=MessageEventKind.DELIVERED, occurred_at=at)
            for pk in ids
        ]
    )
    return len(ids)
