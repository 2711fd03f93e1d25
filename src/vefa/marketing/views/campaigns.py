"""Campaign pages: the list, the calendar, one campaign (audience, variants, costs, sending
progress polled with htmx, the actions launch / pause / resume / cancel), the form and the
cost lines."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import path, re_path, reverse
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from vefa.accounts.access import can, can_create
from vefa.common.errors import (
    ApplicationError,
    Conflict,
    NotFound,
    PermissionDenied,
    ValidationFailed,
)
from vefa.interactions.forms import apply_errors
from vefa.interactions.views._helpers import actor_of, hidden_as_404, is_htmx
from vefa.marketing.choices import CampaignChannel, CampaignStatus, RecipientStatus
from vefa.marketing.downloads import letters_response
from vefa.marketing.forms_campaigns import CampaignForm, CostForm
from vefa.marketing.models import Campaign
from vefa.marketing.selectors import campaigns as selectors
from vefa.marketing.selectors.reports import progress
from vefa.marketing.selectors.segments import segment_choices
from vefa.marketing.selectors.templates import template_choices
from vefa.marketing.services import campaigns as services

PAGE_SIZE = 25
# Which action each status allows, in the order the buttons are shown.
ACTIONS: dict[str, list[str]] = {
    CampaignStatus.DRAFT: ["launch", "cancel"],
    CampaignStatus.SCHEDULED: ["launch", "cancel"],
    CampaignStatus.SENDING: ["pause", "cancel"],
    CampaignStatus.PAUSED: ["resume", "cancel"],
    CampaignStatus.COMPLETED: [],
    CampaignStatus.CANCELLED: [],
}
ACTION_LABELS = {
    "launch": gettext_lazy("Launch"),
    "pause": gettext_lazy("Pause"),
    "resume": gettext_lazy("Resume"),
    "cancel": gettext_lazy("Cancel the campaign"),
}


@login_required
@require_GET
def campaign_list(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    q = request.GET.get("q", "")[:200]
    status = request.GET.get("status", "")
    channel = request.GET.get("channel", "")
    page = selectors.campaign_list(
        actor=actor,
        q=q,
        status=status,
        channel=channel,
        cursor=request.GET.get("cursor"),
        size=PAGE_SIZE,
    )
    params = request.GET.copy()
    params.pop("cursor", None)
    context = {
        "page": page,
        "q": q,
        "status": status,
        "channel": channel,
        "statuses": CampaignStatus.choices,
        "channels": CampaignChannel.choices,
        "base_query": params.urlencode(),
        "can_create": can_create(actor, Campaign),
    }
    if is_htmx(request) and request.GET.get("cursor"):
        return render(request, "marketing/campaigns/campaign_list.html#campaign-rows", context)
    return render(request, "marketing/campaigns/campaign_list.html", context)


@login_required
@require_GET
def campaign_calendar(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    first = selectors.month_start(request.GET.get("month"), timezone.localdate())
    first_weekday = int(formats.get_format("FIRST_DAY_OF_WEEK") or 0)
    # Django counts from Sunday (0); the calendar module from Monday (0).
    month = selectors.campaign_calendar(
        actor=actor, first=first, first_weekday=(first_weekday - 1) % 7
    )
    weekdays = [day.day for day in month.weeks[0]]
    return render(
        request,
        "marketing/campaigns/calendar.html",
        {"month": month, "weekdays": weekdays, "can_create": can_create(actor, Campaign)},
    )


def _detail_context(actor: Any, campaign: Campaign) -> dict[str, Any]:
    editable = campaign.status in services.EDITABLE
    can_change = can(actor, "change", campaign)
    return {
        "campaign": campaign,
        "segments": list(campaign.segments.all()),
        "exclusions": list(campaign.exclusions.all()),
        "variants": list(campaign.variants.all()),
        "costs": list(campaign.costs.all()),
        "can_change": can_change,
        "editable": editable and can_change,
        "can_delete": can(actor, "delete", campaign) and campaign.status == CampaignStatus.DRAFT,
        "actions": [(a, ACTION_LABELS[a]) for a in ACTIONS.get(campaign.status, [])]
        if can_change
        else [],
        "cost_form": CostForm(
            initial={"currency": campaign.currency, "incurred_on": timezone.localdate()}
        ),
        "has_recipients": campaign.audience_drawn_at is not None,
        "letters": campaign.channel == CampaignChannel.LETTER
        and campaign.audience_drawn_at is not None
        and can_change,
        "problems": _launch_problems(campaign) if editable and can_change else [],
    }


def _launch_problems(campaign: Campaign) -> list[str]:
    """What keeps a draft from being launched (checked again by the launch itself)."""
    from vefa.marketing.services.sending import campaign_problems

    if campaign.status != CampaignStatus.DRAFT:
        return []
    return [m for messages in campaign_problems(campaign).values() for m in messages]


@login_required
@require_GET
@hidden_as_404
def campaign_detail(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    campaign = selectors.campaign_get(actor=actor, pk=pk)
    return render(
        request, "marketing/campaigns/campaign_detail.html", _detail_context(actor, campaign)
    )


@login_required
@require_GET
@hidden_as_404
def campaign_audience(request: HttpRequest, pk: int) -> HttpResponse:
    """The audience size now (an htmx fragment; counting may take a moment)."""
    campaign = selectors.campaign_get(actor=actor_of(request), pk=pk)
    size = selectors.audience_size(campaign)
    control = size * campaign.control_percent // 100
    return render(
        request,
        "marketing/campaigns/_audience.html",
        {"campaign": campaign, "size": size, "control": control, "to_send": size - control},
    )


@login_required
@require_GET
@hidden_as_404
def campaign_progress(request: HttpRequest, pk: int) -> HttpResponse:
    """Recipients per status (polled every few seconds while the campaign sends)."""
    campaign = selectors.campaign_get(actor=actor_of(request), pk=pk)
    counts = progress(campaign=campaign)
    total = sum(counts.values())
    done = total - counts[RecipientStatus.PENDING]
    return render(
        request,
        "marketing/campaigns/_progress.html",
        {
            "campaign": campaign,
            "rows": [(label, counts[value], value) for value, label in RecipientStatus.choices],
            "total": total,
            "done": done,
            "percent": (done * 100 // total) if total else 0,
            "polling": campaign.status in (CampaignStatus.SENDING, CampaignStatus.SCHEDULED),
        },
    )


@login_required
@require_GET
@hidden_as_404
def campaign_letters(request: HttpRequest, pk: int) -> HttpResponse:
    """Download the print file (CSV or XLSX) of a letter campaign's approved recipients."""
    try:
        return letters_response(actor_of(request), pk, request.GET.get("format", "csv"))
    except ValidationFailed as exc:
        return HttpResponse(str(exc.message), status=400, content_type="text/plain")


