"""Pages of quotes: the list, one quote with its versions, the form with htmx line rows, the
PDF, and the actions (send by e-mail, mark sent, accept into an order, reject, new version)."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Q
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, QueryDict
from django.shortcuts import render
from django.urls import NoReverseMatch, path, reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from vefa.accounts.access import can, can_create, restrict, scope_for
from vefa.accounts.choices import Scope
from vefa.accounts.models import User
from vefa.common.errors import ApplicationError, Conflict, NotFound, ValidationFailed
from vefa.customers.models import Customer
from vefa.interactions.filters import filters_from_query
from vefa.interactions.views._helpers import actor_of, hidden_as_404, is_htmx
from vefa.sales.choices import OpportunityStatus, QuoteStatus
from vefa.sales.forms.quotes import (
    QuoteForm,
    RejectForm,
    SendForm,
    apply_errors,
    lines_from_post,
    unit_choices,
)
from vefa.sales.models import Opportunity, PriceList, Product, Quote
from vefa.sales.pricing import customer_tag_ids
from vefa.sales.selectors import quotes as selectors
from vefa.sales.selectors.quotes import QuoteFilters
from vefa.sales.services import quotes as services
from vefa.sales.services.quotes_pdf import pdf_filename, render_quote_pdf

PAGE_SIZE = 50
MAX_PRODUCTS = 300
# The colour of each status's badge.
BADGES: dict[str, str] = {
    QuoteStatus.DRAFT: "secondary",
    QuoteStatus.SENT: "primary",
    QuoteStatus.ACCEPTED: "success",
    QuoteStatus.REJECTED: "warning",
    QuoteStatus.EXPIRED: "warning",
    QuoteStatus.SUPERSEDED: "light",
}


def _flash(request: HttpRequest, error: ApplicationError) -> None:
    texts = [m for values in error.fields.values() for m in values] or [str(error.message)]
    for text in texts:
        messages.error(request, text)


def _changeable(actor: User, quote: Quote) -> Quote:
    if not can(actor, "change", quote):
        raise NotFound(_("Not found."))
    return quote


def owners_for(actor: User, current: User | None = None) -> list[tuple[int, str]]:
    """Who the actor may give a quote to: themself, their team or anyone, by scope."""
    scope = scope_for(actor, "sales.quote", "change")
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


def _contacts(actor: User, customer: Customer) -> list[tuple[int, str]]:
    """The people related to the customer (either direction) the actor may see."""
    related = restrict(Customer.objects.all(), actor, "view").filter(
        Q(relationships_from__to_customer=customer) | Q(relationships_to__from_customer=customer)
    )
    people = related.exclude(pk=customer.pk).distinct().order_by("name_key", "pk")[:100]
    return [(c.pk, c.display_name) for c in people]


def _opportunities(actor: User, customer: Customer) -> list[tuple[int, str]]:
    qs = restrict(Opportunity.objects.all(), actor, "view").filter(customer=customer)
    rows = qs.filter(status=OpportunityStatus.OPEN).order_by("-created_at", "-id")[:100]
    return [(o.pk, o.name) for o in rows]


def _price_lists() -> list[tuple[int, str]]:
    rows = PriceList.objects.filter(is_active=True).order_by("name")[:200]
    return [(p.pk, str(p)) for p in rows]


def _products(current: set[int] | None = None) -> list[tuple[int, str]]:
    qs = Product.objects.filter(is_active=True).order_by("name", "id")[:MAX_PRODUCTS]
    products = [(p.pk, str(p)) for p in qs]
    missing = (current or set()) - {pk for pk, _ in products}
    if missing:
        products += [(p.pk, str(p)) for p in Product.objects.filter(pk__in=missing)]
    return products


def _form(
    actor: User,
    customer: Customer,
    data: QueryDict | None,
    initial: dict[str, Any],
    owner: User | None = None,
) -> QuoteForm:
    return QuoteForm(
        data,
        initial=initial,
        contacts=_contacts(actor, customer),
        opportunities=_opportunities(actor, customer),
        price_lists=_price_lists(),
        owners=owners_for(actor, owner),
        currency=str(initial.get("currency") or customer.currency),
    )


def _line_rows(lines: list[dict[str, Any]], errors: dict[int, dict[str, str]]) -> list[Any]:
    return [(i, line, errors.get(i, {})) for i, line in enumerate(lines)]


def _form_context(
    form: QuoteForm,
    *,
    customer: Customer,
    quote: Quote | None,
    lines: list[dict[str, Any]],
    line_errors: dict[int, dict[str, str]] | None = None,
) -> dict[str, Any]:
    current = {int(x["product"]) for x in lines if str(x.get("product") or "").isdigit()}
    return {
        "form": form,
        "customer": customer,
        "quote": quote,
        "rows": _line_rows(lines, line_errors or {}),
        "products": _products(current),
        "units": unit_choices(),
    }


# --- list ----------------------------------------------------------------------------------------


def list_rows(quotes: list[Quote], today: datetime.date) -> list[dict[str, Any]]:
    """The list's cells as plain text, formatted once here (the template only prints them:
    fifty rows of lookups and filters in a template cost more than the query)."""
    from vefa.customers.templatetags.customers_tags import money

    labels = dict(QuoteStatus.choices)
    detail = reverse("sales:quote_detail", args=[0]).removesuffix("0/")
    customer = reverse("customers:detail", args=[0]).removesuffix("0/")
    rows = []
    for quote in quotes:
        status = services.effective_status(quote, today)
        rows.append(
            {
                "url": f"{detail}{quote.pk}/",
                "number": f"{quote.number}/{quote.revision}",
                "customer_url": f"{customer}{quote.customer_id}/",
                "customer": quote.customer.display_name,
                "status": labels.get(status, status),
                "badge": BADGES.get(status, "light"),
                "issued_iso": quote.issued_on.isoformat(),
                "issued": date_format(quote.issued_on, "SHORT_DATE_FORMAT"),
                "valid_iso": quote.valid_until.isoformat() if quote.valid_until else "",
                "valid": (
                    date_format(quote.valid_until, "SHORT_DATE_FORMAT") if quote.valid_until else ""
                ),
                "total": money(quote.total, quote.currency),
                "owner": str(quote.owner) if quote.owner_id else "",
            }
        )
    return rows


@login_required
@require_GET
def quote_list(request: HttpRequest) -> HttpResponse:
    """Quotes the user may see, filtered by status, customer and owner; keyset pages."""
    actor = actor_of(request)
    filters, errors = filters_from_query(QuoteFilters, request.GET)
    page = selectors.quote_page(
        actor=actor, filters=filters, cursor=request.GET.get("cursor"), size=PAGE_SIZE
    )
    today = timezone.localdate()
    rows = list_rows(page.items, today)
    params = request.GET.copy()
    params.pop("cursor", None)
    customer = None
    if filters.customer:
        customer = (
            restrict(Customer.objects.all(), actor, "view")
            .filter(pk=filters.customer)
            .only("pk", "display_name")
            .first()
        )
    context = {
        "rows": rows,
        "page": page,
        "filters": filters,
        "filter_errors": sorted(errors),
        "statuses": QuoteStatus.choices,
        "owners": owners_for(actor) if scope_for(actor, "sales.quote", "view") != Scope.OWN else [],
        "filter_customer": customer,
        "base_query": params.urlencode(),
        "can_create": can_create(actor, Quote),
    }
    if is_htmx(request) and request.GET.get("cursor"):
        return render(request, "sales/quotes/quote_list.html#quote-rows", context)
    if is_htmx(request):
        return render(request, "sales/quotes/quote_list.html#quote-table", context)
    return render(request, "sales/quotes/quote_list.html", context)


# --- one quote -----------------------------------------------------------------------------------


def _order_url(order: Any) -> str:
    try:
        return str(order.get_absolute_url())
    except NoReverseMatch:
        return ""


@login_required
@require_GET
@hidden_as_404
def quote_detail(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    quote = selectors.quote_get(actor=actor, pk=pk)
    status = services.effective_status(quote)
    can_change = can(actor, "change", quote)
    orders = [(o, _order_url(o)) for o in selectors.quote_orders(actor=actor, quote=quote)]
    return render(
        request,
        "sales/quotes/quote_detail.html",
        {
            "quote": quote,
            "status": status,
            "badge": BADGES.get(status, "light"),
            "status_label": QuoteStatus(status).label,
            "lines": list(quote.lines.all()),
            "versions": selectors.quote_versions(actor=actor, quote=quote),
            "orders": orders,
            "can_change": can_change,
            "can_edit": can_change and status == QuoteStatus.DRAFT,
            "can_send": can_change and status in (QuoteStatus.DRAFT, QuoteStatus.SENT),
            "can_decide": can_change and status == QuoteStatus.SENT,
            "can_version": can_change
            and status in services.VERSIONABLE
            and not Quote.objects.filter(previous=quote).exists(),
            "can_delete": can(actor, "delete", quote) and status == QuoteStatus.DRAFT,
            "recipient": services.recipient_of(quote),
            "rejection_reason": services.rejection_reason(quote),
            "reject_form": RejectForm(initial={"version": quote.version}),
        },
    )


@login_required
@require_GET
@hidden_as_404
def quote_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    """The quote as a PDF in its language (``?download=1`` saves it instead of showing it)."""
    quote = selectors.quote_get(actor=actor_of(request), pk=pk)
    response = HttpResponse(render_quote_pdf(quote), content_type="application/pdf")
    disposition = "attachment" if request.GET.get("download") else "inline"
    response["Content-Disposition"] = f'{disposition}; filename="{pdf_filename(quote)}"'
    response["X-Content-Type-Options"] = "nosniff"
    return response


# --- create and edit -----------------------------------------------------------------------------


def _header(data: dict[str, Any]) -> dict[str, Any]:
    return {
        "contact": data["contact"],
        "opportunity": data["opportunity"],
        "price_list": data["price_list"],
        "currency": data["currency"],
        "language": data["language"],
        "issued_on": data["issued_on"],
        "valid_until": data["valid_until"],
        "notes": data["notes"],
        "terms": data["terms"],
        "owner": data["owner"],
    }


@login_required
@require_http_methods(["GET", "POST"])
@hidden_as_404
def quote_create(request: HttpRequest) -> HttpResponse:
    """Write a quote for a customer (``?customer=<id>``, optionally ``&opportunity=<id>``);
    without a customer the page asks for one first."""
    actor = actor_of(request)
    if not can_create(actor, Quote):
        raise NotFound(_("Not found."))
    customer_pk = request.POST.get("customer") or request.GET.get("customer")
    if not customer_pk:
        return render(request, "sales/quotes/quote_choose_customer.html", {})
    from vefa.customers.selectors import customer_get

    customer = customer_get(actor=actor, pk=customer_pk)
    opportunity = request.GET.get("opportunity")
    today = timezone.localdate()
    initial: dict[str, Any] = {
        "currency": customer.currency,
        "language": services.default_language(customer, actor),
        "issued_on": today,
        "valid_until": today + datetime.timedelta(days=services.DEFAULT_VALIDITY_DAYS),
        "owner": actor.pk,
        "opportunity": int(opportunity) if opportunity and opportunity.isdigit() else None,
    }
    form = _form(actor, customer, request.POST if request.method == "POST" else None, initial)
    lines = lines_from_post(request.POST) if request.method == "POST" else []
    line_errors: dict[int, dict[str, str]] = {}
    if request.method == "POST" and form.is_valid():
        try:
            quote = services.quote_create(
                actor=actor, customer=customer.pk, lines=lines, **_header(form.cleaned_data)
            )
        except ValidationFailed as exc:
            line_errors = apply_errors(form, exc)
        else:
            messages.success(request, _("The quote was saved as a draft."))
            return HttpResponseRedirect(quote.get_absolute_url())
    context = _form_context(
        form, customer=customer, quote=None, lines=lines or [{}], line_errors=line_errors
    )
    status = 422 if request.method == "POST" else 200
    return render(request, "sales/quotes/quote_form.html", context, status=status)


def plain(value: Decimal | None) -> str:
    """A stored number as typed (``120.0000`` → ``120``, ``2.500`` → ``2.5``)."""
    if value is None:
        return ""
    return format(Decimal(value).normalize(), "f")


def _saved_lines(quote: Quote) -> list[dict[str, Any]]:
    return [
        {
            "product": line.product_id or "",
            "description": line.description,
            "quantity": plain(line.quantity),
            "unit": line.unit,
            "unit_price": plain(line.unit_price),
            "discount_percent": plain(line.discount_percent) if line.discount_percent else "",
            "tax_rate": plain(line.tax_rate),
            "total": line.total,
        }
        for line in quote.lines.all()
    ]


@login_required
@require_http_methods(["GET", "POST"])
@hidden_as_404
def quote_edit(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    quote = _changeable(actor, selectors.quote_get(actor=actor, pk=pk))
    if not services.is_editable(quote):
        messages.error(request, _("Only a draft can be changed; make a new version instead."))
        return HttpResponseRedirect(quote.get_absolute_url())
    initial = {
        "version": quote.version,
        "contact": quote.contact_id,
        "opportunity": quote.opportunity_id,
        "price_list": quote.price_list_id,
        "currency": quote.currency,
        "language": quote.language,
        "issued_on": quote.issued_on,
        "valid_until": quote.valid_until,
        "owner": quote.owner_id,
        "notes": quote.notes,
        "terms": quote.terms,
    }
    post = request.POST if request.method == "POST" else None
    form = _form(actor, quote.customer, post, initial, owner=quote.owner)
    lines = lines_from_post(request.POST) if post is not None else _saved_lines(quote)
    line_errors: dict[int, dict[str, str]] = {}
    if post is not None and form.is_valid():
        data = form.cleaned_data
        try:
            services.quote_update(
                actor=actor,
                quote_id=quote.pk,
                data=_header(data),
                lines=lines,
                expected_version=data.get("version"),
            )
        except Conflict:
            form.add_error(None, _("Someone else changed this quote. Reload it and try again."))
        except ValidationFailed as exc:
            line_errors = apply_errors(form, exc)
        else:
            messages.success(request, _("The quote was saved."))
            return HttpResponseRedirect(quote.get_absolute_url())
    context = _form_context(
        form, customer=quote.customer, quote=quote, lines=lines or [{}], line_errors=line_errors
    )
    return render(
        request,
        "sales/quotes/quote_form.html",
        context,
        status=422 if post is not None else 200,
    )


@login_required
@require_GET
def quote_line_row(request: HttpRequest) -> HttpResponse:
    """One line row for the form (htmx): empty, or filled from the chosen product with its
    price for the customer in the quote's currency."""
    actor = actor_of(request)
    line: dict[str, Any] = {}
    error: dict[str, str] = {}
    product_id = (request.GET.get("line_product") or "").strip()
    if product_id.isdigit():
        product = Product.objects.filter(pk=int(product_id)).first()
        if product is not None:
            currency = (request.GET.get("currency") or product.currency)[:3].upper()
            customer_id = request.GET.get("customer") or ""
            tags: set[int] = set()
            if customer_id.isdigit():
                visible = restrict(Customer.objects.all(), actor, "view")
                if visible.filter(pk=int(customer_id)).exists():
                    tags = customer_tag_ids(int(customer_id))
            quantity = (request.GET.get("line_quantity") or "1").strip()[:20]
            price_list = None
            list_id = (request.GET.get("price_list") or "").strip()
            if list_id.isdigit():
                price_list = PriceList.objects.filter(pk=int(list_id), currency=currency).first()
            try:
                built = services.build_line(
                    {"product": product.pk, "quantity": quantity},
                    index=0,
                    currency=currency,
                    tag_ids=tags,
                    price_list=price_list,
                )
            except ValidationFailed as exc:
                error = {k.split(".")[-1]: " ".join(v) for k, v in exc.fields.items()}
                line = {"product": product.pk, "description": product.name, "quantity": quantity}
            else:
                line = {
                    "product": product.pk,
                    "description": built.description,
                    "quantity": plain(built.quantity),
                    "unit": built.unit,
                    "unit_price": plain(built.unit_price),
                    "discount_percent": "",
                    "tax_rate": plain(built.tax_rate),
                    "total": built.total,
                }
    current = {int(product_id)} if product_id.isdigit() else set()
    return render(
        request,
        "sales/quotes/_line_row.html",
        {
            "i": 0,
            "line": line,
            "errors": error,
            "products": _products(current),
            "units": unit_choices(),
        },
    )


