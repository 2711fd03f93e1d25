"""Journey pages: the list, a new journey, and the journey's page, which is also its editor
(trigger and settings, ordered steps with their wait and action, enrolment counts per step,
recent enrolments with their log, switching it on and off)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from vefa.accounts.access import can, can_create
from vefa.common.errors import ApplicationError, NotFound, PermissionDenied
from vefa.interactions.forms import apply_errors
from vefa.interactions.views._helpers import actor_of, hidden_as_404, is_htmx
from vefa.marketing.choices import EnrollmentStatus, JourneyTrigger
from vefa.marketing.forms_journeys import JourneyForm, StepEditForm, StepForm
from vefa.marketing.models import Journey
from vefa.marketing.selectors import journeys as selectors
from vefa.marketing.selectors.journeys import describe_last_event
from vefa.marketing.services import journeys as services
from vefa.sales.selectors.catalogue import category_choices

PAGE_SIZE = 25


def _segments(request: HttpRequest) -> list[tuple[int, str]]:
    from vefa.marketing.selectors.segments import segment_choices

    return segment_choices(actor=actor_of(request))


def _journey_form(request: HttpRequest, data: Any = None, **kwargs: Any) -> JourneyForm:
    return JourneyForm(
        data,
        segments=_segments(request),
        categories=category_choices(actor=actor_of(request)),
        **kwargs,
    )


@login_required
@require_GET
def journey_list(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    active = request.GET.get("active", "")
    trigger = request.GET.get("trigger", "")
    query = request.GET.get("q", "")[:100]
    page = selectors.journey_list(
        actor=actor,
        active=active if active in ("true", "false") else "",
        trigger=trigger if trigger in JourneyTrigger.values else "",
        query=query,
        cursor=request.GET.get("cursor"),
        limit=PAGE_SIZE,
    )
    params = request.GET.copy()
    params.pop("cursor", None)
    context = {
        "page": page,
        "active": active,
        "trigger": trigger,
        "query": query,
        "triggers": JourneyTrigger.choices,
        "base_query": params.urlencode(),
        "can_create": can_create(actor, Journey),
    }
    if is_htmx(request) and request.GET.get("cursor"):
        return render(request, "marketing/journeys/list.html#journey-rows", context)
    return render(request, "marketing/journeys/list.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def journey_create(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    if not can_create(actor, Journey):
        raise Http404
    form = _journey_form(request, request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            journey = services.journey_create(
                actor=actor,
                name=form.cleaned_data["name"],
                description=form.cleaned_data["description"],
                trigger=form.cleaned_data["trigger"],
                trigger_params=form.trigger_params(),
                purpose=form.cleaned_data["purpose"],
            )
        except PermissionDenied:
            raise Http404 from None
        except ApplicationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("The journey was created. Add its steps."))
            return HttpResponseRedirect(reverse("marketing:journey_detail", args=[journey.pk]))
    return render(request, "marketing/journeys/form.html", {"form": form, "journey": None})


def _detail_context(
    request: HttpRequest,
    journey: Journey,
    *,
    step_form: StepForm | None = None,
    error: str = "",
) -> dict[str, Any]:
    actor = actor_of(request)
    may_change = can(actor, "change", journey)
    status = request.GET.get("status", "")
    page = selectors.journey_enrollments(
        actor=actor,
        journey=journey,
        status=status,
        cursor=request.GET.get("cursor"),
        limit=PAGE_SIZE,
    )
    for enrollment in page.items:
        enrollment.last_event_text = describe_last_event(enrollment)  # type: ignore[attr-defined]
    figures = selectors.journey_figures(journey)
    params = request.GET.copy()
    params.pop("cursor", None)
    return {
        "journey": journey,
        "figures": figures,
        "page": page,
        "status": status,
        "statuses": EnrollmentStatus.choices,
        "base_query": params.urlencode(),
        "may_change": may_change,
        "step_form": (step_form or StepForm()) if may_change else None,
        "error": error,
    }


@login_required
@require_GET
@hidden_as_404
def journey_detail(request: HttpRequest, pk: int) -> HttpResponse:
    journey = selectors.journey_get(actor=actor_of(request), pk=pk)
    context = _detail_context(request, journey)
    if is_htmx(request) and request.GET.get("cursor"):
        return render(request, "marketing/journeys/detail.html#enrollment-rows", context)
    return render(request, "marketing/journeys/detail.html", context)


@login_required
@require_http_methods(["GET", "POST"])
@hidden_as_404
def journey_edit(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    journey = selectors.journey_get(actor=actor, pk=pk, action="change")
    params = journey.trigger_params or {}
    initial = {
        "name": journey.name,
        "description": journey.description,
        "trigger": journey.trigger,
        "purpose": journey.purpose,
        "days_before": params.get("days_before"),
        "segment": params.get("segment"),
        "cooldown_days": params.get("cooldown_days", 90),
        "category": params.get("category"),
    }
    form = _journey_form(
        request, request.POST if request.method == "POST" else None, initial=initial
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.journey_update(
                actor=actor,
                journey_id=journey.pk,
                data={
                    "name": form.cleaned_data["name"],
                    "description": form.cleaned_data["description"],
                    "purpose": form.cleaned_data["purpose"],
                    "trigger": form.cleaned_data["trigger"],
                    "trigger_params": form.trigger_params(),
                },
            )
        except NotFound:
            raise
        except ApplicationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("The journey was saved."))
            return HttpResponseRedirect(reverse("marketing:journey_detail", args=[journey.pk]))
    return render(request, "marketing/journeys/form.html", {"form": form, "journey": journey})


def _back(journey: Journey) -> HttpResponseRedirect:
    return HttpResponseRedirect(reverse("marketing:journey_detail", args=[journey.pk]))


def _error_page(request: HttpRequest, journey: Journey, exc: ApplicationError) -> HttpResponse:
    messages_text = [str(exc.message)] + [
        str(m) for field_messages in (exc.fields or {}).values() for m in field_messages
    ]
    unique = list(dict.fromkeys(messages_text))
    context = _detail_context(request, journey, error=" ".join(unique))
    return render(request, "marketing/journeys/detail.html", context, status=400)


@login_required
@require_POST
@hidden_as_404
def journey_step_add(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    journey = selectors.journey_get(actor=actor, pk=pk, action="change")
    form = StepForm(request.POST)
    if form.is_valid():
        try:
            services.step_add(
                actor=actor,
                journey_id=journey.pk,
                action=form.cleaned_data["action"],
                wait_days=form.cleaned_data["wait_days"] or 0,
                points=form.cleaned_data["points"],
                task_subject=form.cleaned_data["task_subject"],
            )
        except NotFound:
            raise
        except ApplicationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("The step was added."))
            return _back(journey)
    context = _detail_context(request, journey, step_form=form)
    return render(request, "marketing/journeys/detail.html", context, status=400)


@login_required
@require_POST
@hidden_as_404
def journey_step_update(request: HttpRequest, pk: int, step_pk: int) -> HttpResponse:
    actor = actor_of(request)
    journey = selectors.journey_get(actor=actor, pk=pk, action="change")
    if not journey.steps.filter(pk=step_pk).exists():
        raise Http404
    form = StepEditForm(request.POST, prefix=f"step{step_pk}")
    if not form.is_valid():
        errors = [str(e) for field_errors in form.errors.values() for e in field_errors]
        context = _detail_context(request, journey, error=" ".join(errors))
        return render(request, "marketing/journeys/detail.html", context, status=400)
    try:
        services.step_update(
            actor=actor,
            step_id=step_pk,
            wait_days=form.cleaned_data["wait_days"] or 0,
            points=form.cleaned_data["points"],
            task_subject=form.cleaned_data["task_subject"],
        )
    except NotFound:
        raise
    except ApplicationError as exc:
        return _error_page(request, journey, exc)
    messages.success(request, _("The step was saved."))
    return _back(journey)


@login_required
@require_POST
@hidden_as_404
def journey_step_delete(request: HttpRequest, pk: int, step_pk: int) -> HttpResponse:
    actor = actor_of(request)
    journey = selectors.journey_get(actor=actor, pk=pk, action="change")
    if not journey.steps.filter(pk=step_pk).exists():
        raise Http404
    try:
        services.step_delete(actor=actor, step_id=step_pk)
    except NotFound:
        raise
    except ApplicationError as exc:
        return _error_page(request, journey, exc)
    messages.success(request, _("The step was removed."))
    return _back(journey)


@login_required
@require_POST
@hidden_as_404
def journey_activate(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    journey = selectors.journey_get(actor=actor, pk=pk, action="change")
    active = request.POST.get("active") == "true"
    try:
        services.journey_set_active(actor=actor, journey_id=journey.pk, active=active)
    except NotFound:
        raise
    except ApplicationError as exc:
        return _error_page(request, journey, exc)
    messages.success(
        request, _("The journey is running.") if active else _("The journey was switched off.")
    )
    return _back(journey)


@login_required
@require_POST
@hidden_as_404
def journey_enrollment_exit(request: HttpRequest, pk: int, enrollment_pk: int) -> HttpResponse:
    actor = actor_of(request)
    journey = selectors.journey_get(actor=actor, pk=pk, action="change")
    if not journey.enrollments.filter(pk=enrollment_pk).exists():
        raise Http404
    services.enrollment_exit(actor=actor, enrollment_id=enrollment_pk)
    messages.success(request, _("The customer left the journey."))
    return _back(journey)


urlpatterns = [
    path("journeys/", journey_list, name="journey_list"),
    path("journeys/new/", journey_create, name="journey_create"),
    path("journeys/<int:pk>/", journey_detail, name="journey_detail"),
    path("journeys/<int:pk>/edit/", journey_edit, name="journey_edit"),
    path("journeys/<int:pk>/active/", journey_activate, name="journey_activate"),
    path("journeys/<int:pk>/steps/", journey_step_add, name="journey_step_add"),
    path(
        "journeys/<int:pk>/steps/<int:step_pk>/",
        journey_step_update,
        name="journey_step_update",
    ),
    path(
        "journeys/<int:pk>/steps/<int:step_pk>/delete/",
        journey_step_delete,
        name="journey_step_delete",
    ),
    path(
        "journeys/<int:pk>/enrolments/<int:enrollment_pk>/exit/",
        journey_enrollment_exit,
        name="journey_enrollment_exit",
    ),
]