# How many segments a search offers at once (the chosen ones are always shown too).
SEGMENT_OPTIONS = 30


def segment_boxes(
    actor: Any, *, field: str, selected: list[int], q: str = ""
) -> list[tuple[int, str, bool]]:
    """(id, name, chosen) of the chosen segments and of those whose name contains ``q``."""
    from vefa.marketing.selectors.segments import segment_queryset

    visible = segment_queryset(actor).filter(is_archived=False)
    chosen = list(visible.filter(pk__in=selected).order_by("name", "id").values_list("pk", "name"))
    others = visible.exclude(pk__in=selected)
    if q:
        others = others.filter(name__icontains=q)
    found = list(others.order_by("name", "id").values_list("pk", "name")[:SEGMENT_OPTIONS])
    return [(pk, name, True) for pk, name in chosen] + [(pk, name, False) for pk, name in found]


def _selected(values: Any) -> list[int]:
    return [int(v) for v in values or [] if str(v).isdigit()][:200]


@login_required
@require_GET
def segment_options(request: HttpRequest) -> HttpResponse:
    """The segment checkboxes of the campaign form for a search (an htmx fragment); the
    segments already chosen stay listed and chosen."""
    actor = actor_of(request)
    field = request.GET.get("field", "segments")
    if field not in ("segments", "exclusions"):
        raise Http404(_("Not found."))
    return render(
        request,
        "marketing/campaigns/_segment_boxes.html",
        {
            "field": field,
            "boxes": segment_boxes(
                actor,
                field=field,
                selected=_selected(request.GET.getlist(field)),
                q=request.GET.get("q", "")[:100],
            ),
        },
    )


