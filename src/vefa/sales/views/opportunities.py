"""Pages of opportunities: the kanban board per pipeline, the list, one opportunity, its forms.

Every stage change, from a drag on the board, the card's "move to" select, the move page
or the edit form, goes through ``opportunity_move`` (the form through
``opportunity_update``), so all of them give the same result.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, QueryDict
from django.http.response import HttpResponseBase
from django.middleware.csrf import get_token
from django.shortcuts import render
from django.urls import path, reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from vefa.accounts.access import can, can_create, scope_for
from vefa.accounts.choices import Scope
from vefa.accounts.models import User
from vefa.common.api import error_response
from vefa.common.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from vefa.interactions.filters import filters_from_query
from vefa.interactions.views._helpers import actor_of, is_htmx
from vefa.sales.choices import LostReason, StageKind
from vefa.sales.forms.opportunities import (
    BidForm,
    LineForm,
    MoveForm,
    OpportunityForm,
    QuickAddForm,
    apply_errors,
    stage_choices,
)
from vefa.sales.models import Competitor, Opportunity, Pipeline, Product, Stage
from vefa.sales.selectors import opportunities as selectors
from vefa.sales.selectors.opportunities import OpportunityFilters
from vefa.sales.services import opportunities as services
from vefa.sales.views.opportunities_cards import CardRenderer

V = TypeVar("V", bound=Callable[..., HttpResponseBase])
PAGE_SIZE = 50
BOARD_FILTERS = ("scope", "owner", "team", "q", "customer", "close_from", "close_to")


# --- helpers --------------------------------------------------------------------------------


def hidden_as_404(view: V) -> V:
    """Hidden and "seen but not yours to change" both answer 404 on these pages."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        try:
            return view(request, *args, **kwargs)
        except (NotFound, PermissionDenied) as exc:
            raise Http404(str(exc.message)) from exc

    return wrapper  # type: ignore[return-value]


def _require_access(actor: User) -> None:
    """A role that may see no opportunity gets "not found" on every opportunity page."""
    if not selectors.may_view_any(actor):
        raise Http404(_("Not found."))


def owner_choices(actor: User, current: User | None = None) -> list[tuple[int, str]]:
    """The people the actor may give an opportunity to: themself first, then by scope."""
    scope = scope_for(actor, "sales.opportunity", "change")
    people: list[User] = []
    base = User.objects.filter(is_active=True).order_by("full_name", "pk")
    if scope == Scope.ALL:
        people = list(base.only("pk", "full_name", "email")[:300])
    elif scope == Scope.TEAM and actor.team_id is not None:
        people = list(base.filter(team_id=actor.team_id).only("pk", "full_name", "email")[:300])
    choices = [(actor.pk, str(actor))]
    choices += [(u.pk, str(u)) for u in people if u.pk != actor.pk]
    if current is not None and current.pk not in {pk for pk, _ in choices}:
        choices.append((current.pk, str(current)))
    return choices


def _filter_owners(actor: User) -> list[tuple[int, str]]:
    """People whose deals the actor may filter by."""
    scope = scope_for(actor, "sales.opportunity", "view")
    base = User.objects.filter(is_active=True).order_by("full_name", "pk")
    if scope == Scope.ALL:
        people = list(base.only("pk", "full_name", "email")[:300])
    elif scope == Scope.TEAM and actor.team_id is not None:
        people = list(base.filter(team_id=actor.team_id).only("pk", "full_name", "email")[:300])
    else:
        people = [actor]
    return [(u.pk, str(u)) for u in people]


def _filter_teams(actor: User) -> list[tuple[int, str]]:
    """Teams whose deals the actor may filter by (only who sees every team's)."""
    from vefa.accounts.models import Team

    if scope_for(actor, "sales.opportunity", "view") != Scope.ALL:
        return []
    return list(Team.objects.order_by("name").values_list("pk", "name")[:200])


def _competitors() -> list[tuple[int, str]]:
    return list(Competitor.objects.order_by("name").values_list("pk", "name")[:500])


def _pipelines_with_stages() -> list[Pipeline]:
    found = selectors.pipelines()
    stages = selectors.stages_by_pipeline([p.pk for p in found])
    for pipeline in found:
        pipeline.stage_list = stages.get(pipeline.pk, [])  # type: ignore[attr-defined]
    return found


