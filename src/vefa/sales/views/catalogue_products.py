"""Pages of products and product categories, and the htmx "price for a line" partial."""

from __future__ import annotations

import re
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from vefa.common.errors import Conflict, ValidationFailed
from vefa.sales.api.catalogue_schemas import product_margin
from vefa.sales.forms.catalogue import CURRENCY_OPTIONS, CategoryForm, ProductForm, apply_errors
from vefa.sales.models import Product
from vefa.sales.selectors import catalogue as selectors
from vefa.sales.services import catalogue as services
from vefa.sales.views.catalogue_helpers import (
    actor_of,
    can_manage,
    catalogue_page,
    flash_errors,
    is_htmx,
    money_text,
    number_text,
    options_html,
    plain_number,
    query_without_cursor,
    require_manager,
)

PAGE_SIZE = 50
_INPUT_NAME = re.compile(r"^[A-Za-z0-9_\-]{1,64}$")


def _category_choices(actor: Any, *, exclude: int | None = None) -> list[tuple[int, str]]:
    """Categories indented by depth, for selects."""
    return [
        (category.pk, "\u2003" * depth + category.name)
        for category, depth in selectors.category_tree(actor=actor)
        if category.pk != exclude
    ]


# --- products ----------------------------------------------------------------------------


def _row(product: Product) -> dict[str, Any]:
    margin, percent = product_margin(product)
    return {
        "product": product,
        "price": money_text(product.list_price, product.currency),
        "cost": money_text(product.unit_cost, product.currency),
        "margin": money_text(margin, product.currency),
        "margin_percent": number_text(percent, 1),
    }


@login_required
@require_GET
def product_list(request: HttpRequest) -> HttpResponse:
    """Products by name: search by SKU or name, filter by category and active, keyset pages."""
    actor = actor_of(request)
    filters = selectors.ProductFilters.from_query(request.GET)
    page = selectors.product_page(
        actor=actor, filters=filters, cursor=request.GET.get("cursor"), size=PAGE_SIZE
    )
    context = {
        "page": page,
        "rows": [_row(p) for p in page.items],
        "filters": filters,
        "active_value": request.GET.get("active", ""),
        "category_options": options_html(_category_choices(actor), filters.category),
        "base_query": query_without_cursor(request),
        "can_manage": can_manage(actor),
    }
    if is_htmx(request) and request.GET.get("cursor"):
        return render(request, "sales/catalogue/product_list.html#product-rows", context)
    if is_htmx(request):
        return render(request, "sales/catalogue/product_list.html#product-table", context)
    return render(request, "sales/catalogue/product_list.html", context)


