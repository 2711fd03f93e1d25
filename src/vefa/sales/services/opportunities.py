"""Opportunities: creating, changing, moving between stages, lines and competing bids.

``opportunity_move`` is the one way an opportunity changes stage: the kanban board's drag
and drop, the card's "move to" select, the edit form (through ``opportunity_update``) and
the API all end in it, so a move gives the same fields and the same change-log row whatever
surface made it. A move sets the status from the stage's kind, the probability from the
stage (unless one is given in the same change), ``stage_changed_at``, and ``closed_at`` when
won or lost (cleared again when reopened). A lost stage needs a lost reason.

A follow-up date plans an activity (a task, or a call when asked) for the opportunity's
owner on that day, with the usual reminders; moving the date moves the activity.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from vefa.accounts.access import can, can_create, restrict
from vefa.common.errors import NotFound, PermissionDenied, ValidationFailed
from vefa.interactions.choices import ActivityKind, ActivityStatus
from vefa.platform.records import record_create, record_delete, record_update
from vefa.sales.choices import ForecastCategory, LostReason, StageKind
from vefa.sales.models import (
    Competitor,
    Opportunity,
    OpportunityCompetitor,
    OpportunityLine,
    Pipeline,
    Product,
    Stage,
)
from vefa.sales.money import MoneyError, line_amounts, round_money
from vefa.sales.services._common import (
    as_currency,
    as_date,
    as_money,
    as_percent,
    as_pk,
    as_quantity,
    as_text,
    customer_visible,
    get_for,
    invalid,
    resolve_owner,
    resolve_team,
)

if TYPE_CHECKING:
    from vefa.accounts.models import User
    from vefa.interactions.models import Activity

__all__ = [
    "FOLLOW_UP_HOUR",
    "MAX_LINES",
    "opportunity_amount_from_lines",
    "opportunity_bid_add",
    "opportunity_bid_delete",
    "opportunity_create",
    "opportunity_delete",
    "opportunity_line_add",
    "opportunity_line_delete",
    "opportunity_line_update",
    "opportunity_move",
    "opportunity_update",
]

# Hour (in the owner's time zone) a follow-up activity is due on its day.
FOLLOW_UP_HOUR = 9
MAX_LINES = 200
MAX_BIDS = 50

# Fields ``opportunity_create`` / ``opportunity_update`` accept (ids or records for the
# relations). ``stage`` changes go through ``opportunity_move``.
EDITABLE = (
    "name",
    "customer",
    "contact",
    "pipeline",
    "stage",
    "amount",
    "currency",
    "expected_close_date",
    "probability",
    "forecast_category",
    "owner",
    "team",
    "source",
    "next_step",
    "follow_up_date",
    "follow_up_kind",
    "lost_reason",
    "lost_note",
    "lost_to",
    "custom_fields",
)
# The fields a move sets or may be given together with the stage.
MOVE_FIELDS = ("probability", "lost_reason", "lost_note", "lost_to")
FOLLOW_UP_KINDS = (ActivityKind.TASK, ActivityKind.CALL)


# --- input ---------------------------------------------------------------------------------


def _pk_of(value: Any, *, field: str, message: str) -> int:
    if hasattr(value, "pk"):
        value = value.pk
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise invalid({field: [message]})
    text = str(value).strip()
    if not text.isdigit() or len(text) > 18 or int(text) <= 0:
        raise invalid({field: [message]})
    return int(text)


def _stage(value: Any, *, field: str = "stage") -> Stage:
    message = _("Choose a stage of this pipeline.")
    stage = Stage.objects.select_related("pipeline").filter(
        pk=_pk_of(value, field=field, message=message)
    )
    found = stage.first()
    if found is None:
        raise invalid({field: [message]})
    return found


def _pipeline(value: Any) -> Pipeline:
    message = _("Choose an active pipeline.")
    found = Pipeline.objects.filter(
        pk=_pk_of(value, field="pipeline", message=message), is_active=True
    ).first()
    if found is None:
        raise invalid({"pipeline": [message]})
    return found


def _default_pipeline() -> Pipeline:
    pipeline = (
        Pipeline.objects.filter(is_active=True).order_by("-is_default", "order", "pk").first()
    )
    if pipeline is None:
        raise invalid({"pipeline": [_("Create a pipeline first.")]})
    return pipeline


def _competitor(value: Any, *, field: str) -> Competitor | None:
    if value is None or value == "":
        return None
    message = _("Choose an existing competitor.")
    found = Competitor.objects.filter(pk=_pk_of(value, field=field, message=message)).first()
    if found is None:
        raise invalid({field: [message]})
    return found


def _probability(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str | Decimal):
        raise invalid({"probability": [_("Enter a whole number between 0 and 100.")]})
    text = str(value).strip()
    if not text.isdigit() or int(text) > 100:
        raise invalid({"probability": [_("Enter a whole number between 0 and 100.")]})
    return int(text)


def _choice(value: Any, *, field: str, choices: Sequence[str], blank: bool = True) -> str:
    if value is None or value == "":
        if blank:
            return ""
        raise invalid({field: [_("This field is required.")]})
    if not isinstance(value, str) or value not in choices:
        raise invalid({field: [_("Choose a valid option.")]})
    return value


def _stored(amount: Decimal | None) -> Decimal | None:
    """``amount`` with the columns' four places, so an unchanged value compares equal."""
    return None if amount is None else amount.quantize(Decimal("0.0001"))


