"""Pages of contracts: the list (status, owner, renewal window), one contract, its form, and
the renewal actions ("Renew now" and the next term after a won renewal)."""

from __future__ import annotations

import datetime
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from vefa.accounts.access import can, can_create, scope_for
from vefa.accounts.choices import Scope
from vefa.accounts.models import User
from vefa.common.errors import Conflict, NotFound, ValidationFailed
from vefa.interactions.filters import filters_from_query
from vefa.interactions.forms import apply_errors
from vefa.interactions.views._helpers import actor_of, hidden_as_404, is_htmx
from vefa.sales.choices import ContractStatus
from vefa.sales.forms.contracts import ContractForm
from vefa.sales.models import Contract
from vefa.sales.selectors import contracts as selectors
from vefa.sales.selectors.contracts import RENEWAL_WINDOWS, ContractFilters
from vefa.sales.services import contracts as services

PAGE_SIZE = 50


def owners_for(actor: User, current: User | None = None) -> list[tuple[int, str]]:
    """Who the actor may give a contract to: themself, their team or anyone, by scope."""
    scope = scope_for(actor, "sales.contract", "change")
    people: list[User] = []
    if scope == Scope.ALL:
        people = list(User.objects.filter(is_active=True).only("pk", "full_name", "email")[:300])
    elif scope == Scope.TEAM and actor.team_id is not None:
        people = list(
            User.objects.filter(is_active=True, team_id=actor.team_id).only(
                "pk", "full_name", "email"
            )[:300]
        )
    choices = [(actor.pk, str(actor))]
    choices += [(u.pk, str(u)) for u in people if u.pk != actor.pk]
    if current is not None and current.pk not in {pk for pk, _ in choices}:
        choices.append((current.pk, str(current)))
    return choices


def _owner_choices(actor: User) -> list[tuple[int, str]]:
    """Owners offered in the list filter (the people whose contracts the actor may see)."""
    scope = scope_for(actor, "sales.contract", "view")
    if scope == Scope.ALL:
        people = User.objects.filter(is_active=True)
    elif scope == Scope.TEAM and actor.team_id is not None:
        people = User.objects.filter(is_active=True, team_id=actor.team_id)
    else:
        return []
    return [(u.pk, str(u)) for u in people.only("pk", "full_name", "email")[:300]]


