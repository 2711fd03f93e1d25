"""Planning pages: sales targets with attainment to date, and the forecast."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from vefa.accounts.access import can, can_create, restrict, scope_for
from vefa.accounts.choices import Scope
from vefa.accounts.models import Team, User
from vefa.common.errors import Conflict, NotFound, ValidationFailed
from vefa.interactions.filters import filters_from_query
from vefa.interactions.forms import apply_errors
from vefa.interactions.views._helpers import actor_of, hidden_as_404, is_htmx
from vefa.sales.choices import PeriodKind, TargetMetric
from vefa.sales.forms.planning import TargetEditForm, TargetForm
from vefa.sales.models import Pipeline, SalesTarget
from vefa.sales.money import COMMON_CURRENCIES
from vefa.sales.selectors.planning import TargetFilters, attainments, target_get, target_page
from vefa.sales.selectors.planning_forecast import ForecastFilters, forecast
from vefa.sales.services import planning as services
from vefa.sales.views.planning_charts import forecast_svg, legend

PAGE_SIZE = 50


def target_subjects(actor: User) -> list[tuple[str, str]]:
    """Whom the actor may set targets for: ("user:<id>" | "team:<id>", label)."""
    scope = scope_for(actor, "sales.salestarget", "change")
    if scope == Scope.NONE:
        return []
    users = User.objects.filter(is_active=True).only("pk", "full_name", "email")
    teams = Team.objects.all()
    if scope != Scope.ALL:
        users = users.filter(team_id=actor.team_id) if actor.team_id else users.filter(pk=actor.pk)
        teams = teams.filter(pk=actor.team_id) if actor.team_id else teams.none()
    choices = [(f"team:{t.pk}", _("Team: %(name)s") % {"name": t.name}) for t in teams[:100]]
    choices += [(f"user:{u.pk}", str(u)) for u in users[:300]]
    return choices


def _people(actor: User) -> tuple[list[tuple[int, str]], list[tuple[int, str]]]:
    """Users and teams offered as forecast and target filters, by the actor's reach."""
    scope = scope_for(actor, "sales.opportunity", "view")
    if scope == Scope.ALL:
        users = User.objects.filter(is_active=True)
        teams = list(Team.objects.all()[:100])
    elif scope == Scope.TEAM and actor.team_id is not None:
        users = User.objects.filter(is_active=True, team_id=actor.team_id)
        teams = list(Team.objects.filter(pk=actor.team_id))
    else:
        return [(actor.pk, str(actor))], []
    return (
        [(u.pk, str(u)) for u in users.only("pk", "full_name", "email")[:300]],
        [(t.pk, t.name) for t in teams],
    )


def _target_context(request: HttpRequest, actor: User, form: TargetForm | None) -> dict[str, Any]:
    filters, errors = filters_from_query(TargetFilters, request.GET)
    page = target_page(
        actor=actor, filters=filters, cursor=request.GET.get("cursor"), size=PAGE_SIZE
    )
    params = request.GET.copy()
    params.pop("cursor", None)
    users, teams = _people(actor)
    return {
        "page": page,
        "rows": [(a, can(actor, "change", a.target)) for a in attainments(page.items)],
        "filters": filters,
        "filter_errors": sorted(errors),
        "period_kinds": PeriodKind.choices,
        "metrics": TargetMetric.choices,
        "users": users,
        "teams": teams,
        "base_query": params.urlencode(),
        "form": form,
    }


@login_required
@require_http_methods(["GET", "POST"])
@hidden_as_404
def target_list(request: HttpRequest) -> HttpResponse:
    """Targets the user may see with a progress bar each; managers add targets here."""
    actor = actor_of(request)
    form = None
    if can_create(actor, SalesTarget):
        today = timezone.localdate()
        form = TargetForm(
            request.POST if request.method == "POST" else None,
            initial={"period_kind": PeriodKind.MONTH, "period_start": today, "currency": "TRY"},
            subjects=target_subjects(actor),
        )
    if request.method == "POST":
        if form is None:
            raise NotFound(_("Not found."))
        if form.is_valid():
            try:
                services.target_create(actor=actor, **form.service_data())
            except ValidationFailed as exc:
                apply_errors(form, exc)
            else:
                messages.success(request, _("The target was saved."))
                return HttpResponseRedirect(reverse("sales:target_list"))
    context = _target_context(request, actor, form)
    if is_htmx(request) and request.method == "GET":
        return render(request, "sales/planning/target_list.html#target-rows", context)
    status = 422 if form is not None and form.errors else 200
    return render(request, "sales/planning/target_list.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
@hidden_as_404
def target_edit(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    target = target_get(actor=actor, pk=pk)
    if not can(actor, "change", target):
        raise NotFound(_("Not found."))
    form = TargetEditForm(
        request.POST if request.method == "POST" else None,
        initial={
            "amount": format(target.amount.normalize(), "f"),
            "currency": target.currency,
            "version": target.version,
        },
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.target_update(
                actor=actor,
                target_id=target.pk,
                data={"amount": data["amount"], "currency": (data["currency"] or "").upper()},
                expected_version=data.get("version"),
            )
        except Conflict:
            form.add_error(None, _("Someone else changed this target. Reload it and try again."))
        except ValidationFailed as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("The target was saved."))
            return HttpResponseRedirect(reverse("sales:target_list"))
    return render(
        request,
        "sales/planning/target_form.html",
        {"form": form, "target": target},
        status=422 if form.errors else 200,
    )


@login_required
@require_POST
@hidden_as_404
def target_delete(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    target = target_get(actor=actor, pk=pk)
    if not can(actor, "delete", target):
        raise NotFound(_("Not found."))
    services.target_delete(actor=actor, target_id=target.pk)
    messages.success(request, _("The target was deleted."))
    return HttpResponseRedirect(reverse("sales:target_list"))


@login_required
@require_GET
def forecast_page(request: HttpRequest) -> HttpResponse:
    """The next twelve months: weighted, commit, best case, won, target, history-based."""
    actor = actor_of(request)
    filters, errors = filters_from_query(ForecastFilters, request.GET)
    result = forecast(actor=actor, filters=filters)
    users, teams = _people(actor)
    pipelines = list(
        restrict(Pipeline.objects.filter(is_active=True), actor, "view").values_list("pk", "name")
    )
    currencies = list(COMMON_CURRENCIES)
    if result.currency not in currencies:
        currencies.append(result.currency)
    stage_names = {s.stage_id: s for s in result.stages}
    return render(
        request,
        "sales/planning/forecast.html",
        {
            "result": result,
            "filters": filters,
            "filter_errors": sorted(errors),
            "chart": forecast_svg(result),
            "legend": legend(),
            "users": users,
            "teams": teams,
            "pipelines": pipelines,
            "currencies": currencies,
            "stage_history": stage_names.values(),
        },
    )


urlpatterns = [
    path("targets/", target_list, name="target_list"),
    path("targets/<int:pk>/edit/", target_edit, name="target_edit"),
    path("targets/<int:pk>/delete/", target_delete, name="target_delete"),
    path("forecast/", forecast_page, name="forecast"),
]
