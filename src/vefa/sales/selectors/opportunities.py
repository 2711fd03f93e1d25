"""Reads of opportunities for an actor: the list, one opportunity, its history, the board.

Everything starts from ``restrict(Opportunity, actor, "view")``, so a rep sees his own
deals, a manager his team's, an administrator or a read-only user all, service agents and
marketers none; a hidden opportunity is ``NotFound`` exactly like a missing one.
"""

from __future__ import annotations

import datetime
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Literal

from django.db.models import Count, Prefetch, Q, QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Schema
from pydantic import Field

from vefa.accounts.access import restrict, scope_for
from vefa.accounts.choices import Role, Scope
from vefa.common.errors import NotFound
from vefa.common.paging import Page, keyset_page
from vefa.platform.models import ChangeLogEntry
from vefa.sales.choices import OpportunityStatus, StageKind
from vefa.sales.models import (
    Opportunity,
    OpportunityCompetitor,
    OpportunityLine,
    Pipeline,
    Stage,
)

if TYPE_CHECKING:
    from vefa.accounts.models import User

# Cards a board column shows before "show more" (counts and sums cover every card).
COLUMN_LIMIT = 200
SORTS = {
    "newest": "-created_at",
    "oldest": "created_at",
    "amount": "-amount",
    "name": "name",
}


class OpportunityFilters(Schema):
    """Filters of the opportunity list, the board and the API."""

    scope: Literal["mine", "team", "all"] | None = None
    pipeline: int | None = Field(default=None, ge=1)
    stage: int | None = Field(default=None, ge=1)
    status: OpportunityStatus | None = None
    owner: int | None = Field(default=None, ge=1)
    team: int | None = Field(default=None, ge=1)
    customer: int | None = Field(default=None, ge=1)
    close_from: datetime.date | None = None
    close_to: datetime.date | None = None
    q: str | None = Field(default=None, max_length=200)

    def apply(self, queryset: QuerySet[Opportunity], *, actor: User) -> QuerySet[Opportunity]:
        qs = queryset
        if self.scope == "mine":
            qs = qs.filter(owner=actor)
        elif self.scope == "team":
            qs = (
                qs.filter(Q(team_id=actor.team_id) | Q(owner=actor))
                if actor.team_id
                else qs.filter(owner=actor)
            )
        if self.pipeline:
            qs = qs.filter(pipeline_id=self.pipeline)
        if self.stage:
            qs = qs.filter(stage_id=self.stage)
        if self.status:
            qs = qs.filter(status=self.status)
        if self.owner:
            qs = qs.filter(owner_id=self.owner)
        if self.team:
            qs = qs.filter(team_id=self.team)
        if self.customer:
            qs = qs.filter(customer_id=self.customer)
        if self.close_from:
            qs = qs.filter(expected_close_date__gte=self.close_from)
        if self.close_to:
            qs = qs.filter(expected_close_date__lte=self.close_to)
        if self.q and self.q.strip():
            text = self.q.strip()
            qs = qs.filter(Q(name__icontains=text) | Q(customer__display_name__icontains=text))
        return qs


def default_scope(actor: User) -> str:
    """Whose deals a page shows first: a rep his own, a manager his team's, others all."""
    if actor.role == Role.SALES_REP and not actor.is_superuser:
        return "mine"
    if actor.role == Role.SALES_MANAGER and not actor.is_superuser:
        return "team"
    return "all"


def may_view_any(actor: User) -> bool:
    return scope_for(actor, "sales.opportunity", "view") != Scope.NONE


def _not_found() -> NotFound:
    return NotFound(_("Not found."))


def _visible(actor: User) -> QuerySet[Opportunity]:
    return restrict(Opportunity.objects.all(), actor, "view")


# --- list and one record ----------------------------------------------------------------------


def opportunity_list(
    *, actor: User, filters: OpportunityFilters | None = None
) -> QuerySet[Opportunity]:
    qs = _visible(actor).select_related("customer", "owner", "stage")
    if filters is not None:
        qs = filters.apply(qs, actor=actor)
    return qs


def opportunity_page(
    *,
    actor: User,
    filters: OpportunityFilters | None = None,
    cursor: str | None = None,
    size: int = 50,
    sort: str = "newest",
    for_page: bool = False,
) -> Page[Opportunity]:
    """One keyset page (no COUNT, constant queries whatever the page size). ``for_page``
    leaves out the columns the list page does not show."""
    ordering = SORTS.get(sort, SORTS["newest"])
    qs = opportunity_list(actor=actor, filters=filters)
    if for_page:
        qs = qs.defer(
            "custom_fields", "customer__custom_fields", "customer__notes", "owner__password"
        )
    return keyset_page(qs, ordering=ordering, cursor=cursor, size=size)


