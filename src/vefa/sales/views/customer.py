"""The sales section of the customer 360 page (an htmx partial)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path
from django.views.decorators.http import require_GET

from vefa.customers import selectors as customer_selectors
from vefa.interactions.views._helpers import actor_of, hidden_as_404
from vefa.sales.selectors.customer import customer_sales


@login_required
@require_GET
@hidden_as_404
def customer_sales_section(request: HttpRequest, customer_pk: int) -> HttpResponse:
    actor = actor_of(request)
    customer = customer_selectors.customer_get(actor=actor, pk=customer_pk)
    return render(
        request,
        "sales/customer/_sales.html",
        {"customer": customer, "sales": customer_sales(actor=actor, customer=customer)},
    )


urlpatterns = [
    path(
        "customers/<int:customer_pk>/sales/",
        customer_sales_section,
        name="customer_sales",
    ),
]
