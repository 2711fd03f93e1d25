"""The customer list, the customer 360 page and the customer forms."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, QueryDict
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from vefa.accounts.access import can, can_create
from vefa.common.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from vefa.common.paging import Page
from vefa.customers import selectors, services
from vefa.customers.choices import CustomerKind
from vefa.customers.filters import NON_FILTER_PARAMS, CustomerFilterForm
from vefa.customers.forms import BulkForm, CustomerForm, customer_current_values
from vefa.customers.models import Customer
from vefa.customers.views._helpers import actor_of, hidden_as_404, is_htmx, safe_next
from vefa.platform.custom_fields import definitions_for

CUSTOMER_MODEL = "customers.customer"


def _saved_view_filters(request: HttpRequest) -> tuple[Any, QueryDict]:
    """The saved view named by ``?view=<id>`` and the filters to apply.

    A saved view the user may not see is not found. Parameters given next to ``view``
    (e.g. a cursor) stay as given.
    """
    raw = request.GET.get("view")
    if not raw:
        return None, request.GET
    from vefa.platform.selectors import saved_view_get

    saved = saved_view_get(actor=actor_of(request), pk=raw)
    data = QueryDict(mutable=True)
    for key, value in (saved.filters or {}).items():
        if isinstance(value, list):
            data.setlist(str(key), [str(v) for v in value])
        elif value is not None:
            data[str(key)] = str(value)
    for key in request.GET:
        if key != "view":
            data.setlist(key, request.GET.getlist(key))
    return saved, data


STANDARD_COLUMNS = ("stage", "email", "phone", "city", "owner", "last_contact", "created")
DEFAULT_COLUMNS = ("stage", "email", "phone", "city", "owner", "last_contact")


def column_choices(definitions: list[Any]) -> list[tuple[str, str]]:
    """Every column the customer list can show: the standard ones and each custom field."""
    labels = {
        "stage": _("Stage"),
        "email": _("E-mail"),
        "phone": _("Phone"),
        "city": _("City"),
        "owner": _("Owner"),
        "last_contact": _("Last contact"),
        "created": _("Created"),
    }
    return [(key, labels[key]) for key in STANDARD_COLUMNS] + [
        (f"cf_{d.key}", d.label) for d in definitions
    ]


def chosen_columns(
    requested: list[str], saved: list[str] | None, definitions: list[Any]
) -> list[str]:
    """The columns asked for (or saved with the view), else the defaults."""
    available = {key for key, _label in column_choices(definitions)}
    for candidate in (requested, saved or []):
        picked = [c for c in candidate if c in available]
        if picked:
            return picked
    return [*DEFAULT_COLUMNS, *(f"cf_{d.key}" for d in definitions if d.show_in_list)]


def _paging_url(request: HttpRequest, params: QueryDict, cursor: str | None) -> str | None:
    if cursor is None:
        return None
    query = params.copy()
    query["cursor"] = cursor
    return f"{request.path}?{query.urlencode()}"


@login_required
@require_GET
@hidden_as_404
def customer_list(request: HttpRequest) -> HttpResponse:
    """The customer list: filters (incl. custom fields and tags), sort, keyset pages, bulk.

    An htmx request gets only the results, so filtering and paging swap the table in place.
    """
    actor = actor_of(request)
    saved_view, data = _saved_view_filters(request)
    definitions = definitions_for(CUSTOMER_MODEL)
    filter_data = {k: v for k, v in data.items() if k not in NON_FILTER_PARAMS}
    form = CustomerFilterForm(filter_data, actor=actor, definitions=definitions)
    size = int(getattr(settings, "VEFA_LIST_PAGE_SIZE", 50))
    if form.is_valid():
        page = selectors.customer_list(
            actor=actor, filters=form, cursor=data.get("cursor"), size=size
        )
    else:
        page = Page(items=[], next_cursor=None, previous_cursor=None, size=size)
    params = form.query_params()
    shown = chosen_columns(
        [c for value in data.getlist("columns") for c in value.split(",")],
        list(saved_view.columns) if saved_view is not None else None,
        definitions,
    )
    filters_query = params.urlencode()
    if shown != chosen_columns([], None, definitions):
        params.setlist("columns", shown)
    context = {
        "form": form,
        "page": page,
        "shown": shown,
        "column_choices": column_choices(definitions),
        "columns": [d for d in definitions if f"cf_{d.key}" in shown],
        "saved_view_columns": ",".join(shown),
        "saved_view": saved_view,
        "next_url": _paging_url(request, params, page.next_cursor),
        "previous_url": _paging_url(request, params, page.previous_cursor),
        "query": filters_query,
        "can_create": can_create(actor, Customer),
        "bulk_form": BulkForm() if not is_htmx(request) else None,
        "full_path": request.get_full_path(),
    }
    template = "customers/customer_list.html"
    if is_htmx(request) and request.headers.get("HX-Target") == "customer-results":
        template += "#results"
    return render(request, template, context, status=200 if form.is_valid() else 422)


@login_required
@require_POST
def customer_bulk(request: HttpRequest) -> HttpResponse:
    """Assign, move or tag the customers ticked in the list (only those the user may change)."""
    actor = actor_of(request)
    back = safe_next(request, reverse("customers:list"))
    form = BulkForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Select customers and an action."))
        return HttpResponseRedirect(back)
    ids = form.cleaned_data["ids"]
    action = form.cleaned_data["action"]
    try:
        if action == "assign":
            owner = form.cleaned_data.get("owner") or None
            result = services.customer_bulk_assign(actor=actor, customer_ids=ids, owner=owner)
        elif action == "team":
            team = form.cleaned_data.get("team") or None
            result = services.customer_bulk_assign(
                actor=actor, customer_ids=ids, team=team, set_owner=False, set_team=True
            )
        else:
            result = services.customer_bulk_tag(
                actor=actor,
                customer_ids=ids,
                add=form.cleaned_data.get("add") or "",
                remove=form.cleaned_data.get("remove") or "",
            )
    except ValidationFailed as exc:
        text = "; ".join(m for messages_ in exc.fields.values() for m in messages_)
        messages.error(request, text or exc.message)
        return HttpResponseRedirect(back)
    messages.success(
        request,
        _("%(changed)d changed, %(unchanged)d already so, %(refused)d not allowed.")
        % {"changed": result.changed, "unchanged": result.unchanged, "refused": result.refused},
    )
    return HttpResponseRedirect(back)


@login_required
@require_http_methods(["GET", "POST"])
def customer_create(request: HttpRequest) -> HttpResponse:
    """Create a person (``?kind=person``, the default) or an organisation."""
    actor = actor_of(request)
    if not can_create(actor, Customer):
        raise DjangoPermissionDenied
    kind = request.POST.get("kind") or request.GET.get("kind") or CustomerKind.PERSON
    if kind not in CustomerKind.values:
        kind = CustomerKind.PERSON
    definitions = definitions_for(CUSTOMER_MODEL)
    form = CustomerForm(
        request.POST or None,
        kind=kind,
        definitions=definitions,
        initial={
            "owner": str(actor.pk),
            "team": str(actor.team_id or ""),
            # The call centre links here with the caller's number.
            "phone": request.GET.get("phone", "")[:64],
        },
    )
    if request.method == "POST" and form.is_valid():
        try:
            customer = services.customer_create(
                actor=actor,
                data={**form.service_data(), "kind": kind},
                tags=form.cleaned_data.get("tags") or "",
                email=form.cleaned_data.get("email") or "",
                phone=form.cleaned_data.get("phone") or "",
            )
        except (ValidationFailed, PermissionDenied) as exc:
            form.apply_errors(
                exc
                if isinstance(exc, ValidationFailed)
                else ValidationFailed(exc.message, fields=exc.fields)
            )
        else:
            messages.success(request, _("The customer was created."))
            return HttpResponseRedirect(customer.get_absolute_url())
    return render(
        request,
        "customers/customer_form.html",
        {"form": form, "kind": kind, "customer": None},
        status=422 if form.errors else 200,
    )


@login_required
@require_GET
@hidden_as_404
def customer_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The customer 360 page: profile, contact points, addresses, consent, relationships,
    custom fields and tags, with the timeline, activities and quick add loaded by htmx."""
    actor = actor_of(request)
    try:
        customer = selectors.customer_get(actor=actor, pk=pk)
    except NotFound:
        from vefa.customers.views.merge import redirect_if_merged

        return redirect_if_merged(request, pk)  # a merged record leads to its survivor
    children = selectors.customer_children(actor=actor, customer=customer)
    from vefa.customers.views.children import removable

    children["relationships"] = removable(actor, children["relationships"])
    definitions = definitions_for(CUSTOMER_MODEL)
    context = {
        "customer": customer,
        "definitions": definitions,
        "can_change": can(actor, "change", customer),
        "can_delete": can(actor, "delete", customer),
        **children,
        "consent_rows": consent_rows(children["consent"]),
    }
    return render(request, "customers/customer_detail.html", context)


