"""Reads of journeys for a person: the list, one journey with its steps, counts and log."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db.models import Count, Q

from vefa.accounts.access import restrict
from vefa.common.errors import NotFound
from vefa.common.paging import Page, keyset_page
from vefa.marketing.choices import EnrollmentStatus
from vefa.marketing.models import Journey, JourneyEnrollment, JourneyStep

if TYPE_CHECKING:
    from vefa.accounts.models import User

MAX_PAGE = 100


def journey_queryset(actor: User, action: str = "view") -> Any:
    return restrict(Journey.objects.all(), actor, action)  # type: ignore[arg-type]


def journey_get(*, actor: User, pk: Any, action: str = "view") -> Journey:
    """One journey the actor may see (not found and not allowed look the same)."""
    try:
        key = int(pk)
    except (TypeError, ValueError):
        raise NotFound(_no_journey()) from None
    journey = journey_queryset(actor, action).select_related("owner").filter(pk=key).first()
    if journey is None:
        raise NotFound(_no_journey())
    return journey


def _no_journey() -> str:
    from django.utils.translation import gettext as _

    return _("No such journey.")


def journey_list(
    *,
    actor: User,
    active: str = "",
    trigger: str = "",
    query: str = "",
    cursor: str | None = None,
    limit: int = 25,
) -> Page[Journey]:
    """Journeys by name, optionally only active or inactive ones, or of one trigger."""
    qs = journey_queryset(actor).select_related("owner")
    if active == "true":
        qs = qs.filter(is_active=True)
    elif active == "false":
        qs = qs.filter(is_active=False)
    if trigger:
        qs = qs.filter(trigger=trigger)
    text = (query or "").strip()[:100]
    if text:
        qs = qs.filter(name__icontains=text)
    size = max(1, min(int(limit or 25), MAX_PAGE))
    return keyset_page(qs, ordering="name", cursor=cursor, size=size)


def journey_steps(journey: Journey) -> list[JourneyStep]:
    return list(journey.steps.select_related("campaign").order_by("position"))


@dataclass(frozen=True)
class StepCount:
    step: JourneyStep
    waiting: int
    done: int


@dataclass(frozen=True)
class JourneyFigures:
    active: int
    completed: int
    exited: int
    steps: list[StepCount]


def journey_figures(journey: Journey) -> JourneyFigures:
    """Enrolments by status, and per step how many wait for it and how many passed it."""
    by_status = dict(
        JourneyEnrollment.objects.filter(journey=journey)
        .values_list("status")
        .annotate(n=Count("id"))
        .values_list("status", "n")
    )
    steps = journey_steps(journey)
    waiting = dict(
        JourneyEnrollment.objects.filter(journey=journey, status=EnrollmentStatus.ACTIVE)
        .values_list("next_position")
        .annotate(n=Count("id"))
        .values_list("next_position", "n")
    )
    counts = []
    for step in steps:
        done = JourneyEnrollment.objects.filter(
            Q(next_position__gt=step.position), journey=journey
        ).count()
        counts.append(StepCount(step=step, waiting=int(waiting.get(step.position, 0)), done=done))
    return JourneyFigures(
        active=int(by_status.get(EnrollmentStatus.ACTIVE, 0)),
        completed=int(by_status.get(EnrollmentStatus.COMPLETED, 0)),
        exited=int(by_status.get(EnrollmentStatus.EXITED, 0)),
        steps=counts,
    )


def journey_enrollments(
    *, actor: User, journey: Journey, status: str = "", cursor: str | None = None, limit: int = 25
) -> Page[JourneyEnrollment]:
    """The journey's enrolments, latest first, of the customers the actor may see."""
    from vefa.customers.selectors import visible_customers

    qs = JourneyEnrollment.objects.filter(
        journey=journey, customer__in=visible_customers(actor).values("pk")
    ).select_related("customer")
    if status in EnrollmentStatus.values:
        qs = qs.filter(status=status)
    size = max(1, min(int(limit or 25), MAX_PAGE))
    return keyset_page(qs, ordering="-enrolled_at", cursor=cursor, size=size)


def _event_labels() -> dict[str, str]:
    from django.utils.translation import gettext as _

    return {
        "enrolled": _("Enrolled"),
        "queued": _("Message queued"),
        "not_sent": _("Message not sent (consent, cap or address)"),
        "no_message": _("No message to send"),
        "awarded": _("Points awarded"),
        "no_programme": _("No active loyalty programme"),
        "task_created": _("Call task created"),
        "task_refused": _("Call task could not be created"),
        "no_owner": _("No owner for the call task"),
        "survey_sent": _("Survey sent"),
        "no_address": _("No e-mail address for the survey"),
        "no_ticket": _("No complaint to survey"),
        "merged": _("Left: merged into another customer"),
        "consent_withdrawn": _("Left: consent withdrawn"),
        "unsubscribed": _("Left: unsubscribed"),
        "by_hand": _("Left: taken off by hand"),
    }


def describe_last_event(enrollment: JourneyEnrollment) -> str:
    """The enrolment's last log entry in words."""
    log = enrollment.log or []
    if not log or not isinstance(log[-1], dict):
        return ""
    last = log[-1]
    labels = _event_labels()
    code = str(last.get("result") or last.get("reason") or last.get("event") or "")
    return labels.get(code, code)
