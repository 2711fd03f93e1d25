"""The marketing section of the customer 360 page (an htmx partial): the static segments
the customer is on, the campaigns they received with their responses, a link to their
consent, and the loyalty points where that page exists."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path
from django.views.decorators.http import require_GET

from vefa.customers import selectors as customer_selectors
from vefa.interactions.views._helpers import actor_of, hidden_as_404
from vefa.marketing.selectors.reports import customer_campaigns
from vefa.marketing.selectors.segments import customer_memberships

RECENT_CAMPAIGNS = 10
SEGMENTS = 20


@login_required
@require_GET
@hidden_as_404
def customer_marketing_section(request: HttpRequest, customer_pk: int) -> HttpResponse:
    actor = actor_of(request)
    customer = customer_selectors.customer_get(actor=actor, pk=customer_pk)
    memberships = customer_memberships(actor=actor, customer=customer, limit=SEGMENTS)
    return render(
        request,
        "marketing/customer/_marketing.html",
        {
            "customer": customer,
            "memberships": memberships,
            "receipts": customer_campaigns(
                actor=actor, customer_id=customer.pk, limit=RECENT_CAMPAIGNS
            ),
        },
    )


urlpatterns = [
    path(
        "customer/<int:customer_pk>/section/",
        customer_marketing_section,
        name="customer_section",
    ),
]
