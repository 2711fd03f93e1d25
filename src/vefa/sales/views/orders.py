"""Pages of orders: the list, one order (lines, shipments, payments, status buttons), the
order form with line rows, and the import of order lines from CSV or Excel files."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from vefa.accounts.access import can, can_create, scope_for
from vefa.accounts.choices import Scope
from vefa.accounts.models import User
from vefa.common.errors import ApplicationError, Conflict, NotFound, ValidationFailed
from vefa.interactions.filters import filters_from_query
from vefa.interactions.forms import apply_errors
from vefa.interactions.views._helpers import actor_of, hidden_as_404, is_htmx
from vefa.platform.models import Job
from vefa.sales.choices import OrderSource, OrderStatus, ShipmentStatus
from vefa.sales.forms.orders import (
    LINE_FIELDS,
    ImportForm,
    OrderForm,
    PaymentForm,
    ShipmentForm,
    lines_from_post,
)
from vefa.sales.models import Order, Product, Shipment
from vefa.sales.pricing import customer_tag_ids, price_for
from vefa.sales.selectors import orders as selectors
from vefa.sales.selectors.orders import OrderFilters
from vefa.sales.services import orders as services
from vefa.sales.services import orders_import
from vefa.sales.services._common import as_quantity

PAGE_SIZE = 50


def owners_for(actor: User, current: User | None = None) -> list[tuple[int, str]]:
    """Who the actor may give an order to: themself, their team or anyone, by scope."""
    scope = scope_for(actor, "sales.order", "change")
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


def _owner_filter_choices(actor: User) -> list[tuple[int, str]]:
    scope = scope_for(actor, "sales.order", "view")
    if scope == Scope.ALL:
        people = User.objects.filter(is_active=True)
    elif scope == Scope.TEAM and actor.team_id is not None:
        people = User.objects.filter(is_active=True, team_id=actor.team_id)
    else:
        return []
    return [(u.pk, str(u)) for u in people.only("pk", "full_name", "email")[:300]]


# --- list -------------------------------------------------------------------------------------


@login_required
@require_GET
def order_list(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    filters, errors = filters_from_query(OrderFilters, request.GET)
    page = selectors.order_page(
        actor=actor, filters=filters, cursor=request.GET.get("cursor"), size=PAGE_SIZE
    )
    params = request.GET.copy()
    params.pop("cursor", None)
    context = {
        "page": page,
        "filters": filters,
        "filter_errors": sorted(errors),
        "statuses": OrderStatus.choices,
        "sources": OrderSource.choices,
        "owners": _owner_filter_choices(actor),
        "base_query": params.urlencode(),
        "can_create": can_create(actor, Order),
    }
    if is_htmx(request):
        return render(request, "sales/orders/order_list.html#order-rows", context)
    return render(request, "sales/orders/order_list.html", context)


# --- detail and its actions -------------------------------------------------------------------


STATUS_BUTTONS: dict[str, str] = {
    OrderStatus.CONFIRMED: "btn-primary",
    OrderStatus.SHIPPED: "btn-outline-primary",
    OrderStatus.DELIVERED: "btn-outline-primary",
    OrderStatus.INVOICED: "btn-outline-primary",
    OrderStatus.PAID: "btn-success",
    OrderStatus.CANCELLED: "btn-outline-danger",
}


def _detail_context(actor: User, order: Order, **extra: Any) -> dict[str, Any]:
    can_change = can(actor, "change", order)
    moves = services.next_statuses(order) if can_change else []
    purchase = selectors.order_purchase(order)
    context = {
        "order": order,
        "lines": list(order.lines.all()),
        "shipments": list(order.shipments.all()),
        "payments": list(order.payments.all()),
        "can_change": can_change,
        "moves": [(s, OrderStatus(s).label, STATUS_BUTTONS[s]) for s in moves],
        "purchase": purchase,
        "balance": order.total - order.paid_total,
        "shipment_form": extra.pop("shipment_form", None) or ShipmentForm(),
        "payment_form": extra.pop("payment_form", None)
        or PaymentForm(initial={"amount": order.total - order.paid_total}),
        "can_ship": can_change and order.status in services.SHIPPABLE,
        "can_pay": can_change
        and order.status in services.PAYABLE
        and order.paid_total < order.total,
        "shipment_statuses": ShipmentStatus.choices,
        "timeline": [
            (OrderStatus(s).label, getattr(order, services.STATUS_STAMP[s], None))
            for s in services.STATUS_STAMP
        ],
    }
    context.update(extra)
    return context


@login_required
@require_GET
@hidden_as_404
def order_detail(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    order = selectors.order_get(actor=actor, pk=pk)
    return render(request, "sales/orders/order_detail.html", _detail_context(actor, order))


def _version(request: HttpRequest) -> int | None:
    raw = request.POST.get("version", "")
    return int(raw) if raw.isdigit() and len(raw) < 10 else None


def _changeable(actor: User, pk: int) -> Order:
    """The order if the actor may change it; otherwise 404, like a missing one."""
    order = selectors.order_get(actor=actor, pk=pk)
    if not can(actor, "change", order):
        raise NotFound(_("Not found."))
    return order


def _back(order_pk: int) -> HttpResponseRedirect:
    return HttpResponseRedirect(reverse("sales:order_detail", args=[order_pk]))


@login_required
@require_POST
@hidden_as_404
def order_status(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    order = _changeable(actor, pk)
    try:
        services.order_set_status(
            actor=actor,
            order_id=order.pk,
            status=request.POST.get("status", ""),
            expected_version=_version(request),
        )
    except Conflict as exc:
        messages.error(request, str(exc.message))
    except ValidationFailed as exc:
        messages.error(request, " ".join(m for ms in exc.fields.values() for m in ms))
    else:
        messages.success(request, _("The order's status was changed."))
    return _back(order.pk)


@login_required
@require_POST
@hidden_as_404
def order_shipment_add(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    order = _changeable(actor, pk)
    form = ShipmentForm(request.POST)
    if form.is_valid():
        try:
            services.shipment_create(actor=actor, order_id=order.pk, **form.cleaned_data)
        except ValidationFailed as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("The shipment was added."))
            return _back(order.pk)
    order = selectors.order_get(actor=actor, pk=pk)
    return render(
        request,
        "sales/orders/order_detail.html",
        _detail_context(actor, order, shipment_form=form),
        status=422,
    )


@login_required
@require_POST
@hidden_as_404
def order_shipment_status(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    shipment = services.get_for(Shipment.objects.all(), actor=actor, pk=pk, action="view")
    try:
        services.shipment_update(
            actor=actor,
            shipment_id=shipment.pk,
            data={"status": request.POST.get("status", "")},
            expected_version=_version(request),
        )
    except ApplicationError as exc:
        if isinstance(exc, NotFound):
            raise
        detail = " ".join(m for ms in exc.fields.values() for m in ms) or str(exc.message)
        messages.error(request, detail)
    else:
        messages.success(request, _("The shipment was updated."))
    return _back(shipment.order_id)


@login_required
@require_POST
@hidden_as_404
def order_payment_add(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    order = _changeable(actor, pk)
    form = PaymentForm(request.POST)
    if form.is_valid():
        try:
            services.payment_create(actor=actor, order_id=order.pk, **form.cleaned_data)
        except ValidationFailed as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("The payment was recorded."))
            return _back(order.pk)
    order = selectors.order_get(actor=actor, pk=pk)
    return render(
        request,
        "sales/orders/order_detail.html",
        _detail_context(actor, order, payment_form=form),
        status=422,
    )


# --- the order form -------------------------------------------------------------------------


def _customer_from(request: HttpRequest, actor: User) -> Any:
    from vefa.interactions.selectors import customer_get

    pk = (
        request.POST.get("customer_id")
        or request.POST.get("to_customer")
        or request.GET.get("customer")
    )
    if not pk:
        return None
    try:
        return customer_get(actor=actor, pk=pk)
    except NotFound:
        return None


def _service_lines(rows: list[dict[str, str]]) -> list[dict[str, Any]]:
    """Form rows as service line dicts: the SKU picks the product when it is known."""
    skus = {r["sku"] for r in rows if r["sku"]}
    products = {p.sku: p for p in Product.objects.filter(sku__in=skus)} if skus else {}
    result = []
    for row in rows:
        line: dict[str, Any] = {k: v for k, v in row.items() if v != ""}
        line["product"] = products.get(row["sku"])
        line.setdefault("quantity", "1")
        result.append(line)
    return result


def _line_errors(exc: ValidationFailed) -> dict[int, list[str]]:
    """Service errors named ``lines.<n>.<field>`` by row number."""
    by_row: dict[int, list[str]] = {}
    for name, errors in exc.fields.items():
        parts = name.split(".")
        if parts[0] == "lines" and len(parts) > 1 and parts[1].isdigit():
            by_row.setdefault(int(parts[1]), []).extend(errors)
    return by_row


def _render_form(
    request: HttpRequest,
    form: OrderForm,
    order: Order | None,
    customer: Any,
    rows: list[dict[str, str]],
    line_errors: dict[int, list[str]] | None = None,
) -> HttpResponse:
    rows = rows or [dict.fromkeys(LINE_FIELDS, "")]
    errors = line_errors or {}
    return render(
        request,
        "sales/orders/order_form.html",
        {
            "form": form,
            "order": order,
            "customer": customer,
            "rows": [(i, row, errors.get(i, [])) for i, row in enumerate(rows)],
            "next_index": len(rows),
            "line_summary": [m for ms in errors.values() for m in ms],
            "products": Product.objects.filter(is_active=True)
            .only("sku", "name")
            .order_by("sku")[:500],
        },
        status=422 if form.errors or errors else 200,
    )


@login_required
@require_http_methods(["GET", "POST"])
@hidden_as_404
def order_create(request: HttpRequest) -> HttpResponse:
    """A new order; ``?customer=<pk>`` preselects a customer the user can see."""
    actor = actor_of(request)
    if not can_create(actor, Order):
        raise NotFound(_("Not found."))
    customer = _customer_from(request, actor)
    initial = {
        "currency": customer.currency if customer is not None else "TRY",
        "ordered_at": timezone.localtime().replace(second=0, microsecond=0),
        "owner": actor.pk,
    }
    form = OrderForm(
        request.POST if request.method == "POST" else None,
        initial=initial,
        owners=owners_for(actor),
    )
    rows = lines_from_post(request.POST) if request.method == "POST" else []
    if request.method == "POST" and form.is_valid():
        try:
            if customer is None:
                raise ValidationFailed(
                    _("Please correct the errors below."),
                    fields={"__all__": [_("Choose a customer.")]},
                )
            order = services.order_create(
                actor=actor,
                customer=customer,
                lines=_service_lines(rows),
                currency=form.cleaned_data["currency"],
                ordered_at=form.cleaned_data["ordered_at"],
                owner=form.cleaned_data["owner"],
                notes=form.cleaned_data["notes"],
                shipping_address=form.cleaned_data["shipping_address"],
            )
        except ValidationFailed as exc:
            apply_errors(form, exc)
            if "lines" in exc.fields:
                form.add_error(None, " ".join(exc.fields["lines"]))
            return _render_form(request, form, None, customer, rows, _line_errors(exc))
        messages.success(request, _("The order was created."))
        return HttpResponseRedirect(order.get_absolute_url())
    return _render_form(request, form, None, customer, rows)


@login_required
@require_http_methods(["GET", "POST"])
@hidden_as_404
def order_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Change an order's header; a draft's lines too."""
    actor = actor_of(request)
    order = selectors.order_get(actor=actor, pk=pk)
    if not can(actor, "change", order):
        raise NotFound(_("Not found."))
    draft = order.status == OrderStatus.DRAFT
    form = OrderForm(
        request.POST if request.method == "POST" else None,
        initial={
            "currency": order.currency,
            "ordered_at": timezone.localtime(order.ordered_at).replace(second=0, microsecond=0),
            "owner": order.owner_id,
            "notes": order.notes,
            "shipping_address": order.shipping_address,
        },
        owners=owners_for(actor, order.owner),
        lock_currency=True,
    )
    if request.method == "POST":
        rows = lines_from_post(request.POST) if draft else []
    else:
        rows = [
            {
                "sku": line.sku,
                "description": line.description,
                "quantity": _plain(line.quantity),
                "unit_price": _plain(line.unit_price),
                "discount_percent": _plain(line.discount_percent),
                "tax_rate": _plain(line.tax_rate),
            }
            for line in order.lines.all()
        ]
    if request.method == "POST" and form.is_valid():
        data = {
            "notes": form.cleaned_data["notes"],
            "shipping_address": form.cleaned_data["shipping_address"],
            "owner": form.cleaned_data["owner"],
        }
        if form.cleaned_data["ordered_at"]:
            data["ordered_at"] = form.cleaned_data["ordered_at"]
        try:
            services.order_update(
                actor=actor,
                order_id=order.pk,
                data=data,
                lines=_service_lines(rows) if draft else None,
                expected_version=_version(request),
            )
        except Conflict as exc:
            form.add_error(None, str(exc.message))
        except ValidationFailed as exc:
            apply_errors(form, exc)
            if "lines" in exc.fields:
                form.add_error(None, " ".join(exc.fields["lines"]))
            return _render_form(request, form, order, order.customer, rows, _line_errors(exc))
        else:
            messages.success(request, _("The order was saved."))
            return _back(order.pk)
    return _render_form(request, form, order, order.customer, rows)