def _check_data(data: Any) -> dict[str, Any]:
    if not isinstance(data, Mapping):
        raise invalid({"__all__": [_("Expected an object of field values.")]})
    unknown = sorted(str(k) for k in data if k not in EDITABLE)
    if unknown:
        raise invalid({key: [_("Unknown field.")] for key in unknown})
    return dict(data)


def _plain_values(actor: User, data: Mapping[str, Any]) -> dict[str, Any]:
    """The checked values of the fields that are not stage, pipeline or follow-up."""
    from vefa.customers.choices import Source
    from vefa.platform.custom_fields import clean_custom_fields

    values: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}

    def check(key: str, convert: Any) -> None:
        if key not in data:
            return
        try:
            values[key] = convert(data[key])
        except ValidationFailed as exc:
            for name, messages in exc.fields.items():
                errors.setdefault(name, []).extend(messages)

    check("name", lambda v: as_text(v, field="name", max_length=200))
    check("customer", lambda v: customer_visible(actor=actor, customer_id=v))
    check(
        "contact",
        lambda v: (
            None
            if v in (None, "")
            else customer_visible(actor=actor, customer_id=v, field="contact")
        ),
    )
    check("amount", lambda v: _stored(as_money(v, field="amount")))
    check("currency", lambda v: as_currency(v))
    check("expected_close_date", lambda v: as_date(v, field="expected_close_date"))
    check("probability", _probability)
    check(
        "forecast_category",
        lambda v: _choice(
            v, field="forecast_category", choices=ForecastCategory.values, blank=False
        ),
    )
    check("owner", lambda v: resolve_owner(v))
    check("team", lambda v: resolve_team(v))
    check("source", lambda v: _choice(v, field="source", choices=Source.values))
    check("next_step", lambda v: as_text(v, field="next_step", max_length=300))
    check("lost_reason", lambda v: _choice(v, field="lost_reason", choices=LostReason.values))
    check("lost_note", lambda v: as_text(v, field="lost_note", max_length=500))
    check("lost_to", lambda v: _competitor(v, field="lost_to"))
    if "custom_fields" in data:
        raw = data["custom_fields"]
        if raw is None:
            raw = {}
        if not isinstance(raw, Mapping):
            errors.setdefault("custom_fields", []).append(_("Expected an object of field values."))
        else:
            try:
                values["custom_fields"] = clean_custom_fields("sales.opportunity", dict(raw))
            except ValidationFailed as exc:
                for name, messages in exc.fields.items():
                    errors.setdefault(name, []).extend(messages)
    if "name" in values and not values["name"]:
        errors.setdefault("name", []).append(_("This field is required."))
    if errors:
        raise invalid(errors)
    return values