def _board_filters(actor: User, query: QueryDict) -> tuple[OpportunityFilters, list[str]]:
    data = query.copy()
    if not data.get("scope"):
        data["scope"] = selectors.default_scope(actor)
    filters, errors = filters_from_query(OpportunityFilters, data)
    return filters, sorted(errors)


def _filter_query(query: QueryDict) -> str:
    keep = QueryDict(mutable=True)
    for key in BOARD_FILTERS:
        value = query.get(key)
        if value:
            keep[key] = value[:200]
    return keep.urlencode()


def _decorate(cards: list[selectors.Card], actor: User) -> None:
    """Mark the cards the actor may move (the policy's change scope, as ``can`` applies it)."""
    scope = scope_for(actor, "sales.opportunity", "change")
    team = actor.team_id
    for card in cards:
        card.can_move = (
            scope == Scope.ALL
            or (scope in (Scope.OWN, Scope.TEAM) and card.owner_id == actor.pk)
            or (scope == Scope.TEAM and team is not None and card.team_id == team)
        )


def _render_cards(
    request: HttpRequest, pipeline: Pipeline, stages: list[Stage], columns: list[Any]
) -> None:
    """Give each column its cards' HTML (see ``opportunities_cards``)."""
    actor = actor_of(request)
    query = _filter_query(request.GET)
    renderer = CardRenderer(
        stages=stages,
        csrf_token=get_token(request),
        next_path=reverse("sales:board_pipeline", args=[pipeline.pk])
        + (f"?{query}" if query else ""),
    )
    for column in columns:
        _decorate(column.cards, actor)
        column.cards_html = renderer.cards(column.cards)


def _board_context(request: HttpRequest, pipeline: Pipeline, **extra: Any) -> dict[str, Any]:
    actor = actor_of(request)
    filters, errors = _board_filters(actor, request.GET)
    board = selectors.board(actor=actor, pipeline=pipeline, filters=filters)
    _render_cards(request, pipeline, board.stages, board.columns)
    return {
        "board": board,
        "pipeline": pipeline,
        "pipelines": selectors.pipelines(),
        "filters": filters,
        "filter_errors": errors,
        "owners": _filter_owners(actor),
        "teams": _filter_teams(actor),
        "query": _filter_query(request.GET),
        "can_add": can_create(actor, Opportunity),
        "lost_reasons": LostReason.choices,
        "competitors": _competitors(),
        "open_kind": StageKind.OPEN,
        **extra,
    }


def _column_context(request: HttpRequest, pipeline: Pipeline, stage_ids: set[int]) -> Any:
    """The board context with only the columns of ``stage_ids`` (after a move or an add)."""
    actor = actor_of(request)
    filters, _errors = _board_filters(actor, request.GET)
    board = selectors.board(actor=actor, pipeline=pipeline, filters=filters, only_stages=stage_ids)
    _render_cards(request, pipeline, board.stages, board.columns)
    return {
        "board": board,
        "pipeline": pipeline,
        "query": _filter_query(request.GET),
        "can_add": can_create(actor, Opportunity),
        "open_kind": StageKind.OPEN,
    }


