"""The service section of the customer 360 page (an htmx partial): open tickets, recent
returns, the latest CSAT and NPS answers and a link to open a ticket."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path
from django.views.decorators.http import require_GET

from vefa.accounts.access import can_create, scope_for
from vefa.accounts.choices import Scope
from vefa.customers import selectors as customer_selectors
from vefa.interactions.views._helpers import actor_of, hidden_as_404
from vefa.service.models import Ticket
from vefa.service.selectors.returns import customer_returns
from vefa.service.selectors.surveys import customer_latest_answers
from vefa.service.selectors.tickets import customer_tickets

OPEN_TICKETS = 10
RECENT_RETURNS = 5


@login_required
@require_GET
@hidden_as_404
def customer_service_section(request: HttpRequest, customer_pk: int) -> HttpResponse:
    actor = actor_of(request)
    customer = customer_selectors.customer_get(actor=actor, pk=customer_pk)
    sees_tickets = scope_for(actor, "service.ticket", "view") != Scope.NONE
    sees_returns = scope_for(actor, "service.returnrequest", "view") != Scope.NONE
    answers = customer_latest_answers(actor=actor, customer=customer)
    return render(
        request,
        "service/customer/_service.html",
        {
            "customer": customer,
            "tickets": customer_tickets(
                actor=actor, customer=customer, open_only=True, limit=OPEN_TICKETS
            )
            if sees_tickets
            else [],
            "returns": customer_returns(actor=actor, customer=customer, limit=RECENT_RETURNS)
            if sees_returns
            else [],
            "csat": answers.get("csat"),
            "nps": answers.get("nps"),
            "can_open_ticket": can_create(actor, Ticket),
        },
    )


urlpatterns = [
    path(
        "customer/<int:customer_pk>/section/",
        customer_service_section,
        name="customer_service",
    ),
]