def _check_may_hold(actor: User, opportunity: Opportunity) -> None:
    """The actor may only give an opportunity an owner and team he could then change."""
    if not can(actor, "change", opportunity):
        message = _("You may not give an opportunity to this owner or team.")
        raise PermissionDenied(message, fields={"owner": [message]})


# --- the move ------------------------------------------------------------------------------


def _move_values(
    current: Opportunity | None,
    stage: Stage,
    *,
    pipeline_id: int,
    given: Mapping[str, Any],
    now: datetime.datetime,
) -> dict[str, Any]:
    """The fields a move of ``current`` (``None`` when new) to ``stage`` sets.

    ``given`` holds the move fields the user set in the same change (probability, lost
    reason, note and competitor). Raises ``ValidationFailed`` naming ``stage`` or
    ``lost_reason``.
    """
    if stage.pipeline_id != pipeline_id:
        raise invalid({"stage": [_("Choose a stage of this pipeline.")]})
    changed = current is None or current.stage_id != stage.pk
    values: dict[str, Any] = {"stage": stage, "status": stage.kind}
    if "probability" in given and given["probability"] is not None:
        values["probability"] = given["probability"]
    elif changed:
        values["probability"] = stage.probability
    if changed:
        values["stage_changed_at"] = now
    if stage.kind == StageKind.OPEN:
        values["closed_at"] = None
    elif current is None or current.status != stage.kind or current.closed_at is None:
        values["closed_at"] = now
    if stage.kind == StageKind.LOST:
        reason = given.get("lost_reason")
        if reason is None:
            reason = current.lost_reason if current is not None and not changed else ""
        if not reason:
            raise invalid(
                {"lost_reason": [_("Choose why the opportunity was lost (lost reason).")]}
            )
        values["lost_reason"] = reason
        for key in ("lost_note", "lost_to"):
            if key in given:
                values[key] = given[key]
    else:
        # Won or open again: "lost because" describes the current state only; the change
        # log keeps what it was.
        values.update(lost_reason="", lost_note="", lost_to=None)
    return values


def opportunity_move(
    *,
    actor: User,
    opportunity_id: int,
    stage_id: Any,
    expected_version: int | None = None,
    probability: Any = None,
    lost_reason: Any = None,
    lost_note: Any = None,
    lost_to: Any = None,
    also: Mapping[str, Any] | None = None,
    tags: Sequence[str] | None = None,
) -> Opportunity:
    """Move an opportunity to ``stage_id`` (a stage of its pipeline).

    ``probability`` overrides the stage's default in the same change; ``lost_reason``
    (required for a lost stage), ``lost_note`` and ``lost_to`` (a competitor) describe a loss.
    ``also`` carries the other, already checked, field changes of an edit form
    (``opportunity_update``), so one edit writes one change-log row. With
    ``expected_version`` a stale move raises ``Conflict``; a move to the current stage with
    nothing else changed writes nothing.
    """
    given: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}
    try:
        if probability not in (None, ""):
            given["probability"] = _probability(probability)
        if lost_reason not in (None, ""):
            given["lost_reason"] = _choice(
                lost_reason, field="lost_reason", choices=LostReason.values
            )
        if lost_note is not None:
            given["lost_note"] = as_text(lost_note, field="lost_note", max_length=500)
        if lost_to not in (None, ""):
            given["lost_to"] = _competitor(lost_to, field="lost_to")
    except ValidationFailed as exc:
        errors.update(exc.fields)
    if errors:
        raise invalid(errors)
    extra = dict(also or {})
    with transaction.atomic():
        current = get_for(Opportunity.objects.all(), actor=actor, pk=opportunity_id)
        stage = _stage(stage_id)
        pipeline = extra.get("pipeline")
        pipeline_id = pipeline.pk if pipeline is not None else current.pipeline_id
        changes = dict(extra)
        changes.update(
            _move_values(current, stage, pipeline_id=pipeline_id, given=given, now=timezone.now())
        )
        return record_update(
            current,
            actor=actor,
            data=changes,
            expected_version=expected_version,
            tags=None if tags is None else list(tags),
        )