def _safe_next(request: HttpRequest, fallback: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return fallback


# --- the board ------------------------------------------------------------------------------


@login_required
@require_GET
def board(request: HttpRequest) -> HttpResponse:
    """The board of the default pipeline."""
    _require_access(actor_of(request))
    pipeline = selectors.default_pipeline()
    if pipeline is None:
        raise Http404(_("Not found."))
    return _board_page(request, pipeline)


@login_required
@require_GET
@hidden_as_404
def board_pipeline(request: HttpRequest, pk: int) -> HttpResponse:
    _require_access(actor_of(request))
    return _board_page(request, selectors.pipeline_get(pk))


def _board_page(request: HttpRequest, pipeline: Pipeline) -> HttpResponse:
    context = _board_context(request, pipeline)
    if is_htmx(request) and request.headers.get("HX-Target") == "sales-board":
        return render(request, "sales/opportunities/board.html#board-columns", context)
    return render(request, "sales/opportunities/board.html", context)


@login_required
@require_POST
def board_move(request: HttpRequest, pk: int) -> HttpResponse:
    """Move a card (drag and drop or the card's select, from the board's script).

    Answers the two changed columns as HTML; 412 when someone else changed the card first,
    422 naming the field (``lost_reason`` opens the board's lost dialog), 404 when hidden.
    """
    actor = actor_of(request)
    try:
        _require_access(actor)
        pipeline = selectors.pipeline_get(pk)
        current = selectors.opportunity_get(
            actor=actor, pk=request.POST.get("opportunity"), detailed=False
        )
        if current.pipeline_id != pipeline.pk:
            raise NotFound(_("Not found."))
        version = _int_or_none(request.POST.get("version"))
        moved = services.opportunity_move(
            actor=actor,
            opportunity_id=current.pk,
            stage_id=request.POST.get("stage"),
            expected_version=version if version is not None else -1,
            lost_reason=request.POST.get("lost_reason") or None,
            lost_note=request.POST.get("lost_note") or None,
            lost_to=request.POST.get("lost_to") or None,
        )
    except Http404:
        return error_response(NotFound(_("Not found.")))
    except PermissionDenied:
        return error_response(NotFound(_("Not found.")))
    except Conflict as exc:
        exc.message = _(
            "Someone else changed this opportunity in the meantime. The board is reloaded; "
            "check it and move the card again if needed."
        )
        return error_response(exc)
    except (ValidationFailed, NotFound) as exc:
        return error_response(exc)
    context = _column_context(request, pipeline, {current.stage_id, moved.stage_id})
    context["moved"] = moved
    return render(request, "sales/opportunities/_columns.html", context)


def _int_or_none(value: Any) -> int | None:
    if value is None or not str(value).strip().isdigit() or len(str(value)) > 12:
        return None
    return int(str(value).strip())


@login_required
@require_GET
@hidden_as_404
def board_more(request: HttpRequest, pk: int, stage_pk: int) -> HttpResponse:
    """The next cards of one column ("show more")."""
    actor = actor_of(request)
    _require_access(actor)
    pipeline = selectors.pipeline_get(pk)
    stage = Stage.objects.filter(pk=stage_pk, pipeline=pipeline).first()
    if stage is None:
        raise Http404(_("Not found."))
    filters, _errors = _board_filters(actor, request.GET)
    offset = _int_or_none(request.GET.get("offset")) or 0
    column = selectors.board_more(
        actor=actor, pipeline=pipeline, stage=stage, filters=filters, offset=offset
    )
    _render_cards(request, pipeline, selectors.stages_of(pipeline), [column])
    context = {
        "column": column,
        "pipeline": pipeline,
        "board": selectors.Board(
            pipeline=pipeline, stages=selectors.stages_of(pipeline), columns=[], main_currency=""
        ),
        "query": _filter_query(request.GET),
    }
    return render(request, "sales/opportunities/_column.html#column-cards", context)


@login_required
@require_POST
@hidden_as_404
def board_quick_add(request: HttpRequest, pk: int, stage_pk: int) -> HttpResponse:
    """Add an opportunity at the top of a column (name, customer, amount)."""
    actor = actor_of(request)
    _require_access(actor)
    pipeline = selectors.pipeline_get(pk)
    stage = Stage.objects.filter(pk=stage_pk, pipeline=pipeline, kind=StageKind.OPEN).first()
    if stage is None:
        raise Http404(_("Not found."))
    form = QuickAddForm(request.POST)
    errors: list[str] = []
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.opportunity_create(
                actor=actor,
                data={
                    "name": data["name"],
                    "customer": data["customer"],
                    "amount": data["amount"] if data["amount"] is not None else "0",
                    "pipeline": pipeline.pk,
                    "stage": stage.pk,
                },
            )
        except (ValidationFailed, PermissionDenied) as exc:
            errors = [m for ms in exc.fields.values() for m in ms] or [str(exc.message)]
    else:
        errors = [str(m) for ms in form.errors.values() for m in ms]
    if not is_htmx(request):
        for message in errors:
            messages.error(request, message)
        if not errors:
            messages.success(request, _("The opportunity was added."))
        return HttpResponseRedirect(reverse("sales:board_pipeline", args=[pipeline.pk]))
    context = _column_context(request, pipeline, {stage.pk})
    context["quick_add_errors"] = errors
    context["quick_add_data"] = request.POST if errors else None
    context["column"] = context["board"].columns[0]
    # htmx swaps only 2xx answers: the column comes back with the errors above the form.
    return render(request, "sales/opportunities/_column.html", context)


# --- the list -------------------------------------------------------------------------------


@login_required
@require_GET
def opportunity_list(request: HttpRequest) -> HttpResponse:
    """Opportunities the user may see, filtered, keyset pages (newest first by default)."""
    actor = actor_of(request)
    _require_access(actor)
    query = request.GET.copy()
    if "scope" not in query:
        query["scope"] = selectors.default_scope(actor)
    filters, errors = filters_from_query(OpportunityFilters, query)
    sort = request.GET.get("sort") or "newest"
    page = selectors.opportunity_page(
        actor=actor,
        filters=filters,
        cursor=request.GET.get("cursor"),
        size=PAGE_SIZE,
        sort=sort,
        for_page=True,
    )
    params = request.GET.copy()
    params.pop("cursor", None)
    pipelines = _pipelines_with_stages()
    context = {
        "page": page,
        "filters": filters,
        "filter_errors": sorted(errors),
        "sort": sort if sort in selectors.SORTS else "newest",
        "pipelines": pipelines,
        "owners": _filter_owners(actor),
        "statuses": Opportunity._meta.get_field("status").choices,
        "base_query": params.urlencode(),
        "can_add": can_create(actor, Opportunity),
    }
    if is_htmx(request) and request.headers.get("HX-Target") in {
        "opportunity-rows",
        "opportunity-more",
    }:
        return render(request, "sales/opportunities/list.html#opportunity-rows", context)
    return render(request, "sales/opportunities/list.html", context)


# --- one opportunity ------------------------------------------------------------------------


def _line_form(opportunity: Opportunity, data: Any = None) -> LineForm:
    products = list(
        Product.objects.filter(is_active=True).order_by("name").values_list("pk", "name")[:500]
    )
    return LineForm(data, products=products, prefix="line")


def _bid_form(opportunity: Opportunity, data: Any = None) -> BidForm:
    return BidForm(data, competitors=_competitors(), currency=opportunity.currency, prefix="bid")


def _history_names(history: list[Any]) -> dict[tuple[str, Any], str]:
    """Readable names for the ids and codes a change log row holds (stage, owner …)."""
    ids: dict[str, set[Any]] = {"stage": set(), "pipeline": set(), "owner": set(), "lost_to": set()}
    for entry in history:
        for side in (entry.before or {}, entry.after or {}):
            for key, found in ids.items():
                if side.get(key) is not None:
                    found.add(side[key])
    names: dict[tuple[str, Any], str] = {}
    for pk, name in Stage.objects.filter(pk__in=ids["stage"]).values_list("pk", "name"):
        names[("stage", pk)] = name
    for pk, name in Pipeline.objects.filter(pk__in=ids["pipeline"]).values_list("pk", "name"):
        names[("pipeline", pk)] = name
    for user in User.objects.filter(pk__in=ids["owner"]).only("pk", "full_name", "email"):
        names[("owner", user.pk)] = str(user)
    for pk, name in Competitor.objects.filter(pk__in=ids["lost_to"]).values_list("pk", "name"):
        names[("lost_to", pk)] = name
    status = dict(Opportunity._meta.get_field("status").flatchoices)
    for value, label in status.items():
        names[("status", value)] = str(label)
    for value, label in LostReason.choices:
        names[("lost_reason", value)] = str(label)
    return names


def _detail_context(actor: User, opportunity: Opportunity) -> dict[str, Any]:
    from vefa.sales.services._common import customer_visible

    can_change = can(actor, "change", opportunity)
    history = selectors.opportunity_history(opportunity=opportunity)
    labels = {f.name: str(f.verbose_name) for f in Opportunity._meta.concrete_fields}
    names = _history_names(history)
    skip = {"version", "updated_by", "updated_at", "created_at", "created_by", "stage_changed_at"}
    entries = []
    for entry in history:
        before = entry.before or {}
        after = entry.after or {}
        changed = [
            (
                labels.get(key, key),
                names.get((key, before.get(key)), before.get(key)),
                names.get((key, after.get(key)), after.get(key)),
            )
            for key in sorted(set(before) | set(after))
            if key not in skip and before.get(key) != after.get(key) and entry.action == "update"
        ]
        entries.append({"entry": entry, "changed": changed})
    try:
        customer_visible(actor=actor, customer_id=opportunity.customer_id)
        customer_link = True
    except ValidationFailed:
        customer_link = False
    return {
        "opportunity": opportunity,
        "lines": list(opportunity.lines.all()),
        "bids": list(opportunity.competitor_bids.all()),
        "quotes": selectors.opportunity_quotes(actor=actor, opportunity=opportunity),
        "history": entries,
        "can_change": can_change,
        "can_delete": can(actor, "delete", opportunity),
        "customer_link": customer_link,
        "line_form": _line_form(opportunity) if can_change else None,
        "bid_form": _bid_form(opportunity) if can_change else None,
        "stages": selectors.stages_of(opportunity.pipeline),
    }


@login_required
@require_GET
@hidden_as_404
def opportunity_detail(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    _require_access(actor)
    opportunity = selectors.opportunity_get(actor=actor, pk=pk)
    return render(request, "sales/opportunities/detail.html", _detail_context(actor, opportunity))


def _shown_amount(amount: Any, currency: str) -> Any:
    """The amount as a form shows it: the currency's decimals unless more are stored."""
    from vefa.sales.money import MoneyError, round_money

    try:
        rounded = round_money(amount, currency)
    except MoneyError:
        return amount
    return rounded if rounded == amount else amount.normalize()


def _form_initial(opportunity: Opportunity) -> dict[str, Any]:
    activity = opportunity.follow_up_activity
    return {
        "name": opportunity.name,
        "customer": opportunity.customer_id,
        "stage": opportunity.stage_id,
        "amount": _shown_amount(opportunity.amount, opportunity.currency),
        "currency": opportunity.currency,
        "expected_close_date": opportunity.expected_close_date,
        "probability": opportunity.probability,
        "forecast_category": opportunity.forecast_category,
        "owner": opportunity.owner_id,
        "source": opportunity.source,
        "next_step": opportunity.next_step,
        "follow_up_date": opportunity.follow_up_date,
        "follow_up_kind": activity.kind if activity is not None else "task",
        "lost_reason": opportunity.lost_reason,
        "lost_note": opportunity.lost_note,
        "lost_to": opportunity.lost_to_id,
        "version": opportunity.version,
    }


def _form_data(form: OpportunityForm, stages: dict[int, Stage]) -> dict[str, Any]:
    data = form.cleaned_data
    stage = stages.get(data["stage"])
    values: dict[str, Any] = {
        "name": data["name"],
        "customer": data["customer"],
        "stage": data["stage"],
        "pipeline": stage.pipeline_id if stage is not None else None,
        "amount": data["amount"],
        "currency": data["currency"],
        "expected_close_date": data["expected_close_date"],
        "forecast_category": data["forecast_category"],
        "owner": data["owner"],
        "source": data["source"],
        "next_step": data["next_step"],
        "follow_up_date": data["follow_up_date"],
        "lost_reason": data["lost_reason"],
        "lost_note": data["lost_note"],
        "lost_to": data["lost_to"] or None,
    }
    if data.get("probability") is not None:
        values["probability"] = data["probability"]
    if data["follow_up_date"] is not None:
        values["follow_up_kind"] = data["follow_up_kind"] or "task"
    return values


def _picked_customer(actor: User, value: Any) -> Any:
    from vefa.sales.services._common import customer_visible

    if value in (None, ""):
        return None
    try:
        return customer_visible(actor=actor, customer_id=value)
    except ValidationFailed:
        return None


@login_required
@require_http_methods(["GET", "POST"])
@hidden_as_404
def opportunity_create(request: HttpRequest) -> HttpResponse:
    """A new opportunity; ``?customer=<id>`` preselects a customer the user can see,
    ``?pipeline=<id>`` / ``?stage=<id>`` a stage."""
    actor = actor_of(request)
    _require_access(actor)
    if not can_create(actor, Opportunity):
        raise Http404(_("Not found."))
    pipelines = _pipelines_with_stages()
    stages = {s.pk: s for p in pipelines for s in p.stage_list}  # type: ignore[attr-defined]
    customer = _picked_customer(actor, request.POST.get("customer") or request.GET.get("customer"))
    first = (
        next(
            (
                s
                for p in pipelines
                for s in p.stage_list  # type: ignore[attr-defined]
                if s.kind == StageKind.OPEN
                and str(p.pk) == (request.GET.get("pipeline") or str(pipelines[0].pk))
            ),
            None,
        )
        if pipelines
        else None
    )
    wanted_stage = _int_or_none(request.GET.get("stage"))
    initial = {
        "customer": customer.pk if customer else None,
        "stage": wanted_stage if wanted_stage in stages else (first.pk if first else None),
        "currency": (customer.currency if customer else "") or "TRY",
        "owner": actor.pk,
        "forecast_category": "pipeline",
        "amount": 0,
        "follow_up_kind": "task",
    }
    form = OpportunityForm(
        request.POST if request.method == "POST" else None,
        initial=initial,
        stages=stage_choices(pipelines),
        owners=owner_choices(actor),
        competitors=_competitors(),
        currency=str(initial["currency"]),
    )
    if request.method == "POST" and form.is_valid():
        try:
            opportunity = services.opportunity_create(actor=actor, data=_form_data(form, stages))
        except (ValidationFailed, PermissionDenied) as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("The opportunity was created."))
            return HttpResponseRedirect(opportunity.get_absolute_url())
    return render(
        request,
        "sales/opportunities/form.html",
        {"form": form, "opportunity": None, "customer": customer},
        status=422 if form.errors else 200,
    )


@login_required
@require_http_methods(["GET", "POST"])
@hidden_as_404
def opportunity_edit(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    _require_access(actor)
    opportunity = selectors.opportunity_get(actor=actor, pk=pk)
    if not can(actor, "change", opportunity):
        raise NotFound(_("Not found."))
    pipelines = _pipelines_with_stages()
    stages = {s.pk: s for p in pipelines for s in p.stage_list}  # type: ignore[attr-defined]
    customer = (
        _picked_customer(actor, request.POST.get("customer")) if request.method == "POST" else None
    ) or opportunity.customer
    form = OpportunityForm(
        request.POST if request.method == "POST" else None,
        initial=_form_initial(opportunity),
        stages=stage_choices(pipelines),
        owners=owner_choices(actor, opportunity.owner),
        competitors=_competitors(),
        currency=opportunity.currency,
    )
    if request.method == "POST" and form.is_valid():
        data = _form_data(form, stages)
        if data["customer"] in (None, ""):
            data["customer"] = opportunity.customer_id
        try:
            services.opportunity_update(
                actor=actor,
                opportunity_id=opportunity.pk,
                data=data,
                expected_version=form.cleaned_data.get("version"),
            )
        except Conflict:
            form.add_error(
                None, _("Someone else changed this opportunity. Reload it and try again.")
            )
        except (ValidationFailed, PermissionDenied) as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("The opportunity was saved."))
            return HttpResponseRedirect(opportunity.get_absolute_url())
    return render(
        request,
        "sales/opportunities/form.html",
        {"form": form, "opportunity": opportunity, "customer": customer},
        status=422 if form.errors else 200,
    )


@login_required
@require_http_methods(["GET", "POST"])
@hidden_as_404
def opportunity_move(request: HttpRequest, pk: int) -> HttpResponse:
    """Move to another stage without the board's script (phones, keyboards, the lost
    reason); the card's "move to" select posts here when scripts are off."""
    actor = actor_of(request)
    _require_access(actor)
    opportunity = selectors.opportunity_get(actor=actor, pk=pk)
    if not can(actor, "change", opportunity):
        raise NotFound(_("Not found."))
    stages = selectors.stages_of(opportunity.pipeline)
    form = MoveForm(
        request.POST if request.method == "POST" else None,
        initial={
            "stage": _int_or_none(request.GET.get("stage")) or opportunity.stage_id,
            "version": opportunity.version,
        },
        stages=[(s.pk, s.name) for s in stages],
        competitors=_competitors(),
    )
    fallback = reverse("sales:board_pipeline", args=[opportunity.pipeline_id])
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.opportunity_move(
                actor=actor,
                opportunity_id=opportunity.pk,
                stage_id=data["stage"],
                expected_version=data.get("version"),
                lost_reason=data["lost_reason"] or None,
                lost_note=data["lost_note"] or None,
                lost_to=data["lost_to"] or None,
            )
        except Conflict:
            form.add_error(
                None, _("Someone else changed this opportunity. Reload it and try again.")
            )
        except ValidationFailed as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("The opportunity was moved."))
            return HttpResponseRedirect(_safe_next(request, fallback))
    return render(
        request,
        "sales/opportunities/move.html",
        {
            "form": form,
            "opportunity": opportunity,
            "next": _safe_next(request, fallback),
            "lost_stages": [s.pk for s in stages if s.kind == StageKind.LOST],
        },
        status=422 if form.errors else 200,
    )


