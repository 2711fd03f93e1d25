"""Pages of price lists (prices edited in place with htmx), exchange rates and competitors."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from vefa.common.errors import Conflict, ValidationFailed
from vefa.platform.models import Tag
from vefa.sales.forms.catalogue import (
    CURRENCY_OPTIONS,
    CompetitorForm,
    ExchangeRateForm,
    PriceListForm,
    PriceListItemForm,
    apply_errors,
)
from vefa.sales.models import PriceList, PriceListItem, Product
from vefa.sales.selectors import catalogue as selectors
from vefa.sales.services import catalogue as services
from vefa.sales.services import catalogue_prices as prices
from vefa.sales.views.catalogue_helpers import (
    actor_of,
    can_manage,
    catalogue_page,
    flash_errors,
    is_htmx,
    money_text,
    number_text,
    query_without_cursor,
    require_manager,
)

PAGE_SIZE = 50
ITEM_PAGE_SIZE = 100
MAX_GROUPS = 500


def _groups() -> list[tuple[int, str]]:
    return list(Tag.objects.order_by("name").values_list("pk", "name")[:MAX_GROUPS])


# --- price lists -------------------------------------------------------------------------


@login_required
@require_GET
def pricelist_list(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    return render(
        request,
        "sales/catalogue/pricelist_list.html",
        {
            "price_lists": selectors.price_list_list(actor=actor),
            "can_manage": can_manage(actor),
        },
    )


def _price_list_values(form: PriceListForm) -> dict[str, Any]:
    data = form.cleaned_data
    return {
        "name": data["name"],
        "currency": data["currency"].strip().upper(),
        "customer_group_id": data["customer_group"],
        "valid_from": data["valid_from"],
        "valid_until": data["valid_until"],
        "is_active": data["is_active"],
    }


@login_required
@require_http_methods(["GET", "POST"])
@catalogue_page
def pricelist_create(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    require_manager(actor)
    form = PriceListForm(request.POST if request.method == "POST" else None, groups=_groups())
    if request.method == "POST" and form.is_valid():
        try:
            price_list = prices.price_list_create(actor=actor, **_price_list_values(form))
        except ValidationFailed as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("The price list was added. Now add its prices."))
            return HttpResponseRedirect(reverse("sales:pricelist_detail", args=[price_list.pk]))
    return render(
        request,
        "sales/catalogue/pricelist_form.html",
        {"form": form, "price_list": None, "currencies": CURRENCY_OPTIONS},
        status=422 if form.errors else 200,
    )


@login_required
@require_http_methods(["GET", "POST"])
@catalogue_page
def pricelist_edit(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    price_list = selectors.price_list_get(actor=actor, pk=pk)
    require_manager(actor)
    form = PriceListForm(
        request.POST if request.method == "POST" else None,
        groups=_groups(),
        initial={
            "name": price_list.name,
            "currency": price_list.currency,
            "customer_group": price_list.customer_group_id,
            "valid_from": price_list.valid_from,
            "valid_until": price_list.valid_until,
            "is_active": price_list.is_active,
            "version": price_list.version,
        },
    )
    if request.method == "POST" and form.is_valid():
        try:
            prices.price_list_update(
                actor=actor,
                price_list_id=price_list.pk,
                data=_price_list_values(form),
                expected_version=form.cleaned_data.get("version"),
            )
        except Conflict:
            form.add_error(
                None, _("Someone else changed this price list. Reload it and try again.")
            )
        except ValidationFailed as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("The price list was saved."))
            return HttpResponseRedirect(reverse("sales:pricelist_detail", args=[price_list.pk]))
    return render(
        request,
        "sales/catalogue/pricelist_form.html",
        {"form": form, "price_list": price_list, "currencies": CURRENCY_OPTIONS},
        status=422 if form.errors else 200,
    )


@login_required
@require_POST
@catalogue_page
def pricelist_delete(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    price_list = selectors.price_list_get(actor=actor, pk=pk)
    prices.price_list_delete(actor=actor, price_list_id=price_list.pk)
    messages.success(request, _("The price list was deleted."))
    return HttpResponseRedirect(reverse("sales:pricelist_list"))


def _decorate(item: PriceListItem, price_list: PriceList) -> PriceListItem:
    item.price_text = money_text(item.unit_price, price_list.currency)  # type: ignore[attr-defined]
    item.quantity_text = number_text(item.min_quantity)  # type: ignore[attr-defined]
    return item


def _detail_context(
    request: HttpRequest, price_list: PriceList, form: PriceListItemForm | None = None
) -> dict[str, Any]:
    actor = actor_of(request)
    page = selectors.price_list_item_page(
        actor=actor, price_list=price_list, cursor=request.GET.get("cursor"), size=ITEM_PAGE_SIZE
    )
    for item in page.items:
        _decorate(item, price_list)
    return {
        "price_list": price_list,
        "page": page,
        "form": form or PriceListItemForm(),
        "can_manage": can_manage(actor),
        "base_query": query_without_cursor(request),
    }


@login_required
@require_GET
@catalogue_page
def pricelist_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A price list with its prices; managers add and remove prices in place (htmx)."""
    price_list = selectors.price_list_get(actor=actor_of(request), pk=pk)
    context = _detail_context(request, price_list)
    if is_htmx(request) and request.GET.get("cursor"):
        return render(request, "sales/catalogue/pricelist_detail.html#item-rows", context)
    return render(request, "sales/catalogue/pricelist_detail.html", context)


