"""Reads of segments: the segments a person may see, and who is in a segment.

Two kinds of membership read:

- for a person (``segment_count``, ``segment_members``): only the customers that person may
  see (``restrict`` on ``customers.customer``), so a count or a member list never reveals a
  hidden customer;
- for the system (``segment_customers``, ``audience_queryset``): every customer, as a
  campaign's audience or a journey's trigger needs.

Merged customers are never members, as on the customer list.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, cast

from django.db.models import Q, QuerySet
from django.utils import timezone

from vefa.accounts.access import restrict, sees_all
from vefa.common.paging import Page
from vefa.customers.models import Customer
from vefa.customers.selectors import customer_queryset, page_of, tag_prefetch
from vefa.customers.services._common import as_pk, not_found
from vefa.marketing.choices import SegmentKind
from vefa.marketing.models import Segment, SegmentMember, SegmentSize
from vefa.marketing.segment_rules import apply_rules, definitions, evaluating

if TYPE_CHECKING:
    from vefa.accounts.models import User

MAX_PAGE = 100
DEFAULT_PAGE = 50
# Days of size history the segment page shows.
HISTORY_DAYS = 180


# --- membership (system) ----------------------------------------------------------------------


def _owner_of(segment: Segment) -> User | None:
    return cast("User | None", segment.owner)


def _members_of(segment: Segment, base: QuerySet[Customer]) -> QuerySet[Customer]:
    if segment.kind == SegmentKind.STATIC:
        ids = SegmentMember.objects.filter(segment_id=segment.pk).values("customer_id")
        return base.filter(pk__in=ids)
    with evaluating(int(segment.pk)) as allowed:
        if not allowed:
            return base.none()
        # "me" in a rule was stored as the saving user's id; the owner stands in for
        # anything else that depends on a person.
        return apply_rules(
            base, segment.rules or [], segment.match, actor=_owner_of(segment), defs=definitions()
        )


def segment_customers(segment: Segment) -> QuerySet[Customer]:
    """Every customer in ``segment`` (no actor restriction; merged customers excluded)."""
    return _members_of(segment, customer_queryset())


def segment_ids_condition(segment: Segment) -> Q:
    """``pk IN (the segment's customers)`` for combining segments in one query."""
    return Q(pk__in=_members_of(segment, Customer.objects.all()).values("pk"))


def audience_queryset(*, segment_ids: list[int], exclusion_ids: list[int]) -> QuerySet[Customer]:
    """Customers in any of ``segment_ids`` and in none of ``exclusion_ids`` (system-wide).

    Archived segments still count: a campaign keeps the audience it was given.
    """
    segments = {s.pk: s for s in Segment.objects.filter(pk__in=[*segment_ids, *exclusion_ids])}
    included = [segments[i] for i in dict.fromkeys(segment_ids) if i in segments]
    if not included:
        return customer_queryset().none()
    condition = segment_ids_condition(included[0])
    for segment in included[1:]:
        condition |= segment_ids_condition(segment)
    queryset = customer_queryset().filter(condition)
    for pk in dict.fromkeys(exclusion_ids):
        if pk in segments:
            queryset = queryset.exclude(segment_ids_condition(segments[pk]))
    return queryset


# --- segments for a person ----------------------------------------------------------------------


def segment_queryset(actor: User) -> QuerySet[Segment]:
    return restrict(Segment.objects.all(), actor, "view")


def segment_get(*, actor: User, pk: Any) -> Segment:
    """One segment the actor may see, or ``NotFound``."""
    segment = (
        segment_queryset(actor)
        .select_related("owner", "team")
        .prefetch_related(tag_prefetch())
        .filter(pk=as_pk(pk))
        .first()
    )
    if segment is None:
        raise not_found()
    return segment


def segment_list(
    *,
    actor: User,
    q: str = "",
    kind: str = "",
    archived: bool = False,
    owner: str = "",
    cursor: str | None = None,
    size: int = DEFAULT_PAGE,
) -> Page[Segment]:
    """One keyset page of segments by name (archived ones only when asked)."""
    qs = segment_queryset(actor).filter(is_archived=archived).select_related("owner", "team")
    if q:
        qs = qs.filter(name__icontains=q)
    if kind in SegmentKind.values:
        qs = qs.filter(kind=kind)
    if owner == "me":
        qs = qs.filter(owner=actor)
    elif owner.isdigit():
        qs = qs.filter(owner_id=int(owner))
    return page_of(qs.prefetch_related(tag_prefetch()), "name", cursor, max(1, min(size, MAX_PAGE)))


def segment_choices(
    *, actor: User, exclude: Iterable[int] = (), kind: str = "", changeable: bool = False
) -> list[tuple[int, str]]:
    """Active segments as (id, name), for choosing one in a form (``changeable``: only the
    ones ``actor`` may change, e.g. static lists to add customers to)."""
    qs = segment_queryset(actor).filter(is_archived=False).exclude(pk__in=list(exclude))
    if kind:
        qs = qs.filter(kind=kind)
    if changeable:
        qs = restrict(qs, actor, "change")
    rows = qs.order_by("name", "id").values_list("pk", "name")[:500]
    return [(int(pk), str(name)) for pk, name in rows]


def visible_members(*, actor: User, segment: Segment) -> QuerySet[Customer]:
    """The segment's customers ``actor`` may see."""
    return restrict(segment_customers(segment), actor, "view")


def segment_count(*, actor: User, segment_id: int) -> int:
    """How many of the segment's customers ``actor`` may see (exact)."""
    segment = segment_get(actor=actor, pk=segment_id)
    return visible_members(actor=actor, segment=segment).count()


def count_rules(
    *, actor: User, rules: list[dict[str, str]], match: str, segment_id: int | None = None
) -> int:
    """How many customers ``actor`` may see match unsaved ``rules`` (the live count)."""
    base = restrict(customer_queryset(), actor, "view")
    whole = sees_all(actor, Customer)
    if segment_id is None:
        return apply_rules(base, rules, match, actor=actor, whole=whole).count()
    with evaluating(int(segment_id)) as allowed:
        if not allowed:
            return 0
        return apply_rules(base, rules, match, actor=actor, whole=whole).count()


def segment_members(
    *, actor: User, segment: Segment, cursor: str | None = None, size: int = DEFAULT_PAGE
) -> Page[Customer]:
    """One keyset page (by name) of the segment's customers ``actor`` may see."""
    qs = visible_members(actor=actor, segment=segment).select_related("owner", "team")
    return page_of(
        qs.prefetch_related(tag_prefetch()), "name_key", cursor, max(1, min(size, MAX_PAGE))
    )


def segment_sizes(*, segment: Segment, days: int = HISTORY_DAYS) -> list[SegmentSize]:
    """The daily sizes of the last ``days`` days, oldest first."""
    since = timezone.localdate() - datetime.timedelta(days=days)
    return list(SegmentSize.objects.filter(segment=segment, day__gte=since).order_by("day"))


def is_static_member(*, segment: Segment, customer_id: int) -> bool:
    return SegmentMember.objects.filter(segment=segment, customer_id=customer_id).exists()


def customer_memberships(*, actor: User, customer: Customer, limit: int) -> list[SegmentMember]:
    """The customer's memberships of the segments the actor may see, by segment name (the
    marketing card of the customer 360 page); the customer was read with the actor."""
    visible_segments = restrict(Segment.objects.all(), actor).values("pk")
    return list(
        SegmentMember.objects.filter(customer=customer, segment__in=visible_segments)
        .select_related("segment")
        .order_by("segment__name", "segment_id")[:limit]
    )
