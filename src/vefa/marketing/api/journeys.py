"""API of the journeys under /api/v1/marketing/journeys (conventions in ``vefa.common.api``).

Marketers and administrators keep journeys (``POLICIES["marketing.journey"]``); sales
managers and read-only users read them.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema
from pydantic import Field

from vefa.common.api import API_ERRORS as ERRORS
from vefa.common.api import (
    actor_of,
    clamp_limit,
    create_response,
    dump,
    hidden_if_denied,
    json_response,
    page_json,
    page_out,
)
from vefa.common.errors import NotFound
from vefa.customers.choices import ConsentPurpose
from vefa.marketing.choices import EnrollmentStatus, JourneyAction, JourneyTrigger
from vefa.marketing.selectors import journeys as selectors
from vefa.marketing.services import journeys as services

router = Router(tags=["marketing"])


class JourneyIn(Schema):
    name: str = Field(max_length=200)
    description: str = Field(default="", max_length=5000)
    trigger: JourneyTrigger
    trigger_params: dict[str, Any] = Field(
        default_factory=dict,
        description='{"days_before": n} (birthday), {"segment": id, "cooldown_days": n} '
        '(entering a segment), {"category": id} (purchase in a category).',
    )
    purpose: ConsentPurpose = ConsentPurpose.MARKETING


class JourneyPatch(Schema):
    name: str | None = Field(default=None, max_length=200)
    description: str | None = Field(default=None, max_length=5000)
    trigger: JourneyTrigger | None = None
    trigger_params: dict[str, Any] | None = None
    purpose: ConsentPurpose | None = None


class StepIn(Schema):
    action: JourneyAction
    wait_days: int = Field(default=0, ge=0, le=3650)
    points: int | None = Field(default=None, ge=1, le=1_000_000)
    task_subject: str = Field(default="", max_length=300)


class StepPatch(Schema):
    wait_days: int = Field(default=0, ge=0, le=3650)
    points: int | None = Field(default=None, ge=1, le=1_000_000)
    task_subject: str = Field(default="", max_length=300)


class StepOut(Schema):
    id: int
    position: int
    wait_days: int
    action: str
    campaign_id: int | None
    points: int | None
    task_subject: str


class JourneyOut(Schema):
    id: int
    name: str
    description: str
    trigger: str
    trigger_params: dict[str, Any]
    purpose: str
    is_active: bool
    owner_id: int | None
    last_run_at: datetime.datetime | None
    steps: list[StepOut]
    version: int
    updated_at: datetime.datetime

    @staticmethod
    def resolve_steps(obj: Any) -> list[StepOut]:
        return [StepOut.from_orm(step) for step in obj.steps.order_by("position")]


class JourneyPageOut(Schema):
    items: list[JourneyOut]
    next_cursor: str | None
    previous_cursor: str | None


class EnrollmentOut(Schema):
    id: int
    customer_id: int
    occasion: str
    status: str
    next_position: int
    next_run_at: datetime.datetime | None
    enrolled_at: datetime.datetime
    finished_at: datetime.datetime | None
    log: list[dict[str, Any]]


class EnrollmentPageOut(Schema):
    items: list[EnrollmentOut]
    next_cursor: str | None
    previous_cursor: str | None


class StepCountOut(Schema):
    step_id: int
    position: int
    waiting: int
    passed: int


class FiguresOut(Schema):
    active: int
    completed: int
    exited: int
    steps: list[StepCountOut]


class ActiveIn(Schema):
    active: bool


def _fresh(request: HttpRequest, pk: int) -> HttpResponse:
    journey = selectors.journey_get(actor=actor_of(request), pk=pk)
    return json_response(dump(JourneyOut, journey), instance=journey)


@router.get("/journeys", response={200: JourneyPageOut, **ERRORS}, url_name="marketing_journeys")
def journey_list(
    request: HttpRequest,
    q: str = Query("", max_length=100),
    trigger: JourneyTrigger | None = None,
    active: bool | None = None,
    cursor: str | None = None,
    limit: int | None = Query(None, ge=1),
) -> HttpResponse:
    """Journeys by name."""
    page = selectors.journey_list(
        actor=actor_of(request),
        query=q,
        trigger=str(trigger or ""),
        active="" if active is None else ("true" if active else "false"),
        cursor=cursor,
        limit=clamp_limit(limit),
    )
    return json_response(page_json(page_out(page, JourneyOut)))


@router.post("/journeys", response={201: JourneyOut, **ERRORS}, url_name="marketing_journey_create")
def journey_create(request: HttpRequest, payload: JourneyIn) -> HttpResponse:
    """A new journey, switched off until it has steps and is activated."""
    actor = actor_of(request)

    def create() -> Any:
        journey = services.journey_create(
            actor=actor,
            name=payload.name,
            description=payload.description,
            trigger=str(payload.trigger),
            trigger_params=payload.trigger_params,
            purpose=str(payload.purpose),
        )
        return selectors.journey_get(actor=actor, pk=journey.pk)

    return create_response(
        request,
        create=create,
        schema=JourneyOut,
        location=lambda obj: reverse("api:marketing_journey_detail", args=[obj.pk]),
    )


@router.get(
    "/journeys/{journey_id}",
    response={200: JourneyOut, **ERRORS},
    url_name="marketing_journey_detail",
)
def journey_detail(request: HttpRequest, journey_id: int) -> HttpResponse:
    return _fresh(request, journey_id)


@router.patch(
    "/journeys/{journey_id}",
    response={200: JourneyOut, **ERRORS},
    url_name="marketing_journey_update",
)
def journey_update(request: HttpRequest, journey_id: int, payload: JourneyPatch) -> HttpResponse:
    """Change the name, description, consent purpose or trigger settings."""
    data = {
        key: (str(value) if key in ("trigger", "purpose") else value)
        for key, value in payload.model_dump(exclude_unset=True).items()
        if value is not None
    }
    with hidden_if_denied():
        services.journey_update(actor=actor_of(request), journey_id=journey_id, data=data)
    return _fresh(request, journey_id)


@router.post(
    "/journeys/{journey_id}/active",
    response={200: JourneyOut, **ERRORS},
    url_name="marketing_journey_active",
)
def journey_active(request: HttpRequest, journey_id: int, payload: ActiveIn) -> HttpResponse:
    """Switch the journey on (``{"active": true}``) or off."""
    with hidden_if_denied():
        services.journey_set_active(
            actor=actor_of(request), journey_id=journey_id, active=payload.active
        )
    return _fresh(request, journey_id)


@router.post(
    "/journeys/{journey_id}/steps",
    response={200: JourneyOut, **ERRORS},
    url_name="marketing_journey_step_add",
)
def step_add(request: HttpRequest, journey_id: int, payload: StepIn) -> HttpResponse:
    """Add a step at the end; a sending step creates its own campaign (``campaign_id``)."""
    with hidden_if_denied():
        services.step_add(
            actor=actor_of(request),
            journey_id=journey_id,
            action=str(payload.action),
            wait_days=payload.wait_days,
            points=payload.points,
            task_subject=payload.task_subject,
        )
    return _fresh(request, journey_id)


@router.patch(
    "/journeys/{journey_id}/steps/{step_id}",
    response={200: JourneyOut, **ERRORS},
    url_name="marketing_journey_step_update",
)
def step_update(
    request: HttpRequest, journey_id: int, step_id: int, payload: StepPatch
) -> HttpResponse:
    journey = selectors.journey_get(actor=actor_of(request), pk=journey_id)
    if not journey.steps.filter(pk=step_id).exists():
        raise NotFound(_("No such step."))
    with hidden_if_denied():
        services.step_update(
            actor=actor_of(request),
            step_id=step_id,
            wait_days=payload.wait_days,
            points=payload.points,
            task_subject=payload.task_subject,
        )
    return _fresh(request, journey_id)


@router.delete(
    "/journeys/{journey_id}/steps/{step_id}",
    response={200: JourneyOut, **ERRORS},
    url_name="marketing_journey_step_delete",
)
def step_delete(request: HttpRequest, journey_id: int, step_id: int) -> HttpResponse:
    journey = selectors.journey_get(actor=actor_of(request), pk=journey_id)
    if not journey.steps.filter(pk=step_id).exists():
        raise NotFound(_("No such step."))
    with hidden_if_denied():
        services.step_delete(actor=actor_of(request), step_id=step_id)
    return _fresh(request, journey_id)


@router.get(
    "/journeys/{journey_id}/figures",
    response={200: FiguresOut, **ERRORS},
    url_name="marketing_journey_figures",
)
def journey_figures(request: HttpRequest, journey_id: int) -> HttpResponse:
    """Enrolments by status, and per step how many wait for it and how many passed it."""
    journey = selectors.journey_get(actor=actor_of(request), pk=journey_id)
    figures = selectors.journey_figures(journey)
    return json_response(
        {
            "active": figures.active,
            "completed": figures.completed,
            "exited": figures.exited,
            "steps": [
                {
                    "step_id": c.step.pk,
                    "position": c.step.position,
                    "waiting": c.waiting,
                    "passed": c.done,
                }
                for c in figures.steps
            ],
        }
    )


@router.get(
    "/journeys/{journey_id}/enrollments",
    response={200: EnrollmentPageOut, **ERRORS},
    url_name="marketing_journey_enrollments",
)
def journey_enrollments(
    request: HttpRequest,
    journey_id: int,
    status: EnrollmentStatus | None = None,
    cursor: str | None = None,
    limit: int | None = Query(None, ge=1),
) -> HttpResponse:
    """The journey's enrolments (of customers the caller may see), latest first."""
    actor = actor_of(request)
    journey = selectors.journey_get(actor=actor, pk=journey_id)
    page = selectors.journey_enrollments(
        actor=actor,
        journey=journey,
        status=str(status or ""),
        cursor=cursor,
        limit=clamp_limit(limit),
    )
    return json_response(page_json(page_out(page, EnrollmentOut)))
