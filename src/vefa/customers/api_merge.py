"""API of customer merges (/api/v1): merge, read a merge, undo it.

- ``POST /customers/merge`` ``{"survivor": 12, "others": [34, 56], "field_values": {"tax_number":
  34, "cf.segment": 56}}`` merges and answers 201 with the merge and ``Location``;
- ``GET /customers/merges/{id}`` one merge (moves, removed duplicates, rows kept);
- ``GET /customers/{customer_id}/merges`` the merges into a customer, newest first;
- ``POST /customers/merges/{id}/undo`` ``{"partial": false}`` undoes it; without ``partial``
  an undo that cannot be exact is refused (422) naming each problem.

A record the caller may not change is 404, like a missing one.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.db.models import Model
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from ninja import Router, Schema
from pydantic import Field

from vefa.common.api import API_ERRORS as ERRORS
from vefa.common.api import actor_of, create_response, dump, json_response
from vefa.customers.models import CustomerMerge
from vefa.customers.services import merge as merging


class MergeIn(Schema):
    survivor: int
    others: list[int] = Field(..., min_length=1, max_length=merging.MAX_MERGE)
    field_values: dict[str, int] = Field(default_factory=dict, max_length=200)


class UndoIn(Schema):
    partial: bool = False


class CollapsedOut(Schema):
    model: str
    pk: int
    reason: str


class KeptOut(Schema):
    model: str
    pk: int
    customer: int


class MergeOut(Schema):
    id: int
    survivor_id: int
    merged_ids: list[int]
    actor_name: str
    merged_at: datetime.datetime
    field_choices: dict[str, int]
    moved: dict[str, int]
    collapsed: list[CollapsedOut]
    kept: list[KeptOut]
    undone_at: datetime.datetime | None
    undo_report: list[str]

    @staticmethod
    def resolve_moved(obj: CustomerMerge) -> dict[str, int]:
        return merging.moved_counts(obj)

    @staticmethod
    def resolve_collapsed(obj: CustomerMerge) -> list[dict[str, Any]]:
        return [{"model": c["model"], "pk": c["pk"], "reason": c["reason"]} for c in obj.collapsed]


class UndoOut(Schema):
    merge: MergeOut
    restored: int
    problems: list[str]


def register(router: Router) -> None:
    """Add the merge operations to the customers router (before its ``/customers/{id}``
    routes would take ``/customers/merge``)."""

    @router.post("/customers/merge", response={201: MergeOut, **ERRORS}, url_name="customer_merge")
    def customer_merge(request: HttpRequest, payload: MergeIn) -> HttpResponse:
        """Merge ``others`` into ``survivor``; ``field_values`` names, per field, the record
        whose value is kept (custom fields as ``cf.<key>``)."""
        actor = actor_of(request)

        def create() -> Model:
            return merging.merge_customers(
                actor, payload.survivor, payload.others, payload.field_values
            )

        return create_response(
            request,
            create=create,
            schema=MergeOut,
            location=lambda obj: reverse("api:customer_merge_detail", args=[obj.pk]),
        )

    @router.get(
        "/customers/merges/{merge_id}",
        response={200: MergeOut, **ERRORS},
        url_name="customer_merge_detail",
    )
    def customer_merge_detail(request: HttpRequest, merge_id: int) -> HttpResponse:
        merge = merging.merge_get(actor=actor_of(request), merge_id=merge_id)
        return json_response(dump(MergeOut, merge))

    @router.post(
        "/customers/merges/{merge_id}/undo",
        response={200: UndoOut, **ERRORS},
        url_name="customer_merge_undo",
    )
    def customer_merge_undo(request: HttpRequest, merge_id: int, payload: UndoIn) -> HttpResponse:
        """Undo a merge; with ``partial`` what can be undone is, and the rest is reported."""
        actor = actor_of(request)
        merge = merging.merge_get(actor=actor, merge_id=merge_id)
        result = merging.undo_merge(actor, merge, partial=payload.partial)
        body = {
            "merge": dump(MergeOut, result.merge),
            "restored": result.restored,
            "problems": result.problems,
        }
        return json_response(body)

    @router.get(
        "/customers/{customer_id}/merges",
        response={200: list[MergeOut], **ERRORS},
        url_name="customer_merge_list",
    )
    def customer_merge_list(request: HttpRequest, customer_id: int) -> HttpResponse:
        merges = merging.merges_of(actor=actor_of(request), customer_id=customer_id)
        return json_response([dump(MergeOut, m) for m in merges])