def _plain(value: Any) -> str:
    """A decimal without trailing zeros, for an input's value."""
    if value is None:
        return ""
    number = Decimal(value).normalize()
    return format(number, "f")


@login_required
@require_GET
def order_line_row(request: HttpRequest) -> HttpResponse:
    """One line row of the order form (htmx): a new empty row, or the row again with the
    product's description, price (``price_for`` for the customer) and tax rate filled in."""
    actor = actor_of(request)
    raw_index = request.GET.get("index", "0")
    index = int(raw_index) if raw_index.isdigit() and len(raw_index) < 4 else 0
    row = {name: request.GET.get(f"lines-{index}-{name}", "")[:300] for name in LINE_FIELDS}
    note = ""
    sku = row["sku"].strip()
    product = Product.objects.filter(sku=sku, is_active=True).first() if sku else None
    if product is not None:
        currency = request.GET.get("currency", "").strip().upper()[:3] or product.currency
        try:
            quantity = as_quantity(row["quantity"] or "1")
        except ValidationFailed:
            quantity = Decimal(1)
        customer = _customer_from(request, actor)
        tags = customer_tag_ids(customer.pk) if customer is not None else set()
        price = price_for(product, currency=currency, quantity=quantity, customer_tag_ids=tags)
        row["description"] = row["description"] or product.name[:300]
        row["tax_rate"] = _plain(product.tax_rate)
        if price is not None:
            row["unit_price"] = _plain(price.unit_price)
            note = price.price_list.name if price.price_list else _("List price")
        else:
            note = _("No price in %(currency)s; enter one.") % {"currency": currency}
    elif sku:
        note = _("Not in the catalogue: the line is kept without a product.")
    return render(
        request,
        "sales/orders/_line_row.html",
        {"index": index, "row": row, "errors": [], "note": note, "add": "add" in request.GET},
    )