# --- follow-up -----------------------------------------------------------------------------


def _due_at(day: datetime.date, owner: User | None) -> datetime.datetime:
    from vefa.interactions.filters import user_zone

    return datetime.datetime.combine(day, datetime.time(FOLLOW_UP_HOUR), tzinfo=user_zone(owner))


def _follow_up_subject(name: str, next_step: str) -> str:
    text = _("Follow up: %(name)s") % {"name": name}
    if next_step:
        text = f"{text} — {next_step}"
    return text[:300]


def _sync_follow_up(
    actor: User,
    *,
    current: Opportunity | None,
    merged: Mapping[str, Any],
    kind: str | None,
    date_changed: bool = True,
) -> Activity | None:
    """Create, move or cancel the follow-up activity for ``merged`` values.

    Returns the activity the opportunity should link to (``None`` when there is no
    follow-up date). An activity the actor can no longer change (done, cancelled, or
    someone else's) is left alone and a new one is planned.
    """
    from vefa.interactions.models import Activity
    from vefa.interactions.services.activities import (
        activity_cancel,
        activity_create,
        activity_update,
    )

    day: datetime.date | None = merged.get("follow_up_date")
    existing: Activity | None = None
    if current is not None and current.follow_up_activity_id is not None:
        existing = (
            restrict(Activity.objects.all(), actor, "change")
            .filter(pk=current.follow_up_activity_id, status=ActivityStatus.PLANNED)
            .first()
        )
    if existing is None and not date_changed and kind is None and current is not None:
        # The follow-up was done or cancelled: editing the name does not plan it again.
        return current.follow_up_activity
    if day is None:
        if existing is not None:
            activity_cancel(actor=actor, activity_id=existing.pk)
        return None
    owner: User | None = merged.get("owner") or actor
    assert owner is not None
    customer = merged.get("customer")
    subject = _follow_up_subject(str(merged.get("name") or ""), merged.get("next_step") or "")
    due = _due_at(day, owner)
    if existing is not None and (kind is None or kind == existing.kind):
        same = (
            existing.due_at == due and existing.subject == subject and existing.owner_id == owner.pk
        )
        if same:
            return existing
        try:
            return activity_update(
                actor=actor,
                activity_id=existing.pk,
                data={"due_at": due, "subject": subject, "owner_id": owner.pk},
            )
        except ValidationFailed as exc:
            raise invalid({"follow_up_date": _messages(exc)}) from exc
    if existing is not None:
        activity_cancel(actor=actor, activity_id=existing.pk)
    try:
        return activity_create(
            actor=actor,
            kind=kind or ActivityKind.TASK,
            subject=subject,
            owner_id=owner.pk,
            customer_id=customer.pk if customer is not None else None,
            due_at=due,
        )
    except (ValidationFailed, PermissionDenied) as exc:
        raise invalid({"follow_up_date": _messages(exc)}) from exc


def _messages(exc: ValidationFailed | PermissionDenied) -> list[str]:
    found = [m for messages in exc.fields.values() for m in messages]
    return found or [str(exc.message)]


def _follow_up_kind(value: Any) -> str | None:
    if value in (None, ""):
        return None
    return _choice(value, field="follow_up_kind", choices=FOLLOW_UP_KINDS)


# --- create, update, delete ------------------------------------------------------------------


