"""API of the duplicate review under /api/v1/dedupe/ (conventions in ``vefa.common.api``).

Clusters are read under ``POLICIES["dedupe.cluster"]`` and only when every member is a
customer the caller may see; a hidden cluster is a 404.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import Query, Router, Schema
from pydantic import Field

from vefa.common.api import API_ERRORS as ERRORS
from vefa.common.api import actor_of, clamp_limit, json_response
from vefa.dedupe import selectors, services
from vefa.dedupe.models import ClusterMember, DedupeRun, DuplicateCluster

router = Router(tags=["dedupe"])


class MemberOut(Schema):
    customer: int
    name: str
    probability: float


class ClusterOut(Schema):
    id: int
    run: int
    status: str
    probability: float
    size: int
    members: list[MemberOut]
    reviewed_by: int | None
    reviewed_at: datetime.datetime | None
    survivor: int | None
    version: int


class ClusterPageOut(Schema):
    items: list[ClusterOut]
    next_cursor: str | None
    previous_cursor: str | None


class RunOut(Schema):
    id: int
    status: str
    engine: str
    threshold: float
    customers_count: int
    pairs_count: int
    clusters_count: int
    duplicates_count: int
    timings: dict[str, Any]
    parameters: dict[str, Any]
    message: str
    job: int | None
    started_at: datetime.datetime | None
    finished_at: datetime.datetime | None


class RunIn(Schema):
    threshold: float | None = Field(default=None, ge=0.5, le=0.9999)
    engine: str | None = Field(default=None, max_length=10)


class ClusterListQuery(Schema):
    status: str = Field(default="", max_length=20)
    run: int | None = None
    cursor: str | None = Field(default=None, max_length=500)
    limit: int | None = None


class MergeIn(Schema):
    survivor: int
    field_values: dict[str, Any] = Field(default_factory=dict)
    version: int | None = None


class DismissIn(Schema):
    version: int | None = None


def _member(member: ClusterMember) -> dict[str, Any]:
    return {
        "customer": member.customer_id,
        "name": member.customer.display_name,
        "probability": member.probability,
    }


def _cluster(cluster: DuplicateCluster) -> dict[str, Any]:
    members = [
        _member(m)
        for m in cluster.members.select_related("customer").order_by("-probability", "customer_id")
    ]
    data = ClusterOut(
        id=cluster.pk,
        run=cluster.run_id,
        status=cluster.status,
        probability=cluster.probability,
        size=cluster.size,
        members=[MemberOut(**m) for m in members],
        reviewed_by=cluster.reviewed_by_id,
        reviewed_at=cluster.reviewed_at,
        survivor=cluster.survivor_id,
        version=cluster.version,
    )
    return data.model_dump(mode="json")


def _run(run: DedupeRun) -> dict[str, Any]:
    return RunOut(
        id=run.pk,
        status=run.status,
        engine=run.engine,
        threshold=run.threshold,
        customers_count=run.customers_count,
        pairs_count=run.pairs_count,
        clusters_count=run.clusters_count,
        duplicates_count=run.duplicates_count,
        timings=run.timings,
        parameters=run.parameters,
        message=run.message,
        job=run.job_id,
        started_at=run.started_at,
        finished_at=run.finished_at,
    ).model_dump(mode="json")


@router.get("/dedupe/clusters", response={200: ClusterPageOut, **ERRORS})
def list_clusters(request: HttpRequest, filters: Query[ClusterListQuery]) -> HttpResponse:
    """Duplicate clusters by match probability (most certain first)."""
    page = selectors.cluster_list(
        actor=actor_of(request),
        status=filters.status,
        run=filters.run,
        cursor=filters.cursor,
        limit=clamp_limit(filters.limit),
    )
    return json_response(
        {
            "items": [_cluster(c) for c in page.items],
            "next_cursor": page.next_cursor,
            "previous_cursor": page.previous_cursor,
        }
    )


@router.get("/dedupe/clusters/{cluster_id}", response={200: ClusterOut, **ERRORS})
def get_cluster(request: HttpRequest, cluster_id: int) -> HttpResponse:
    cluster = selectors.cluster_get(actor=actor_of(request), pk=cluster_id)
    return json_response(_cluster(cluster), instance=cluster)


@router.post("/dedupe/clusters/{cluster_id}/dismiss", response={200: ClusterOut, **ERRORS})
def dismiss_cluster(request: HttpRequest, cluster_id: int, payload: DismissIn) -> HttpResponse:
    """ "Not duplicates": the members' pairs are never proposed again."""
    actor = actor_of(request)
    cluster = selectors.cluster_get(actor=actor, pk=cluster_id)
    cluster = services.cluster_dismiss(
        actor=actor, cluster=cluster, expected_version=payload.version
    )
    return json_response(_cluster(cluster), instance=cluster)


@router.post("/dedupe/clusters/{cluster_id}/merge", response={200: ClusterOut, **ERRORS})
def merge_cluster(request: HttpRequest, cluster_id: int, payload: MergeIn) -> HttpResponse:
    """Merge the cluster's customers into ``survivor`` (one of them)."""
    actor = actor_of(request)
    cluster = selectors.cluster_get(actor=actor, pk=cluster_id)
    cluster = services.cluster_merge(
        actor=actor,
        cluster=cluster,
        survivor_id=payload.survivor,
        field_values=payload.field_values,
        expected_version=payload.version,
    )
    return json_response(_cluster(cluster), instance=cluster)


@router.post("/dedupe/runs", response={202: RunOut, **ERRORS})
def start_run(request: HttpRequest, payload: RunIn) -> HttpResponse:
    """Start a duplicate search over all customers (a background job)."""
    run = services.run_start(
        actor=actor_of(request), threshold=payload.threshold, engine=payload.engine
    )
    run.refresh_from_db()
    return json_response(_run(run), status=202)


@router.get("/dedupe/runs/{run_id}", response={200: RunOut, **ERRORS})
def get_run(request: HttpRequest, run_id: int) -> HttpResponse:
    return json_response(_run(selectors.run_get(actor=actor_of(request), pk=run_id)))