# --- import ---------------------------------------------------------------------------------


def _import_jobs(actor: User) -> list[Job]:
    return list(
        Job.objects.filter(user=actor, kind=orders_import.JOB_KIND).order_by("-created_at")[:10]
    )


@login_required
@require_http_methods(["GET", "POST"])
@hidden_as_404
def order_import(request: HttpRequest) -> HttpResponse:
    """Upload a CSV or Excel file of order lines; the import runs in the background and this
    page shows its progress, counts and the report of rows that were not imported."""
    actor = actor_of(request)
    if not can_create(actor, Order):
        raise NotFound(_("Not found."))
    job_pk = request.GET.get("job", "")
    if is_htmx(request) and job_pk.isdigit() and len(job_pk) < 19:
        job = Job.objects.filter(pk=int(job_pk), user=actor, kind=orders_import.JOB_KIND).first()
        if job is None:
            raise NotFound(_("Not found."))
        return render(request, "sales/orders/order_import.html#import-job", {"job": job})
    form = ImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            job = orders_import.order_import_start(actor=actor, upload=form.cleaned_data["file"])
        except ValidationFailed as exc:
            for messages_ in exc.fields.values():
                for message in messages_:
                    form.add_error("file", message)
        else:
            messages.success(request, _("The import has started."))
            return HttpResponseRedirect(f"{reverse('sales:order_import')}?job={job.pk}")
    return render(
        request,
        "sales/orders/order_import.html",
        {
            "form": form,
            "jobs": _import_jobs(actor),
            "columns": orders_import.COLUMNS,
            "required": orders_import.REQUIRED,
        },
        status=422 if form.errors else 200,
    )