def opportunity_create(
    *,
    actor: User,
    data: Mapping[str, Any],
    lines: Sequence[Mapping[str, Any]] | None = None,
    tags: Sequence[str] | None = None,
) -> Opportunity:
    """Create an opportunity.

    ``data`` needs ``name`` and ``customer``; the pipeline defaults to the default one and
    the stage to its first open stage (a lost stage needs ``lost_reason``). The owner
    defaults to the actor, the team to the owner's team, the currency to the customer's.
    ``lines`` (product, description, quantity, unit_price, discount_percent) are added, and
    when no ``amount`` is given the amount is their total. A ``follow_up_date`` plans the
    follow-up activity.
    """
    if not can_create(actor, Opportunity):
        raise PermissionDenied(_("You may not create opportunities."))
    fields = _check_data(data)
    kind = _follow_up_kind(fields.pop("follow_up_kind", None))
    errors: dict[str, list[str]] = {}
    for key in ("name", "customer"):
        if fields.get(key) in (None, ""):
            errors[key] = [_("This field is required.")]
    if errors:
        raise invalid(errors)
    pipeline = (
        _pipeline(fields.pop("pipeline"))
        if fields.get("pipeline") not in (None, "")
        else _default_pipeline()
    )
    fields.pop("pipeline", None)
    stage_value = fields.pop("stage", None)
    follow_up = as_date(fields.pop("follow_up_date", None), field="follow_up_date")
    owner_given = "owner" in fields
    values = _plain_values(actor, fields)
    if lines is not None and (not isinstance(lines, Sequence) or isinstance(lines, str)):
        raise invalid({"lines": [_("Expected a list of lines.")]})
    if lines is not None and len(lines) > MAX_LINES:
        raise invalid({"lines": [_("At most %(n)d lines.") % {"n": MAX_LINES}]})
    if stage_value in (None, ""):
        stage = pipeline.stages.filter(kind=StageKind.OPEN).order_by("order", "pk").first()
        if stage is None:
            raise invalid({"stage": [_("This pipeline has no open stage.")]})
    else:
        stage = _stage(stage_value)
    owner = values.pop("owner", None)
    if owner is None and not owner_given:
        owner = actor
    team = values.pop("team", None)
    if team is None and "team" not in fields and owner is not None:
        team = owner.team
    customer = values["customer"]
    values.setdefault("currency", getattr(customer, "currency", "") or "TRY")
    given = {k: values.pop(k) for k in MOVE_FIELDS if k in values}
    now = timezone.now()
    values.update(_move_values(None, stage, pipeline_id=pipeline.pk, given=given, now=now))
    if stage.kind == StageKind.OPEN:
        values.pop("closed_at", None)
    opportunity = Opportunity(pipeline=pipeline, owner=owner, team=team, **values)
    _check_may_hold(actor, opportunity)
    with transaction.atomic():
        merged = {**values, "owner": owner, "follow_up_date": follow_up}
        activity = _sync_follow_up(actor, current=None, merged=merged, kind=kind)
        opportunity.follow_up_date = follow_up
        opportunity.follow_up_activity = activity
        record_create(opportunity, actor=actor, tags=tags)
        for position, line in enumerate(lines or ()):
            _line_insert(actor, opportunity, line, position=position)
        if lines and "amount" not in fields:
            total = _lines_total(opportunity)
            if total != opportunity.amount:
                Opportunity.objects.filter(pk=opportunity.pk).update(amount=total)
                opportunity.amount = total
    return opportunity


