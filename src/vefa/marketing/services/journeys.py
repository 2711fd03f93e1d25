"""Journeys: a trigger, then steps of "wait so many days, then act", run daily.

Rules decided here:

* A customer is enrolled once per journey and occasion (``JourneyEnrollment`` is unique on
  them): the birthday's year, the order or ticket id, the day a customer entered a segment,
  nothing for the welcome series.
* Triggers look at what happened since the journey's last run (the day before on its first
  run), so a worker that was down catches up; birthdays within the last week are caught up
  the same way.
* A customer who entered the journey's segment is enrolled again only after a cooling-off
  period (``trigger_params.cooldown_days``, 90 days by default).
* Each step runs once: the step's effect and the move to the next step are written in one
  transaction under a lock of the enrolment row; sending is exactly-once by its own key
  (campaign, customer, occasion), awarding points by the key ``journey:<id>:<step>:<occasion>``.
* A step waits ``wait_days`` after the previous step (the first after the trigger).
* A customer who was merged into another, withdrew the journey's consent or unsubscribed
  leaves the journey (status "exited") before the next step.
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

from django.db import IntegrityError, transaction
from django.db.models import F, Max, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from vefa.accounts.access import can, can_create, restrict
from vefa.common.errors import ApplicationError, NotFound, PermissionDenied, ValidationFailed
from vefa.customers.choices import ConsentStatus
from vefa.customers.models import Consent, Customer
from vefa.marketing.choices import (
    CampaignChannel,
    CampaignObjective,
    EnrollmentStatus,
    JourneyAction,
    JourneyTrigger,
    SuppressionReason,
)
from vefa.marketing.models import (
    Campaign,
    CampaignVariant,
    Journey,
    JourneyEnrollment,
    JourneyStep,
    Segment,
    Suppression,
)
from vefa.platform.records import record_create, record_delete, record_update

if TYPE_CHECKING:
    from vefa.accounts.models import User

logger = logging.getLogger(__name__)

MAX_STEPS = 20
MAX_DAYS_BEFORE = 60
CATCH_UP_DAYS = 7
DEFAULT_COOLDOWN_DAYS = 90
LOG_LIMIT = 50
SENDING_ACTIONS = (JourneyAction.SEND_EMAIL, JourneyAction.SEND_SMS)

OBJECTIVE_OF_TRIGGER: dict[str, str] = {
    JourneyTrigger.BIRTHDAY: CampaignObjective.LOYALTY,
    JourneyTrigger.NEW_CUSTOMER: CampaignObjective.RETENTION,
    JourneyTrigger.DECLINING: CampaignObjective.WIN_BACK,
    JourneyTrigger.PURCHASE: CampaignObjective.CROSS_SELL,
    JourneyTrigger.COMPLAINT_RESOLVED: CampaignObjective.RETENTION,
}


def _invalid(fields: dict[str, str]) -> ValidationFailed:
    return ValidationFailed(
        _("Please correct the errors below."),
        fields={key: [message] for key, message in fields.items()},
    )


def _int_or_none(value: Any) -> int | None:
    if value in (None, ""):
        return None
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return None


# --- writing journeys ------------------------------------------------------------------------


def clean_trigger_params(*, actor: User, trigger: str, params: Any) -> dict[str, Any]:
    """The trigger's settings, validated; unknown keys are dropped."""
    if trigger not in JourneyTrigger.values:
        raise _invalid({"trigger": _("Choose a valid value.")})
    raw = params if isinstance(params, dict) else {}
    if trigger == JourneyTrigger.BIRTHDAY:
        days = _int_or_none(raw.get("days_before", 0) or 0)
        if days is None or not 0 <= days <= MAX_DAYS_BEFORE:
            raise _invalid(
                {"days_before": _("Enter a number from 0 to %(n)d.") % {"n": MAX_DAYS_BEFORE}}
            )
        return {"days_before": days}
    if trigger == JourneyTrigger.DECLINING:
        segment_id = _int_or_none(raw.get("segment"))
        segment = (
            restrict(Segment.objects.filter(is_archived=False), actor).filter(pk=segment_id).first()
            if segment_id is not None
            else None
        )
        if segment is None:
            raise _invalid({"segment": _("Choose the segment customers enter.")})
        cooldown = _int_or_none(raw.get("cooldown_days", DEFAULT_COOLDOWN_DAYS))
        if cooldown is None or not 1 <= cooldown <= 3650:
            raise _invalid({"cooldown_days": _("Enter a number from 1 to 3650.")})
        return {"segment": segment.pk, "cooldown_days": cooldown}
    if trigger == JourneyTrigger.PURCHASE:
        from vefa.sales.models import ProductCategory

        category_id = _int_or_none(raw.get("category"))
        if raw.get("category") not in (None, "") and (
            category_id is None or not ProductCategory.objects.filter(pk=category_id).exists()
        ):
            raise _invalid({"category": _("Choose a valid product category.")})
        return {"category": category_id} if category_id is not None else {}
    return {}


