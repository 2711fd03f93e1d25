"""Pages of tickets: the agent's queue, the list, a new ticket, and the ticket page with its
conversation and the htmx actions (reply, note, status, assign, merge).

A ticket the user may not see is 404; an action on a ticket they may see but not work on is
404 too (the same answer as for a missing one).
"""

from __future__ import annotations

import importlib.util
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import NoReverseMatch, path, reverse
from django.utils import dateformat, timezone
from django.utils.formats import get_format
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from vefa.accounts.access import can, can_create, scope_for
from vefa.accounts.choices import Role, Scope
from vefa.accounts.models import User
from vefa.common.errors import Conflict, NotFound, ValidationFailed
from vefa.interactions.filters import filters_from_query
from vefa.interactions.views._helpers import actor_of, hidden_as_404, is_htmx
from vefa.service.choices import (
    MessageKind,
    SlaState,
    TicketChannel,
    TicketPriority,
    TicketStatus,
    TicketType,
)
from vefa.service.filters import TicketFilters
from vefa.service.forms.tickets import (
    AssignForm,
    MergeForm,
    MessageForm,
    TicketDetailsForm,
    TicketForm,
)
from vefa.service.forms.tickets import apply_service_errors as apply_errors
from vefa.service.models import Category, Queue, Ticket
from vefa.service.selectors import tickets as selectors
from vefa.service.services import tickets as services

PAGE_SIZE = 50


STATUS_CLASS: dict[str, str] = {
    TicketStatus.NEW: "text-bg-primary",
    TicketStatus.OPEN: "text-bg-info",
    TicketStatus.WAITING: "text-bg-warning",
    TicketStatus.RESOLVED: "text-bg-success",
    TicketStatus.CLOSED: "text-bg-secondary",
}
SLA_CLASS: dict[str, str] = {
    SlaState.BREACHED: "text-bg-danger",
    SlaState.WARNING: "text-bg-warning",
    SlaState.MET: "text-bg-success",
    SlaState.PAUSED: "text-bg-info",
    SlaState.RUNNING: "text-bg-secondary",
}


class Badges:
    """Status and SLA badges of ticket rows, with the labels and the date format looked up
    once per page (``get_FOO_display`` and the ``date`` filter per row cost more than the
    rest of the row)."""

    def __init__(self, now: Any) -> None:
        self.now = now
        self.statuses = {value: str(label) for value, label in TicketStatus.choices}
        self.priorities = {value: str(label) for value, label in TicketPriority.choices}
        self.sla_states = {value: str(label) for value, label in SlaState.choices}
        self.reply_by = _("reply by")
        self.resolve_by = _("resolve by")
        self.date_format = get_format("SHORT_DATETIME_FORMAT")

    def status(self, ticket: Ticket) -> SafeString:
        return format_html(
            '<span class="badge {}" data-status="{}">{}</span>',
            STATUS_CLASS.get(ticket.status, "text-bg-secondary"),
            ticket.status,
            self.statuses.get(ticket.status, ticket.status),
        )

    def _moment(self, label: str, when: Any) -> SafeString:
        local = timezone.localtime(when)
        return format_html(
            '<span class="small vefa-nowrap{}">{} <time datetime="{}">{}</time></span>',
            " text-danger" if when < self.now else "",
            label,
            local.isoformat(),
            dateformat.format(local, self.date_format),
        )

    def sla(self, ticket: Ticket) -> SafeString:
        """The SLA state and the target due next (first response while none was given)."""
        parts: list[SafeString] = []
        if ticket.sla_state:
            parts.append(
                format_html(
                    '<span class="badge {}" data-sla="{}">{}</span>',
                    SLA_CLASS.get(ticket.sla_state, "text-bg-secondary"),
                    ticket.sla_state,
                    self.sla_states.get(ticket.sla_state, ticket.sla_state),
                )
            )
        if ticket.status not in (TicketStatus.RESOLVED, TicketStatus.CLOSED):
            if ticket.first_responded_at is None and ticket.first_response_due_at is not None:
                parts.append(self._moment(self.reply_by, ticket.first_response_due_at))
            elif ticket.resolution_due_at is not None:
                parts.append(self._moment(self.resolve_by, ticket.resolution_due_at))
        return SafeString(" ".join(parts))

    def rows(self, tickets: list[Ticket]) -> list[Ticket]:
        """Each row's badges and labels, built once in Python (cheaper than an include per
        row on a page of fifty)."""
        for ticket in tickets:
            ticket.status_html = self.status(ticket)  # type: ignore[attr-defined]
            ticket.sla_html = self.sla(ticket)  # type: ignore[attr-defined]
            ticket.status_label = self.statuses.get(ticket.status, ticket.status)  # type: ignore[attr-defined]
            ticket.priority_label = self.priorities.get(ticket.priority, ticket.priority)  # type: ignore[attr-defined]
        return tickets