def opportunity_get(*, actor: User, pk: Any, detailed: bool = True) -> Opportunity:
    """One opportunity with its lines and competing bids, or ``NotFound``."""
    try:
        key = int(pk)
    except (TypeError, ValueError):
        raise _not_found() from None
    qs = _visible(actor).select_related(
        "customer", "contact", "owner", "team", "stage", "pipeline", "lost_to"
    )
    if detailed:
        qs = qs.select_related("follow_up_activity").prefetch_related(
            Prefetch(
                "lines",
                queryset=OpportunityLine.objects.select_related("product").order_by(
                    "position", "id"
                ),
            ),
            Prefetch(
                "competitor_bids",
                queryset=OpportunityCompetitor.objects.select_related("competitor").order_by(
                    "competitor__name", "id"
                ),
            ),
            "tags",
        )
    found = qs.filter(pk=key).first() if 0 < key < 2**63 else None
    if found is None:
        raise _not_found()
    return found


def opportunity_history(*, opportunity: Opportunity, limit: int = 100) -> list[ChangeLogEntry]:
    """The change-log rows of an opportunity the caller could already see, newest first."""
    return list(
        ChangeLogEntry.objects.filter(model="sales.opportunity", object_id=opportunity.pk).order_by(
            "-time", "-id"
        )[:limit]
    )


def opportunity_quotes(*, actor: User, opportunity: Opportunity, limit: int = 50) -> list[Any]:
    """The quotes of an opportunity the actor may see."""
    from vefa.sales.models import Quote

    return list(
        restrict(Quote.objects.all(), actor, "view")
        .filter(opportunity=opportunity)
        .order_by("-issued_on", "-id")[:limit]
    )


# --- pipelines ------------------------------------------------------------------------------


def pipelines() -> list[Pipeline]:
    return list(Pipeline.objects.filter(is_active=True).order_by("order", "name"))


def default_pipeline() -> Pipeline | None:
    return Pipeline.objects.filter(is_active=True).order_by("-is_default", "order", "pk").first()


def pipeline_get(pk: Any) -> Pipeline:
    try:
        key = int(pk)
    except (TypeError, ValueError):
        raise _not_found() from None
    found = Pipeline.objects.filter(pk=key).first() if 0 < key < 2**63 else None
    if found is None:
        raise _not_found()
    return found


KIND_ORDER: dict[str, int] = {"open": 0, "won": 1, "lost": 2}


def _board_order(stage: Stage) -> tuple[int, int, int]:
    return (KIND_ORDER.get(stage.kind, 3), stage.order, stage.pk)


def stages_of(pipeline: Pipeline) -> list[Stage]:
    """Open stages in order, then won, then lost."""
    return sorted(Stage.objects.filter(pipeline=pipeline), key=_board_order)


def stages_by_pipeline(pipeline_ids: list[int]) -> dict[int, list[Stage]]:
    """The stages of several pipelines in board order, in one query."""
    found: dict[int, list[Stage]] = {}
    for stage in sorted(Stage.objects.filter(pipeline_id__in=pipeline_ids), key=_board_order):
        found.setdefault(stage.pipeline_id, []).append(stage)
    return found


# --- the board ------------------------------------------------------------------------------


@dataclass
class Column:
    stage: Stage
    cards: list[Card]
    count: int = 0
    sums: dict[str, Decimal] = field(default_factory=dict)
    main_currency: str = ""
    shown_from: int = 0
    cards_html: str = ""

    @property
    def main_sum(self) -> Decimal:
        return self.sums.get(self.main_currency, Decimal(0))

    @property
    def other_sums(self) -> list[tuple[str, Decimal]]:
        return sorted((c, v) for c, v in self.sums.items() if c != self.main_currency)

    @property
    def more(self) -> int:
        return max(self.count - self.shown_from - len(self.cards), 0)

    @property
    def next_offset(self) -> int:
        return self.shown_from + len(self.cards)


@dataclass
class Board:
    pipeline: Pipeline
    stages: list[Stage]
    columns: list[Column]
    main_currency: str


def _board_qs(actor: User, pipeline: Pipeline, filters: OpportunityFilters) -> QuerySet[Any]:
    qs = _visible(actor).filter(pipeline=pipeline)
    # The board is one pipeline; its own filter decides which, and stage is a column.
    scoped = filters.model_copy(update={"pipeline": None, "stage": None, "status": None})
    return scoped.apply(qs, actor=actor)