@login_required
@require_GET
def order_import_errors(request: HttpRequest, pk: int) -> FileResponse:
    """The CSV of rows an import did not take (row, column, value, reason)."""
    actor = actor_of(request)
    qs = Job.objects.filter(pk=pk, kind=orders_import.JOB_KIND)
    if not getattr(actor, "is_admin", False):
        qs = qs.filter(user=actor)
    job = qs.first()
    name = (job.result or {}).get("errors_file") if job is not None else None
    if not name or not default_storage.exists(name):
        raise Http404(_("Not found."))
    stamp = (job.finished_at or timezone.now()) if job else timezone.now()
    return FileResponse(
        default_storage.open(name, "rb"),
        as_attachment=True,
        filename=f"order-import-{pk}-errors-{stamp:%Y%m%d}.csv",
        content_type="text/csv; charset=utf-8",
    )


urlpatterns = [
    path("orders/", order_list, name="order_list"),
    path("orders/new/", order_create, name="order_create"),
    path("orders/line-row/", order_line_row, name="order_line_row"),
    path("orders/import/", order_import, name="order_import"),
    path("orders/import/<int:pk>/errors.csv", order_import_errors, name="order_import_errors"),
    path("orders/<int:pk>/", order_detail, name="order_detail"),
    path("orders/<int:pk>/edit/", order_edit, name="order_edit"),
    path("orders/<int:pk>/status/", order_status, name="order_status"),
    path("orders/<int:pk>/shipments/", order_shipment_add, name="order_shipment_add"),
    path("orders/<int:pk>/payments/", order_payment_add, name="order_payment_add"),
    path("shipments/<int:pk>/status/", order_shipment_status, name="order_shipment_status"),
]
