"""Field sales pages: the rep's day on a phone, planning a visit, logging it in two taps.

The analysis page lives in ``analysis.py``; its URL is listed here too because the sales
URL loader imports one module for this area.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import NoReverseMatch, path, reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from vefa.accounts.access import can, can_create, restrict
from vefa.common.errors import Conflict, NotFound, ValidationFailed
from vefa.common.text import fold
from vefa.customers.models import Customer
from vefa.interactions import services as activity_services
from vefa.interactions.forms import apply_errors
from vefa.interactions.models import Activity
from vefa.interactions.selectors import activity_get, customer_get
from vefa.interactions.views._helpers import actor_of, hidden_as_404, is_htmx
from vefa.sales.forms.field import VisitLogForm, VisitPlanForm
from vefa.sales.selectors.field import my_day as my_day_selector
from vefa.sales.selectors.field import visit_get
from vefa.sales.services.field import address_text, follow_up_postpone, visit_log, visit_plan
from vefa.sales.views import analysis as analysis_views

CUSTOMER_SEARCH_LIMIT = 20


def _back(request: HttpRequest) -> str:
    """Where to go after a one-tap action: the page it came from (same site) or my day."""
    target = request.POST.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return reverse("sales:my_day")


def _errors_to_messages(request: HttpRequest, exc: ValidationFailed) -> None:
    texts = [m for msgs in exc.fields.values() for m in msgs] or [str(exc.message)]
    for text in texts:
        messages.error(request, text)


@login_required
@require_GET
def my_day(request: HttpRequest) -> HttpResponse:
    """Today's visits and calls and the overdue follow-ups of the signed-in user."""
    actor = actor_of(request)
    day = my_day_selector(actor=actor)
    for opportunity in day.follow_ups:
        try:
            opportunity.url = opportunity.get_absolute_url()  # type: ignore[attr-defined]
        except NoReverseMatch:
            opportunity.url = ""  # type: ignore[attr-defined]
    return render(
        request,
        "sales/field/my_day.html",
        {"day": day, "now": day.now, "overdue_count": len(day.overdue) + len(day.follow_ups)},
    )


@login_required
@require_http_methods(["GET", "POST"])
@hidden_as_404
def visit_create(request: HttpRequest) -> HttpResponse:
    """Plan a visit to ``?customer=<pk>``; without a customer, find one by name first."""
    actor = actor_of(request)
    if not can_create(actor, Activity):
        raise NotFound(_("Not found."))
    customer_pk = request.POST.get("customer") or request.GET.get("customer")
    if not customer_pk:
        query = request.GET.get("q", "").strip()[:100]
        found: list[Customer] = []
        if query:
            found = list(
                restrict(Customer.objects.filter(merged_into__isnull=True), actor, "view")
                .filter(name_key__startswith=fold(query))
                .order_by("name_key", "id")
                .only("pk", "display_name", "city", "country")[:CUSTOMER_SEARCH_LIMIT]
            )
        return render(request, "sales/field/visit_pick.html", {"query": query, "customers": found})
    customer = customer_get(actor=actor, pk=customer_pk)
    form = VisitPlanForm(
        request.POST if request.method == "POST" else None,
        initial={"location": address_text(customer)},
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            visit = visit_plan(
                actor=actor,
                customer_id=customer.pk,
                due_at=data["due_at"],
                subject=data["subject"] or None,
                location=data["location"] or None,
                description=data["description"],
            )
        except ValidationFailed as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("The visit was planned."))
            if visit.due_at and timezone.localdate(visit.due_at) == timezone.localdate():
                return HttpResponseRedirect(reverse("sales:my_day"))
            return HttpResponseRedirect(visit.get_absolute_url())
    return render(
        request,
        "sales/field/visit_form.html",
        {"form": form, "customer": customer},
        status=422 if form.errors else 200,
    )


@login_required
@require_http_methods(["GET", "POST"])
@hidden_as_404
def visit_log_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Tap 1 (GET) shows the outcome, already filled in; tap 2 (POST) logs the visit."""
    actor = actor_of(request)
    visit = visit_get(actor=actor, pk=pk)
    if not can(actor, "change", visit):
        raise NotFound(_("Not found."))
    form = VisitLogForm(
        request.POST if request.method == "POST" else None,
        initial={"outcome": _("Visited"), "version": visit.version},
    )
    if request.method == "POST" and form.is_valid():
        try:
            visit_log(
                actor=actor,
                activity_id=visit.pk,
                outcome=form.cleaned_data["outcome"],
                expected_version=form.cleaned_data.get("version"),
            )
        except Conflict:
            form.add_error(None, _("Someone else changed this visit. Reload and try again."))
        except ValidationFailed as exc:
            apply_errors(form, exc)
        else:
            if is_htmx(request):
                visit = visit_get(actor=actor, pk=pk)
                return render(
                    request, "sales/field/_visit_card.html", {"visit": visit, "now": timezone.now()}
                )
            messages.success(request, _("The visit is logged."))
            return HttpResponseRedirect(reverse("sales:my_day"))
    template = (
        "sales/field/_visit_log_form.html" if is_htmx(request) else "sales/field/visit_log.html"
    )
    return render(
        request, template, {"form": form, "visit": visit}, status=422 if form.errors else 200
    )


@login_required
@require_POST
@hidden_as_404
def activity_done(request: HttpRequest, pk: int) -> HttpResponse:
    """One tap: mark a call or task done (a call records the call interaction)."""
    actor = actor_of(request)
    activity = activity_get(actor=actor, pk=pk)
    if not can(actor, "change", activity):
        raise NotFound(_("Not found."))
    try:
        activity_services.activity_complete(
            actor=actor,
            activity_id=activity.pk,
            expected_version=_version(request.POST.get("version")),
        )
    except Conflict:
        messages.error(request, _("Someone else changed this activity. Reload and try again."))
    except ValidationFailed as exc:
        _errors_to_messages(request, exc)
    else:
        messages.success(request, _("Done: %(subject)s") % {"subject": activity.subject})
    return HttpResponseRedirect(_back(request))


@login_required
@require_POST
@hidden_as_404
def follow_up_postpone_view(request: HttpRequest, pk: int) -> HttpResponse:
    """One tap: follow this opportunity up again in a week (or ``days``)."""
    actor = actor_of(request)
    try:
        opportunity = follow_up_postpone(
            actor=actor,
            opportunity_id=pk,
            days=request.POST.get("days") or 7,
            expected_version=_version(request.POST.get("version")),
        )
    except Conflict:
        messages.error(request, _("Someone else changed this opportunity. Reload and try again."))
    except ValidationFailed as exc:
        _errors_to_messages(request, exc)
    else:
        messages.success(
            request,
            _("Follow up “%(name)s” on %(day)s.")
            % {"name": opportunity.name, "day": opportunity.follow_up_date},
        )
    return HttpResponseRedirect(_back(request))


def _version(value: Any) -> int | None:
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if number > 0 else None


urlpatterns = [
    path("field/my-day/", my_day, name="my_day"),
    path("field/visits/new/", visit_create, name="visit_create"),
    path("field/visits/<int:pk>/log/", visit_log_view, name="visit_log"),
    path("field/activities/<int:pk>/done/", activity_done, name="field_activity_done"),
    path(
        "field/opportunities/<int:pk>/postpone/",
        follow_up_postpone_view,
        name="field_follow_up_postpone",
    ),
    *analysis_views.urlpatterns,
]