@login_required
@require_POST
@catalogue_page
def pricelist_item_add(request: HttpRequest, pk: int) -> HttpResponse:
    """Add a price. With htmx the answer is the new row plus a fresh form (out of band);
    a refused price answers the form with its errors."""
    actor = actor_of(request)
    price_list = selectors.price_list_get(actor=actor, pk=pk)
    require_manager(actor)
    form = PriceListItemForm(request.POST)
    item = None
    if form.is_valid():
        sku = form.cleaned_data["product"].strip()
        product = Product.objects.filter(sku=sku).only("pk").first()
        if product is None:
            form.add_error("product", _("No product has this SKU."))
        else:
            try:
                item = prices.price_list_item_add(
                    actor=actor,
                    price_list_id=price_list.pk,
                    product_id=product.pk,
                    min_quantity=form.cleaned_data["min_quantity"],
                    unit_price=form.cleaned_data["unit_price"],
                )
            except ValidationFailed as exc:
                apply_errors(form, exc)
    if not is_htmx(request):
        if item is not None:
            messages.success(request, _("The price was added."))
        else:
            for field_errors in form.errors.values():
                for error in field_errors:
                    messages.error(request, str(error))
        return HttpResponseRedirect(reverse("sales:pricelist_detail", args=[price_list.pk]))
    if item is None:
        return render(
            request,
            "sales/catalogue/pricelist_detail.html#item-form",
            {"price_list": price_list, "form": form, "can_manage": True},
            status=422,
        )
    fresh = _decorate(selectors.price_list_item_get(actor=actor, pk=item.pk), price_list)
    return render(
        request,
        "sales/catalogue/_pricelist_item_added.html",
        {"price_list": price_list, "item": fresh, "form": PriceListItemForm(), "can_manage": True},
    )