@login_required
@require_GET
def contract_list(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    filters, errors = filters_from_query(ContractFilters, request.GET)
    page = selectors.contract_page(
        actor=actor, filters=filters, cursor=request.GET.get("cursor"), size=PAGE_SIZE
    )
    params = request.GET.copy()
    params.pop("cursor", None)
    context = {
        "page": page,
        "filters": filters,
        "filter_errors": sorted(errors),
        "statuses": ContractStatus.choices,
        "windows": RENEWAL_WINDOWS,
        "owners": _owner_choices(actor),
        "base_query": params.urlencode(),
        "today": timezone.localdate(),
        "can_create": can_create(actor, Contract),
        # Row links from a prefix: one reverse() per page instead of three per row.
        "contract_base": reverse("sales:contract_list"),
        "customer_base": reverse("customers:detail", args=[1]).rsplit("1/", 1)[0],
    }
    if is_htmx(request):
        return render(request, "sales/contracts/contract_list.html#contract-rows", context)
    return render(request, "sales/contracts/contract_list.html", context)


@login_required
@require_GET
@hidden_as_404
def contract_detail(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    contract = selectors.contract_get(actor=actor, pk=pk)
    renewals = selectors.contract_renewals(actor=actor, contract=contract)
    can_change = can(actor, "change", contract)
    renewable = contract.status in (ContractStatus.ACTIVE, ContractStatus.EXPIRED)
    won = selectors.won_renewal(contract) if renewable and contract.renewed_by_id is None else None
    return render(
        request,
        "sales/contracts/contract_detail.html",
        {
            "contract": contract,
            "renewals": renewals,
            "predecessor": selectors.contract_predecessor(actor=actor, contract=contract),
            "can_change": can_change,
            "can_renew_now": can_change
            and renewable
            and not any(r.status in services.LIVE_RENEWAL for r in renewals),
            "can_renew": can_change and won is not None,
            "won_renewal": won,
        },
    )


def _year_after(day: datetime.date) -> datetime.date:
    """The last day of a one-year term starting on ``day``."""
    try:
        return day.replace(year=day.year + 1) - datetime.timedelta(days=1)
    except ValueError:  # 29 February
        return day.replace(year=day.year + 1, month=2, day=28)


def _render_form(
    request: HttpRequest, form: ContractForm, contract: Contract | None, customer: Any
) -> HttpResponse:
    return render(
        request,
        "sales/contracts/contract_form.html",
        {"form": form, "contract": contract, "customer": customer},
        status=422 if form.errors else 200,
    )


@login_required
@require_http_methods(["GET", "POST"])
@hidden_as_404
def contract_create(request: HttpRequest) -> HttpResponse:
    """A new contract; ``?customer=<pk>`` preselects a customer the user can see."""
    actor = actor_of(request)
    if not can_create(actor, Contract):
        raise NotFound(_("Not found."))
    customer = None
    customer_pk = (
        request.POST.get("customer_id")
        or request.POST.get("to_customer")
        or request.GET.get("customer")
    )
    if customer_pk:
        from vefa.interactions.selectors import customer_get

        try:
            customer = customer_get(actor=actor, pk=customer_pk)
        except NotFound:
            customer = None
    today = timezone.localdate()
    form = ContractForm(
        request.POST if request.method == "POST" else None,
        initial={
            "start_date": today,
            "end_date": _year_after(today),
            "currency": "TRY",
            "value": "0",
            "billing_period": "yearly",
            "status": ContractStatus.DRAFT,
            "remind_days_before": 30,
            "owner": actor.pk,
        },
        owners=owners_for(actor),
        statuses=[(s.value, str(s.label)) for s in (ContractStatus.DRAFT, ContractStatus.ACTIVE)],
    )
    if request.method == "POST" and form.is_valid():
        try:
            if customer is None:
                raise ValidationFailed(
                    _("Please correct the errors below."),
                    fields={"customer_id": [_("Choose an existing customer.")]},
                )
            contract = services.contract_create(
                actor=actor, customer_id=customer.pk, **form.service_data()
            )
        except ValidationFailed as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("The contract was created."))
            return HttpResponseRedirect(contract.get_absolute_url())
    return _render_form(request, form, None, customer)


@login_required
@require_http_methods(["GET", "POST"])
@hidden_as_404
def contract_edit(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    contract = selectors.contract_get(actor=actor, pk=pk)
    if not can(actor, "change", contract):
        raise NotFound(_("Not found."))
    allowed = {contract.status, *services.TRANSITIONS.get(contract.status, frozenset())}
    form = ContractForm(
        request.POST if request.method == "POST" else None,
        initial={
            "title": contract.title,
            "start_date": contract.start_date,
            "end_date": contract.end_date,
            "value": format(contract.value.normalize(), "f") if contract.value else "0",
            "currency": contract.currency,
            "billing_period": contract.billing_period,
            "status": contract.status,
            "renewal_date": contract.renewal_date,
            "remind_days_before": contract.remind_days_before,
            "auto_renew": contract.auto_renew,
            "owner": contract.owner_id,
            "notes": contract.notes,
            "version": contract.version,
        },
        owners=owners_for(actor, contract.owner),
        statuses=[(v, str(label)) for v, label in ContractStatus.choices if v in allowed],
    )
    if request.method == "POST" and form.is_valid():
        data = form.service_data()
        if data["owner_id"] == contract.owner_id:
            data.pop("owner_id")
        try:
            services.contract_update(
                actor=actor,
                contract_id=contract.pk,
                data=data,
                expected_version=form.cleaned_data.get("version"),
            )
        except Conflict:
            form.add_error(None, _("Someone else changed this contract. Reload it and try again."))
        except ValidationFailed as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("The contract was saved."))
            return HttpResponseRedirect(contract.get_absolute_url())
    return _render_form(request, form, contract, contract.customer)


@login_required
@require_POST
@hidden_as_404
def contract_renew_now(request: HttpRequest, pk: int) -> HttpResponse:
    """Open the renewal opportunity now (or go to the one already open)."""
    actor = actor_of(request)
    contract = selectors.contract_get(actor=actor, pk=pk)
    if not can(actor, "change", contract):
        raise NotFound(_("Not found."))
    try:
        services.contract_renew_now(actor=actor, contract_id=contract.pk)
    except ValidationFailed as exc:
        for field_messages in exc.fields.values():
            for message in field_messages:
                messages.error(request, message)
    else:
        messages.success(request, _("The renewal opportunity is open."))
    return HttpResponseRedirect(contract.get_absolute_url())


@login_required
@require_POST
@hidden_as_404
def contract_renew(request: HttpRequest, pk: int) -> HttpResponse:
    """Create the next term after the renewal was won; the old contract becomes renewed."""
    actor = actor_of(request)
    contract = selectors.contract_get(actor=actor, pk=pk)
    if not can(actor, "change", contract):
        raise NotFound(_("Not found."))
    version = request.POST.get("version")
    try:
        successor = services.contract_renew(
            actor=actor,
            contract_id=contract.pk,
            expected_version=int(version) if version and version.isdigit() else None,
        )
    except Conflict:
        messages.error(request, _("Someone else changed this contract. Reload it and try again."))
    except ValidationFailed as exc:
        for field_messages in exc.fields.values():
            for message in field_messages:
                messages.error(request, message)
    else:
        messages.success(request, _("The contract was renewed."))
        return HttpResponseRedirect(successor.get_absolute_url())
    return HttpResponseRedirect(contract.get_absolute_url())


urlpatterns = [
    path("contracts/", contract_list, name="contract_list"),
    path("contracts/new/", contract_create, name="contract_create"),
    path("contracts/<int:pk>/", contract_detail, name="contract_detail"),
    path("contracts/<int:pk>/edit/", contract_edit, name="contract_edit"),
    path("contracts/<int:pk>/renew-now/", contract_renew_now, name="contract_renew_now"),
    path("contracts/<int:pk>/renew/", contract_renew, name="contract_renew"),
]
