"""API of segments (mounted under /api/v1/marketing): list, read, create, change, archive,
count, members, static list members.

Conventions (see ``vefa.common.api``): one error shape; ``ETag`` on reads and 412 on a stale
``If-Match``; ``Idempotency-Key`` and ``Location`` on create; keyset pages with ``limit``
≤ 100; a segment the caller may not see is 404. Counts and members are the customers the
caller may see.
"""

from __future__ import annotations

import datetime

from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from ninja import Query, Router, Schema
from pydantic import Field

from vefa.common.api import API_ERRORS as ERRORS
from vefa.common.api import (
    actor_of,
    clamp_limit,
    create_response,
    dump,
    if_match_version,
    json_response,
    page_json,
    page_out,
)
from vefa.marketing.choices import RuleMatch, SegmentKind
from vefa.marketing.models import Segment
from vefa.marketing.segment_rules import MAX_RULES, MAX_VALUE
from vefa.marketing.selectors import segments as selectors
from vefa.marketing.services import segments as services
from vefa.marketing.services.segments import MAX_IDS

router = Router(tags=["marketing"])


class RuleSchema(Schema):
    """A filter of the customer list (``GET /api/v1/customers`` parameters) and its value."""

    param: str = Field(max_length=100)
    value: str = Field(max_length=MAX_VALUE)


class SegmentIn(Schema):
    name: str = Field(max_length=200)
    kind: SegmentKind = SegmentKind.DYNAMIC
    match: RuleMatch = RuleMatch.ALL
    rules: list[RuleSchema] = Field(default_factory=list, max_length=MAX_RULES)
    description: str = Field(default="", max_length=5000)
    tags: list[str] | None = Field(default=None, max_length=20)


class SegmentPatch(Schema):
    name: str | None = Field(default=None, max_length=200)
    match: RuleMatch | None = None
    rules: list[RuleSchema] | None = Field(default=None, max_length=MAX_RULES)
    description: str | None = Field(default=None, max_length=5000)
    tags: list[str] | None = Field(default=None, max_length=20)


class SegmentOut(Schema):
    id: int
    name: str
    description: str
    kind: str
    match: str
    rules: list[RuleSchema]
    owner_id: int | None
    team_id: int | None
    is_archived: bool
    last_count: int | None
    last_counted_at: datetime.datetime | None
    version: int
    created_at: datetime.datetime
    updated_at: datetime.datetime


class SegmentPageOut(Schema):
    items: list[SegmentOut]
    next_cursor: str | None
    previous_cursor: str | None


class CountOut(Schema):
    count: int = Field(description="Customers of the segment the caller may see")


class MemberOut(Schema):
    id: int
    kind: str
    display_name: str
    city: str
    country: str
    lifecycle_stage: str
    owner_id: int | None


class MemberPageOut(Schema):
    items: list[MemberOut]
    next_cursor: str | None
    previous_cursor: str | None


class MembersIn(Schema):
    customer_ids: list[int] = Field(min_length=1, max_length=MAX_IDS)


class MembersChangedOut(Schema):
    changed: int = Field(description="Customers added (not on the list before) or removed")


class SizeOut(Schema):
    day: datetime.date
    count: int


def _fresh(request: HttpRequest, pk: int) -> Segment:
    return selectors.segment_get(actor=actor_of(request), pk=pk)


@router.get(
    "/segments", response={200: SegmentPageOut, **ERRORS}, url_name="marketing_segment_list"
)
def segment_list(
    request: HttpRequest,
    q: str = Query("", max_length=100),
    kind: SegmentKind | None = None,
    archived: bool = False,
    cursor: str | None = None,
    limit: int | None = Query(None, ge=1),
) -> HttpResponse:
    """The segments the caller may see, by name."""
    page = selectors.segment_list(
        actor=actor_of(request),
        q=" ".join(q.split()),
        kind=kind or "",
        archived=archived,
        cursor=cursor,
        size=clamp_limit(limit),
    )
    return json_response(page_json(page_out(page, SegmentOut)))


@router.post("/segments", response={201: SegmentOut, **ERRORS}, url_name="marketing_segment_create")
def segment_create(request: HttpRequest, payload: SegmentIn) -> HttpResponse:
    """A new segment: dynamic (``rules`` over the customer list's filters) or a static list."""
    actor = actor_of(request)

    def create() -> Segment:
        created = services.segment_create(
            actor=actor,
            name=payload.name,
            kind=payload.kind,
            match=payload.match,
            rules=[r.model_dump() for r in payload.rules],
            description=payload.description,
            tags=payload.tags,
        )
        return selectors.segment_get(actor=actor, pk=created.pk)

    return create_response(
        request,
        create=create,
        schema=SegmentOut,
        location=lambda obj: reverse("api:marketing_segment_detail", args=[obj.pk]),
    )