def status_badge(ticket: Ticket) -> SafeString:
    return Badges(timezone.now()).status(ticket)


def sla_badge(ticket: Ticket, now: Any) -> SafeString:
    """The SLA state and the target due next (first response while none was given)."""
    return Badges(now).sla(ticket)


def _options(choices: list[tuple[Any, Any]], selected: Any) -> SafeString:
    """``<option>`` elements of a long filter list, built in one go."""
    return format_html_join(
        "",
        '<option value="{}"{}>{}</option>',
        ((value, " selected" if value == selected else "", label) for value, label in choices),
    )


def _status_actions(ticket: Ticket) -> list[tuple[str, str]]:
    """(status, button label) for each status the ticket may move to."""
    labels = {
        TicketStatus.OPEN: _("Reopen")
        if ticket.status in (TicketStatus.RESOLVED, TicketStatus.CLOSED)
        else _("Open"),
        TicketStatus.WAITING: _("Wait on customer"),
        TicketStatus.RESOLVED: _("Resolve"),
        TicketStatus.CLOSED: _("Close"),
    }
    allowed = services.TRANSITIONS.get(ticket.status, frozenset())
    order = (TicketStatus.OPEN, TicketStatus.WAITING, TicketStatus.RESOLVED, TicketStatus.CLOSED)
    return [(str(s), str(labels[s])) for s in order if s in allowed]


def _queues() -> list[tuple[int, str]]:
    return [(q.pk, q.name) for q in Queue.objects.filter(is_active=True).only("pk", "name")[:200]]


def _categories() -> list[tuple[int, str]]:
    return [
        (c.pk, str(c))
        for c in Category.objects.filter(is_active=True).only("pk", "name", "path")[:500]
    ]


def _owners(actor: User, ticket: Ticket | None = None) -> list[tuple[int, str]]:
    """The agents the actor may give a ticket to: their team's (everyone's for admins) and
    the ticket's queue's team."""
    scope = scope_for(actor, "service.ticket", "change")
    people = User.objects.filter(is_active=True, role__in=[Role.SERVICE_AGENT, Role.ADMIN])
    if scope != Scope.ALL:
        teams = [t for t in (actor.team_id, ticket.team_id if ticket else None) if t]
        people = people.filter(team_id__in=teams)
    return [(u.pk, str(u)) for u in people.only("pk", "full_name", "email").order_by("pk")[:300]]


def _article_link(translation: Any) -> str:
    try:
        return reverse("service:article_detail", args=[translation.article_id])
    except NoReverseMatch:
        return ""


def _suggestions(ticket: Ticket) -> list[dict[str, Any]]:
    """Knowledge-base articles for the ticket, when the knowledge base is installed."""
    if importlib.util.find_spec("vefa.service.selectors.knowledge") is None:
        return []
    from vefa.service.selectors.knowledge import article_suggestions

    found = article_suggestions(ticket=ticket, language=get_language() or "en", limit=5)
    return [{"title": t.title, "url": _article_link(t)} for t in found]


# --- queue and list ---------------------------------------------------------------------------


@login_required
@require_GET
def ticket_queue(request: HttpRequest) -> HttpResponse:
    """My open tickets by the SLA target due next, and my team's unassigned tickets."""
    actor = actor_of(request)
    queue = selectors.ticket_queue(actor=actor, fields=selectors.ROW_FIELDS)
    badges = Badges(timezone.now())
    badges.rows(queue.mine)
    badges.rows(queue.unassigned)
    return render(
        request,
        "service/tickets/queue.html",
        {
            "queue": queue,
            "ticket_base": reverse("service:ticket_list"),
            "can_create": can_create(actor, Ticket),
        },
    )


