"""Pages of returns: the list with filters and the return rates, a new return from an
order's lines, one return with its steps and the form of each next step."""

from __future__ import annotations

import datetime
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from vefa.accounts.access import can, can_create, restrict, scope_for
from vefa.accounts.choices import Scope
from vefa.accounts.models import User
from vefa.common.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from vefa.customers.models import Customer, CustomerRelationship
from vefa.interactions.filters import filters_from_query
from vefa.interactions.forms import apply_errors
from vefa.interactions.views._helpers import actor_of, hidden_as_404, is_htmx
from vefa.sales.models import Order
from vefa.service.choices import Disposition, ReturnReason, ReturnStatus
from vefa.service.forms.returns import ReturnRequestForm, StepForm, lines_from_post
from vefa.service.models import ReturnRequest, Ticket
from vefa.service.selectors import returns as selectors
from vefa.service.selectors.returns import ReturnFilters
from vefa.service.services import returns as services

PAGE_SIZE = 50

STATUS_BADGES: dict[str, str] = {
    ReturnStatus.REQUESTED: "warning",
    ReturnStatus.APPROVED: "info",
    ReturnStatus.PICKUP: "info",
    ReturnStatus.IN_TRANSIT: "info",
    ReturnStatus.RECEIVED: "primary",
    ReturnStatus.INSPECTED: "primary",
    ReturnStatus.COMPLETED: "success",
    ReturnStatus.REJECTED: "danger",
    ReturnStatus.CANCELLED: "secondary",
}


def _owner_filter_choices(actor: User) -> list[tuple[int, str]]:
    scope = scope_for(actor, "service.returnrequest", "view")
    if scope == Scope.ALL:
        people = User.objects.filter(is_active=True)
    elif scope == Scope.TEAM and actor.team_id is not None:
        people = User.objects.filter(is_active=True, team_id=actor.team_id)
    else:
        return []
    return [(u.pk, str(u)) for u in people.only("pk", "full_name", "email")[:300]]


def _date(value: str | None) -> datetime.date | None:
    if not value or len(value) > 10:
        return None
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        return None


# --- list and rates ---------------------------------------------------------------------------