def _journey_for(actor: User, journey_id: Any, action: str = "change") -> Journey:
    pk = _int_or_none(journey_id)
    journey = (
        restrict(Journey.objects.all(), actor, action).filter(pk=pk).first()  # type: ignore[arg-type]
        if pk is not None
        else None
    )
    if journey is None:
        raise NotFound(_("No such journey."))
    return journey


def journey_create(
    *,
    actor: User,
    name: str,
    trigger: str,
    trigger_params: dict[str, Any] | None = None,
    description: str = "",
    purpose: str | None = None,
) -> Journey:
    """Create an inactive journey owned by the actor (add its steps, then activate it)."""
    if not can_create(actor, Journey):
        raise PermissionDenied(_("You may not create journeys."))
    params = clean_trigger_params(actor=actor, trigger=trigger, params=trigger_params or {})
    journey = Journey(
        name=str(name or "").strip(),
        description=str(description or "").strip(),
        trigger=trigger,
        trigger_params=params,
        owner=actor,
        team=getattr(actor, "team", None),
        is_active=False,
    )
    if purpose:
        journey.purpose = purpose
    return record_create(journey, actor=actor)


def journey_update(*, actor: User, journey_id: int, data: dict[str, Any]) -> Journey:
    """Change a journey's name, description, consent purpose or trigger settings.

    The trigger itself is fixed once customers are enrolled (their occasions mean it).
    """
    allowed = {"name", "description", "purpose", "trigger", "trigger_params"}
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise _invalid({key: _("Unknown field.") for key in unknown})
    with transaction.atomic():
        journey = _journey_for(actor, journey_id)
        values = dict(data)
        trigger = values.get("trigger", journey.trigger)
        if trigger != journey.trigger and journey.enrollments.exists():
            raise _invalid({"trigger": _("Customers are on this journey: the trigger is fixed.")})
        if "trigger" in values or "trigger_params" in values:
            values["trigger_params"] = clean_trigger_params(
                actor=actor,
                trigger=trigger,
                params=values.get("trigger_params", journey.trigger_params),
            )
        for key in ("name", "description"):
            if key in values:
                values[key] = str(values[key] or "").strip()
        if trigger != journey.trigger:
            bad = journey.steps.filter(action=JourneyAction.SEND_SURVEY).exists()
            if bad and trigger != JourneyTrigger.COMPLAINT_RESOLVED:
                raise _invalid({"trigger": _("Survey steps only follow a resolved complaint.")})
        return record_update(journey, actor=actor, data=values)


def journey_set_active(*, actor: User, journey_id: int, active: bool) -> Journey:
    """Switch a journey on (it needs at least one step, each sending step its message) or off."""
    with transaction.atomic():
        journey = _journey_for(actor, journey_id)
        if active:
            steps = list(journey.steps.all())
            if not steps:
                raise _invalid({"is_active": _("Add at least one step first.")})
            for step in steps:
                if step.action in SENDING_ACTIONS and not _message_ready(step):
                    raise _invalid(
                        {
                            "is_active": _(
                                "Step %(n)d has no message to send: write it in its campaign."
                            )
                            % {"n": step.position + 1}
                        }
                    )
        return record_update(journey, actor=actor, data={"is_active": bool(active)})


