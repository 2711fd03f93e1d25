"""Pages of the contact history: an interaction, its form, attachments, the customer's
timeline and activities partials, and the quick add of the customer page."""

from __future__ import annotations

import datetime
import json
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from vefa.accounts.access import can, can_create
from vefa.common.errors import Conflict, NotFound, ValidationFailed
from vefa.interactions import selectors, services
from vefa.interactions.choices import (
    ActivityKind,
    Direction,
    InteractionChannel,
    InteractionKind,
)
from vefa.interactions.filters import InteractionFilters, filters_from_query
from vefa.interactions.forms import (
    AttachmentForm,
    InteractionForm,
    QuickActivityForm,
    QuickInteractionForm,
    TimeEntryForm,
    apply_errors,
)
from vefa.interactions.models import Activity, Interaction, TimeEntry
from vefa.interactions.views._files import attachment_response
from vefa.interactions.views._helpers import actor_of, hidden_as_404, is_htmx

TIMELINE_PAGE = 25
LIST_PAGE = 50
TIMELINE_CHANGED = "vefa:timeline-changed"
ACTIVITIES_CHANGED = "vefa:activities-changed"


@login_required
@require_GET
@hidden_as_404
def interaction_detail(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    interaction = selectors.interaction_get(actor=actor, pk=pk)
    return render(
        request,
        "interactions/interaction_detail.html",
        {
            "interaction": interaction,
            "attachments": list(interaction.attachments.all()),
            "can_change": can(actor, "change", interaction),
            "can_delete": can(actor, "delete", interaction),
            "attachment_form": AttachmentForm(),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
@hidden_as_404
def interaction_create(request: HttpRequest) -> HttpResponse:
    """The full form; ``?customer=<pk>`` names the customer (who must be visible)."""
    actor = actor_of(request)
    customer = selectors.customer_get(actor=actor, pk=request.GET.get("customer"))
    form = InteractionForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            interaction = services.interaction_create(
                actor=actor, customer_id=customer.pk, **form.service_data()
            )
        except ValidationFailed as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("The interaction was recorded."))
            return HttpResponseRedirect(interaction.get_absolute_url())
    return render(
        request,
        "interactions/interaction_form.html",
        {"form": form, "customer": customer, "interaction": None},
        status=422 if form.errors else 200,
    )


@login_required
@require_http_methods(["GET", "POST"])
@hidden_as_404
def interaction_edit(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    interaction = selectors.interaction_get(actor=actor, pk=pk)
    if not can(actor, "change", interaction):
        raise NotFound(_("Not found."))
    initial = {
        name: getattr(interaction, name)
        for name in InteractionForm.base_fields
        if hasattr(interaction, name)
    }
    initial["occurred_at"] = timezone.localtime(interaction.occurred_at)
    form = InteractionForm(request.POST if request.method == "POST" else None, initial=initial)
    conflict = False
    if request.method == "POST" and form.is_valid():
        try:
            services.interaction_update(
                actor=actor,
                interaction_id=interaction.pk,
                data=form.service_data(),  # type: ignore[arg-type]
                expected_version=form.cleaned_data.get("version"),
            )
        except Conflict:
            conflict = True
            form.add_error(
                None, _("Someone else changed this interaction. Reload it and try again.")
            )
        except ValidationFailed as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("The interaction was saved."))
            return HttpResponseRedirect(interaction.get_absolute_url())
    return render(
        request,
        "interactions/interaction_form.html",
        {
            "form": form,
            "customer": interaction.customer,
            "interaction": interaction,
            "conflict": conflict,
        },
        status=(409 if conflict else 422) if form.errors else 200,
    )


@login_required
@require_POST
@hidden_as_404
def interaction_delete(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    interaction = selectors.interaction_get(actor=actor, pk=pk)
    customer_url = interaction.customer.get_absolute_url()
    services.interaction_delete(actor=actor, interaction_id=interaction.pk)
    messages.success(request, _("The interaction was deleted."))
    return HttpResponseRedirect(customer_url)


# --- attachments -----------------------------------------------------------------------------


@login_required
@require_POST
@hidden_as_404
def attachment_add(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    interaction = selectors.interaction_get(actor=actor, pk=pk)
    form = AttachmentForm(request.POST, request.FILES)
    if form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            services.attachment_add(
                actor=actor, interaction_id=interaction.pk, file=upload, name=upload.name
            )
        except ValidationFailed as exc:
            for message in exc.fields.get("file", [str(exc.message)]):
                messages.error(request, message)
        else:
            messages.success(request, _("The file was attached."))
    else:
        messages.error(request, _("Choose a file to attach."))
    return HttpResponseRedirect(interaction.get_absolute_url())


@login_required
@require_GET
@hidden_as_404
def attachment_download(request: HttpRequest, pk: int) -> FileResponse:
    """The file, only through the interaction's access (a hidden one is 404)."""
    attachment = selectors.attachment_get(actor=actor_of(request), pk=pk)
    return attachment_response(attachment)


@login_required
@require_POST
@hidden_as_404
def attachment_delete(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    attachment = selectors.attachment_get(actor=actor, pk=pk)
    url = reverse("interactions:detail", args=[attachment.interaction_id])
    services.attachment_delete(actor=actor, attachment_id=attachment.pk)
    messages.success(request, _("The file was removed."))
    return HttpResponseRedirect(url)


# --- the customer page's partials -----------------------------------------------------------


def timeline_context(
    request: HttpRequest, customer_pk: Any, *, kinds: list[str], before: str | None
) -> dict[str, Any]:
    """The context of the timeline partial for one page of entries."""
    page = selectors.timeline_for_customer(
        actor=actor_of(request),
        customer_id=customer_pk,
        kinds=kinds,
        before=before,
        limit=TIMELINE_PAGE,
    )
    filter_kinds: list[tuple[str, str]] = [(k.value, str(k.label)) for k in InteractionKind]
    filter_kinds.append((selectors.CHANGES, _("Changes")))
    return {
        "customer": page.customer,
        "entries": page.entries,
        "next_cursor": page.next_cursor,
        "kinds": kinds,
        "filter_kinds": filter_kinds,
        "kind_query": "&".join(f"kind={k}" for k in kinds),
    }


@login_required
@require_GET
@hidden_as_404
def customer_timeline(request: HttpRequest, customer_pk: int) -> HttpResponse:
    """The customer's timeline (htmx partial): type filter buttons and "load more"."""
    kinds = [k for k in request.GET.getlist("kind") if k in selectors.TIMELINE_KINDS]
    before = request.GET.get("before") or None
    context = timeline_context(request, customer_pk, kinds=kinds, before=before)
    template = (
        "interactions/_timeline.html#timeline-more"
        if request.GET.get("before")
        else "interactions/_timeline.html"
    )
    return render(request, template, context)


@login_required
@require_GET
@hidden_as_404
def customer_activities(request: HttpRequest, customer_pk: int) -> HttpResponse:
    """The customer's planned and finished activities and recent time (htmx partial)."""
    actor = actor_of(request)
    groups = selectors.activities_for_customer(actor=actor, customer_id=customer_pk)
    customer = selectors.customer_get(actor=actor, pk=customer_pk)
    return render(
        request,
        "interactions/_customer_activities.html",
        {
            "customer": customer,
            "planned": groups["planned"],
            "finished": groups["finished"],
            "time_entries": selectors.time_entries_for_customer(
                actor=actor, customer_id=customer.pk
            ),
            "time_form": TimeEntryForm(),
            "now": timezone.now(),
            "today": timezone.localdate(),
            "can_plan": can_create(actor, Activity),
            "can_track": can_create(actor, TimeEntry),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
@hidden_as_404
def quick_add(request: HttpRequest) -> HttpResponse:
    """Log an interaction or plan an activity from the customer page.

    GET ``?customer=<pk>`` answers the small form; a successful POST answers the refreshed
    timeline with ``HX-Trigger`` so the activities panel reloads too.
    """
    actor = actor_of(request)
    customer_pk = request.POST.get("customer") or request.GET.get("customer")
    customer = selectors.customer_get(actor=actor, pk=customer_pk)
    mode = request.POST.get("mode") or request.GET.get("mode") or "interaction"
    if mode not in {"interaction", "activity"}:
        mode = "interaction"
    now = timezone.localtime().replace(second=0, microsecond=0)
    interaction_form = QuickInteractionForm(
        request.POST if mode == "interaction" and request.method == "POST" else None,
        prefix="i",
    )
    activity_form = QuickActivityForm(
        request.POST if mode == "activity" and request.method == "POST" else None,
        prefix="a",
        initial={"when": now + datetime.timedelta(days=1)},
    )
    if request.method == "POST":
        try:
            created = _quick_create(actor, customer.pk, mode, interaction_form, activity_form)
        except ValidationFailed as exc:
            apply_errors(interaction_form if mode == "interaction" else activity_form, exc)
            created = False
        if created:
            context = timeline_context(request, customer.pk, kinds=[], before=None)
            response = render(request, "interactions/_timeline.html", context)
            response["HX-Trigger"] = json.dumps(
                {TIMELINE_CHANGED: {"customer": customer.pk}, ACTIVITIES_CHANGED: {}}
            )
            return response
    response = render(
        request,
        "interactions/_quick_add.html",
        {
            "customer": customer,
            "mode": mode,
            "interaction_form": interaction_form,
            "activity_form": activity_form,
            "can_record": can_create(actor, Interaction),
            "can_plan": can_create(actor, Activity),
        },
        status=422 if request.method == "POST" and not is_htmx(request) else 200,
    )
    if request.method == "POST" and is_htmx(request):
        # htmx does not swap error statuses: show the form with its errors in place instead.
        response["HX-Retarget"] = "#quick-add"
        response["HX-Reswap"] = "outerHTML"
    return response


def _quick_create(
    actor: Any,
    customer_pk: int,
    mode: str,
    interaction_form: QuickInteractionForm,
    activity_form: QuickActivityForm,
) -> bool:
    if mode == "interaction":
        if not interaction_form.is_valid():
            return False
        data = interaction_form.cleaned_data
        services.interaction_create(
            actor=actor,
            customer_id=customer_pk,
            kind=data["kind"],
            direction=data["direction"],
            subject=data["subject"],
            body=data["body"],
            outcome=data["outcome"],
            occurred_at=data["occurred_at"],
        )
        return True
    if not activity_form.is_valid():
        return False
    data = activity_form.cleaned_data
    when = data["when"]
    timed = data["kind"] in (ActivityKind.MEETING, ActivityKind.APPOINTMENT)
    length = datetime.timedelta(minutes=data.get("duration") or 60)
    services.activity_create(
        actor=actor,
        kind=data["kind"],
        subject=data["subject"],
        customer_id=customer_pk,
        due_at=None if timed else when,
        start_at=when if timed else None,
        end_at=when + length if timed else None,
    )
    return True


# --- time entries ----------------------------------------------------------------------------


@login_required
@require_POST
@hidden_as_404
def time_entry_create(request: HttpRequest) -> HttpResponse:
    """Log time on a customer (``customer``) or an activity (``activity``)."""
    actor = actor_of(request)
    activity_pk = request.POST.get("activity") or None
    customer_pk = request.POST.get("customer") or None
    if activity_pk:
        back = reverse("interactions:activity_detail", args=[int(activity_pk)])
        selectors.activity_get(actor=actor, pk=activity_pk)
    else:
        customer = selectors.customer_get(actor=actor, pk=customer_pk)
        back = customer.get_absolute_url()
    form = TimeEntryForm(request.POST)
    if form.is_valid():
        try:
            services.time_entry_create(
                actor=actor,
                minutes=form.cleaned_data["minutes"],
                started_at=form.cleaned_data["started_at"],
                note=form.cleaned_data["note"],
                billable=form.cleaned_data["billable"],
                activity_id=int(activity_pk) if activity_pk else None,
                customer_id=int(customer_pk) if customer_pk and not activity_pk else None,
            )
        except ValidationFailed as exc:
            for field_messages in exc.fields.values():
                for message in field_messages:
                    messages.error(request, message)
        else:
            messages.success(request, _("The time was recorded."))
    else:
        for field_errors in form.errors.values():
            for error in field_errors:
                messages.error(request, str(error))
    if is_htmx(request):
        response = HttpResponse(status=204)
        response["HX-Trigger"] = json.dumps({ACTIVITIES_CHANGED: {}})
        response["HX-Refresh"] = "true"
        return response
    return HttpResponseRedirect(back)


@login_required
@require_POST
@hidden_as_404
def time_entry_delete(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    entry = selectors.time_entry_get(actor=actor, pk=pk)
    back = (
        reverse("interactions:activity_detail", args=[entry.activity_id])
        if entry.activity_id
        else reverse("interactions:activity_list")
    )
    if entry.customer_id and not entry.activity_id:
        back = reverse("customers:detail", args=[entry.customer_id])
    services.time_entry_delete(actor=actor, time_entry_id=entry.pk)
    messages.success(request, _("The time entry was deleted."))
    return HttpResponseRedirect(back)


@login_required
@require_GET
def interaction_list(request: HttpRequest) -> HttpResponse:
    """The contact history across customers, filtered (the API's filters), newest first."""
    actor = actor_of(request)
    filters, errors = filters_from_query(InteractionFilters, request.GET)
    page = selectors.interaction_page(
        actor=actor, filters=filters, cursor=request.GET.get("cursor"), size=LIST_PAGE
    )
    params = request.GET.copy()
    params.pop("cursor", None)
    context = {
        "page": page,
        "filters": filters,
        "filter_errors": sorted(errors),
        "kinds": InteractionKind.choices,
        "directions": Direction.choices,
        "channels": InteractionChannel.choices,
        "base_query": params.urlencode(),
    }
    if is_htmx(request):
        return render(request, "interactions/interaction_list.html#interaction-rows", context)
    return render(request, "interactions/interaction_list.html", context)
