"""Pages of scheduled exports: the list with a form for a new one, edit and delete."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, QueryDict
from django.shortcuts import render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from vefa.common.errors import ValidationFailed
from vefa.exports import selectors, services
from vefa.exports.entities import entity_choices
from vefa.exports.models import ExportFormat, Frequency, ScheduledExport
from vefa.exports.views.exports import actor_of, hidden_as_404


def _data(request: HttpRequest) -> dict[str, Any]:
    """The form's fields; the filters are written as a query string (``stage=lead&city=X``),
    the same as the list page's address."""
    post = request.POST
    filters = QueryDict(post.get("filters", "")[:4000])
    return {
        "name": post.get("name", ""),
        "entity": post.get("entity", ""),
        "format": post.get("format", ""),
        "frequency": post.get("frequency", ""),
        "recipients": post.get("recipients", ""),
        "is_active": post.get("is_active") == "on",
        "filters": {k: v[0] if len(v) == 1 else v for k, v in filters.lists()},
    }


def _context(**extra: Any) -> dict[str, Any]:
    return {
        "entities": entity_choices(),
        "formats": ExportFormat.choices,
        "frequencies": Frequency.choices,
        **extra,
    }


def _filters_text(schedule: ScheduledExport | None) -> str:
    if schedule is None:
        return ""
    query = QueryDict(mutable=True)
    for key, value in (schedule.filters or {}).items():
        query.setlist(key, value if isinstance(value, list) else [value])
    return query.urlencode()


def _labelled(schedules: list[ScheduledExport]) -> list[ScheduledExport]:
    labels = dict(entity_choices())
    for schedule in schedules:
        schedule.entity_label = labels.get(schedule.entity, schedule.entity)  # type: ignore[attr-defined]
    return schedules


@login_required
@require_http_methods(["GET", "POST"])
def schedule_list(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    errors: dict[str, list[str]] = {}
    values: dict[str, Any] = {"format": "csv", "frequency": "weekly", "is_active": True}
    if request.method == "POST":
        values = _data(request)
        try:
            services.schedule_create(actor=actor, data=values)
        except ValidationFailed as exc:
            errors = exc.fields
        else:
            messages.success(request, _("The scheduled export was saved."))
            return HttpResponseRedirect(reverse("exports:schedule_list"))
        values["filters"] = request.POST.get("filters", "")
    return render(
        request,
        "exports/schedule_list.html",
        _context(
            schedules=_labelled(selectors.schedule_list(actor=actor)),
            values=values,
            errors=errors,
        ),
        status=422 if errors else 200,
    )


@login_required
@require_http_methods(["GET", "POST"])
@hidden_as_404
def schedule_edit(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    schedule = selectors.schedule_get(actor=actor, pk=pk)
    errors: dict[str, list[str]] = {}
    values: dict[str, Any] = {
        "name": schedule.name,
        "entity": schedule.entity,
        "format": schedule.format,
        "frequency": schedule.frequency,
        "recipients": schedule.recipients,
        "is_active": schedule.is_active,
        "filters": _filters_text(schedule),
    }
    if request.method == "POST":
        data = _data(request)
        try:
            services.schedule_update(actor=actor, pk=pk, data=data)
        except ValidationFailed as exc:
            errors = exc.fields
            values = {**data, "filters": request.POST.get("filters", "")}
        else:
            messages.success(request, _("The scheduled export was saved."))
            return HttpResponseRedirect(reverse("exports:schedule_list"))
    return render(
        request,
        "exports/schedule_form.html",
        _context(schedule=schedule, values=values, errors=errors),
        status=422 if errors else 200,
    )


@login_required
@require_POST
@hidden_as_404
def schedule_delete(request: HttpRequest, pk: int) -> HttpResponse:
    services.schedule_delete(actor=actor_of(request), pk=pk)
    messages.success(request, _("The scheduled export was deleted."))
    return HttpResponseRedirect(reverse("exports:schedule_list"))


urlpatterns = [
    path("scheduled/", schedule_list, name="schedule_list"),
    path("scheduled/<int:pk>/", schedule_edit, name="schedule_edit"),
    path("scheduled/<int:pk>/delete/", schedule_delete, name="schedule_delete"),
]