def _message_ready(step: JourneyStep) -> bool:
    """Whether a sending step's campaign has a message in its channel with some text."""
    if step.campaign_id is None:
        return False
    return CampaignVariant.objects.filter(
        campaign_id=step.campaign_id,
        template__channel=F("campaign__channel"),
        template__versions__isnull=False,
    ).exists()


def journey_delete(*, actor: User, journey_id: int) -> None:
    """Delete a journey that never enrolled anyone (otherwise switch it off)."""
    with transaction.atomic():
        journey = _journey_for(actor, journey_id)
        if journey.enrollments.exists():
            raise _invalid({"__all__": _("Customers were on this journey: switch it off instead.")})
        record_delete(journey, actor=actor)


def _clean_step(
    journey: Journey,
    *,
    action: str,
    wait_days: Any,
    points: Any,
    task_subject: Any,
) -> dict[str, Any]:
    errors: dict[str, str] = {}
    if action not in JourneyAction.values:
        errors["action"] = _("Choose a valid value.")
    wait = _int_or_none(wait_days if wait_days not in (None, "") else 0)
    if wait is None or not 0 <= wait <= 3650:
        errors["wait_days"] = _("Enter a number from 0 to 3650.")
    value = _int_or_none(points)
    subject = str(task_subject or "").strip()
    if action == JourneyAction.AWARD_POINTS and (value is None or not 1 <= value <= 1_000_000):
        errors["points"] = _("Enter the points to award (1 to 1,000,000).")
    if action == JourneyAction.CALL_TASK and not subject:
        errors["task_subject"] = _("Enter what the call is about.")
    if len(subject) > 300:
        errors["task_subject"] = _("At most %(n)d characters.") % {"n": 300}
    if action == JourneyAction.SEND_SURVEY and journey.trigger != JourneyTrigger.COMPLAINT_RESOLVED:
        errors["action"] = _("A survey is only sent after a resolved complaint.")
    if errors:
        raise _invalid(errors)
    return {
        "action": action,
        "wait_days": wait,
        "points": value if action == JourneyAction.AWARD_POINTS else None,
        "task_subject": subject if action == JourneyAction.CALL_TASK else "",
    }


def _step_campaign(actor: User, journey: Journey, action: str, position: int) -> Campaign:
    channel = CampaignChannel.SMS if action == JourneyAction.SEND_SMS else CampaignChannel.EMAIL
    campaign = Campaign(
        name=_("%(journey)s — step %(n)d") % {"journey": journey.name, "n": position + 1},
        objective=OBJECTIVE_OF_TRIGGER.get(journey.trigger, CampaignObjective.RETENTION),
        channel=channel,
        purpose=journey.purpose,
        journey=journey,
        control_percent=0,
        owner_id=journey.owner_id,
        team_id=journey.team_id,
    )
    return record_create(campaign, actor=actor)


def step_add(
    *,
    actor: User,
    journey_id: int,
    action: str,
    wait_days: Any = 0,
    points: Any = None,
    task_subject: str = "",
) -> JourneyStep:
    """Add a step at the end; a sending step gets its own campaign (its message, tracking and
    report), linked to the journey."""
    with transaction.atomic():
        journey = _journey_for(actor, journey_id)
        Journey.objects.select_for_update().filter(pk=journey.pk).first()
        values = _clean_step(
            journey, action=action, wait_days=wait_days, points=points, task_subject=task_subject
        )
        if journey.steps.count() >= MAX_STEPS:
            raise _invalid({"action": _("A journey has at most %(n)d steps.") % {"n": MAX_STEPS}})
        last = journey.steps.aggregate(last=Max("position"))["last"]
        position = 0 if last is None else last + 1
        campaign = (
            _step_campaign(actor, journey, action, position) if action in SENDING_ACTIONS else None
        )
        step = JourneyStep(journey=journey, position=position, campaign=campaign, **values)
        return record_create(step, actor=actor)


