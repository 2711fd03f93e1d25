"""The call-centre screen: find the caller by phone number as it is typed, see who they are,
then log the call and (optionally) open a ticket in one step."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods

from vefa.accounts.access import can_create, scope_for
from vefa.accounts.choices import Scope
from vefa.common.errors import PermissionDenied, ValidationFailed
from vefa.interactions.forms import BootstrapMixin, apply_errors
from vefa.interactions.views._helpers import actor_of
from vefa.service.choices import TicketPriority, TicketType
from vefa.service.models import Ticket
from vefa.service.selectors.callcentre import CallerLookup, caller_lookup
from vefa.service.services.callcentre import MAX_CALL_MINUTES, call_log


class CallForm(BootstrapMixin, forms.Form):
    """The call and the optional ticket; the service validates and writes."""

    phone = forms.CharField(label=gettext_lazy("Caller's number"), max_length=64, required=False)
    customer = forms.CharField(required=False, max_length=20)
    notes = forms.CharField(
        label=gettext_lazy("Notes"), required=False, widget=forms.Textarea({"rows": 3})
    )
    duration_minutes = forms.IntegerField(
        label=gettext_lazy("Duration (minutes)"),
        required=False,
        min_value=0,
        max_value=MAX_CALL_MINUTES,
    )
    open_ticket = forms.BooleanField(label=gettext_lazy("Open a ticket"), required=False)
    ticket_subject = forms.CharField(label=gettext_lazy("Subject"), max_length=300, required=False)
    ticket_type = forms.ChoiceField(
        label=gettext_lazy("Type"),
        choices=TicketType.choices,
        initial=TicketType.REQUEST,
        required=False,
    )
    ticket_priority = forms.ChoiceField(
        label=gettext_lazy("Priority"),
        choices=TicketPriority.choices,
        initial=TicketPriority.NORMAL,
        required=False,
    )
    requester_name = forms.CharField(
        label=gettext_lazy("Caller's name"), max_length=200, required=False
    )
    requester_email = forms.CharField(
        label=gettext_lazy("Caller's e-mail"), max_length=254, required=False
    )

    def ticket_data(self) -> dict[str, Any] | None:
        data = self.cleaned_data
        if not data.get("open_ticket"):
            return None
        return {
            "subject": data.get("ticket_subject") or "",
            "type": data.get("ticket_type") or TicketType.REQUEST,
            "priority": data.get("ticket_priority") or TicketPriority.NORMAL,
            "requester_name": data.get("requester_name") or "",
            "requester_email": data.get("requester_email") or "",
        }


# Service field names as the form names them.
ALIASES = {
    "ticket.subject": "ticket_subject",
    "ticket.type": "ticket_type",
    "ticket.priority": "ticket_priority",
    "ticket.requester_name": "requester_name",
    "ticket.requester_email": "requester_email",
    "subject": "ticket_subject",
}


def _allowed(request: HttpRequest) -> None:
    actor = actor_of(request)
    if scope_for(actor, "service.ticket", "view") == Scope.NONE:
        raise DjangoPermissionDenied


def _lookup_context(request: HttpRequest, lookup: CallerLookup, chosen: str = "") -> dict[str, Any]:
    actor = actor_of(request)
    create_query = urlencode({"kind": "person", "phone": lookup.term.strip()[:64]})
    first = str(lookup.matches[0].customer.pk) if lookup.matches else ""
    return {
        "lookup": lookup,
        "chosen": chosen if chosen or not lookup.exact else first,
        "create_url": f"{reverse('customers:create')}?{create_query}",
        "can_create_customer": can_create_customer(actor),
    }


def can_create_customer(actor: Any) -> bool:
    from vefa.customers.models import Customer

    return can_create(actor, Customer)


@login_required
@require_http_methods(["GET", "POST"])
def call_centre(request: HttpRequest) -> HttpResponse:
    """The screen; POST logs the call (and opens the ticket) in one transaction."""
    _allowed(request)
    actor = actor_of(request)
    if request.method == "POST":
        form = CallForm(request.POST)
        phone = request.POST.get("phone", "")
    else:
        phone = request.GET.get("phone", "")
        form = CallForm(initial={"phone": phone})
    lookup = caller_lookup(actor=actor, phone=phone)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            ticket = form.ticket_data()
            if ticket is not None and not can_create(actor, Ticket):
                raise DjangoPermissionDenied
            try:
                result = call_log(
                    actor=actor,
                    customer=data.get("customer") or None,
                    phone=data.get("phone") or "",
                    notes=data.get("notes") or "",
                    duration_minutes=data.get("duration_minutes"),
                    ticket=ticket,
                )
            except PermissionDenied:
                raise DjangoPermissionDenied from None
            except ValidationFailed as exc:
                renamed = {ALIASES.get(k, k): v for k, v in exc.fields.items()}
                apply_errors(form, ValidationFailed(exc.message, fields=renamed))
            else:
                if result.ticket is not None:
                    messages.success(
                        request,
                        _("The call was logged and ticket %(number)s opened.")
                        % {"number": result.ticket.number}
                        if result.interaction is not None
                        else _("Ticket %(number)s was opened.") % {"number": result.ticket.number},
                    )
                else:
                    messages.success(request, _("The call was logged."))
                return HttpResponseRedirect(reverse("service:call_centre"))
        status = 422
    context = {
        "form": form,
        "can_open_ticket": can_create(actor, Ticket),
        **_lookup_context(request, lookup, request.POST.get("customer", "")),
    }
    return render(request, "service/callcentre/page.html", context, status=status)


@login_required
@require_GET
def call_centre_lookup(request: HttpRequest) -> HttpResponse:
    """The matches for the number typed so far (htmx, as the agent types)."""
    _allowed(request)
    lookup = caller_lookup(actor=actor_of(request), phone=request.GET.get("phone", "")[:64])
    return render(request, "service/callcentre/_matches.html", _lookup_context(request, lookup))


urlpatterns = [
    path("call-centre/", call_centre, name="call_centre"),
    path("call-centre/lookup/", call_centre_lookup, name="call_centre_lookup"),
]
