"""Pages of activities: my list (overdue/today/later), one activity, its forms, completion."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from vefa.accounts.access import can, can_create
from vefa.common.errors import Conflict, NotFound, ValidationFailed
from vefa.interactions import selectors, services
from vefa.interactions.choices import ActivityKind, ActivityStatus
from vefa.interactions.filters import ActivityFilters, filters_from_query, user_zone
from vefa.interactions.forms import ActivityForm, CompleteForm, TimeEntryForm, apply_errors
from vefa.interactions.models import Activity
from vefa.interactions.views._helpers import actor_of, assignees_for, hidden_as_404, is_htmx

PAGE_SIZE = 50


def urgency(activity: Activity, *, now: Any, today: Any, zone: Any) -> str:
    """``overdue``, ``today`` or ``later`` (the list's colours) for a planned activity."""
    if activity.status != ActivityStatus.PLANNED or activity.scheduled_at is None:
        return ""
    if activity.scheduled_at < now:
        return "overdue"
    if activity.scheduled_at.astimezone(zone).date() == today:
        return "today"
    return "later"


@login_required
@require_GET
def activity_list(request: HttpRequest) -> HttpResponse:
    """My activities (or my team's, or all I may see), filtered, soonest first, keyset pages."""
    actor = actor_of(request)
    query = request.GET.copy()
    if "status" not in query:
        query["status"] = ActivityStatus.PLANNED
    elif query["status"] == "any":
        query.pop("status")
    filters, errors = filters_from_query(ActivityFilters, query)
    page = selectors.activity_page(
        actor=actor, filters=filters, cursor=request.GET.get("cursor"), size=PAGE_SIZE
    )
    now = timezone.now()
    zone = user_zone(actor)
    today = now.astimezone(zone).date()
    rows = [(a, urgency(a, now=now, today=today, zone=zone)) for a in page.items]
    params = request.GET.copy()
    params.pop("cursor", None)
    context = {
        "rows": rows,
        "page": page,
        "filters": filters,
        "filter_errors": sorted(errors),
        "status_value": request.GET.get("status", ActivityStatus.PLANNED),
        "kinds": ActivityKind.choices,
        "statuses": ActivityStatus.choices,
        "base_query": params.urlencode(),
        "can_plan": can_create(actor, Activity),
    }
    if is_htmx(request):
        return render(request, "interactions/activity_list.html#activity-rows", context)
    return render(request, "interactions/activity_list.html", context)


@login_required
@require_GET
@hidden_as_404
def activity_detail(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    activity = selectors.activity_get(actor=actor, pk=pk)
    now = timezone.now()
    zone = user_zone(actor)
    return render(
        request,
        "interactions/activity_detail.html",
        {
            "activity": activity,
            "urgency": urgency(activity, now=now, today=now.astimezone(zone).date(), zone=zone),
            "can_change": can(actor, "change", activity),
            "can_delete": can(actor, "delete", activity),
            "complete_form": CompleteForm(initial={"version": activity.version}),
            "time_form": TimeEntryForm(),
            "time_entries": list(activity.time_entries.all()),
            "attendees": list(activity.attendees.all()),
            "reminders": list(activity.reminders.all()),
        },
    )


def _form_initial(activity: Activity) -> dict[str, Any]:
    local = {
        name: timezone.localtime(getattr(activity, name)) if getattr(activity, name) else None
        for name in ("due_at", "start_at", "end_at")
    }
    return {
        "kind": activity.kind,
        "subject": activity.subject,
        "description": activity.description,
        "all_day": activity.all_day,
        "location": activity.location,
        "priority": activity.priority,
        "owner": activity.owner_id,
        "customer_id": activity.customer_id,
        "reminders": [r.minutes_before for r in activity.reminders.all()],
        "attendee_emails": ", ".join(a.email for a in activity.attendees.all() if a.email),
        "version": activity.version,
        **local,
    }


@login_required
@require_http_methods(["GET", "POST"])
@hidden_as_404
def activity_create(request: HttpRequest) -> HttpResponse:
    """Plan an activity; ``?customer=<pk>`` plans it for a customer the user can see."""
    actor = actor_of(request)
    customer = None
    customer_pk = request.POST.get("customer_id") or request.GET.get("customer")
    if customer_pk:
        customer = selectors.customer_get(actor=actor, pk=customer_pk)
    initial = {
        "kind": request.GET.get("kind") or ActivityKind.TASK,
        "owner": actor.pk,
        "customer_id": customer.pk if customer else None,
        "reminders": services.default_reminder_minutes(),
    }
    form = ActivityForm(
        request.POST if request.method == "POST" else None,
        initial=initial,
        assignees=assignees_for(actor),
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            activity = services.activity_create(
                actor=actor,
                kind=data["kind"],
                subject=data["subject"],
                description=data["description"],
                owner_id=data["owner"] or actor.pk,
                customer_id=customer.pk if customer else None,
                due_at=data["due_at"],
                start_at=data["start_at"],
                end_at=data["end_at"],
                all_day=data["all_day"],
                location=data["location"],
                priority=data["priority"],
                reminder_minutes=data["reminders"],
                attendee_emails=form.emails(),
            )
        except ValidationFailed as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("The activity was planned."))
            return HttpResponseRedirect(activity.get_absolute_url())
    return render(
        request,
        "interactions/activity_form.html",
        {"form": form, "activity": None, "customer": customer},
        status=422 if form.errors else 200,
    )


@login_required
@require_http_methods(["GET", "POST"])
@hidden_as_404
def activity_edit(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    activity = selectors.activity_get(actor=actor, pk=pk)
    if not can(actor, "change", activity):
        raise NotFound(_("Not found."))
    form = ActivityForm(
        request.POST if request.method == "POST" else None,
        initial=_form_initial(activity),
        assignees=assignees_for(actor, activity.owner),
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.activity_update(
                actor=actor,
                activity_id=activity.pk,
                data={
                    "kind": data["kind"],
                    "subject": data["subject"],
                    "description": data["description"],
                    "owner_id": data["owner"] or activity.owner_id,
                    "due_at": data["due_at"],
                    "start_at": data["start_at"],
                    "end_at": data["end_at"],
                    "all_day": data["all_day"],
                    "location": data["location"],
                    "priority": data["priority"],
                },
                expected_version=data.get("version"),
                reminder_minutes=data["reminders"],
                attendee_emails=form.emails(),
            )
        except Conflict:
            form.add_error(None, _("Someone else changed this activity. Reload it and try again."))
        except ValidationFailed as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("The activity was saved."))
            return HttpResponseRedirect(activity.get_absolute_url())
    return render(
        request,
        "interactions/activity_form.html",
        {"form": form, "activity": activity, "customer": activity.customer},
        status=422 if form.errors else 200,
    )


@login_required
@require_http_methods(["GET", "POST"])
@hidden_as_404
def activity_complete(request: HttpRequest, pk: int) -> HttpResponse:
    """Mark done with an outcome; a call or meeting records the interaction on the customer."""
    actor = actor_of(request)
    activity = selectors.activity_get(actor=actor, pk=pk)
    if not can(actor, "change", activity):
        raise NotFound(_("Not found."))
    form = CompleteForm(
        request.POST if request.method == "POST" else None, initial={"version": activity.version}
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.activity_complete(
                actor=actor,
                activity_id=activity.pk,
                outcome=form.cleaned_data["outcome"],
                notes=form.cleaned_data["notes"],
                duration_minutes=form.cleaned_data["duration_minutes"],
                expected_version=form.cleaned_data.get("version"),
            )
        except Conflict:
            form.add_error(None, _("Someone else changed this activity. Reload it and try again."))
        except ValidationFailed as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("The activity is done."))
            return HttpResponseRedirect(activity.get_absolute_url())
    return render(
        request,
        "interactions/activity_complete.html",
        {"form": form, "activity": activity},
        status=422 if form.errors else 200,
    )


@login_required
@require_POST
@hidden_as_404
def activity_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    activity = selectors.activity_get(actor=actor, pk=pk)
    try:
        services.activity_cancel(actor=actor, activity_id=activity.pk)
    except ValidationFailed as exc:
        for field_messages in exc.fields.values():
            for message in field_messages:
                messages.error(request, message)
    else:
        messages.success(request, _("The activity was cancelled."))
    return HttpResponseRedirect(activity.get_absolute_url())