def _step_for(actor: User, step_id: Any) -> JourneyStep:
    pk = _int_or_none(step_id)
    step = (
        restrict(JourneyStep.objects.select_related("journey"), actor, "change")
        .filter(pk=pk)
        .first()
        if pk is not None
        else None
    )
    if step is None:
        raise NotFound(_("No such step."))
    return step


def step_update(
    *,
    actor: User,
    step_id: int,
    wait_days: Any = 0,
    points: Any = None,
    task_subject: str = "",
) -> JourneyStep:
    """Change a step's wait and settings (its action stays: delete and add to change it)."""
    with transaction.atomic():
        step = _step_for(actor, step_id)
        values = _clean_step(
            step.journey,
            action=step.action,
            wait_days=wait_days,
            points=points,
            task_subject=task_subject,
        )
        values.pop("action")
        return record_update(step, actor=actor, data=values)


def step_delete(*, actor: User, step_id: int) -> None:
    """Remove a step; later steps move up. Not while customers are on the journey."""
    with transaction.atomic():
        step = _step_for(actor, step_id)
        journey = step.journey
        if journey.enrollments.filter(status=EnrollmentStatus.ACTIVE).exists():
            raise _invalid(
                {"__all__": _("Customers are on this journey: switch it off and let them finish.")}
            )
        position = step.position
        record_delete(step, actor=actor)
        for later in journey.steps.filter(position__gt=position).order_by("position"):
            record_update(later, actor=actor, data={"position": later.position - 1})


# --- running ---------------------------------------------------------------------------------


@dataclass
class RunResult:
    enrolled: int = 0
    steps_run: int = 0
    completed: int = 0
    exited: int = 0
    deferred: int = 0
    per_journey: dict[int, int] = field(default_factory=dict)


def birthday_matches(days: Iterable[datetime.date]) -> Q:
    from vefa.marketing.services.loyalty import birthdays_on

    condition = Q(pk__in=[])
    for day in days:
        condition |= birthdays_on(day)
    return condition


def _birthday_in(year: int, born: datetime.date) -> datetime.date:
    try:
        return born.replace(year=year)
    except ValueError:  # 29 February in a year without one
        return datetime.date(year, 2, 28)


def _active_customers() -> Any:
    return Customer.objects.filter(merged_into__isnull=True)


def _candidates(
    journey: Journey, now: datetime.datetime
) -> list[tuple[int, str, datetime.datetime]]:
    """(customer id, occasion, time the trigger fired) of the customers to enrol now."""
    since = journey.last_run_at or (now - datetime.timedelta(days=1))
    params = journey.trigger_params or {}
    trigger = journey.trigger
    found: list[tuple[int, str, datetime.datetime]] = []
    if trigger == JourneyTrigger.BIRTHDAY:
        days_before = int(params.get("days_before") or 0)
        today = timezone.localdate(now)
        first = today
        if journey.last_run_at is not None:
            first = max(
                timezone.localdate(journey.last_run_at) + datetime.timedelta(days=1),
                today - datetime.timedelta(days=CATCH_UP_DAYS - 1),
            )
        days = []
        day = first
        while day <= today:
            days.append(day + datetime.timedelta(days=days_before))
            day += datetime.timedelta(days=1)
        if not days:
            return []
        rows = _active_customers().filter(birthday_matches(days)).values_list("pk", "birth_date")
        for pk, born in rows.iterator(chunk_size=1000):
            for target in days:
                if _birthday_in(target.year, born) == target:
                    found.append((pk, str(target.year), now))
                    break
    elif trigger == JourneyTrigger.NEW_CUSTOMER:
        rows = (
            _active_customers()
            .filter(
                Q(became_customer_at__gt=since, became_customer_at__lte=now)
                | Q(
                    became_customer_at__isnull=True,
                    lifecycle_stage="customer",
                    created_at__gt=since,
                )
            )
            .values_list("pk", flat=True)
        )
        found = [(pk, "", now) for pk in rows.iterator(chunk_size=1000)]
    elif trigger == JourneyTrigger.DECLINING:
        found = _segment_entries(journey, now)
    elif trigger == JourneyTrigger.PURCHASE:
        from vefa.sales.models import Order

        orders = Order.objects.filter(
            Q(paid_at__gt=since, paid_at__lte=now)
            | Q(delivered_at__gt=since, delivered_at__lte=now),
            status__in=("delivered", "invoiced", "paid"),
            customer__merged_into__isnull=True,
        )
        if params.get("category"):
            orders = orders.filter(lines__product__category_id=params["category"])
        found = [
            (customer_id, str(pk), now)
            for pk, customer_id in orders.values_list("pk", "customer_id").distinct()
        ]
    elif trigger == JourneyTrigger.COMPLAINT_RESOLVED:
        from vefa.service.choices import TicketType
        from vefa.service.models import Ticket

        tickets = Ticket.objects.filter(
            type=TicketType.COMPLAINT,
            resolved_at__gt=since,
            resolved_at__lte=now,
            customer__isnull=False,
            customer__merged_into__isnull=True,
        ).values_list("pk", "customer_id")
        found = [(customer_id, str(pk), now) for pk, customer_id in tickets]
    return found


