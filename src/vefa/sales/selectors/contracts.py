"""Reads of contracts, always for an actor (``sales.contract``: reps their own, managers their
team's, service everything, marketing nothing).

``ContractFilters`` is the one filter definition of the list page and the API.
"""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING, Any, Literal

from django.db.models import Q, QuerySet
from django.utils import timezone
from ninja import Schema
from pydantic import Field

from vefa.accounts.access import restrict
from vefa.common.paging import Page, keyset_page
from vefa.sales.choices import ContractStatus, OpportunityStatus
from vefa.sales.models import Contract, Opportunity
from vefa.sales.services._common import as_pk, not_found

if TYPE_CHECKING:
    from vefa.accounts.models import User

RENEWAL_WINDOWS = (30, 60, 90, 180, 365)


class ContractFilters(Schema):
    """Filters of the contract list: status, owner, renewal window, customer, text."""

    status: ContractStatus | None = None
    owner: Literal["mine"] | int | None = None
    renewal_within: int | None = Field(default=None, ge=0, le=366)
    customer: int | None = Field(default=None, ge=1)
    q: str | None = Field(default=None, max_length=200)

    def apply(
        self, queryset: QuerySet[Contract], *, actor: User, today: datetime.date | None = None
    ) -> QuerySet[Contract]:
        qs = queryset
        if self.status:
            qs = qs.filter(status=self.status)
        if self.owner == "mine":
            qs = qs.filter(owner=actor)
        elif isinstance(self.owner, int):
            qs = qs.filter(owner_id=self.owner)
        if self.customer:
            qs = qs.filter(customer_id=self.customer)
        if self.renewal_within is not None:
            today = today or timezone.localdate()
            if not self.status:
                # Lets the database read the (status, renewal date) index, one range per
                # status, instead of scanning every contract.
                qs = qs.filter(status__in=ContractStatus.values)
            qs = qs.filter(
                renewal_date__gte=today,
                renewal_date__lte=today + datetime.timedelta(days=self.renewal_within),
            )
        if self.q and self.q.strip():
            text = self.q.strip()
            qs = qs.filter(Q(title__icontains=text) | Q(number__icontains=text))
        return qs


def _contract_qs(actor: User) -> QuerySet[Contract]:
    return restrict(Contract.objects.all(), actor, "view").select_related(
        "customer", "owner", "team"
    )


def contract_page(
    *,
    actor: User,
    filters: ContractFilters | None = None,
    cursor: str | None = None,
    size: int = 50,
) -> Page[Contract]:
    """One keyset page: by renewal date within a renewal window, else newest first."""
    qs = _contract_qs(actor)
    if filters is not None:
        qs = filters.apply(qs, actor=actor)
    ordering = (
        "renewal_date" if filters is not None and filters.renewal_within is not None else "-id"
    )
    return keyset_page(qs, ordering=ordering, cursor=cursor, size=max(1, min(size, 100)))


def contract_get(*, actor: User, pk: Any) -> Contract:
    """One contract the actor may see, or ``NotFound`` (the same for a missing one)."""
    contract = (
        _contract_qs(actor)
        .select_related("renewed_by")
        .prefetch_related("tags")
        .filter(pk=as_pk(pk))
        .first()
    )
    if contract is None:
        raise not_found()
    return contract


def contract_renewals(*, actor: User, contract: Contract) -> list[Opportunity]:
    """The contract's renewal opportunities the actor may see, newest first."""
    return list(
        restrict(Opportunity.objects.all(), actor, "view")
        .filter(renewal_of=contract)
        .select_related("stage", "owner")
        .order_by("-created_at", "-id")[:20]
    )


def contract_predecessor(*, actor: User, contract: Contract) -> Contract | None:
    """The contract this one renewed, if the actor may see it."""
    return _contract_qs(actor).filter(renewed_by=contract).first()


def won_renewal(contract: Contract) -> Opportunity | None:
    return (
        Opportunity.objects.filter(renewal_of=contract, status=OpportunityStatus.WON)
        .order_by("-closed_at", "-id")
        .first()
    )