def opportunity_update(
    *,
    actor: User,
    opportunity_id: int,
    data: Mapping[str, Any],
    expected_version: int | None = None,
    tags: Sequence[str] | None = None,
) -> Opportunity:
    """Change the fields in ``data``; a new ``stage`` goes through ``opportunity_move``.

    Changing the ``pipeline`` needs a ``stage`` of the new pipeline. A changed follow-up
    date (or owner, name or next step) moves the follow-up activity; an emptied date
    cancels it. With ``expected_version`` a stale write raises ``Conflict``.
    """
    fields = _check_data(data)
    kind = _follow_up_kind(fields.pop("follow_up_kind", None))
    with transaction.atomic():
        current = get_for(Opportunity.objects.all(), actor=actor, pk=opportunity_id)
        if expected_version is not None and current.version != expected_version:
            from vefa.common.errors import Conflict

            raise Conflict(
                _("This record was changed by someone else. Reload it and try again."),
                current_version=current.version,
            )
        changes: dict[str, Any] = {}
        if fields.get("pipeline") not in (None, ""):
            pipeline = _pipeline(fields.pop("pipeline"))
            if pipeline.pk != current.pipeline_id:
                if fields.get("stage") in (None, ""):
                    raise invalid({"stage": [_("Choose a stage of the new pipeline.")]})
                changes["pipeline"] = pipeline
        fields.pop("pipeline", None)
        stage_value = fields.pop("stage", None)
        if "follow_up_date" in fields:
            changes["follow_up_date"] = as_date(
                fields.pop("follow_up_date"), field="follow_up_date"
            )
        changes.update(_plain_values(actor, fields))
        if "name" in fields and not changes.get("name"):
            raise invalid({"name": [_("This field is required.")]})
        new_owner = changes.get("owner")
        if "team" not in fields and new_owner is not None and new_owner.pk != current.owner_id:
            changes["team"] = new_owner.team
        if "owner" in changes or "team" in changes:
            owner = changes.get("owner", current.owner)
            team = changes.get("team", current.team)
            _check_may_hold(
                actor,
                Opportunity(
                    owner_id=owner.pk if owner is not None else None,
                    team_id=team.pk if team is not None else None,
                ),
            )
        watched = {"name", "next_step", "owner", "customer", "follow_up_date"}
        merged = {key: getattr(current, key) for key in watched} | {
            k: v for k, v in changes.items() if k in watched
        }
        touched = {k for k in watched & set(changes) if changes[k] != getattr(current, k)}
        if touched or kind is not None:
            activity = _sync_follow_up(
                actor,
                current=current,
                merged=merged,
                kind=kind,
                date_changed="follow_up_date" in touched,
            )
            if (activity.pk if activity else None) != current.follow_up_activity_id:
                changes["follow_up_activity"] = activity
        moving = stage_value not in (None, "") and (
            _pk_of(stage_value, field="stage", message=_("Choose a stage of this pipeline."))
            != current.stage_id
            or "pipeline" in changes
        )
        move_given = {k: changes.pop(k) for k in MOVE_FIELDS if k in changes}
        if moving:
            # A form sends the probability it showed: only a different one is the user's.
            if move_given.get("probability") == current.probability:
                move_given.pop("probability")
            lost_to = move_given.get("lost_to")
            return opportunity_move(
                actor=actor,
                opportunity_id=current.pk,
                stage_id=stage_value,
                expected_version=current.version,
                probability=move_given.get("probability"),
                lost_reason=move_given.get("lost_reason"),
                lost_note=move_given.get("lost_note"),
                lost_to=lost_to.pk if lost_to is not None else None,
                also=changes,
                tags=tags,
            )
        # Same stage: the move fields are plain edits, within the stage's rules.
        if current.status != StageKind.LOST and any(
            move_given.get(k) for k in ("lost_reason", "lost_note", "lost_to")
        ):
            raise invalid({"lost_reason": [_("Only a lost opportunity has a lost reason.")]})
        if current.status == StageKind.LOST and move_given.get("lost_reason", "x") == "":
            raise invalid(
                {"lost_reason": [_("Choose why the opportunity was lost (lost reason).")]}
            )
        changes.update(move_given)
        return record_update(
            current,
            actor=actor,
            data=changes,
            expected_version=expected_version,
            tags=None if tags is None else list(tags),
        )


def opportunity_delete(*, actor: User, opportunity_id: int) -> None:
    """Delete an opportunity with its lines and bids; its planned follow-up is cancelled.
    Quotes and orders that referred to it keep existing without the link."""
    from vefa.interactions.models import Activity
    from vefa.interactions.services.activities import activity_cancel

    with transaction.atomic():
        opportunity = get_for(
            Opportunity.objects.all(), actor=actor, pk=opportunity_id, action="delete"
        )
        if opportunity.follow_up_activity_id is not None:
            planned = (
                restrict(Activity.objects.all(), actor, "change")
                .filter(pk=opportunity.follow_up_activity_id, status=ActivityStatus.PLANNED)
                .first()
            )
            if planned is not None:
                activity_cancel(actor=actor, activity_id=planned.pk)
        record_delete(opportunity, actor=actor)


