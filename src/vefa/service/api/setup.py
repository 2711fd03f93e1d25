"""API of the service configuration under /api/v1/service/setup: queues, categories,
business calendars with holidays, SLA policies and assignment rules.

Every service user reads; administrators create and change (``POLICIES["service.queue"]``),
anyone else gets 404 on writes. Nothing is deleted but holidays: set ``is_active`` to false.
Updates take ``If-Match`` (412 when stale); creates take ``Idempotency-Key``.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import Router, Schema

from vefa.common.api import API_ERRORS as ERRORS
from vefa.common.api import actor_of, create_response, if_match_version, json_response
from vefa.service.models import BusinessCalendar
from vefa.service.selectors.setup import setup_get, setup_list
from vefa.service.services import setup as services

router = Router(tags=["service"])


# --- schemas ---------------------------------------------------------------------------------


class QueueIn(Schema):
    name: str
    team: int | None = None
    calendar: int | None = None
    assignment: str = "round_robin"
    email_address: str = ""
    is_default: bool = False
    is_active: bool = True


class QueuePatch(Schema):
    name: str | None = None
    team: int | None = None
    calendar: int | None = None
    assignment: str | None = None
    email_address: str | None = None
    is_default: bool | None = None
    is_active: bool | None = None


class QueueOut(Schema):
    id: int
    name: str
    team_id: int | None
    calendar_id: int | None
    assignment: str
    email_address: str
    is_default: bool
    is_active: bool
    version: int


class CategoryIn(Schema):
    name: str
    parent: int | None = None
    queue: int | None = None
    is_active: bool = True


class CategoryPatch(Schema):
    name: str | None = None
    parent: int | None = None
    queue: int | None = None
    is_active: bool | None = None


class CategoryOut(Schema):
    id: int
    name: str
    parent_id: int | None
    path: str
    queue_id: int | None
    is_active: bool
    version: int


class CalendarIn(Schema):
    name: str
    time_zone: str
    hours: dict[str, list[list[str]]] = {}


class CalendarPatch(Schema):
    name: str | None = None
    time_zone: str | None = None
    hours: dict[str, list[list[str]]] | None = None


class HolidayIn(Schema):
    date: datetime.date
    name: str


class HolidayOut(Schema):
    id: int
    date: datetime.date
    name: str


class CalendarOut(Schema):
    id: int
    name: str
    time_zone: str
    hours: dict[str, list[list[str]]]
    holidays: list[HolidayOut]
    version: int

    @staticmethod
    def resolve_holidays(obj: BusinessCalendar) -> list[Any]:
        return list(obj.holidays.all())


class PolicyIn(Schema):
    name: str
    priority: str = ""
    value_class: str = ""
    first_response_minutes: int
    resolution_minutes: int
    warn_at_percent: int = 80
    escalation: str = "notify"
    escalate_to: int | None = None
    is_active: bool = True


class PolicyPatch(Schema):
    name: str | None = None
    priority: str | None = None
    value_class: str | None = None
    first_response_minutes: int | None = None
    resolution_minutes: int | None = None
    warn_at_percent: int | None = None
    escalation: str | None = None
    escalate_to: int | None = None
    is_active: bool | None = None


class PolicyOut(Schema):
    id: int
    name: str
    priority: str
    value_class: str
    first_response_minutes: int
    resolution_minutes: int
    warn_at_percent: int
    escalation: str
    escalate_to_id: int | None
    is_active: bool
    version: int


class RuleIn(Schema):
    position: int = 0
    name: str
    category: int | None = None
    ticket_type: str = ""
    value_class: str = ""
    queue: int
    assignee: int | None = None
    is_active: bool = True


class RulePatch(Schema):
    position: int | None = None
    name: str | None = None
    category: int | None = None
    ticket_type: str | None = None
    value_class: str | None = None
    queue: int | None = None
    assignee: int | None = None
    is_active: bool | None = None


class RuleOut(Schema):
    id: int
    position: int
    name: str
    category_id: int | None
    ticket_type: str
    value_class: str
    queue_id: int
    assignee_id: int | None
    is_active: bool
    version: int


# --- routes ----------------------------------------------------------------------------------


def _patch_data(payload: Schema) -> dict[str, Any]:
    """The fields the client sent (an explicit null clears a reference)."""
    return payload.model_dump(exclude_unset=True)


def _register(
    kind: str,
    plural: str,
    out: type[Schema],
    create_in: type[Schema],
    patch_in: type[Schema],
) -> None:
    def location(obj: Any) -> str:
        return f"/api/v1/service/setup/{plural}/{obj.pk}"

    def list_view(request: HttpRequest) -> HttpResponse:
        rows = setup_list(actor=actor_of(request), kind=kind)
        return json_response({"items": [out.from_orm(r).model_dump(mode="json") for r in rows]})

    def get_view(request: HttpRequest, pk: int) -> HttpResponse:
        obj = setup_get(actor=actor_of(request), kind=kind, pk=pk)
        return json_response(out.from_orm(obj).model_dump(mode="json"), instance=obj)

    def create_view(request: HttpRequest, payload: Any) -> HttpResponse:
        actor = actor_of(request)
        services.require_admin(actor)
        data = payload.model_dump()
        return create_response(
            request,
            create=lambda: services.setup_create(actor=actor, kind=kind, data=data),
            schema=out,
            location=location,
        )

    def patch_view(request: HttpRequest, pk: int, payload: Any) -> HttpResponse:
        actor = actor_of(request)
        obj = setup_get(actor=actor, kind=kind, pk=pk)
        services.require_admin(actor)
        saved = services.setup_update(
            actor=actor,
            kind=kind,
            pk=obj.pk,
            data=_patch_data(payload),
            expected_version=if_match_version(request, obj),
        )
        if kind == "calendar":
            saved = setup_get(actor=actor, kind=kind, pk=saved.pk)
        return json_response(out.from_orm(saved).model_dump(mode="json"), instance=saved)

    # The payload types differ per kind; Ninja reads them from the annotations.
    create_view.__annotations__ = {
        "request": HttpRequest,
        "payload": create_in,
        "return": HttpResponse,
    }
    patch_view.__annotations__ = {
        "request": HttpRequest,
        "pk": int,
        "payload": patch_in,
        "return": HttpResponse,
    }
    list_schema = type(f"{out.__name__}List", (Schema,), {"__annotations__": {"items": list[out]}})  # type: ignore[valid-type]
    base = f"/setup/{plural}"
    name = f"service_setup_{kind}"
    routes: list[tuple[str, str, Callable[..., HttpResponse], dict[int, Any], str]] = [
        ("GET", base, list_view, {200: list_schema, **ERRORS}, "list"),
        ("POST", base, create_view, {201: out, **ERRORS}, "create"),
        ("GET", f"{base}/{{pk}}", get_view, {200: out, **ERRORS}, "get"),
        ("PATCH", f"{base}/{{pk}}", patch_view, {200: out, **ERRORS}, "update"),
    ]
    for method, url, view, response, action in routes:
        view.__name__ = f"{name}_{action}"
        router.add_api_operation(
            url,
            [method],
            view,
            response=response,
            operation_id=f"{name}_{action}",
            url_name=f"{name}_{action}",
        )


_register("queue", "queues", QueueOut, QueueIn, QueuePatch)
_register("category", "categories", CategoryOut, CategoryIn, CategoryPatch)
_register("calendar", "calendars", CalendarOut, CalendarIn, CalendarPatch)
_register("policy", "sla-policies", PolicyOut, PolicyIn, PolicyPatch)
_register("rule", "assignment-rules", RuleOut, RuleIn, RulePatch)


@router.post(
    "/setup/calendars/{pk}/holidays",
    response={201: HolidayOut, **ERRORS},
    operation_id="service_setup_holiday_add",
)
def holiday_add(request: HttpRequest, pk: int, payload: HolidayIn) -> HttpResponse:
    actor = actor_of(request)
    calendar = setup_get(actor=actor, kind="calendar", pk=pk)
    holiday = services.holiday_add(
        actor=actor, calendar_id=calendar.pk, date=payload.date, name=payload.name
    )
    return json_response(HolidayOut.from_orm(holiday).model_dump(mode="json"), status=201)


@router.delete(
    "/setup/holidays/{pk}",
    response={204: None, **ERRORS},
    operation_id="service_setup_holiday_remove",
)
def holiday_remove(request: HttpRequest, pk: int) -> HttpResponse:
    services.holiday_remove(actor=actor_of(request), holiday_id=pk)
    return HttpResponse(status=204)