@login_required
@require_GET
def return_list(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    filters, errors = filters_from_query(ReturnFilters, request.GET)
    page = selectors.return_list(
        actor=actor, filters=filters, cursor=request.GET.get("cursor"), limit=PAGE_SIZE
    )
    params = request.GET.copy()
    params.pop("cursor", None)
    context = {
        "page": page,
        "filters": filters,
        "filter_errors": sorted(errors),
        "statuses": ReturnStatus.choices,
        "reasons": ReturnReason.choices,
        "owners": _owner_filter_choices(actor),
        "badges": STATUS_BADGES,
        "base_query": params.urlencode(),
        "can_create": can_create(actor, ReturnRequest),
    }
    if is_htmx(request):
        return render(request, "service/returns/list.html#return-rows", context)
    return render(request, "service/returns/list.html", context)


@login_required
@require_GET
def return_rates(request: HttpRequest) -> HttpResponse:
    """The return rate by product and by reason over a period (a section of the list)."""
    actor = actor_of(request)
    rates = selectors.return_rates(
        actor=actor,
        date_from=_date(request.GET.get("rate_from")),
        date_to=_date(request.GET.get("rate_to")),
    )
    return render(request, "service/returns/_rates.html", {"rates": rates})


# --- create -------------------------------------------------------------------------------------


def _contacts(order: Order) -> list[tuple[int, str]]:
    """The customer itself and the people linked to it."""
    customer = order.customer
    people = [(customer.pk, customer.display_name)]
    links = (
        CustomerRelationship.objects.filter(to_customer_id=customer.pk)
        .select_related("from_customer")
        .order_by("from_customer__name_key")[:100]
    )
    people += [(r.from_customer_id, r.from_customer.display_name) for r in links]
    return people


@login_required
@require_http_methods(["GET", "POST"])
@hidden_as_404
def return_create(request: HttpRequest) -> HttpResponse:
    """Without ``order``: find the order (by number, or among a customer's recent orders).
    With it: pick lines and quantities, the reason, and create the return."""
    actor = actor_of(request)
    if not can_create(actor, ReturnRequest):
        raise DjangoPermissionDenied
    order_param = request.POST.get("order") or request.GET.get("order")
    if not order_param:
        return _choose_order(request, actor)
    order = selectors.returnable_order(actor=actor, pk=order_param)
    returnable = selectors.returnable_lines(order)
    line_ids = [row.line.pk for row in returnable]
    form = ReturnRequestForm(
        request.POST or None,
        contacts=_contacts(order),
        initial={"ticket": request.GET.get("ticket") or None},
    )
    line_errors: list[str] = []
    if request.method == "POST" and form.is_valid():
        try:
            created = services.return_create(
                actor=actor,
                data=form.service_data(order.pk),
                lines=lines_from_post(request.POST, line_ids),
            )
        except PermissionDenied:
            raise DjangoPermissionDenied from None
        except ValidationFailed as exc:
            line_errors = _line_errors(exc, request.POST, line_ids)
            header = {k: v for k, v in exc.fields.items() if not k.startswith("lines")}
            if header:
                apply_errors(form, ValidationFailed(exc.message, fields=header))
            elif not line_errors:
                form.add_error(None, str(exc.message))
        else:
            messages.success(request, _("The return was recorded."))
            return HttpResponseRedirect(reverse("service:return_detail", args=[created.pk]))
    return render(
        request,
        "service/returns/create.html",
        {
            "order": order,
            "form": form,
            "returnable": [
                {
                    "row": row,
                    "qty": request.POST.get(f"qty_{row.line.pk}", ""),
                    "reason": request.POST.get(f"reason_{row.line.pk}", ""),
                }
                for row in returnable
            ],
            "reasons": ReturnReason.choices,
            "line_errors": line_errors,
        },
        status=422 if (form.errors or line_errors) else 200,
    )


def _line_errors(exc: ValidationFailed, post: Any, line_ids: list[int]) -> list[str]:
    """The line messages, each naming the line it is about."""
    chosen = lines_from_post(post, line_ids)
    result: list[str] = []
    for key, messages_ in exc.fields.items():
        if not key.startswith("lines"):
            continue
        parts = key.split(".")
        prefix = ""
        if len(parts) > 1 and parts[1].isdigit() and int(parts[1]) < len(chosen):
            prefix = _("Line %(n)d") % {
                "n": line_ids.index(chosen[int(parts[1])]["order_line"]) + 1
            }
        for message in messages_:
            result.append(f"{prefix}: {message}" if prefix else message)
    return result


def _ticket_param(request: HttpRequest, actor: User) -> Ticket | None:
    """The ticket the return is for (``?ticket=``), if the actor may see it."""
    raw = request.GET.get("ticket") or ""
    if not raw.isdigit() or len(raw) > 18:
        return None
    return restrict(Ticket.objects.all(), actor, "view").filter(pk=int(raw)).first()


def _create_url(order_id: int, ticket: Ticket | None) -> str:
    query = {"order": order_id, **({"ticket": ticket.pk} if ticket else {})}
    return f"{reverse('service:return_create')}?{urlencode(query)}"


def _choose_order(request: HttpRequest, actor: User) -> HttpResponse:
    number = (request.GET.get("number") or "").strip()
    ticket = _ticket_param(request, actor)
    customer_param = request.GET.get("customer") or ""
    if ticket is not None:
        if ticket.order_id and not number:
            order = selectors.returnable_order_or_none(actor=actor, pk=ticket.order_id)
            if order is not None:
                return HttpResponseRedirect(_create_url(order.pk, ticket))
        if ticket.customer_id and not customer_param:
            customer_param = str(ticket.customer_id)
    not_found = False
    if number:
        found = selectors.find_order(actor=actor, number=number)
        if found is not None:
            return HttpResponseRedirect(_create_url(found.pk, ticket))
        not_found = True
    orders: list[tuple[Order, str]] = []
    customer = None
    if customer_param.isdigit() and len(customer_param) < 19:
        customer = (
            restrict(Customer.objects.all(), actor, "view").filter(pk=int(customer_param)).first()
        )
        if customer is not None:
            recent = (
                restrict(Order.objects.all(), actor, "view")
                .filter(customer=customer, status__in=services.RETURNABLE_ORDER_STATUSES)
                .order_by("-ordered_at", "-id")[:20]
            )
            orders = [(order, _create_url(order.pk, ticket)) for order in recent]
    return render(
        request,
        "service/returns/choose_order.html",
        {
            "number": number,
            "not_found": not_found,
            "customer": customer,
            "orders": orders,
            "ticket": ticket,
        },
        status=404 if not_found else 200,
    )


# --- detail and steps ---------------------------------------------------------------------------


def _detail_context(
    actor: User, record: ReturnRequest, forms_: dict[str, StepForm] | None = None
) -> dict[str, Any]:
    may_change = can(actor, "change", record)
    moves = services.next_statuses(record) if may_change else []
    step_forms = forms_ or {}
    lines = list(record.lines.all())
    return {
        "record": record,
        "lines": [
            (
                line,
                services.line_value(line.order_line, line.quantity, record.currency),
            )
            for line in lines
        ],
        "value": services.returned_value(record),
        "steps": selectors.return_steps(record),
        "can_change": may_change,
        "badges": STATUS_BADGES,
        "step_forms": [step_forms.get(s) or StepForm(status=s) for s in moves],
        "dispositions": Disposition.choices,
    }


@login_required
@require_GET
@hidden_as_404
def return_detail(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    record = selectors.return_get(actor=actor, pk=pk)
    return render(request, "service/returns/detail.html", _detail_context(actor, record))


def _version(request: HttpRequest) -> int | None:
    raw = request.POST.get("version", "")
    return int(raw) if raw.isdigit() and len(raw) < 10 else None


@login_required
@require_POST
@hidden_as_404
def return_step(request: HttpRequest, pk: int) -> HttpResponse:
    """Move the return to the posted ``status`` with the step's data."""
    actor = actor_of(request)
    record = selectors.return_get(actor=actor, pk=pk)
    if not can(actor, "change", record):
        raise NotFound(_("Not found."))
    status = request.POST.get("status", "")
    if status not in services.next_statuses(record):
        messages.error(request, _("This step is not possible now."))
        return HttpResponseRedirect(reverse("service:return_detail", args=[record.pk]))
    form = StepForm(request.POST, status=status)
    if form.is_valid():
        try:
            services.return_advance(
                actor=actor,
                return_id=record.pk,
                status=status,
                data=form.service_data(request.POST, [line.pk for line in record.lines.all()]),
                expected_version=_version(request),
            )
        except Conflict as exc:
            messages.error(request, str(exc.message))
            return HttpResponseRedirect(reverse("service:return_detail", args=[record.pk]))
        except ValidationFailed as exc:
            apply_errors(form, exc)
        else:
            messages.success(
                request,
                _("The return is now: %(status)s.") % {"status": ReturnStatus(status).label},
            )
            return HttpResponseRedirect(reverse("service:return_detail", args=[record.pk]))
    return render(
        request,
        "service/returns/detail.html",
        _detail_context(actor, record, {status: form}),
        status=422,
    )


urlpatterns = [
    path("returns/", return_list, name="return_list"),
    path("returns/rates/", return_rates, name="return_rates"),
    path("returns/new/", return_create, name="return_create"),
    path("returns/<int:pk>/", return_detail, name="return_detail"),
    path("returns/<int:pk>/step/", return_step, name="return_step"),
]