# --- lines ---------------------------------------------------------------------------------

LINE_FIELDS = ("product", "description", "quantity", "unit_price", "discount_percent")


def _product(value: Any) -> Product | None:
    if value in (None, ""):
        return None
    message = _("Choose an active product.")
    found = Product.objects.filter(
        pk=_pk_of(value, field="product", message=message), is_active=True
    ).first()
    if found is None:
        raise invalid({"product": [message]})
    return found


def _line_values(data: Any, *, partial: bool, current: OpportunityLine | None) -> dict[str, Any]:
    if not isinstance(data, Mapping):
        raise invalid({"lines": [_("Expected an object of field values.")]})
    unknown = sorted(str(k) for k in data if k not in LINE_FIELDS)
    if unknown:
        raise invalid({key: [_("Unknown field.")] for key in unknown})
    values: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}
    checks: dict[str, Any] = {
        "product": _product,
        "description": lambda v: as_text(v, field="description", max_length=300),
        "quantity": lambda v: as_quantity(v),
        "unit_price": lambda v: _stored(as_money(v, field="unit_price")),
        "discount_percent": lambda v: as_percent(v, field="discount_percent"),
    }
    for key, convert in checks.items():
        if key not in data:
            continue
        try:
            values[key] = convert(data[key])
        except ValidationFailed as exc:
            for name, messages in exc.fields.items():
                errors.setdefault(name, []).extend(messages)
    if errors:
        raise invalid(errors)
    product = values.get("product", current.product if current else None)
    if not partial:
        if product is None and not values.get("description"):
            raise invalid({"description": [_("Choose a product or describe the line.")]})
        if values.get("unit_price") is None and product is None:
            raise invalid({"unit_price": [_("This field is required.")]})
        values.setdefault("quantity", Decimal(1))
    return values


def _line_total(line: OpportunityLine, currency: str) -> Decimal:
    try:
        return line_amounts(
            quantity=line.quantity,
            unit_price=line.unit_price,
            currency=currency,
            discount_percent=line.discount_percent,
        ).total
    except MoneyError as exc:
        raise invalid({"unit_price": [str(exc)]}) from None


def _line_insert(
    actor: User, opportunity: Opportunity, data: Any, *, position: int
) -> OpportunityLine:
    values = _line_values(data, partial=False, current=None)
    product: Product | None = values.get("product")
    if values.get("unit_price") is None and product is not None:
        from vefa.sales.pricing import customer_tag_ids, price_for

        found = price_for(
            product,
            currency=opportunity.currency,
            quantity=values.get("quantity", Decimal(1)),
            customer_tag_ids=customer_tag_ids(opportunity.customer_id),
        )
        if found is None:
            raise invalid({"unit_price": [_("This product has no price in this currency.")]})
        values["unit_price"] = found.unit_price
    if product is not None and not values.get("description"):
        values["description"] = product.name[:300]
    line = OpportunityLine(opportunity=opportunity, position=position, **values)
    line.total = _line_total(line, opportunity.currency)
    return record_create(line, actor=actor)


def _lines_total(opportunity: Opportunity) -> Decimal:
    total = sum(
        (x.total for x in OpportunityLine.objects.filter(opportunity=opportunity)),
        Decimal(0),
    )
    return round_money(total, opportunity.currency)


def _parent_for_change(actor: User, opportunity_id: Any) -> Opportunity:
    return get_for(Opportunity.objects.all(), actor=actor, pk=opportunity_id)


def opportunity_line_add(
    *, actor: User, opportunity_id: int, data: Mapping[str, Any]
) -> OpportunityLine:
    """Add a line (product and/or description, quantity, unit price, discount); a product
    without a unit price takes its price from the price lists."""
    with transaction.atomic():
        opportunity = _parent_for_change(actor, opportunity_id)
        count = OpportunityLine.objects.filter(opportunity=opportunity).count()
        if count >= MAX_LINES:
            raise invalid({"lines": [_("At most %(n)d lines.") % {"n": MAX_LINES}]})
        last = (
            OpportunityLine.objects.filter(opportunity=opportunity)
            .order_by("-position")
            .values_list("position", flat=True)
            .first()
        )
        position = 0 if last is None else min(last + 1, 32767)
        return _line_insert(actor, opportunity, data, position=position)


