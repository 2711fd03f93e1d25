"""The lead list, the lead page, the lead forms and the conversion page."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from vefa.accounts.access import can, can_create
from vefa.common.errors import Conflict, PermissionDenied, ValidationFailed
from vefa.common.paging import Page
from vefa.customers import selectors, services
from vefa.customers.choices import LeadStatus
from vefa.customers.filters import NON_FILTER_PARAMS, LeadFilterForm
from vefa.customers.forms import LeadConvertForm, LeadForm
from vefa.customers.models import Customer, Lead
from vefa.customers.views._helpers import actor_of, hidden_as_404, is_htmx
from vefa.platform.custom_fields import definitions_for
from vefa.platform.models import ChangeLogEntry

LEAD_MODEL = "customers.lead"


@login_required
@require_GET
@hidden_as_404
def lead_list(request: HttpRequest) -> HttpResponse:
    """The lead list with its filters and keyset pages (htmx swaps the results)."""
    actor = actor_of(request)
    definitions = definitions_for(LEAD_MODEL)
    data = {k: v for k, v in request.GET.items() if k not in NON_FILTER_PARAMS}
    form = LeadFilterForm(data, actor=actor, definitions=definitions)
    size = int(getattr(settings, "VEFA_LIST_PAGE_SIZE", 50))
    if form.is_valid():
        page = selectors.lead_list(
            actor=actor, filters=form, cursor=request.GET.get("cursor"), size=size
        )
    else:
        page = Page(items=[], next_cursor=None, previous_cursor=None, size=size)
    params = form.query_params()

    def link(cursor: str | None) -> str | None:
        if cursor is None:
            return None
        query = params.copy()
        query["cursor"] = cursor
        return f"{request.path}?{query.urlencode()}"

    context = {
        "form": form,
        "page": page,
        "columns": [d for d in definitions if d.show_in_list],
        "next_url": link(page.next_cursor),
        "previous_url": link(page.previous_cursor),
        "can_create": can_create(actor, Lead),
    }
    template = "customers/lead_list.html"
    if is_htmx(request) and request.headers.get("HX-Target") == "lead-results":
        template += "#results"
    return render(request, template, context, status=200 if form.is_valid() else 422)


@login_required
@require_http_methods(["GET", "POST"])
def lead_create(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    if not can_create(actor, Lead):
        raise DjangoPermissionDenied
    form = LeadForm(request.POST or None, definitions=definitions_for(LEAD_MODEL))
    if request.method == "POST" and form.is_valid():
        try:
            lead = services.lead_create(
                actor=actor, data=form.service_data(), tags=form.cleaned_data.get("tags") or ""
            )
        except (ValidationFailed, PermissionDenied) as exc:
            form.apply_errors(
                exc
                if isinstance(exc, ValidationFailed)
                else ValidationFailed(exc.message, fields=exc.fields)
            )
        else:
            messages.success(request, _("The lead was recorded."))
            if selectors.visible_leads(actor).filter(pk=lead.pk).exists():
                return HttpResponseRedirect(lead.get_absolute_url())
            # Assigned by a rule to someone whose leads this user does not see.
            return HttpResponseRedirect(reverse("customers:lead_list"))
    return render(
        request,
        "customers/lead_form.html",
        {"form": form, "lead": None},
        status=422 if form.errors else 200,
    )


@login_required
@require_GET
@hidden_as_404
def lead_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The lead with its custom fields, tags, activities and change history."""
    actor = actor_of(request)
    lead = selectors.lead_get(actor=actor, pk=pk)
    history = list(
        ChangeLogEntry.objects.filter(model="customers.lead", object_id=lead.pk).order_by(
            "-time", "-id"
        )[:50]
    )
    from vefa.interactions.selectors import activity_list

    # The activities are read through the interactions app's selector: its access rules apply.
    activities = list(activity_list(actor=actor).filter(lead=lead)[:20])
    converted_visible = (
        lead.converted_customer_id is not None
        and selectors.visible_customers(actor).filter(pk=lead.converted_customer_id).exists()
    )
    return render(
        request,
        "customers/lead_detail.html",
        {
            "lead": lead,
            "definitions": definitions_for(LEAD_MODEL),
            "history": history,
            "activities": activities,
            "can_change": can(actor, "change", lead) and lead.status != LeadStatus.CONVERTED,
            "can_convert": (
                can(actor, "change", lead)
                and lead.status != LeadStatus.CONVERTED
                and can_create(actor, Customer)
            ),
            "can_delete": can(actor, "delete", lead),
            "converted_visible": converted_visible,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
@hidden_as_404
def lead_edit(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    lead = selectors.lead_get(actor=actor, pk=pk, action="change")
    form = LeadForm(request.POST or None, lead=lead, definitions=definitions_for(LEAD_MODEL))
    conflict = False
    if request.method == "POST" and form.is_valid():
        try:
            services.lead_update(
                actor=actor,
                lead_id=lead.pk,
                data=form.service_data(),
                expected_version=form.cleaned_data.get("version"),
                tags=form.cleaned_data.get("tags") or "",
            )
        except Conflict:
            conflict = True
            fresh = selectors.lead_get(actor=actor, pk=lead.pk)
            form.add_error(
                None,
                _(
                    "Someone else changed this lead while you were editing. Your changes were "
                    "not saved. Open the lead again to see the current values."
                ),
            )
            lead = fresh
        except ValidationFailed as exc:
            form.apply_errors(exc)
        else:
            messages.success(request, _("The lead was saved."))
            return HttpResponseRedirect(lead.get_absolute_url())
    return render(
        request,
        "customers/lead_form.html",
        {"form": form, "lead": lead, "conflict": conflict},
        status=(409 if conflict else 422) if form.errors else 200,
    )


@login_required
@require_http_methods(["GET", "POST"])
@hidden_as_404
def lead_delete(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    lead = selectors.lead_get(actor=actor, pk=pk, action="delete")
    if request.method == "POST":
        services.lead_delete(actor=actor, lead_id=lead.pk)
        messages.success(request, _("The lead was deleted."))
        return HttpResponseRedirect(reverse("customers:lead_list"))
    return render(request, "customers/lead_confirm_delete.html", {"lead": lead})


@login_required
@require_http_methods(["GET", "POST"])
@hidden_as_404
def lead_convert(request: HttpRequest, pk: int) -> HttpResponse:
    """Convert a lead: choose the stage and the organisation (existing match or new)."""
    actor = actor_of(request)
    lead = selectors.lead_get(actor=actor, pk=pk, action="change")
    if lead.status == LeadStatus.CONVERTED:
        messages.info(request, _("This lead has already been converted."))
        return HttpResponseRedirect(lead.get_absolute_url())
    if not can_create(actor, Customer):
        raise DjangoPermissionDenied
    matches = selectors.organisation_matches(actor=actor, name=lead.company_name)
    form = LeadConvertForm(
        request.POST or None,
        lead=lead,
        matches=matches,
        definitions=definitions_for("customers.customer"),
    )
    if request.method == "POST" and form.is_valid():
        choice = form.cleaned_data.get("organisation") or "new"
        try:
            result = services.lead_convert(
                actor=actor,
                lead_id=lead.pk,
                expected_version=form.cleaned_data.get("version"),
                lifecycle_stage=form.cleaned_data["lifecycle_stage"],
                organisation_id=int(choice) if choice.isdigit() else None,
                create_organisation=choice == "new",
                custom_fields=form.custom_field_values(),
            )
        except Conflict:
            form.add_error(
                None, _("Someone else changed this lead. Check it and convert it again.")
            )
        except ValidationFailed as exc:
            form.apply_errors(exc)
        else:
            messages.success(request, _("The lead was converted."))
            return HttpResponseRedirect(result.customer.get_absolute_url())
    return render(
        request,
        "customers/lead_convert.html",
        {"form": form, "lead": lead, "matches": matches},
        status=422 if form.errors else 200,
    )
