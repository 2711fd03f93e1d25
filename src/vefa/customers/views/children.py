"""The htmx sections of the customer page: contact points, addresses, relationships, consent.

Each section is a partial that re-renders itself after a change. An add or edit form is
loaded into the section's form slot; on success the whole section is swapped, on an error
the form comes back (retargeted to its slot) with the messages. Without htmx the same views
work as ordinary pages that redirect to the customer.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from vefa.accounts.access import can
from vefa.common.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from vefa.customers import selectors, services
from vefa.customers.forms import AddressForm, ConsentForm, ContactPointForm, RelationshipForm
from vefa.customers.models import Customer
from vefa.customers.views._helpers import actor_of, hidden_as_404, is_htmx

SECTIONS = {
    "contact_points": "customers/_section_contact_points.html",
    "addresses": "customers/_section_addresses.html",
    "relationships": "customers/_section_relationships.html",
    "consent": "customers/_section_consent.html",
}


def _section_context(request: HttpRequest, customer: Customer, name: str) -> dict[str, Any]:
    actor = actor_of(request)
    context: dict[str, Any] = {"customer": customer, "can_change": can(actor, "change", customer)}
    if name == "contact_points":
        context["contact_points"] = selectors.contact_point_list(customer=customer)
    elif name == "addresses":
        context["addresses"] = selectors.address_list(customer=customer)
    elif name == "relationships":
        context["relationships"] = removable(
            actor, selectors.relationship_list(actor=actor, customer=customer)
        )
    elif name == "consent":
        from vefa.customers.views.customers import consent_rows

        context["consent_rows"] = consent_rows(selectors.consent_current(customer))
    return context


def removable(actor: Any, relationships: list[Any]) -> list[Any]:
    """Mark each relationship the actor may remove (its "from" customer is his to change)."""
    for relationship in relationships:
        relationship.can_remove = can(actor, "change", relationship)
    return relationships


def _section(request: HttpRequest, customer: Customer, name: str) -> HttpResponse:
    """The section after a change: the partial for htmx, else back to the customer page."""
    if is_htmx(request):
        return render(request, SECTIONS[name], _section_context(request, customer, name))
    return HttpResponseRedirect(f"{customer.get_absolute_url()}#section-{name}")


def _form_response(
    request: HttpRequest,
    *,
    customer: Customer,
    form: forms.Form,
    title: str,
    action: str,
    section: str,
    extra: dict[str, Any] | None = None,
    template: str = "customers/_child_form.html",
) -> HttpResponse:
    context = {
        "customer": customer,
        "form": form,
        "title": title,
        "action": action,
        "section": section,
        **(extra or {}),
    }
    if is_htmx(request):
        response = render(request, template, context)
        if request.method == "POST":
            # htmx does not swap error answers; the form goes back into its slot instead.
            response["HX-Retarget"] = f"#{section}-form-slot"
            response["HX-Reswap"] = "innerHTML"
        return response
    return render(
        request,
        "customers/child_form.html",
        {**context, "fragment": template},
        status=422 if form.errors else 200,
    )


def _customer_for_change(request: HttpRequest, pk: int) -> Customer:
    return selectors.customer_get(actor=actor_of(request), pk=pk, action="change")


def _run(form: Any, write: Callable[[], Any]) -> bool:
    """Run a service write; on a refusal put its messages on the form."""
    try:
        write()
    except Conflict:
        form.add_error(None, _("Someone else changed this record. Reload the page and try again."))
        return False
    except ValidationFailed as exc:
        form.apply_errors(exc)
        return False
    return True


@login_required
@require_GET
@hidden_as_404
def section(request: HttpRequest, pk: int, name: str) -> HttpResponse:
    """One section of the customer page (used to reload or cancel a form)."""
    if name not in SECTIONS:
        raise Http404
    customer = selectors.customer_get(actor=actor_of(request), pk=pk)
    return render(request, SECTIONS[name], _section_context(request, customer, name))


# --- contact points ------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
@hidden_as_404
def contact_point_add(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    customer = _customer_for_change(request, pk)
    form = ContactPointForm(request.POST or None, language=translation.get_language())
    if request.method == "POST" and form.is_valid():
        data = form.service_data()
        if _run(
            form,
            lambda: services.contact_point_create(actor=actor, customer_id=customer.pk, data=data),
        ):
            return _section(request, customer, "contact_points")
    return _form_response(
        request,
        customer=customer,
        form=form,
        title=_("Add a contact point"),
        action=reverse("customers:contact_point_add", args=[customer.pk]),
        section="contact_points",
    )


@login_required
@require_http_methods(["GET", "POST"])
@hidden_as_404
def contact_point_edit(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    point = selectors.contact_point_get(actor=actor, pk=pk, action="change")
    initial = {
        name: getattr(point, name)
        for name in ("kind", "value", "country", "label", "network", "is_primary", "version")
    }
    form = ContactPointForm(
        request.POST or None, initial=initial, language=translation.get_language()
    )
    if request.method == "POST" and form.is_valid():
        data = form.service_data()
        version = form.cleaned_data.get("version")
        if _run(
            form,
            lambda: services.contact_point_update(
                actor=actor, contact_point_id=point.pk, data=data, expected_version=version
            ),
        ):
            return _section(request, point.customer, "contact_points")
    return _form_response(
        request,
        customer=point.customer,
        form=form,
        title=_("Edit contact point"),
        action=reverse("customers:contact_point_edit", args=[point.pk]),
        section="contact_points",
    )


@login_required
@require_POST
@hidden_as_404
def contact_point_delete(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    point = selectors.contact_point_get(actor=actor, pk=pk, action="change")
    customer = point.customer
    services.contact_point_delete(actor=actor, contact_point_id=point.pk)
    return _section(request, customer, "contact_points")


# --- addresses -----------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
@hidden_as_404
def address_add(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    customer = _customer_for_change(request, pk)
    form = AddressForm(
        request.POST or None,
        initial={"country": customer.country or "TR"},
        language=translation.get_language(),
    )
    if request.method == "POST" and form.is_valid():
        data = form.service_data()
        if _run(
            form, lambda: services.address_create(actor=actor, customer_id=customer.pk, data=data)
        ):
            return _section(request, customer, "addresses")
    return _form_response(
        request,
        customer=customer,
        form=form,
        title=_("Add an address"),
        action=reverse("customers:address_add", args=[customer.pk]),
        section="addresses",
    )


@login_required
@require_http_methods(["GET", "POST"])
@hidden_as_404
def address_edit(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    address = selectors.address_get(actor=actor, pk=pk, action="change")
    initial = {name: getattr(address, name) for name in AddressForm.base_fields}
    form = AddressForm(request.POST or None, initial=initial, language=translation.get_language())
    if request.method == "POST" and form.is_valid():
        data = form.service_data()
        version = form.cleaned_data.get("version")
        if _run(
            form,
            lambda: services.address_update(
                actor=actor, address_id=address.pk, data=data, expected_version=version
            ),
        ):
            return _section(request, address.customer, "addresses")
    return _form_response(
        request,
        customer=address.customer,
        form=form,
        title=_("Edit address"),
        action=reverse("customers:address_edit", args=[address.pk]),
        section="addresses",
    )


@login_required
@require_POST
@hidden_as_404
def address_delete(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    address = selectors.address_get(actor=actor, pk=pk, action="change")
    customer = address.customer
    services.address_delete(actor=actor, address_id=address.pk)
    return _section(request, customer, "addresses")


# --- relationships -------------------------------------------------------------------------


class DirectedRelationshipForm(RelationshipForm):
    """The relationship form with the direction: this customer → the other, or back."""

    direction = forms.ChoiceField(
        label=gettext_lazy("Direction"),
        choices=[
            ("forward", gettext_lazy("This customer … the other")),
            ("backward", gettext_lazy("The other … this customer")),
        ],
        initial="forward",
        widget=forms.RadioSelect,
    )

    def service_data(self) -> dict[str, Any]:
        data = super().service_data()
        data.pop("direction", None)
        return data


@login_required
@require_http_methods(["GET", "POST"])
@hidden_as_404
def relationship_add(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    customer = selectors.customer_get(actor=actor, pk=pk)
    form = DirectedRelationshipForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        other = form.cleaned_data["to_customer"]
        forward = form.cleaned_data["direction"] == "forward"
        data = form.service_data()

        def write() -> Any:
            try:
                return services.relationship_create(
                    actor=actor,
                    from_customer_id=customer.pk if forward else other,
                    to_customer_id=other if forward else customer.pk,
                    data=data,
                )
            except ValidationFailed as exc:
                # The form names the other customer "to_customer" whichever way it points.
                fields = {
                    ("to_customer" if k == "from_customer" else k): v for k, v in exc.fields.items()
                }
                raise ValidationFailed(exc.message, fields=fields) from exc
            except (NotFound, PermissionDenied) as exc:
                raise ValidationFailed(
                    _("Please correct the errors below."),
                    fields={"to_customer": [_("You may not link these customers.")]},
                ) from exc

        if _run(form, write):
            return _section(request, customer, "relationships")
    return _form_response(
        request,
        customer=customer,
        form=form,
        title=_("Add a relationship"),
        action=reverse("customers:relationship_add", args=[customer.pk]),
        section="relationships",
        template="customers/_relationship_form.html",
    )


@login_required
@require_POST
@hidden_as_404
def relationship_delete(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    relationship = selectors.relationship_get(actor=actor, pk=pk, action="change")
    back = request.POST.get("customer")
    services.relationship_delete(actor=actor, relationship_id=relationship.pk)
    shown = (
        relationship.to_customer
        if back and back.isdigit() and int(back) == relationship.to_customer_id
        else relationship.from_customer
    )
    return _section(request, shown, "relationships")


# --- consent -------------------------------------------------------------------------------


def _consent_write(request: HttpRequest, pk: int, grant: bool) -> HttpResponse:
    actor = actor_of(request)
    customer = _customer_for_change(request, pk)
    form = ConsentForm(request.POST)
    if form.is_valid():
        record = services.consent_grant if grant else services.consent_withdraw
        data = form.cleaned_data
        if _run(
            form,
            lambda: record(
                actor=actor,
                customer_id=customer.pk,
                channel=data["channel"],
                purpose=data["purpose"],
                source=data.get("source") or "crm",
                text_version=data.get("text_version") or "",
            ),
        ):
            return _section(request, customer, "consent")
    return _form_response(
        request,
        customer=customer,
        form=form,
        title=_("Record consent"),
        action=reverse("customers:consent_grant", args=[customer.pk]),
        section="consent",
    )


@login_required
@require_POST
@hidden_as_404
def consent_grant(request: HttpRequest, pk: int) -> HttpResponse:
    """Record a grant (one button per channel and purpose, or the detailed form)."""
    return _consent_write(request, pk, grant=True)


@login_required
@require_POST
@hidden_as_404
def consent_withdraw(request: HttpRequest, pk: int) -> HttpResponse:
    """Record a withdrawal: one button, exactly like the grant."""
    return _consent_write(request, pk, grant=False)


@login_required
@require_http_methods(["GET"])
@hidden_as_404
def consent_form(request: HttpRequest, pk: int) -> HttpResponse:
    """The detailed consent form (source and text version)."""
    customer = _customer_for_change(request, pk)
    return _form_response(
        request,
        customer=customer,
        form=ConsentForm(),
        title=_("Record consent"),
        action=reverse("customers:consent_grant", args=[customer.pk]),
        section="consent",
        template="customers/_consent_form.html",
    )


@login_required
@require_GET
@hidden_as_404
def consent_history(request: HttpRequest, pk: int) -> HttpResponse:
    """Every grant and withdrawal of the customer, newest first."""
    customer = selectors.customer_get(actor=actor_of(request), pk=pk)
    rows = selectors.consent_history(customer)
    template = (
        "customers/_consent_history.html" if is_htmx(request) else "customers/consent_history.html"
    )
    return render(request, template, {"customer": customer, "history": rows})