@router.get(
    "/segments/{segment_id}",
    response={200: SegmentOut, **ERRORS},
    url_name="marketing_segment_detail",
)
def segment_detail(request: HttpRequest, segment_id: int) -> HttpResponse:
    segment = _fresh(request, segment_id)
    return json_response(dump(SegmentOut, segment), instance=segment)


@router.patch(
    "/segments/{segment_id}",
    response={200: SegmentOut, **ERRORS},
    url_name="marketing_segment_update",
)
def segment_update(request: HttpRequest, segment_id: int, payload: SegmentPatch) -> HttpResponse:
    """Change the fields given. Send ``If-Match`` with the ETag of the last read."""
    actor = actor_of(request)
    current = _fresh(request, segment_id)
    data = payload.model_dump(exclude_unset=True)
    if "rules" in data and data["rules"] is None:
        data["rules"] = []
    services.segment_update(
        actor=actor,
        segment_id=current.pk,
        data=data,
        expected_version=if_match_version(request, current),
    )
    fresh = _fresh(request, current.pk)
    return json_response(dump(SegmentOut, fresh), instance=fresh)


@router.post(
    "/segments/{segment_id}/archive",
    response={200: SegmentOut, **ERRORS},
    url_name="marketing_segment_archive",
)
def segment_archive(request: HttpRequest, segment_id: int) -> HttpResponse:
    """Archive the segment (campaigns that use it keep it)."""
    services.segment_archive(actor=actor_of(request), segment_id=segment_id)
    fresh = _fresh(request, segment_id)
    return json_response(dump(SegmentOut, fresh), instance=fresh)


@router.get(
    "/segments/{segment_id}/count",
    response={200: CountOut, **ERRORS},
    url_name="marketing_segment_count",
)
def segment_count(request: HttpRequest, segment_id: int) -> HttpResponse:
    """How many of the segment's customers the caller may see (exact)."""
    count = selectors.segment_count(actor=actor_of(request), segment_id=segment_id)
    return json_response({"count": count})


@router.get(
    "/segments/{segment_id}/members",
    response={200: MemberPageOut, **ERRORS},
    url_name="marketing_segment_members",
)
def segment_members(
    request: HttpRequest,
    segment_id: int,
    cursor: str | None = None,
    limit: int | None = Query(None, ge=1),
) -> HttpResponse:
    """The segment's customers the caller may see, by name."""
    actor = actor_of(request)
    segment = selectors.segment_get(actor=actor, pk=segment_id)
    page = selectors.segment_members(
        actor=actor, segment=segment, cursor=cursor, size=clamp_limit(limit)
    )
    return json_response(page_json(page_out(page, MemberOut)))


@router.get(
    "/segments/{segment_id}/sizes",
    response={200: list[SizeOut], **ERRORS},
    url_name="marketing_segment_sizes",
)
def segment_sizes(request: HttpRequest, segment_id: int) -> HttpResponse:
    """The daily counts of the last 180 days, oldest first."""
    segment = _fresh(request, segment_id)
    rows = selectors.segment_sizes(segment=segment)
    return json_response([{"day": r.day.isoformat(), "count": r.count} for r in rows])


@router.post(
    "/segments/{segment_id}/members",
    response={200: MembersChangedOut, **ERRORS},
    url_name="marketing_segment_members_add",
)
def segment_members_add(request: HttpRequest, segment_id: int, payload: MembersIn) -> HttpResponse:
    """Put customers on a static list (each must be a customer the caller may see)."""
    added = services.static_members_add(
        actor=actor_of(request), segment_id=segment_id, customer_ids=payload.customer_ids
    )
    return json_response({"changed": added})


@router.post(
    "/segments/{segment_id}/members/remove",
    response={200: MembersChangedOut, **ERRORS},
    url_name="marketing_segment_members_remove",
)
def segment_members_remove(
    request: HttpRequest, segment_id: int, payload: MembersIn
) -> HttpResponse:
    """Take customers off a static list."""
    removed = services.static_members_remove(
        actor=actor_of(request), segment_id=segment_id, customer_ids=payload.customer_ids
    )
    return json_response({"changed": removed})