@login_required
@require_GET
def quote_customer_picker(request: HttpRequest) -> HttpResponse:
    """Customers whose name starts with ``q``, to start a quote for one of them."""
    from vefa.customers.selectors import customer_picker

    results = customer_picker(actor=actor_of(request), q=request.GET.get("q", "")[:100])
    return render(
        request,
        "sales/quotes/_customer_picker.html",
        {"results": results, "q": request.GET.get("q", "")},
    )


# --- actions -------------------------------------------------------------------------------------


def _version(request: HttpRequest) -> int | None:
    raw = (request.POST.get("version") or "").strip()
    return int(raw) if raw.isdigit() and len(raw) < 10 else None


def _act(request: HttpRequest, quote: Quote, action: Any, done: str) -> Any:
    """Run a quote action; errors become messages on the quote page."""
    try:
        result = action()
    except Conflict:
        messages.error(request, _("Someone else changed this quote. Reload it and try again."))
    except services.MailFailed as exc:
        messages.error(request, str(exc.message))
    except ValidationFailed as exc:
        _flash(request, exc)
    else:
        messages.success(request, done)
        return result
    return None


@login_required
@require_http_methods(["GET", "POST"])
@hidden_as_404
def quote_send(request: HttpRequest, pk: int) -> HttpResponse:
    """E-mail the PDF to the customer (the address can be changed before sending)."""
    actor = actor_of(request)
    quote = _changeable(actor, selectors.quote_get(actor=actor, pk=pk))
    form = SendForm(
        request.POST if request.method == "POST" else None,
        initial={"to": services.recipient_of(quote), "version": quote.version},
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.quote_send(
                actor=actor,
                quote_id=quote.pk,
                to=form.cleaned_data["to"],
                message=form.cleaned_data["message"],
                expected_version=form.cleaned_data.get("version"),
            )
        except Conflict:
            form.add_error(None, _("Someone else changed this quote. Reload it and try again."))
        except services.MailFailed as exc:
            form.add_error(None, str(exc.message))
        except ValidationFailed as exc:
            apply_errors(form, exc)
        else:
            messages.success(
                request, _("The quote was e-mailed and logged in the contact history.")
            )
            return HttpResponseRedirect(quote.get_absolute_url())
    return render(
        request,
        "sales/quotes/quote_send.html",
        {"quote": quote, "form": form, "status": services.effective_status(quote)},
        status=422 if form.errors else 200,
    )


@login_required
@require_POST
@hidden_as_404
def quote_mark_sent(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    quote = _changeable(actor, selectors.quote_get(actor=actor, pk=pk))
    _act(
        request,
        quote,
        lambda: services.quote_mark_sent(
            actor=actor, quote_id=quote.pk, expected_version=_version(request)
        ),
        _("The quote is marked as sent."),
    )
    return HttpResponseRedirect(quote.get_absolute_url())


@login_required
@require_POST
@hidden_as_404
def quote_accept(request: HttpRequest, pk: int) -> HttpResponse:
    """Accept the quote: it becomes an order with the same lines and totals."""
    actor = actor_of(request)
    quote = _changeable(actor, selectors.quote_get(actor=actor, pk=pk))
    order = _act(
        request,
        quote,
        lambda: services.quote_accept(
            actor=actor, quote_id=quote.pk, expected_version=_version(request)
        ),
        _("The quote was accepted and its order created."),
    )
    if order is not None:
        url = _order_url(order)
        if url and can(actor, "view", order):
            return HttpResponseRedirect(url)
    return HttpResponseRedirect(quote.get_absolute_url())


@login_required
@require_POST
@hidden_as_404
def quote_reject(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    quote = _changeable(actor, selectors.quote_get(actor=actor, pk=pk))
    form = RejectForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Say why the customer rejected the quote."))
        return HttpResponseRedirect(quote.get_absolute_url())
    _act(
        request,
        quote,
        lambda: services.quote_reject(
            actor=actor,
            quote_id=quote.pk,
            reason=form.cleaned_data["reason"],
            expected_version=form.cleaned_data.get("version"),
        ),
        _("The quote was marked as rejected."),
    )
    return HttpResponseRedirect(quote.get_absolute_url())


@login_required
@require_POST
@hidden_as_404
def quote_new_version(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    quote = _changeable(actor, selectors.quote_get(actor=actor, pk=pk))
    new = _act(
        request,
        quote,
        lambda: services.quote_new_version(
            actor=actor, quote_id=quote.pk, expected_version=_version(request)
        ),
        _("A new version was made; the old one is superseded."),
    )
    if new is not None:
        return HttpResponseRedirect(reverse("sales:quote_edit", args=[new.pk]))
    return HttpResponseRedirect(quote.get_absolute_url())


@login_required
@require_POST
@hidden_as_404
def quote_delete(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    quote = selectors.quote_get(actor=actor, pk=pk)
    if not can(actor, "delete", quote):
        raise NotFound(_("Not found."))
    previous = quote.previous_id

    def delete() -> bool:
        services.quote_delete(actor=actor, quote_id=quote.pk)
        return True

    done = _act(request, quote, delete, _("The draft was deleted."))
    if done:
        if previous:
            return HttpResponseRedirect(reverse("sales:quote_detail", args=[previous]))
        return HttpResponseRedirect(reverse("sales:quote_list"))
    return HttpResponseRedirect(quote.get_absolute_url())


urlpatterns = [
    path("quotes/", quote_list, name="quote_list"),
    path("quotes/new/", quote_create, name="quote_create"),
    path("quotes/line-row/", quote_line_row, name="quote_line_row"),
    path("quotes/customers/", quote_customer_picker, name="quote_customer_picker"),
    path("quotes/<int:pk>/", quote_detail, name="quote_detail"),
    path("quotes/<int:pk>/edit/", quote_edit, name="quote_edit"),
    path("quotes/<int:pk>/pdf/", quote_pdf, name="quote_pdf"),
    path("quotes/<int:pk>/send/", quote_send, name="quote_send"),
    path("quotes/<int:pk>/mark-sent/", quote_mark_sent, name="quote_mark_sent"),
    path("quotes/<int:pk>/accept/", quote_accept, name="quote_accept"),
    path("quotes/<int:pk>/reject/", quote_reject, name="quote_reject"),
    path("quotes/<int:pk>/new-version/", quote_new_version, name="quote_new_version"),
    path("quotes/<int:pk>/delete/", quote_delete, name="quote_delete"),
]