@dataclass(slots=True)
class Card:
    """What a board card shows: read as plain values, not model instances (800 at once)."""

    pk: int
    name: str
    amount: Decimal
    currency: str
    expected_close_date: datetime.date | None
    stage_changed_at: datetime.datetime
    stage_id: int
    version: int
    owner_id: int | None
    team_id: int | None
    customer_name: str
    owner_name: str
    is_stale: bool = False
    can_move: bool = False


CARD_FIELDS = (
    "id",
    "name",
    "amount",
    "currency",
    "expected_close_date",
    "stage_changed_at",
    "stage_id",
    "version",
    "owner_id",
    "team_id",
    "customer__display_name",
    "owner__full_name",
    "owner__email",
)


def _cards(qs: QuerySet[Any], stage: Stage, offset: int, limit: int) -> list[Card]:
    is_open = stage.kind == StageKind.OPEN
    ordering = ["stage_changed_at", "id"] if is_open else ["-closed_at", "-id"]
    rows = (
        qs.filter(stage=stage)
        .order_by(*ordering)
        .values_list(*CARD_FIELDS)[offset : offset + limit]
    )
    return [
        Card(
            pk=pk,
            name=name,
            amount=amount,
            currency=currency,
            expected_close_date=close,
            stage_changed_at=since,
            stage_id=stage_id,
            version=version,
            owner_id=owner_id,
            team_id=team_id,
            customer_name=customer_name or "",
            owner_name=owner_name or owner_email or "",
        )
        for (
            pk,
            name,
            amount,
            currency,
            close,
            since,
            stage_id,
            version,
            owner_id,
            team_id,
            customer_name,
            owner_name,
            owner_email,
        ) in rows
    ]


def _mark_stale(cards: list[Card], stage: Stage, now: datetime.datetime) -> None:
    limit = now - datetime.timedelta(days=stage.stale_after_days)
    for card in cards:
        card.is_stale = stage.kind == StageKind.OPEN and card.stage_changed_at < limit


def board(
    *,
    actor: User,
    pipeline: Pipeline,
    filters: OpportunityFilters,
    limit: int = COLUMN_LIMIT,
    only_stages: set[int] | None = None,
) -> Board:
    """The board of ``pipeline``: a column per stage (open ones, won, lost) with its count,
    its value per currency and at most ``limit`` cards. ``only_stages`` reads just those
    columns (after a move)."""
    qs = _board_qs(actor, pipeline, filters)
    stages = stages_of(pipeline)
    sums: dict[int, dict[str, Decimal]] = {}
    counts: Counter[int] = Counter()
    per_currency: Counter[str] = Counter()
    rows = (
        qs.order_by()
        .values("stage_id", "currency")
        .annotate(n=Count("id"), total=Sum("amount"))
        .values_list("stage_id", "currency", "n", "total")
    )
    for stage_id, currency, n, total in rows:
        counts[stage_id] += n
        per_currency[currency] += n
        sums.setdefault(stage_id, {})[currency] = total or Decimal(0)
    # The most common currency; a tie goes to the code first in the alphabet, so every
    # request (and every column re-read after a move) picks the same one.
    main = min(per_currency, key=lambda c: (-per_currency[c], c)) if per_currency else "TRY"
    now = timezone.now()
    columns = []
    for stage in stages:
        if only_stages is not None and stage.pk not in only_stages:
            continue
        cards = _cards(qs, stage, 0, limit) if counts[stage.pk] else []
        _mark_stale(cards, stage, now)
        columns.append(
            Column(
                stage=stage,
                cards=cards,
                count=counts[stage.pk],
                sums=sums.get(stage.pk, {}),
                main_currency=main,
            )
        )
    return Board(pipeline=pipeline, stages=stages, columns=columns, main_currency=main)


def board_more(
    *,
    actor: User,
    pipeline: Pipeline,
    stage: Stage,
    filters: OpportunityFilters,
    offset: int,
    limit: int = COLUMN_LIMIT,
) -> Column:
    """The next cards of one column ("show more")."""
    qs = _board_qs(actor, pipeline, filters)
    count = qs.filter(stage=stage).count()
    offset = max(0, min(offset, count))
    cards = _cards(qs, stage, offset, limit)
    _mark_stale(cards, stage, timezone.now())
    return Column(stage=stage, cards=cards, count=count, shown_from=offset)
