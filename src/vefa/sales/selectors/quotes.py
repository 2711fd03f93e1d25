"""Reads of quotes, always for an actor: the filtered list, one quote, its versions.

``restrict`` limits every read to the quotes the actor may see (reps their own, managers
their team's); a quote the actor may not see is ``NotFound`` exactly like a missing one.
"""

from __future__ import annotations

import datetime
import re
from typing import TYPE_CHECKING, Any

from django.db.models import Prefetch, Q, QuerySet
from django.utils import timezone
from ninja import Schema
from pydantic import Field

from vefa.accounts.access import restrict
from vefa.common.paging import Page, keyset_page
from vefa.sales.choices import QuoteStatus
from vefa.sales.models import Quote, QuoteLine
from vefa.sales.services._common import as_pk, not_found

if TYPE_CHECKING:
    from vefa.accounts.models import User
    from vefa.sales.models import Order

QUOTE_ORDERING = "-id"
# How many years back a bare number ("42") is looked for.
NUMBER_YEARS = 10
_PREFIX = re.compile(r"^Q-\d{1,4}(-\d{0,6})?$")


class QuoteFilters(Schema):
    """Filters of the quote list (page and API): status, customer, owner, dates, number.

    ``status=expired`` finds sent quotes past their validity; ``status=sent`` leaves them out.
    """

    status: QuoteStatus | None = None
    customer: int | None = Field(default=None, ge=1, le=2**63 - 1)
    owner: int | None = Field(default=None, ge=1, le=2**63 - 1)
    mine: bool = False
    open: bool = False
    date_from: datetime.date | None = None
    date_to: datetime.date | None = None
    q: str | None = Field(default=None, max_length=64)

    def apply(
        self, queryset: QuerySet[Quote], *, actor: User, today: datetime.date | None = None
    ) -> QuerySet[Quote]:
        today = today or timezone.localdate()
        qs = queryset
        unexpired = Q(valid_until__isnull=True) | Q(valid_until__gte=today)
        if self.status == QuoteStatus.EXPIRED:
            qs = qs.filter(
                Q(status=QuoteStatus.EXPIRED) | Q(status=QuoteStatus.SENT, valid_until__lt=today)
            )
        elif self.status == QuoteStatus.SENT:
            qs = qs.filter(unexpired, status=QuoteStatus.SENT)
        elif self.status:
            qs = qs.filter(status=self.status)
        if self.open:
            qs = qs.filter(Q(status=QuoteStatus.DRAFT) | (Q(status=QuoteStatus.SENT) & unexpired))
        if self.customer:
            qs = qs.filter(customer_id=self.customer)
        if self.mine:
            qs = qs.filter(owner_id=actor.pk)
        elif self.owner:
            qs = qs.filter(owner_id=self.owner)
        if self.date_from:
            qs = qs.filter(issued_on__gte=self.date_from)
        if self.date_to:
            qs = qs.filter(issued_on__lte=self.date_to)
        if self.q and self.q.strip():
            qs = qs.filter(number_q(self.q, today))
        return qs


def number_q(text: str, today: datetime.date) -> Q:
    """Quotes whose number matches what was typed, through the number's index when it can.

    "Q-2026-0001" finds the numbers starting so (a range on the index), "42" the quote
    numbered 42 in each of the last years (Q-2026-000042, Q-2025-000042 …); anything else
    is looked for inside the number.
    """
    term = text.strip().upper()
    if _PREFIX.match(term):
        return Q(number__gte=term, number__lt=term + "\uffff")
    if term.isdigit() and len(term) <= 6:
        years = range(today.year + 1, today.year - NUMBER_YEARS, -1)
        return Q(number__in=[f"Q-{year}-{int(term):06d}" for year in years])
    return Q(number__icontains=term)


def visible_quotes(actor: User) -> QuerySet[Quote]:
    return restrict(Quote.objects.all(), actor, "view")


def quote_list(*, actor: User, filters: QuoteFilters | None = None) -> QuerySet[Quote]:
    """The quotes the actor may see, filtered; newest first (by id, which an index serves
    at any size; quotes are written in date order, so this is also newest date first)."""
    qs = visible_quotes(actor).select_related("customer", "owner")
    if filters is not None:
        qs = filters.apply(qs, actor=actor)
    return qs.order_by(QUOTE_ORDERING, "-id")


def quote_page(
    *,
    actor: User,
    filters: QuoteFilters | None = None,
    cursor: str | None = None,
    size: int = 50,
) -> Page[Quote]:
    """One keyset page of ``quote_list`` (a fixed number of queries, no COUNT)."""
    qs = quote_list(actor=actor, filters=filters).only(
        "id",
        "number",
        "revision",
        "status",
        "issued_on",
        "valid_until",
        "currency",
        "total",
        "version",
        "customer_id",
        "customer__display_name",
        "owner_id",
        "owner__full_name",
        "owner__email",
        "team_id",
    )
    return keyset_page(qs, ordering=QUOTE_ORDERING, cursor=cursor, size=max(1, min(size, 100)))


def _lines() -> Prefetch[Any]:
    return Prefetch(
        "lines",
        queryset=QuoteLine.objects.select_related("product").order_by("position", "id"),
    )


def quote_get(*, actor: User, pk: Any) -> Quote:
    """One quote with its lines, customer, contact, owner and tags, or ``NotFound``."""
    quote = (
        visible_quotes(actor)
        .select_related(
            "customer", "contact", "opportunity", "price_list", "owner", "team", "previous"
        )
        .prefetch_related(_lines(), "tags")
        .filter(pk=as_pk(pk))
        .first()
    )
    if quote is None:
        raise not_found()
    return quote


def quote_versions(*, actor: User, quote: Quote) -> list[Quote]:
    """Every version of the quote's number the actor may see, newest first."""
    return list(
        visible_quotes(actor)
        .filter(number=quote.number)
        .only("id", "number", "revision", "status", "issued_on", "valid_until", "total")
        .order_by("-revision")[:100]
    )


def quote_orders(*, actor: User, quote: Quote) -> list[Order]:
    """The orders made from this quote that the actor may see."""
    from vefa.sales.models import Order

    return list(
        restrict(Order.objects.filter(quote=quote), actor, "view")
        .only("id", "number", "status", "total", "currency")
        .order_by("id")[:10]
    )


def quote_status_choices() -> list[tuple[str, str]]:
    return [(str(v), str(label)) for v, label in QuoteStatus.choices]