def _line_for(actor: User, line_id: Any) -> OpportunityLine:
    line = (
        restrict(OpportunityLine.objects.all(), actor, "view")
        .select_related("opportunity")
        .filter(pk=as_pk(line_id))
        .first()
    )
    if line is None:
        raise NotFound(_("Not found."))
    # The parent's lock serialises line edits with moves and edits of the opportunity.
    _parent_for_change(actor, line.opportunity_id)
    return line


def opportunity_line_update(
    *, actor: User, line_id: int, data: Mapping[str, Any]
) -> OpportunityLine:
    """Change a line's product, description, quantity, unit price or discount."""
    with transaction.atomic():
        line = _line_for(actor, line_id)
        values = _line_values(data, partial=True, current=line)
        probe = OpportunityLine(
            quantity=values.get("quantity", line.quantity),
            unit_price=values.get("unit_price", line.unit_price),
            discount_percent=values.get("discount_percent", line.discount_percent),
        )
        values["total"] = _line_total(probe, line.opportunity.currency)
        return record_update(line, actor=actor, data=values)


def opportunity_line_delete(*, actor: User, line_id: int) -> None:
    with transaction.atomic():
        line = _line_for(actor, line_id)
        record_delete(line, actor=actor)


def opportunity_amount_from_lines(
    *, actor: User, opportunity_id: int, expected_version: int | None = None
) -> Opportunity:
    """Set the amount to the sum of the lines' totals (in the opportunity's currency)."""
    with transaction.atomic():
        current = _parent_for_change(actor, opportunity_id)
        if not OpportunityLine.objects.filter(opportunity=current).exists():
            raise invalid({"lines": [_("Add a line first.")]})
        return record_update(
            current,
            actor=actor,
            data={"amount": _lines_total(current)},
            expected_version=expected_version,
        )


# --- competing bids ------------------------------------------------------------------------


def opportunity_bid_add(
    *,
    actor: User,
    opportunity_id: int,
    competitor_id: Any,
    price: Any = None,
    currency: Any = "",
    notes: Any = "",
) -> OpportunityCompetitor:
    """Record who else is bidding and at what price (a competitor appears once)."""
    competitor = _competitor(competitor_id, field="competitor")
    if competitor is None:
        raise invalid({"competitor": [_("This field is required.")]})
    amount = _stored(as_money(price, field="price", required=False))
    note = as_text(notes, field="notes", max_length=300)
    with transaction.atomic():
        opportunity = _parent_for_change(actor, opportunity_id)
        code = as_currency(currency) if currency not in (None, "") else ""
        if amount is not None and not code:
            code = opportunity.currency
        bids = OpportunityCompetitor.objects.filter(opportunity=opportunity)
        if bids.filter(competitor=competitor).exists():
            raise invalid({"competitor": [_("This competitor is already listed.")]})
        if bids.count() >= MAX_BIDS:
            raise invalid({"competitor": [_("At most %(n)d competitors.") % {"n": MAX_BIDS}]})
        bid = OpportunityCompetitor(
            opportunity=opportunity,
            competitor=competitor,
            price=amount,
            currency=code,
            notes=note,
        )
        return record_create(bid, actor=actor)


def opportunity_bid_delete(*, actor: User, bid_id: int) -> None:
    with transaction.atomic():
        bid = (
            restrict(OpportunityCompetitor.objects.all(), actor, "view")
            .filter(pk=as_pk(bid_id))
            .first()
        )
        if bid is None:
            raise NotFound(_("Not found."))
        _parent_for_change(actor, bid.opportunity_id)
        record_delete(bid, actor=actor)