def consent_rows(current: dict[tuple[str, str], Any]) -> list[dict[str, Any]]:
    """One row per channel, one cell per purpose, with the current consent or ``None``."""
    from vefa.customers.choices import Channel, ConsentPurpose

    return [
        {
            "channel": channel,
            "label": label,
            "cells": [
                {"purpose": purpose, "label": plabel, "consent": current.get((channel, purpose))}
                for purpose, plabel in ConsentPurpose.choices
            ],
        }
        for channel, label in Channel.choices
    ]


@login_required
@require_http_methods(["GET", "POST"])
@hidden_as_404
def customer_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Edit a customer. A stale version shows the current values instead of overwriting."""
    actor = actor_of(request)
    customer = selectors.customer_get(actor=actor, pk=pk, action="change")
    definitions = definitions_for(CUSTOMER_MODEL)
    form = CustomerForm(
        request.POST or None, kind=customer.kind, customer=customer, definitions=definitions
    )
    conflict_rows: list[tuple[str, str, str]] = []
    current_version = customer.version
    if request.method == "POST" and form.is_valid():
        try:
            services.customer_update(
                actor=actor,
                customer_id=customer.pk,
                data=form.service_data(),
                expected_version=form.cleaned_data.get("version"),
                tags=form.cleaned_data.get("tags") or "",
            )
        except Conflict as exc:
            fresh = selectors.customer_get(actor=actor, pk=customer.pk)
            conflict_rows = customer_current_values(form, fresh)
            current_version = exc.current_version
            form.add_error(
                None,
                _(
                    "Someone else changed this customer while you were editing. Your changes "
                    "were not saved. Compare with the current values below and save again."
                ),
            )
        except ValidationFailed as exc:
            form.apply_errors(exc)
        else:
            messages.success(request, _("The customer was saved."))
            return HttpResponseRedirect(customer.get_absolute_url())
    return render(
        request,
        "customers/customer_form.html",
        {
            "form": form,
            "kind": customer.kind,
            "customer": customer,
            "conflict_rows": conflict_rows,
            "current_version": current_version,
        },
        status=(409 if conflict_rows else 422) if form.errors else 200,
    )


@login_required
@require_http_methods(["GET", "POST"])
@hidden_as_404
def customer_delete(request: HttpRequest, pk: int) -> HttpResponse:
    """Confirm (GET) and delete (POST) a customer."""
    actor = actor_of(request)
    customer = selectors.customer_get(actor=actor, pk=pk, action="delete")
    if request.method == "POST":
        services.customer_delete(actor=actor, customer_id=customer.pk)
        messages.success(request, _("The customer was deleted."))
        return HttpResponseRedirect(reverse("customers:list"))
    return render(request, "customers/customer_confirm_delete.html", {"customer": customer})


@login_required
@require_GET
def customer_picker(request: HttpRequest) -> HttpResponse:
    """Customers whose name starts with ``q`` as choices (for the relationship form)."""
    actor = actor_of(request)
    exclude = request.GET.get("exclude")
    results = selectors.customer_picker(
        actor=actor,
        q=request.GET.get("q", "")[:100],
        kind=request.GET.get("kind") or None,
        exclude=int(exclude) if exclude and exclude.isdigit() else None,
    )
    return render(
        request, "customers/_picker.html", {"results": results, "q": request.GET.get("q", "")}
    )