@login_required
@require_POST
@catalogue_page
def pricelist_item_remove(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    item = selectors.price_list_item_get(actor=actor, pk=pk)
    prices.price_list_item_remove(actor=actor, item_id=item.pk)
    if is_htmx(request):
        return HttpResponse("")
    messages.success(request, _("The price was removed."))
    return HttpResponseRedirect(reverse("sales:pricelist_detail", args=[item.price_list_id]))


# --- exchange rates ----------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
@catalogue_page
def exchange_rate_list(request: HttpRequest) -> HttpResponse:
    """Exchange rates, newest first, with filters; managers add rates here."""
    actor = actor_of(request)
    form = ExchangeRateForm(request.POST if request.method == "POST" else None)
    if request.method == "POST":
        require_manager(actor)
        if form.is_valid():
            data = form.cleaned_data
            try:
                prices.exchange_rate_create(
                    actor=actor,
                    day=data["day"],
                    currency=data["currency"].strip().upper(),
                    quote_currency=data["quote_currency"].strip().upper(),
                    rate=data["rate"],
                )
            except ValidationFailed as exc:
                apply_errors(form, exc)
            else:
                messages.success(request, _("The exchange rate was added."))
                return HttpResponseRedirect(reverse("sales:exchange_rate_list"))
    filters = selectors.RateFilters.from_query(request.GET)
    page = selectors.exchange_rate_page(
        actor=actor, filters=filters, cursor=request.GET.get("cursor"), size=PAGE_SIZE
    )
    for rate in page.items:
        rate.rate_text = number_text(rate.rate)  # type: ignore[attr-defined]
    context = {
        "page": page,
        "filters": filters,
        "form": form,
        "currencies": CURRENCY_OPTIONS,
        "can_manage": can_manage(actor),
        "base_query": query_without_cursor(request),
    }
    if is_htmx(request) and request.method == "GET":
        return render(request, "sales/catalogue/exchange_rate_list.html#rate-rows", context)
    return render(
        request,
        "sales/catalogue/exchange_rate_list.html",
        context,
        status=422 if form.errors else 200,
    )


@login_required
@require_POST
@catalogue_page
def exchange_rate_delete(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    rate = selectors.exchange_rate_get(actor=actor, pk=pk)
    prices.exchange_rate_delete(actor=actor, rate_id=rate.pk)
    if is_htmx(request):
        return HttpResponse("")
    messages.success(request, _("The exchange rate was deleted."))
    return HttpResponseRedirect(reverse("sales:exchange_rate_list"))


# --- competitors -------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
@catalogue_page
def competitor_list(request: HttpRequest) -> HttpResponse:
    """Competitors by name; managers add them here."""
    actor = actor_of(request)
    form = CompetitorForm(request.POST if request.method == "POST" else None)
    if request.method == "POST":
        require_manager(actor)
        if form.is_valid():
            data = form.cleaned_data
            try:
                services.competitor_create(
                    actor=actor, name=data["name"], website=data["website"], notes=data["notes"]
                )
            except ValidationFailed as exc:
                apply_errors(form, exc)
            else:
                messages.success(request, _("The competitor was added."))
                return HttpResponseRedirect(reverse("sales:competitor_list"))
    q = request.GET.get("q", "")[:200]
    page = selectors.competitor_page(
        actor=actor, q=q, cursor=request.GET.get("cursor"), size=PAGE_SIZE
    )
    context = {
        "page": page,
        "q": q,
        "form": form,
        "can_manage": can_manage(actor),
        "base_query": query_without_cursor(request),
    }
    if is_htmx(request) and request.method == "GET":
        return render(request, "sales/catalogue/competitor_list.html#competitor-rows", context)
    return render(
        request,
        "sales/catalogue/competitor_list.html",
        context,
        status=422 if form.errors else 200,
    )


@login_required
@require_http_methods(["GET", "POST"])
@catalogue_page
def competitor_edit(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    competitor = selectors.competitor_get(actor=actor, pk=pk)
    require_manager(actor)
    form = CompetitorForm(
        request.POST if request.method == "POST" else None,
        initial={
            "name": competitor.name,
            "website": competitor.website,
            "notes": competitor.notes,
            "version": competitor.version,
        },
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.competitor_update(
                actor=actor,
                competitor_id=competitor.pk,
                data={"name": data["name"], "website": data["website"], "notes": data["notes"]},
                expected_version=data.get("version"),
            )
        except Conflict:
            form.add_error(
                None, _("Someone else changed this competitor. Reload it and try again.")
            )
        except ValidationFailed as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("The competitor was saved."))
            return HttpResponseRedirect(reverse("sales:competitor_list"))
    return render(
        request,
        "sales/catalogue/competitor_form.html",
        {"form": form, "competitor": competitor},
        status=422 if form.errors else 200,
    )


@login_required
@require_POST
@catalogue_page
def competitor_delete(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    competitor = selectors.competitor_get(actor=actor, pk=pk)
    try:
        services.competitor_delete(actor=actor, competitor_id=competitor.pk)
    except ValidationFailed as exc:
        flash_errors(request, exc)
    else:
        messages.success(request, _("The competitor was deleted."))
    return HttpResponseRedirect(reverse("sales:competitor_list"))