@login_required
@require_GET
def ticket_list(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    filters, errors = filters_from_query(TicketFilters, request.GET)
    page = selectors.ticket_list(
        actor=actor,
        filters=filters,
        cursor=request.GET.get("cursor"),
        limit=PAGE_SIZE,
        fields=selectors.ROW_FIELDS,
    )
    Badges(timezone.now()).rows(page.items)
    params = request.GET.copy()
    params.pop("cursor", None)
    context: dict[str, Any] = {
        "page": page,
        "base_query": params.urlencode(),
        # Row links from a prefix: one reverse() per page instead of per row.
        "ticket_base": reverse("service:ticket_list"),
        "customer_base": reverse("customers:detail", args=[1]).rsplit("1/", 1)[0],
    }
    if is_htmx(request):
        # More rows (or rows for a changed filter): the filter form is not part of them.
        return render(request, "service/tickets/list.html#ticket-rows", context)
    context |= {
        "filters": filters,
        "filter_errors": sorted(errors),
        "statuses": TicketStatus.choices,
        "types": TicketType.choices,
        "priorities": TicketPriority.choices,
        "channels": TicketChannel.choices,
        "sla_states": [(v or "none", label) for v, label in SlaState.choices],
        "queue_options": _options(_queues(), filters.queue),
        "category_options": _options(_categories(), filters.category),
        "owner_options": _options(_owners(actor), filters.owner),
        "can_create": can_create(actor, Ticket),
    }
    return render(request, "service/tickets/list.html", context)


# --- create -----------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
@hidden_as_404
def ticket_create(request: HttpRequest) -> HttpResponse:
    """A new ticket; ``?customer=<pk>`` preselects a customer the user can see."""
    actor = actor_of(request)
    if not can_create(actor, Ticket):
        raise NotFound(_("Not found."))
    customer = None
    customer_pk = (
        request.POST.get("customer")
        or request.POST.get("to_customer")  # the customer picker's choice
        or request.GET.get("customer")
    )
    if customer_pk:
        from vefa.interactions.selectors import customer_get

        try:
            customer = customer_get(actor=actor, pk=customer_pk)
        except NotFound:
            customer = None
    form = TicketForm(
        request.POST if request.method == "POST" else None,
        request.FILES if request.method == "POST" else None,
        initial={
            "type": TicketType.REQUEST,
            "channel": TicketChannel.PHONE,
            "priority": TicketPriority.NORMAL,
        },
        categories=_categories(),
        queues=_queues(),
    )
    if request.method == "POST" and form.is_valid():
        data = form.service_data()
        data["customer"] = customer.pk if customer else None
        data = {k: v for k, v in data.items() if v not in (None, "")}
        try:
            ticket = services.ticket_create(
                actor=actor, data=data, attachments=form.cleaned_data["attachments"]
            )
        except ValidationFailed as exc:
            apply_errors(form, exc)
        else:
            messages.success(
                request, _("Ticket %(number)s was opened.") % {"number": ticket.number}
            )
            return HttpResponseRedirect(reverse("service:ticket_detail", args=[ticket.pk]))
    return render(
        request,
        "service/tickets/form.html",
        {"form": form, "customer": customer},
        status=422 if form.errors else 200,
    )


# --- one ticket -------------------------------------------------------------------------------


def _detail_context(
    request: HttpRequest,
    ticket: Ticket,
    *,
    reply_form: MessageForm | None = None,
    note_form: MessageForm | None = None,
    assign_form: AssignForm | None = None,
    merge_form: MergeForm | None = None,
    details_form: TicketDetailsForm | None = None,
    errors: list[str] | None = None,
) -> dict[str, Any]:
    actor = actor_of(request)
    can_change = can(actor, "change", ticket)
    return {
        "ticket": ticket,
        "conversation": selectors.ticket_messages(actor=actor, ticket=ticket),
        "can_change": can_change,
        "status_actions": _status_actions(ticket) if can_change else [],
        "reply_form": reply_form or MessageForm(prefix="reply", initial={"send_email": True}),
        "note_form": note_form or MessageForm(prefix="note"),
        "assign_form": assign_form
        or AssignForm(
            initial={"owner": ticket.owner_id, "version": ticket.version},
            owners=_owners(actor, ticket),
            queues=_queues(),
        ),
        "merge_form": merge_form or MergeForm(),
        "details_form": details_form
        or TicketDetailsForm(
            initial={
                "subject": ticket.subject,
                "type": ticket.type,
                "channel": ticket.channel,
                "priority": ticket.priority,
                "category": ticket.category_id,
                "version": ticket.version,
            },
            categories=_categories(),
        ),
        "errors": errors or [],
        "status_html": status_badge(ticket),
        "sla_html": sla_badge(ticket, timezone.now()),
        "address": services._address_of(ticket),
        "kinds": MessageKind,
        "suggestions": _suggestions(ticket) if can_change else [],
        "merged_from": list(ticket.merged_tickets.only("pk", "number")[:20]),
        "csat": selectors.ticket_csat(actor=actor, ticket=ticket),
    }


@login_required
@require_GET
@hidden_as_404
def ticket_detail(request: HttpRequest, pk: int) -> HttpResponse:
    ticket = selectors.ticket_get(actor=actor_of(request), pk=pk)
    return render(request, "service/tickets/detail.html", _detail_context(request, ticket))


def _work_response(
    request: HttpRequest, ticket_id: int, *, status: int = 200, **forms: Any
) -> HttpResponse:
    """After an action: the ticket's work area (htmx) or the ticket page (a redirect)."""
    if not is_htmx(request):
        for message in forms.get("errors") or []:
            messages.error(request, message)
        return HttpResponseRedirect(reverse("service:ticket_detail", args=[ticket_id]))
    ticket = selectors.ticket_get(actor=actor_of(request), pk=ticket_id)
    return render(
        request,
        "service/tickets/detail.html#ticket-work",
        _detail_context(request, ticket, **forms),
        status=status,
    )


def _workable(request: HttpRequest, pk: int) -> Ticket:
    ticket = selectors.ticket_get(actor=actor_of(request), pk=pk)
    if not can(actor_of(request), "change", ticket):
        raise NotFound(_("Not found."))
    return ticket


def _messages_of(exc: ValidationFailed) -> list[str]:
    found = [m for values in exc.fields.values() for m in values]
    return found or [str(exc.message)]


def _add_message(request: HttpRequest, pk: int, kind: str) -> HttpResponse:
    ticket = _workable(request, pk)
    prefix = "reply" if kind == MessageKind.REPLY else "note"
    form = MessageForm(request.POST, request.FILES, prefix=prefix)
    if form.is_valid():
        try:
            services.ticket_message_add(
                actor=actor_of(request),
                ticket_id=ticket.pk,
                kind=kind,
                body=form.cleaned_data["body"],
                attachments=form.cleaned_data["attachments"],
                send_email=bool(form.cleaned_data.get("send_email")),
            )
        except ValidationFailed as exc:
            apply_errors(form, exc)
        else:
            return _work_response(request, ticket.pk)
    errors = [str(e) for values in form.errors.values() for e in values]
    return _work_response(request, ticket.pk, status=422, errors=errors, **{f"{prefix}_form": form})


@login_required
@require_POST
@hidden_as_404
def ticket_reply(request: HttpRequest, pk: int) -> HttpResponse:
    return _add_message(request, pk, MessageKind.REPLY)


@login_required
@require_POST
@hidden_as_404
def ticket_note(request: HttpRequest, pk: int) -> HttpResponse:
    return _add_message(request, pk, MessageKind.NOTE)


def _version(request: HttpRequest) -> int | None:
    raw = request.POST.get("version", "")
    return int(raw) if raw.isdigit() and len(raw) < 12 else None


@login_required
@require_POST
@hidden_as_404
def ticket_status(request: HttpRequest, pk: int) -> HttpResponse:
    ticket = _workable(request, pk)
    try:
        services.ticket_set_status(
            actor=actor_of(request),
            ticket_id=ticket.pk,
            status=request.POST.get("status", ""),
            expected_version=_version(request),
        )
    except Conflict:
        message = _("Someone else changed this ticket. Reload it and try again.")
        return _work_response(request, ticket.pk, status=412, errors=[message])
    except ValidationFailed as exc:
        return _work_response(request, ticket.pk, status=422, errors=_messages_of(exc))
    return _work_response(request, ticket.pk)


@login_required
@require_POST
@hidden_as_404
def ticket_assign(request: HttpRequest, pk: int) -> HttpResponse:
    ticket = _workable(request, pk)
    actor = actor_of(request)
    form = AssignForm(request.POST, owners=_owners(actor, ticket), queues=_queues())
    if form.is_valid():
        try:
            services.ticket_assign(
                actor=actor,
                ticket_id=ticket.pk,
                owner_id=form.cleaned_data.get("owner") or None,
                queue_id=form.cleaned_data.get("queue") or None,
                expected_version=form.cleaned_data.get("version"),
            )
        except Conflict:
            form.add_error(None, _("Someone else changed this ticket. Reload it and try again."))
        except ValidationFailed as exc:
            apply_errors(form, exc)
        else:
            return _work_response(request, ticket.pk)
    errors = [str(e) for values in form.errors.values() for e in values]
    return _work_response(request, ticket.pk, status=422, errors=errors, assign_form=form)


@login_required
@require_POST
@hidden_as_404
def ticket_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Correct the subject, type, channel, priority or category."""
    ticket = _workable(request, pk)
    form = TicketDetailsForm(request.POST, categories=_categories())
    if form.is_valid():
        try:
            services.ticket_update(
                actor=actor_of(request),
                ticket_id=ticket.pk,
                data=form.service_data(),
                expected_version=form.cleaned_data.get("version"),
            )
        except Conflict:
            form.add_error(None, _("Someone else changed this ticket. Reload it and try again."))
        except ValidationFailed as exc:
            apply_errors(form, exc)
        else:
            return _work_response(request, ticket.pk)
    errors = [str(e) for values in form.errors.values() for e in values]
    return _work_response(request, ticket.pk, status=422, errors=errors, details_form=form)


@login_required
@require_POST
@hidden_as_404
def ticket_merge(request: HttpRequest, pk: int) -> HttpResponse:
    """Merge this ticket into the one whose number is given; go to that ticket."""
    ticket = _workable(request, pk)
    actor = actor_of(request)
    form = MergeForm(request.POST)
    if form.is_valid():
        try:
            target = selectors.ticket_by_number(actor=actor, number=form.cleaned_data["target"])
            merged = services.ticket_merge(actor=actor, source_id=ticket.pk, target_id=target.pk)
        except NotFound:
            form.add_error("target", _("There is no ticket with this number you can work on."))
        except ValidationFailed as exc:
            apply_errors(form, exc)
        else:
            messages.success(
                request,
                _("%(source)s was merged into %(target)s.")
                % {"source": ticket.number, "target": merged.number},
            )
            url = reverse("service:ticket_detail", args=[merged.pk])
            if is_htmx(request):
                response = HttpResponse(status=204)
                response["HX-Redirect"] = url
                return response
            return HttpResponseRedirect(url)
    errors = [str(e) for values in form.errors.values() for e in values]
    return _work_response(request, ticket.pk, status=422, errors=errors, merge_form=form)


urlpatterns = [
    path("tickets/", ticket_list, name="ticket_list"),
    path("tickets/queue/", ticket_queue, name="ticket_queue"),
    path("tickets/new/", ticket_create, name="ticket_create"),
    path("tickets/<int:pk>/", ticket_detail, name="ticket_detail"),
    path("tickets/<int:pk>/reply/", ticket_reply, name="ticket_reply"),
    path("tickets/<int:pk>/note/", ticket_note, name="ticket_note"),
    path("tickets/<int:pk>/status/", ticket_status, name="ticket_status"),
    path("tickets/<int:pk>/assign/", ticket_assign, name="ticket_assign"),
    path("tickets/<int:pk>/edit/", ticket_edit, name="ticket_edit"),
    path("tickets/<int:pk>/merge/", ticket_merge, name="ticket_merge"),
]
