"""Reads of loyalty points: a customer's balance, tier and history; the programme setup."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from vefa.common.paging import Page, keyset_page
from vefa.customers.selectors import customer_get
from vefa.marketing.models import EarningRule, LoyaltyProgram, LoyaltyTier, PointsEntry
from vefa.marketing.services.loyalty import active_program, balance_of, customer_tier

if TYPE_CHECKING:
    from vefa.accounts.models import User
    from vefa.customers.models import Customer

MAX_PAGE = 100


@dataclass(frozen=True)
class PointsSummary:
    program: LoyaltyProgram | None
    balance: int
    value: Decimal
    tier: LoyaltyTier | None
    entries: list[PointsEntry]


def points_summary(customer: Customer, *, limit: int = 10) -> PointsSummary:
    """Balance, its value, tier and the latest entries of a customer the caller may see."""
    program = active_program()
    if program is None:
        return PointsSummary(None, 0, Decimal(0), None, [])
    balance = balance_of(customer.pk, program)
    entries = list(
        PointsEntry.objects.filter(program=program, customer=customer)
        .select_related("order", "created_by")
        .order_by("-occurred_at", "-id")[: max(1, min(limit, MAX_PAGE))]
    )
    return PointsSummary(
        program=program,
        balance=balance,
        value=(Decimal(balance) * program.point_value).quantize(Decimal("0.01")),
        tier=customer_tier(customer.pk, program),
        entries=entries,
    )


def customer_points(
    *, actor: User, customer_id: Any, limit: int = 10
) -> tuple[Customer, PointsSummary]:
    """A customer's points for a person (``NotFound`` when the customer is out of reach)."""
    customer = customer_get(actor=actor, pk=customer_id)
    return customer, points_summary(customer, limit=limit)


def points_history(
    *, actor: User, customer_id: Any, cursor: str | None = None, limit: int = 25
) -> Page[PointsEntry]:
    customer = customer_get(actor=actor, pk=customer_id)
    qs = PointsEntry.objects.filter(customer=customer).select_related("order")
    return keyset_page(
        qs, ordering="-occurred_at", cursor=cursor, size=max(1, min(limit, MAX_PAGE))
    )


@dataclass(frozen=True)
class ProgramSetup:
    program: LoyaltyProgram | None
    rules: list[EarningRule]
    tiers: list[LoyaltyTier]


def program_setup() -> ProgramSetup:
    """The programme with its rules and tiers (read by every signed-in user)."""
    program = LoyaltyProgram.objects.order_by("id").first()
    if program is None:
        return ProgramSetup(None, [], [])
    return ProgramSetup(
        program=program,
        rules=list(program.rules.select_related("category").order_by("kind", "id")),
        tiers=list(program.tiers.order_by("position", "id")),
    )