def _segment_entries(
    journey: Journey, now: datetime.datetime
) -> list[tuple[int, str, datetime.datetime]]:
    """Customers now in the journey's segment and not enrolled within the cooling-off period."""
    from vefa.marketing.selectors.segments import segment_customers

    params = journey.trigger_params or {}
    segment_id = _int_or_none(params.get("segment"))
    if segment_id is None:
        return []
    segment = Segment.objects.filter(pk=segment_id, is_archived=False).first()
    if segment is None:
        return []
    cooldown = int(params.get("cooldown_days") or DEFAULT_COOLDOWN_DAYS)
    recent = JourneyEnrollment.objects.filter(
        journey=journey, enrolled_at__gt=now - datetime.timedelta(days=cooldown)
    ).values("customer_id")
    members = (
        segment_customers(segment)
        .filter(merged_into__isnull=True)
        .exclude(pk__in=recent)
        .values_list("pk", flat=True)
    )
    occasion = timezone.localdate(now).isoformat()
    return [(pk, occasion, now) for pk in members.iterator(chunk_size=1000)]


def _first_wait(journey: Journey) -> int:
    first = journey.steps.order_by("position").values_list("wait_days", flat=True).first()
    return int(first or 0)


def enroll(journey: Journey, now: datetime.datetime) -> int:
    """Enrol the journey's new candidates; an occasion already enrolled is skipped."""
    candidates = _candidates(journey, now)
    if not candidates:
        return 0
    wait = _first_wait(journey)
    existing = set(
        JourneyEnrollment.objects.filter(
            journey=journey, customer_id__in=[c for c, _o, _t in candidates]
        ).values_list("customer_id", "occasion")
    )
    rows = [
        JourneyEnrollment(
            journey=journey,
            customer_id=customer_id,
            occasion=occasion,
            enrolled_at=fired,
            next_run_at=fired + datetime.timedelta(days=wait),
            log=[{"at": fired.isoformat(), "event": "enrolled"}],
        )
        for customer_id, occasion, fired in candidates
        if (customer_id, occasion) not in existing
    ]
    if not rows:
        return 0
    created = JourneyEnrollment.objects.bulk_create(rows, batch_size=500, ignore_conflicts=True)
    return len(created)


def _exit_reason(enrollment: JourneyEnrollment, customer: Customer, journey: Journey) -> str:
    if customer.merged_into_id is not None:
        return "merged"
    latest: dict[str, str] = {}
    for channel, status in (
        Consent.objects.filter(customer_id=customer.pk, purpose=journey.purpose)
        .order_by("channel", "-recorded_at", "-id")
        .values_list("channel", "status")
    ):
        latest.setdefault(channel, status)
    if latest and all(status == ConsentStatus.WITHDRAWN for status in latest.values()):
        return "consent_withdrawn"
    if Suppression.objects.filter(
        customer_id=customer.pk, reason=SuppressionReason.UNSUBSCRIBED
    ).exists():
        return "unsubscribed"
    return ""


