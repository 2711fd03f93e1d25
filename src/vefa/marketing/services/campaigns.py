"""Writes of campaigns: the campaign itself (objective, channel, consent purpose, audience,
control group, schedule, budget, conversion window, sender), its A/B variants and its costs.

Rules kept here:

- a campaign is changed only while it is a draft or scheduled: once sending has begun its
  audience, variants and texts are what the report measures (costs can still be added);
- the audience is segments the actor may see, minus exclusion segments, never the same
  segment on both sides;
- variants have distinct codes (``A``, ``B`` …), templates of the campaign's channel, and
  shares that add up to 100;
- the end is after the start, the budget is a non-negative amount in an ISO 4217 currency.

Launching, pausing, resuming and cancelling belong to sending
(``vefa.marketing.services.sending``); campaigns are cancelled, never deleted, once created,
except a draft that never sent, which its owner may delete.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _

from vefa.accounts.access import can_create
from vefa.common.errors import NotFound, ValidationFailed
from vefa.customers.choices import ConsentPurpose
from vefa.customers.services._common import as_pk, as_text, get_for, invalid, not_found
from vefa.marketing.choices import CampaignChannel, CampaignObjective, CampaignStatus
from vefa.marketing.models import Campaign, CampaignCost, CampaignVariant, MessageTemplate
from vefa.platform.audit import log_change
from vefa.platform.models import ChangeLogEntry
from vefa.platform.records import record_create, record_delete, record_update
from vefa.sales.money import MoneyError, check_amount, check_currency

if TYPE_CHECKING:
    from vefa.accounts.models import User

EDITABLE = (CampaignStatus.DRAFT, CampaignStatus.SCHEDULED)
MAX_VARIANTS = 8
MAX_SEGMENTS = 50
_CODE = re.compile(r"^[A-Z0-9]{1,8}$")
_FIELDS = frozenset(
    {
        "name",
        "description",
        "objective",
        "channel",
        "purpose",
        "segments",
        "exclusions",
        "control_percent",
        "starts_at",
        "ends_at",
        "budget",
        "currency",
        "attribution_days",
        "from_name",
        "from_email",
        "reply_to",
        "variants",
        "tags",
    }
)
_PLAIN = ("name", "description", "from_name", "from_email", "reply_to")


def _choice(value: Any, field: str, choices: list[str], default: str | None) -> str:
    if (value is None or value == "") and default is not None:
        return default
    if not isinstance(value, str) or value not in choices:
        raise invalid({field: [_("Choose a valid option.")]})
    return value


def _whole(value: Any, field: str, low: int, high: int, *, optional: bool = False) -> int | None:
    if value is None or value == "":
        if optional:
            return None
        raise invalid({field: [_("Enter a whole number.")]})
    if isinstance(value, bool | float):
        raise invalid({field: [_("Enter a whole number.")]})
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise invalid({field: [_("Enter a whole number.")]}) from None
    if not low <= number <= high:
        raise invalid(
            {field: [_("Enter a number from %(min)d to %(max)d.") % {"min": low, "max": high}]}
        )
    return number


def _moment(value: Any, field: str) -> datetime.datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime.datetime):
        moment = value
    elif isinstance(value, str):
        parsed = None
        try:
            parsed = parse_datetime(value.strip())
        except ValueError:
            parsed = None
        if parsed is None:
            raise invalid({field: [_("Enter a date and time.")]})
        moment = parsed
    else:
        raise invalid({field: [_("Enter a date and time.")]})
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    return moment


def _money(value: Any, field: str) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        return check_amount(value)
    except MoneyError:
        raise invalid({field: [_("Enter an amount that is not negative.")]}) from None


def _currency(value: Any, field: str = "currency") -> str:
    try:
        return check_currency(value)
    except MoneyError:
        raise invalid({field: [_("Enter a three-letter currency code, e.g. TRY.")]}) from None


def _email(value: Any, field: str) -> str:
    from django.core.exceptions import ValidationError as DjangoValidationError
    from django.core.validators import validate_email

    text = as_text(value, field=field, max_length=254)
    if text:
        try:
            validate_email(text)
        except DjangoValidationError:
            raise invalid({field: [_("Enter a valid e-mail address.")]}) from None
    return text


def _segment_ids(actor: User, value: Any, field: str) -> list[int]:
    from vefa.marketing.selectors.segments import segment_queryset

    if value is None or value == "":
        return []
    if not isinstance(value, list | tuple):
        raise invalid({field: [_("Choose segments from the list.")]})
    ids: list[int] = []
    for item in value:
        try:
            ids.append(as_pk(item))
        except NotFound:
            raise invalid({field: [_("Choose segments from the list.")]}) from None
    ids = list(dict.fromkeys(ids))
    if len(ids) > MAX_SEGMENTS:
        raise invalid({field: [_("At most %(n)d segments.") % {"n": MAX_SEGMENTS}]})
    found = set(segment_queryset(actor).filter(pk__in=ids).values_list("pk", flat=True))
    if set(ids) - found:
        raise invalid({field: [_("Choose segments from the list.")]})
    return ids


def _variants(actor: User, value: Any, channel: str) -> list[dict[str, Any]]:
    from vefa.marketing.selectors.templates import template_queryset

    if value is None:
        return []
    if not isinstance(value, list | tuple):
        raise invalid({"variants": [_("Expected a list of variants.")]})
    if len(value) > MAX_VARIANTS:
        raise invalid({"variants": [_("At most %(n)d variants.") % {"n": MAX_VARIANTS}]})
    errors: dict[str, list[str]] = {}
    result: list[dict[str, Any]] = []
    codes: set[str] = set()
    templates = template_queryset(actor)
    for i, item in enumerate(value):
        prefix = f"variants.{i}"
        if not isinstance(item, Mapping):
            errors[prefix] = [_("Expected a variant.")]
            continue
        code = item.get("code")
        code = code.strip().upper() if isinstance(code, str) else ""
        if not _CODE.match(code):
            errors[f"{prefix}.code"] = [_("Use up to 8 capital letters or digits, e.g. A.")]
        elif code in codes:
            errors[f"{prefix}.code"] = [_("Each variant needs its own code.")]
        codes.add(code)
        template: MessageTemplate | None = None
        try:
            template = templates.filter(pk=as_pk(item.get("template"))).first()
        except NotFound:
            template = None
        if template is None:
            errors[f"{prefix}.template"] = [_("Choose a template.")]
        elif template.channel != channel:
            errors[f"{prefix}.template"] = [_("Choose a template of the campaign's channel.")]
        elif template.is_archived:
            errors[f"{prefix}.template"] = [_("This template is archived.")]
        try:
            subject = as_text(item.get("subject"), field=f"{prefix}.subject", max_length=300)
        except ValidationFailed as exc:
            errors.update(exc.fields)
            subject = ""
        try:
            weight = _whole(item.get("weight"), f"{prefix}.weight", 1, 100)
        except ValidationFailed as exc:
            errors.update(exc.fields)
            weight = 0
        result.append({"code": code, "template": template, "subject": subject, "weight": weight})
    if not errors and result and sum(v["weight"] for v in result) != 100:
        errors["variants"] = [_("The variants' shares must add up to 100.")]
    if errors:
        raise invalid(errors)
    return result


def _fields(actor: User, data: Mapping[str, Any], current: Campaign | None) -> dict[str, Any]:
    """The model fields in ``data`` (all of them on create), each checked."""
    new = current is None
    fields: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}

    def take(name: str, clean: Any) -> None:
        if new or name in data:
            try:
                fields[name] = clean(data.get(name))
            except ValidationFailed as exc:
                errors.update(exc.fields)

    def name_clean(v: Any) -> str:
        text = as_text(v, field="name", max_length=200)
        if not text:
            raise invalid({"name": [_("This field is required.")]})
        return text

    take("name", name_clean)
    take("description", lambda v: as_text(v, field="description", max_length=5000))
    take(
        "objective",
        lambda v: _choice(v, "objective", list(CampaignObjective.values), None),
    )
    take(
        "channel",
        lambda v: _choice(v, "channel", list(CampaignChannel.values), CampaignChannel.EMAIL),
    )
    take(
        "purpose",
        lambda v: _choice(v, "purpose", list(ConsentPurpose.values), ConsentPurpose.MARKETING),
    )
    take("control_percent", lambda v: _whole(10 if v is None else v, "control_percent", 0, 50))
    take("starts_at", lambda v: _moment(v, "starts_at"))
    take("ends_at", lambda v: _moment(v, "ends_at"))
    take("budget", lambda v: _money(v, "budget"))
    take("currency", lambda v: _currency("TRY" if v in (None, "") else v))
    take(
        "attribution_days",
        lambda v: _whole(v, "attribution_days", 1, 365, optional=True),
    )
    take("from_name", lambda v: as_text(v, field="from_name", max_length=100))
    take("from_email", lambda v: _email(v, "from_email"))
    take("reply_to", lambda v: _email(v, "reply_to"))
    if errors:
        raise invalid(errors)
    starts = fields.get("starts_at", current.starts_at if current else None)
    ends = fields.get("ends_at", current.ends_at if current else None)
    if starts is not None and ends is not None and ends <= starts:
        raise invalid({"ends_at": [_("The end must be after the start.")]})
    return fields


def _check_fields(data: Any) -> None:
    if not isinstance(data, Mapping):
        raise invalid({"__all__": [_("Expected an object of field values.")]})
    unknown = [str(k) for k in data if k not in _FIELDS]
    if unknown:
        raise invalid({key: [_("Unknown field.")] for key in unknown})


def _tags(value: Any) -> list[str] | None:
    if value is None:
        return None
    if not isinstance(value, list | tuple) or not all(isinstance(t, str) for t in value):
        raise invalid({"tags": [_("Enter a list of tags.")]})
    return [t.strip() for t in value if t.strip()][:20]


def _audience(
    actor: User, data: Mapping[str, Any], current: Campaign | None
) -> tuple[list[int] | None, list[int] | None]:
    segments = (
        _segment_ids(actor, data.get("segments"), "segments")
        if current is None or "segments" in data
        else None
    )
    exclusions = (
        _segment_ids(actor, data.get("exclusions"), "exclusions")
        if current is None or "exclusions" in data
        else None
    )
    both_in = (
        segments
        if segments is not None
        else (list(current.segments.values_list("pk", flat=True)) if current else [])
    )
    both_out = (
        exclusions
        if exclusions is not None
        else (list(current.exclusions.values_list("pk", flat=True)) if current else [])
    )
    if set(both_in) & set(both_out):
        raise invalid({"exclusions": [_("A segment cannot be both included and excluded.")]})
    return segments, exclusions


def _save_variants(campaign: Campaign, variants: list[dict[str, Any]], *, actor: User) -> None:
    existing = {v.code: v for v in CampaignVariant.objects.filter(campaign=campaign)}
    wanted = {v["code"] for v in variants}
    for code, variant in existing.items():
        if code not in wanted:
            record_delete(variant, actor=actor)
    for item in variants:
        values = {
            "template": item["template"],
            "subject": item["subject"],
            "weight": item["weight"],
        }
        current = existing.get(item["code"])
        if current is None:
            record_create(
                CampaignVariant(campaign=campaign, code=item["code"], **values), actor=actor
            )
        elif (current.template_id, current.subject, current.weight) != (
            item["template"].pk,
            item["subject"],
            item["weight"],
        ):
            record_update(current, actor=actor, data=values)


def campaign_create(*, actor: User, data: Mapping[str, Any]) -> Campaign:
    """A new draft campaign owned by the actor, in their team."""
    if not can_create(actor, Campaign):
        raise not_found()
    _check_fields(data)
    fields = _fields(actor, data, None)
    segments, exclusions = _audience(actor, data, None)
    variants = _variants(actor, data.get("variants"), fields["channel"])
    tags = _tags(data.get("tags"))
    with transaction.atomic():
        campaign = record_create(
            Campaign(owner=actor, team_id=actor.team_id, status=CampaignStatus.DRAFT, **fields),
            actor=actor,
            tags=tags,
        )
        campaign.segments.set(segments or [])
        campaign.exclusions.set(exclusions or [])
        _save_variants(campaign, variants, actor=actor)
    return campaign


def _not_editable(campaign: Campaign) -> ValidationFailed:
    return ValidationFailed(
        _("A campaign can be changed only while it is a draft or scheduled; this one is %(s)s.")
        % {"s": campaign.get_status_display()},
        fields={
            "status": [_("Only draft and scheduled campaigns can be changed.")],
        },
    )


def campaign_update(
    *,
    actor: User,
    campaign_id: Any,
    data: Mapping[str, Any],
    expected_version: int | None = None,
) -> Campaign:
    """Change a draft or scheduled campaign; ``variants`` (when given) replaces the variants."""
    _check_fields(data)
    with transaction.atomic():
        campaign = get_for(Campaign.objects.all(), actor=actor, pk=as_pk(campaign_id))
        if campaign.status not in EDITABLE:
            raise _not_editable(campaign)
        fields = _fields(actor, data, campaign)
        segments, exclusions = _audience(actor, data, campaign)
        channel = fields.get("channel", campaign.channel)
        variants = _variants(actor, data.get("variants"), channel) if "variants" in data else None
        if variants is None and channel != campaign.channel:
            mismatch = CampaignVariant.objects.filter(campaign=campaign).exclude(
                template__channel=channel
            )
            if mismatch.exists():
                raise invalid({"channel": [_("The variants' templates are of another channel.")]})
        before = {
            "segments": sorted(campaign.segments.values_list("pk", flat=True)),
            "exclusions": sorted(campaign.exclusions.values_list("pk", flat=True)),
        }
        campaign = record_update(
            campaign,
            actor=actor,
            data=fields,
            expected_version=expected_version,
            tags=_tags(data.get("tags")),
        )
        after = {
            "segments": sorted(segments) if segments is not None else before["segments"],
            "exclusions": sorted(exclusions) if exclusions is not None else before["exclusions"],
        }
        if after != before:
            log_change(
                actor=actor,
                instance=campaign,
                action=ChangeLogEntry.Action.UPDATE,
                before=before,
                after=after,
            )
        if segments is not None:
            campaign.segments.set(segments)
        if exclusions is not None:
            campaign.exclusions.set(exclusions)
        if variants is not None:
            _save_variants(campaign, variants, actor=actor)
    return campaign


def campaign_delete(*, actor: User, campaign_id: Any) -> None:
    """Delete a draft that never sent (anything else is cancelled instead)."""
    with transaction.atomic():
        campaign = get_for(
            Campaign.objects.all(), actor=actor, pk=as_pk(campaign_id), action="delete"
        )
        if campaign.status != CampaignStatus.DRAFT or campaign.recipients.exists():
            raise invalid(
                {"status": [_("Only a draft that never sent can be deleted; cancel it instead.")]}
            )
        CampaignCost.objects.filter(campaign=campaign).delete()
        for variant in CampaignVariant.objects.filter(campaign=campaign):
            record_delete(variant, actor=actor)
        record_delete(campaign, actor=actor)


def cost_add(*, actor: User, campaign_id: Any, data: Mapping[str, Any]) -> CampaignCost:
    """Record an actual cost of a campaign (any status but cancelled drafts)."""
    if not isinstance(data, Mapping):
        raise invalid({"__all__": [_("Expected an object of field values.")]})
    unknown = [k for k in data if k not in ("incurred_on", "description", "amount", "currency")]
    if unknown:
        raise invalid({str(k): [_("Unknown field.")] for k in unknown})
    errors: dict[str, list[str]] = {}
    day = data.get("incurred_on")
    if isinstance(day, datetime.date) and not isinstance(day, datetime.datetime):
        incurred = day
    else:
        parsed = None
        if isinstance(day, str):
            try:
                parsed = parse_date(day.strip())
            except ValueError:
                parsed = None
        if parsed is None:
            errors["incurred_on"] = [_("Enter a date.")]
        incurred = parsed or timezone.localdate()
    description = ""
    try:
        description = as_text(data.get("description"), field="description", max_length=200)
        if not description:
            errors["description"] = [_("This field is required.")]
    except ValidationFailed as exc:
        errors.update(exc.fields)
    amount: Decimal | None = None
    try:
        amount = _money(data.get("amount"), "amount")
        if amount is None:
            errors["amount"] = [_("Enter an amount that is not negative.")]
    except ValidationFailed as exc:
        errors.update(exc.fields)
    with transaction.atomic():
        campaign = get_for(Campaign.objects.all(), actor=actor, pk=as_pk(campaign_id))
        currency = campaign.currency
        if data.get("currency") not in (None, ""):
            try:
                currency = _currency(data.get("currency"))
            except ValidationFailed as exc:
                errors.update(exc.fields)
        if errors:
            raise invalid(errors)
        return record_create(
            CampaignCost(
                campaign=campaign,
                incurred_on=incurred,
                description=description,
                amount=amount,
                currency=currency,
            ),
            actor=actor,
        )


def cost_remove(*, actor: User, campaign_id: Any, cost_id: Any) -> None:
    """Remove a cost line entered by mistake (the change log keeps it)."""
    with transaction.atomic():
        campaign = get_for(Campaign.objects.all(), actor=actor, pk=as_pk(campaign_id))
        cost = CampaignCost.objects.filter(campaign=campaign, pk=as_pk(cost_id)).first()
        if cost is None:
            raise not_found()
        record_delete(cost, actor=actor)