@login_required
@require_GET
@catalogue_page
def product_detail(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    product = selectors.product_get(actor=actor, pk=pk)
    prices = selectors.product_prices(actor=actor, product=product)
    for item in prices:
        item.price_text = money_text(item.unit_price, item.price_list.currency)  # type: ignore[attr-defined]
        item.quantity_text = number_text(item.min_quantity)  # type: ignore[attr-defined]
    return render(
        request,
        "sales/catalogue/product_detail.html",
        {
            "product": product,
            "row": _row(product),
            "tax_rate": number_text(product.tax_rate),
            "prices": prices,
            "tags": list(product.tags.all()),
            "can_manage": can_manage(actor),
        },
    )


def _product_values(form: ProductForm) -> dict[str, Any]:
    data = form.cleaned_data
    return {
        "sku": data["sku"],
        "name": data["name"],
        "description": data["description"],
        "category_id": data["category"],
        "unit": data["unit"],
        "list_price": data["list_price"],
        "unit_cost": data["unit_cost"] or None,
        "currency": data["currency"].strip().upper(),
        "tax_rate": data["tax_rate"],
        "is_active": data["is_active"],
    }


@login_required
@require_http_methods(["GET", "POST"])
@catalogue_page
def product_create(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    require_manager(actor)
    form = ProductForm(
        request.POST if request.method == "POST" else None,
        categories=_category_choices(actor),
        initial={"category": request.GET.get("category") or None},
    )
    if request.method == "POST" and form.is_valid():
        try:
            product = services.product_create(
                actor=actor, tags=form.tag_names(), **_product_values(form)
            )
        except ValidationFailed as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("The product was added."))
            return HttpResponseRedirect(product.get_absolute_url())
    return render(
        request,
        "sales/catalogue/product_form.html",
        {"form": form, "product": None, "currencies": CURRENCY_OPTIONS},
        status=422 if form.errors else 200,
    )


@login_required
@require_http_methods(["GET", "POST"])
@catalogue_page
def product_edit(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    product = selectors.product_get(actor=actor, pk=pk)
    require_manager(actor)
    initial = {
        "sku": product.sku,
        "name": product.name,
        "description": product.description,
        "category": product.category_id,
        "unit": product.unit,
        "list_price": plain_number(product.list_price),
        "unit_cost": "" if product.unit_cost is None else plain_number(product.unit_cost),
        "currency": product.currency,
        "tax_rate": plain_number(product.tax_rate),
        "is_active": product.is_active,
        "tags": ", ".join(t.name for t in product.tags.all()),
        "version": product.version,
    }
    form = ProductForm(
        request.POST if request.method == "POST" else None,
        categories=_category_choices(actor),
        initial=initial,
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.product_update(
                actor=actor,
                product_id=product.pk,
                data=_product_values(form),
                expected_version=form.cleaned_data.get("version"),
                tags=form.tag_names(),
            )
        except Conflict:
            form.add_error(None, _("Someone else changed this product. Reload it and try again."))
        except ValidationFailed as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("The product was saved."))
            return HttpResponseRedirect(product.get_absolute_url())
    return render(
        request,
        "sales/catalogue/product_form.html",
        {"form": form, "product": product, "currencies": CURRENCY_OPTIONS},
        status=422 if form.errors else 200,
    )


@login_required
@require_POST
@catalogue_page
def product_delete(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    product = selectors.product_get(actor=actor, pk=pk)
    try:
        services.product_delete(actor=actor, product_id=product.pk)
    except ValidationFailed as exc:
        flash_errors(request, exc)
        return HttpResponseRedirect(product.get_absolute_url())
    messages.success(request, _("The product was deleted."))
    return HttpResponseRedirect(reverse("sales:product_list"))


@login_required
@require_GET
def product_choices(request: HttpRequest) -> HttpResponse:
    """``<option>``s of active products matching ``q`` (for the SKU pickers' datalist)."""
    products = selectors.product_choices(actor=actor_of(request), q=request.GET.get("q", ""))
    return render(request, "sales/catalogue/_product_options.html", {"products": products})


@login_required
@require_GET
@catalogue_page
def product_price(request: HttpRequest, pk: int) -> HttpResponse:
    """The unit-price ``<input>`` of a document line, filled from ``price_for``.

    Quote and order forms call it with htmx (``hx-get`` with ``currency``, ``quantity``,
    ``customer`` and the input's ``name`` and ``id``; ``hx-swap="outerHTML"``). Bad input
    leaves the field empty with the reason as its title, so the user types the price.
    """
    actor = actor_of(request)
    name = request.GET.get("name", "unit_price")
    element_id = request.GET.get("id", "")
    name = name if _INPUT_NAME.match(name) else "unit_price"
    element_id = element_id if _INPUT_NAME.match(element_id) else ""
    value, note, source = "", "", "none"
    try:
        result = selectors.product_price(
            actor=actor,
            product_id=pk,
            currency=request.GET.get("currency", ""),
            quantity=request.GET.get("quantity") or "1",
            customer_id=request.GET.get("customer") or None,
        )
    except ValidationFailed as exc:
        note = " ".join(m for messages_ in exc.fields.values() for m in messages_)
    else:
        source = result.source
        if result.unit_price is not None:
            value = plain_number(result.unit_price)
            note = (
                _("From the price list “%(name)s”.") % {"name": result.price_list.name}
                if result.price_list
                else _("The product's list price.")
            )
        else:
            note = _("No price in this currency: enter it.")
    return render(
        request,
        "sales/catalogue/_price_input.html",
        {"name": name, "element_id": element_id, "value": value, "note": note, "source": source},
    )


# --- categories --------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
@catalogue_page
def category_list(request: HttpRequest) -> HttpResponse:
    """The category tree; managers add categories here."""
    actor = actor_of(request)
    form = CategoryForm(
        request.POST if request.method == "POST" else None,
        categories=_category_choices(actor),
    )
    if request.method == "POST":
        require_manager(actor)
        if form.is_valid():
            try:
                services.category_create(
                    actor=actor,
                    name=form.cleaned_data["name"],
                    parent_id=form.cleaned_data["parent"],
                )
            except ValidationFailed as exc:
                apply_errors(form, exc)
            else:
                messages.success(request, _("The category was added."))
                return HttpResponseRedirect(reverse("sales:category_list"))
    return render(
        request,
        "sales/catalogue/category_list.html",
        {
            "tree": selectors.category_tree(actor=actor),
            "form": form,
            "can_manage": can_manage(actor),
        },
        status=422 if form.errors else 200,
    )


@login_required
@require_http_methods(["GET", "POST"])
@catalogue_page
def category_edit(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    category = selectors.category_get(actor=actor, pk=pk)
    require_manager(actor)
    form = CategoryForm(
        request.POST if request.method == "POST" else None,
        categories=_category_choices(actor, exclude=category.pk),
        initial={"name": category.name, "parent": category.parent_id, "version": category.version},
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.category_update(
                actor=actor,
                category_id=category.pk,
                data={"name": form.cleaned_data["name"], "parent_id": form.cleaned_data["parent"]},
                expected_version=form.cleaned_data.get("version"),
            )
        except Conflict:
            form.add_error(None, _("Someone else changed this category. Reload it and try again."))
        except ValidationFailed as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("The category was saved."))
            return HttpResponseRedirect(reverse("sales:category_list"))
    return render(
        request,
        "sales/catalogue/category_form.html",
        {"form": form, "category": category},
        status=422 if form.errors else 200,
    )


@login_required
@require_POST
@catalogue_page
def category_delete(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    category = selectors.category_get(actor=actor, pk=pk)
    try:
        services.category_delete(actor=actor, category_id=category.pk)
    except ValidationFailed as exc:
        flash_errors(request, exc)
    else:
        messages.success(request, _("The category was deleted."))
    return HttpResponseRedirect(reverse("sales:category_list"))