def _form(
    actor: Any, data: Any = None, initial: dict[str, Any] | None = None, channel: str = ""
) -> CampaignForm:
    return CampaignForm(
        data,
        initial=initial,
        segment_choices=segment_choices(actor=actor),
        template_choices=template_choices(actor=actor, channel=channel),
    )


def _render_form(
    request: HttpRequest, form: CampaignForm, campaign: Campaign | None
) -> HttpResponse:
    actor = actor_of(request)
    pickers = [
        {
            "field": form[name],
            "name": name,
            "boxes": segment_boxes(actor, field=name, selected=_selected(form[name].value())),
        }
        for name in ("segments", "exclusions")
    ]
    return render(
        request,
        "marketing/campaigns/campaign_form.html",
        {"form": form, "campaign": campaign, "pickers": pickers},
        status=422 if form.errors else 200,
    )


def _initial_new(request: HttpRequest) -> dict[str, Any]:
    initial: dict[str, Any] = {
        "control_percent": 10,
        "currency": "TRY",
        "purpose": "marketing",
        "variant_0_code": "A",
        "variant_0_weight": 100,
    }
    segment = request.GET.get("segment", "")
    if segment.isdigit():
        initial["segments"] = [int(segment)]
    return initial


@login_required
@require_http_methods(["GET", "POST"])
@hidden_as_404
def campaign_create(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    if not can_create(actor, Campaign):
        raise NotFound(_("Not found."))
    if request.method != "POST":
        return _render_form(request, _form(actor, initial=_initial_new(request)), None)
    form = _form(actor, request.POST)
    if form.is_valid():
        try:
            campaign = services.campaign_create(actor=actor, data=form.service_data())
        except ValidationFailed as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("The campaign was saved as a draft."))
            return HttpResponseRedirect(reverse("marketing:campaign_detail", args=[campaign.pk]))
    return _render_form(request, form, None)


def _initial(campaign: Campaign) -> dict[str, Any]:
    local = timezone.localtime
    initial: dict[str, Any] = {
        "name": campaign.name,
        "description": campaign.description,
        "objective": campaign.objective,
        "channel": campaign.channel,
        "purpose": campaign.purpose,
        "segments": [s.pk for s in campaign.segments.all()],
        "exclusions": [s.pk for s in campaign.exclusions.all()],
        "control_percent": campaign.control_percent,
        "starts_at": local(campaign.starts_at) if campaign.starts_at else None,
        "ends_at": local(campaign.ends_at) if campaign.ends_at else None,
        "budget": campaign.budget,
        "currency": campaign.currency,
        "attribution_days": campaign.attribution_days,
        "from_name": campaign.from_name,
        "from_email": campaign.from_email,
        "reply_to": campaign.reply_to,
        "version": campaign.version,
    }
    for i, variant in enumerate(campaign.variants.all()):
        initial[f"variant_{i}_code"] = variant.code
        initial[f"variant_{i}_template"] = variant.template_id
        initial[f"variant_{i}_subject"] = variant.subject
        initial[f"variant_{i}_weight"] = variant.weight
    return initial


@login_required
@require_http_methods(["GET", "POST"])
@hidden_as_404
def campaign_edit(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    campaign = selectors.campaign_get(actor=actor, pk=pk)
    if not can(actor, "change", campaign):
        raise NotFound(_("Not found."))
    if campaign.status not in services.EDITABLE:
        messages.error(
            request, _("A campaign can be changed only while it is a draft or scheduled.")
        )
        return HttpResponseRedirect(reverse("marketing:campaign_detail", args=[campaign.pk]))
    if request.method != "POST":
        return _render_form(request, _form(actor, initial=_initial(campaign)), campaign)
    form = _form(actor, request.POST)
    if form.is_valid():
        try:
            services.campaign_update(
                actor=actor,
                campaign_id=campaign.pk,
                data=form.service_data(),
                expected_version=form.cleaned_data.get("version"),
            )
        except Conflict as exc:
            form.add_error(None, str(exc.message))
        except PermissionDenied:
            raise NotFound(_("Not found.")) from None
        except ValidationFailed as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("The campaign was saved."))
            return HttpResponseRedirect(reverse("marketing:campaign_detail", args=[campaign.pk]))
    return _render_form(request, form, campaign)