@login_required
@require_http_methods(["GET", "POST"])
@hidden_as_404
def opportunity_delete(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    _require_access(actor)
    opportunity = selectors.opportunity_get(actor=actor, pk=pk)
    if not can(actor, "delete", opportunity):
        raise NotFound(_("Not found."))
    if request.method == "POST":
        services.opportunity_delete(actor=actor, opportunity_id=opportunity.pk)
        messages.success(request, _("The opportunity was deleted."))
        return HttpResponseRedirect(reverse("sales:opportunity_list"))
    return render(request, "sales/opportunities/confirm_delete.html", {"opportunity": opportunity})


def _detail_redirect(opportunity_id: int, anchor: str) -> HttpResponseRedirect:
    return HttpResponseRedirect(
        reverse("sales:opportunity_detail", args=[opportunity_id]) + f"#{anchor}"
    )


def _error_messages(request: HttpRequest, exc: ValidationFailed) -> None:
    for field_messages in exc.fields.values():
        for message in field_messages:
            messages.error(request, message)
    if not exc.fields:
        messages.error(request, str(exc.message))


@login_required
@require_POST
@hidden_as_404
def opportunity_line_add(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    _require_access(actor)
    opportunity = selectors.opportunity_get(actor=actor, pk=pk)
    if not can(actor, "change", opportunity):
        raise NotFound(_("Not found."))
    form = _line_form(opportunity, request.POST)
    if form.is_valid():
        data = {k: v for k, v in form.cleaned_data.items() if v not in (None, "")}
        for key in ("quantity", "unit_price", "discount_percent"):
            if key in data:
                data[key] = str(data[key])
        try:
            services.opportunity_line_add(actor=actor, opportunity_id=opportunity.pk, data=data)
        except ValidationFailed as exc:
            _error_messages(request, exc)
        else:
            messages.success(request, _("The line was added."))
    else:
        for name, errors in form.errors.items():
            label = form.fields[name].label if name in form.fields else ""
            for message in errors:
                messages.error(request, f"{label}: {message}" if label else str(message))
    return _detail_redirect(opportunity.pk, "lines")


@login_required
@require_POST
@hidden_as_404
def opportunity_line_delete(request: HttpRequest, pk: int, line_pk: int) -> HttpResponse:
    actor = actor_of(request)
    _require_access(actor)
    opportunity = selectors.opportunity_get(actor=actor, pk=pk)
    if not opportunity.lines.filter(pk=line_pk).exists():
        raise NotFound(_("Not found."))
    services.opportunity_line_delete(actor=actor, line_id=line_pk)
    messages.success(request, _("The line was removed."))
    return _detail_redirect(opportunity.pk, "lines")


@login_required
@require_POST
@hidden_as_404
def opportunity_amount_from_lines(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    _require_access(actor)
    opportunity = selectors.opportunity_get(actor=actor, pk=pk)
    try:
        services.opportunity_amount_from_lines(
            actor=actor,
            opportunity_id=opportunity.pk,
            expected_version=_int_or_none(request.POST.get("version")),
        )
    except Conflict:
        messages.error(
            request, _("Someone else changed this opportunity. Reload it and try again.")
        )
    except ValidationFailed as exc:
        _error_messages(request, exc)
    else:
        messages.success(request, _("The amount is now the lines' total."))
    return _detail_redirect(opportunity.pk, "lines")


@login_required
@require_POST
@hidden_as_404
def opportunity_bid_add(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    _require_access(actor)
    opportunity = selectors.opportunity_get(actor=actor, pk=pk)
    if not can(actor, "change", opportunity):
        raise NotFound(_("Not found."))
    form = _bid_form(opportunity, request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.opportunity_bid_add(
                actor=actor,
                opportunity_id=opportunity.pk,
                competitor_id=data["competitor"],
                price=str(data["price"]) if data["price"] is not None else None,
                currency=data["currency"],
                notes=data["notes"],
            )
        except ValidationFailed as exc:
            _error_messages(request, exc)
        else:
            messages.success(request, _("The competing bid was added."))
    else:
        for errors in form.errors.values():
            for message in errors:
                messages.error(request, str(message))
    return _detail_redirect(opportunity.pk, "bids")


@login_required
@require_POST
@hidden_as_404
def opportunity_bid_delete(request: HttpRequest, pk: int, bid_pk: int) -> HttpResponse:
    actor = actor_of(request)
    _require_access(actor)
    opportunity = selectors.opportunity_get(actor=actor, pk=pk)
    if not opportunity.competitor_bids.filter(pk=bid_pk).exists():
        raise NotFound(_("Not found."))
    services.opportunity_bid_delete(actor=actor, bid_id=bid_pk)
    messages.success(request, _("The competing bid was removed."))
    return _detail_redirect(opportunity.pk, "bids")


@login_required
@require_GET
def customer_picker(request: HttpRequest) -> HttpResponse:
    """Customers whose name starts with ``q``, as radio buttons named ``customer``."""
    from vefa.customers.selectors import customer_picker as pick

    actor = actor_of(request)
    _require_access(actor)
    q = request.GET.get("q") or request.GET.get("customer_q") or ""
    results = pick(actor=actor, q=q[:100]) if q.strip() else []
    return render(
        request,
        "sales/opportunities/_customer_picker.html",
        {"results": results, "q": q, "field_id": (request.GET.get("field") or "c")[:40]},
    )


urlpatterns = [
    path("board/", board, name="board"),
    path("board/<int:pk>/", board_pipeline, name="board_pipeline"),
    path("board/<int:pk>/move/", board_move, name="board_move"),
    path("board/<int:pk>/stages/<int:stage_pk>/more/", board_more, name="board_more"),
    path("board/<int:pk>/stages/<int:stage_pk>/add/", board_quick_add, name="board_quick_add"),
    path("opportunities/", opportunity_list, name="opportunity_list"),
    path("opportunities/new/", opportunity_create, name="opportunity_create"),
    path(
        "opportunities/customers/",
        customer_picker,
        name="opportunity_customer_picker",
    ),
    path("opportunities/<int:pk>/", opportunity_detail, name="opportunity_detail"),
    path("opportunities/<int:pk>/edit/", opportunity_edit, name="opportunity_edit"),
    path("opportunities/<int:pk>/move/", opportunity_move, name="opportunity_move"),
    path("opportunities/<int:pk>/delete/", opportunity_delete, name="opportunity_delete"),
    path("opportunities/<int:pk>/lines/", opportunity_line_add, name="opportunity_line_add"),
    path(
        "opportunities/<int:pk>/lines/<int:line_pk>/delete/",
        opportunity_line_delete,
        name="opportunity_line_delete",
    ),
    path(
        "opportunities/<int:pk>/amount-from-lines/",
        opportunity_amount_from_lines,
        name="opportunity_amount_from_lines",
    ),
    path("opportunities/<int:pk>/bids/", opportunity_bid_add, name="opportunity_bid_add"),
    path(
        "opportunities/<int:pk>/bids/<int:bid_pk>/delete/",
        opportunity_bid_delete,
        name="opportunity_bid_delete",
    ),
]