class StepDeferred(Exception):
    """The step cannot run yet (its sending service is not available): try on the next run."""


def _owner_of(customer: Customer, journey: Journey) -> User | None:
    return cast("User | None", customer.owner or journey.owner)


def _run_action(
    step: JourneyStep, enrollment: JourneyEnrollment, customer: Customer, journey: Journey
) -> str:
    """Do a step's action; returns what was done (for the enrolment's log)."""
    if step.action in SENDING_ACTIONS:
        if step.campaign_id is None:
            return "no_message"
        try:
            from vefa.marketing.services.sending import send_to_customers
        except ImportError as exc:
            raise StepDeferred from exc
        try:
            with transaction.atomic():
                queued = send_to_customers(
                    campaign_id=step.campaign_id,
                    customer_ids=[customer.pk],
                    occasion=enrollment.occasion,
                    not_before=None,
                )
        except ApplicationError as exc:
            # The message is not ready (its template was removed …): wait for it.
            logger.warning("journey %s: step %s cannot send: %s", journey.pk, step.pk, exc.message)
            raise StepDeferred from exc
        return "queued" if queued else "not_sent"
    if step.action == JourneyAction.AWARD_POINTS:
        from vefa.marketing.services.loyalty import points_award

        entry = points_award(
            customer_id=customer.pk,
            points=int(step.points or 0),
            key=f"journey:{journey.pk}:{step.position}:{enrollment.occasion}",
            description=journey.name,
        )
        return "awarded" if entry is not None else "no_programme"
    if step.action == JourneyAction.CALL_TASK:
        from vefa.interactions.choices import ActivityKind
        from vefa.interactions.services.activities import activity_create

        owner = _owner_of(customer, journey)
        if owner is None or not owner.is_active:
            return "no_owner"
        try:
            with transaction.atomic():
                activity_create(
                    actor=owner,
                    kind=ActivityKind.CALL,
                    subject=step.task_subject or journey.name,
                    owner_id=owner.pk,
                    customer_id=customer.pk,
                    due_at=timezone.now() + datetime.timedelta(days=1),
                    description=_("From the journey “%(name)s”.") % {"name": journey.name},
                )
        except ApplicationError as exc:
            logger.warning("journey %s: call task not created: %s", journey.pk, exc.message)
            return "task_refused"
        return "task_created"
    if step.action == JourneyAction.SEND_SURVEY:
        from vefa.service.services.surveys import csat_request

        if journey.trigger != JourneyTrigger.COMPLAINT_RESOLVED or not enrollment.occasion:
            return "no_ticket"
        invitation = csat_request(ticket_id=int(enrollment.occasion))
        return "survey_sent" if invitation is not None else "no_address"
    return "unknown_action"


def _append_log(enrollment: JourneyEnrollment, entry: dict[str, Any]) -> list[dict[str, Any]]:
    log = list(enrollment.log or [])
    log.append(entry)
    return log[-LOG_LIMIT:]