@login_required
@require_POST
@hidden_as_404
def campaign_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    """Launch, pause, resume or cancel (sending does the work)."""
    from vefa.marketing.services import sending

    actor = actor_of(request)
    campaign = selectors.campaign_get(actor=actor, pk=pk)
    if action not in ACTION_LABELS or not can(actor, "change", campaign):
        raise NotFound(_("Not found."))
    run = {
        "launch": sending.campaign_launch,
        "pause": sending.campaign_pause,
        "resume": sending.campaign_resume,
        "cancel": sending.campaign_cancel,
    }[action]
    try:
        run(actor=actor, campaign_id=campaign.pk)
    except PermissionDenied:
        raise NotFound(_("Not found.")) from None
    except NotFound:
        raise
    except ApplicationError as exc:
        problems = [m for ms in (exc.fields or {}).values() for m in ms]
        messages.error(request, " ".join([str(exc.message), *problems]))
    else:
        done = {
            "launch": _("The campaign was launched."),
            "pause": _("Sending was paused."),
            "resume": _("Sending was resumed."),
            "cancel": _("The campaign was cancelled."),
        }
        messages.success(request, done[action])
    return HttpResponseRedirect(reverse("marketing:campaign_detail", args=[campaign.pk]))


@login_required
@require_POST
@hidden_as_404
def campaign_delete(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    campaign = selectors.campaign_get(actor=actor, pk=pk)
    try:
        services.campaign_delete(actor=actor, campaign_id=campaign.pk)
    except PermissionDenied:
        raise NotFound(_("Not found.")) from None
    except ValidationFailed as exc:
        messages.error(request, " ".join(m for ms in exc.fields.values() for m in ms))
        return HttpResponseRedirect(reverse("marketing:campaign_detail", args=[campaign.pk]))
    messages.success(request, _("The draft was deleted."))
    return HttpResponseRedirect(reverse("marketing:campaign_list"))


@login_required
@require_POST
@hidden_as_404
def cost_add(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    campaign = selectors.campaign_get(actor=actor, pk=pk)
    form = CostForm(request.POST)
    if form.is_valid():
        try:
            services.cost_add(actor=actor, campaign_id=campaign.pk, data=form.service_data())
        except PermissionDenied:
            raise NotFound(_("Not found.")) from None
        except ValidationFailed as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("The cost was added."))
            return HttpResponseRedirect(reverse("marketing:campaign_detail", args=[campaign.pk]))
    context = _detail_context(actor, campaign)
    context["cost_form"] = form
    return render(request, "marketing/campaigns/campaign_detail.html", context, status=422)


@login_required
@require_POST
@hidden_as_404
def cost_remove(request: HttpRequest, pk: int, cost_pk: int) -> HttpResponse:
    actor = actor_of(request)
    campaign = selectors.campaign_get(actor=actor, pk=pk)
    try:
        services.cost_remove(actor=actor, campaign_id=campaign.pk, cost_id=cost_pk)
    except PermissionDenied:
        raise NotFound(_("Not found.")) from None
    messages.success(request, _("The cost was removed."))
    return HttpResponseRedirect(reverse("marketing:campaign_detail", args=[campaign.pk]))


urlpatterns = [
    path("campaigns/", campaign_list, name="campaign_list"),
    path("campaigns/calendar/", campaign_calendar, name="campaign_calendar"),
    path("campaigns/new/", campaign_create, name="campaign_create"),
    path("campaigns/segment-options/", segment_options, name="campaign_segment_options"),
    path("campaigns/<int:pk>/", campaign_detail, name="campaign_detail"),
    path("campaigns/<int:pk>/edit/", campaign_edit, name="campaign_edit"),
    path("campaigns/<int:pk>/audience/", campaign_audience, name="campaign_audience"),
    path("campaigns/<int:pk>/letters/", campaign_letters, name="campaign_letters"),
    path("campaigns/<int:pk>/progress/", campaign_progress, name="campaign_progress"),
    path("campaigns/<int:pk>/delete/", campaign_delete, name="campaign_delete"),
    path("campaigns/<int:pk>/costs/", cost_add, name="campaign_cost_add"),
    path(
        "campaigns/<int:pk>/costs/<int:cost_pk>/remove/",
        cost_remove,
        name="campaign_cost_remove",
    ),
    re_path(
        r"^campaigns/(?P<pk>[0-9]+)/(?P<action>launch|pause|resume|cancel)/$",
        campaign_action,
        name="campaign_action",
    ),
]
