"""Service visits of a ticket: an htmx partial on the ticket page to list, plan and cancel."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path
from django.views.decorators.http import require_http_methods, require_POST

from vefa.accounts.access import can, restrict
from vefa.common.errors import ApplicationError, NotFound
from vefa.interactions.forms import apply_errors
from vefa.interactions.views._helpers import actor_of, assignees_for, hidden_as_404
from vefa.service.forms.visits import VisitForm
from vefa.service.models import Ticket
from vefa.service.selectors.visits import ticket_visits
from vefa.service.services.visits import visit_cancel, visit_schedule


def _ticket(request: HttpRequest, pk: int) -> Ticket:
    ticket = restrict(Ticket.objects.all(), actor_of(request)).filter(pk=pk).first()
    if ticket is None:
        raise Http404
    return ticket


def _render(
    request: HttpRequest, ticket: Ticket, form: VisitForm | None = None, error: str = ""
) -> HttpResponse:
    actor = actor_of(request)
    may_plan = can(actor, "change", ticket)
    if form is None and may_plan:
        form = VisitForm(assignees=assignees_for(actor, ticket.owner))
    return render(
        request,
        "service/visits/_visits.html",
        {
            "ticket": ticket,
            "visits": ticket_visits(actor=actor, ticket=ticket),
            "form": form if may_plan else None,
            "error": error,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
@hidden_as_404
def ticket_visits_section(request: HttpRequest, pk: int) -> HttpResponse:
    """GET lists the ticket's visits; POST plans one and lists them again."""
    ticket = _ticket(request, pk)
    if request.method == "GET":
        return _render(request, ticket)
    actor = actor_of(request)
    form = VisitForm(request.POST, assignees=assignees_for(actor, ticket.owner))
    if form.is_valid():
        data = form.cleaned_data
        try:
            visit_schedule(
                actor=actor,
                ticket_id=ticket.pk,
                start_at=data["start_at"],
                end_at=data["end_at"],
                location=data["location"],
                owner_id=data.get("owner"),
                description=data["description"],
            )
        except NotFound:
            raise
        except ApplicationError as exc:
            apply_errors(form, exc)
            return _render(request, ticket, form)
        return _render(request, ticket)
    return _render(request, ticket, form)


@login_required
@require_POST
@hidden_as_404
def ticket_visit_cancel(request: HttpRequest, pk: int, visit_pk: int) -> HttpResponse:
    ticket = _ticket(request, pk)
    try:
        visit_cancel(actor=actor_of(request), visit_id=visit_pk)
    except NotFound:
        raise
    except ApplicationError as exc:
        return _render(request, ticket, error=str(exc.message))
    return _render(request, ticket)


urlpatterns = [
    path("tickets/<int:pk>/visits/", ticket_visits_section, name="ticket_visits"),
    path(
        "tickets/<int:pk>/visits/<int:visit_pk>/cancel/",
        ticket_visit_cancel,
        name="ticket_visit_cancel",
    ),
]