def advance(enrollment_id: int, now: datetime.datetime) -> tuple[int, str]:
    """Run the enrolment's due steps; returns (steps run, final status).

    The enrolment row is locked while its step runs; the step's effect and the move to the
    next step commit together, so a rerun (or a second worker) never repeats a step.
    """
    ran = 0
    while True:
        with transaction.atomic():
            enrollment = (
                JourneyEnrollment.objects.select_for_update()
                .filter(pk=enrollment_id, status=EnrollmentStatus.ACTIVE, next_run_at__lte=now)
                .first()
            )
            if enrollment is None:
                status = (
                    JourneyEnrollment.objects.filter(pk=enrollment_id)
                    .values_list("status", flat=True)
                    .first()
                )
                return ran, str(status or "")
            journey = Journey.objects.get(pk=enrollment.journey_id)
            customer = Customer.objects.select_related("owner").get(pk=enrollment.customer_id)
            reason = _exit_reason(enrollment, customer, journey)
            if reason:
                enrollment.status = EnrollmentStatus.EXITED
                enrollment.finished_at = now
                enrollment.next_run_at = None
                enrollment.log = _append_log(
                    enrollment, {"at": now.isoformat(), "event": "exited", "reason": reason}
                )
                enrollment.save(update_fields=["status", "finished_at", "next_run_at", "log"])
                return ran, EnrollmentStatus.EXITED
            steps = list(journey.steps.order_by("position"))
            step = next((s for s in steps if s.position >= enrollment.next_position), None)
            if step is None:
                enrollment.status = EnrollmentStatus.COMPLETED
                enrollment.finished_at = now
                enrollment.next_run_at = None
                enrollment.save(update_fields=["status", "finished_at", "next_run_at"])
                return ran, EnrollmentStatus.COMPLETED
            result = _run_action(step, enrollment, customer, journey)
            following = next((s for s in steps if s.position > step.position), None)
            enrollment.next_position = step.position + 1
            entry = {
                "at": now.isoformat(),
                "event": "step",
                "position": step.position,
                "action": step.action,
                "result": result,
            }
            enrollment.log = _append_log(enrollment, entry)
            if following is None:
                enrollment.status = EnrollmentStatus.COMPLETED
                enrollment.finished_at = now
                enrollment.next_run_at = None
            else:
                enrollment.next_run_at = now + datetime.timedelta(days=following.wait_days)
            enrollment.save(
                update_fields=["status", "finished_at", "next_run_at", "next_position", "log"]
            )
            ran += 1
            if following is None:
                return ran, EnrollmentStatus.COMPLETED


def journeys_run(*, now: datetime.datetime | None = None) -> RunResult:
    """Enrol and advance every active journey's customers; safe to run any number of times."""
    now = now or timezone.now()
    result = RunResult()
    for journey in Journey.objects.filter(is_active=True).order_by("id"):
        try:
            enrolled = enroll(journey, now)
        except IntegrityError:
            logger.exception("journey %s: enrolment failed", journey.pk)
            continue
        result.enrolled += enrolled
        result.per_journey[journey.pk] = enrolled
        due = (
            JourneyEnrollment.objects.filter(
                journey=journey, status=EnrollmentStatus.ACTIVE, next_run_at__lte=now
            )
            .order_by("next_run_at", "id")
            .values_list("pk", flat=True)
        )
        for enrollment_id in list(due):
            try:
                ran, status = advance(enrollment_id, now)
            except StepDeferred:
                result.deferred += 1
                continue
            except Exception:
                logger.exception("journey %s: enrolment %s failed", journey.pk, enrollment_id)
                continue
            result.steps_run += ran
            if status == EnrollmentStatus.COMPLETED:
                result.completed += 1
            elif status == EnrollmentStatus.EXITED:
                result.exited += 1
        Journey.objects.filter(pk=journey.pk).update(last_run_at=now)
    return result


def enrollment_exit(*, actor: User, enrollment_id: int) -> JourneyEnrollment:
    """Take a customer off a journey by hand."""
    with transaction.atomic():
        enrollment = (
            JourneyEnrollment.objects.select_for_update()
            .select_related("journey")
            .filter(pk=enrollment_id)
            .first()
        )
        if enrollment is None or not can(actor, "change", enrollment.journey):
            raise NotFound(_("No such enrolment."))
        if enrollment.status == EnrollmentStatus.ACTIVE:
            now = timezone.now()
            enrollment.status = EnrollmentStatus.EXITED
            enrollment.finished_at = now
            enrollment.next_run_at = None
            enrollment.log = _append_log(
                enrollment,
                {"at": now.isoformat(), "event": "exited", "reason": "by_hand", "by": actor.pk},
            )
            enrollment.save(update_fields=["status", "finished_at", "next_run_at", "log"])
    return enrollment
