"""Writes of the duplicate review: starting a run, running it, dismissing and merging a
cluster, following merges made elsewhere and their undo. Each takes the actor, runs in one
transaction, writes the change log and emits a domain event after commit."""

from __future__ import annotations

import itertools
import time
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from vefa.accounts.access import can, can_create
from vefa.common.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from vefa.common.events import DomainEvent, emit
from vefa.dedupe import linkage
from vefa.dedupe.models import (
    ClusterMember,
    ClusterStatus,
    DedupeRun,
    DismissedPair,
    DuplicateCluster,
    RunStatus,
)
from vefa.platform.audit import log_change, snapshot
from vefa.platform.jobs import Progress, job_start

if TYPE_CHECKING:
    from vefa.accounts.models import User
    from vefa.customers.models import Customer

JOB_KIND = "dedupe.run"
MIN_THRESHOLD = 0.5
MAX_THRESHOLD = 0.9999
# Bulk writes of clusters and members in chunks of this many rows.
WRITE_CHUNK = 2_000


def default_engine() -> str:
    """``settings.DEDUPE_ENGINE`` (or the ``VEFA_DEDUPE_ENGINE`` environment variable):
    ``duckdb`` (the default) or ``spark``."""
    import os

    value = getattr(settings, "DEDUPE_ENGINE", None) or os.environ.get("VEFA_DEDUPE_ENGINE")
    return str(value or "duckdb")


def _emit(name: str, instance: Any, actor: User | None, **payload: Any) -> None:
    emit(
        DomainEvent(
            name=name,
            model=instance._meta.label_lower,
            object_id=int(instance.pk),
            actor_id=actor.pk if actor is not None else None,
            payload=payload,
        )
    )


def _clean_parameters(threshold: Any, engine: Any) -> tuple[float, str]:
    errors: dict[str, list[str]] = {}
    value = linkage.DEFAULT_THRESHOLD if threshold in (None, "") else threshold
    try:
        number = float(value)
        if isinstance(value, bool) or number != number:  # NaN
            raise ValueError
    except (TypeError, ValueError):
        errors["threshold"] = [_("Enter a number.")]
        number = 0.0
    else:
        if not MIN_THRESHOLD <= number <= MAX_THRESHOLD:
            errors["threshold"] = [
                _("Enter a probability between %(low)s and %(high)s.")
                % {"low": MIN_THRESHOLD, "high": MAX_THRESHOLD}
            ]
    name = default_engine() if engine in (None, "") else engine
    if name not in linkage.ENGINES:
        errors["engine"] = [_("Choose DuckDB or Spark.")]
    if errors:
        raise ValidationFailed(_("Please correct the errors below."), fields=errors)
    return number, str(name)


def run_start(
    *,
    actor: User | None,
    threshold: Any = None,
    engine: Any = None,
    background: bool = True,
    operator: bool = False,
) -> DedupeRun:
    """Queue a duplicate search over all customers (or run it now: ``background=False``).

    ``operator`` is the command line (``vefa dedupe``), which runs with or without a user.
    """
    if not operator and not can_create(actor, DuplicateCluster):
        raise PermissionDenied(_("You may not start a duplicate search."))
    number, name = _clean_parameters(threshold, engine)
    with transaction.atomic():
        run = DedupeRun.objects.create(
            threshold=number,
            engine=name,
            parameters={"threshold": number, "engine": name},
            created_by=actor,
            updated_by=actor,
        )
        log_change(actor=actor, instance=run, action="created", before=None, after=snapshot(run))
        _emit("dedupe.run.created", run, actor)
        if background:
            job = job_start(
                actor=actor,
                kind=JOB_KIND,
                title=_("Duplicate search %(id)s") % {"id": run.pk},
                params={"run_id": run.pk},
            )
            DedupeRun.objects.filter(pk=run.pk).update(job=job)
            run.job = job
    if not background:
        run_execute(run.pk)
        run.refresh_from_db()
    return run


def _dismissed_pairs() -> list[tuple[int, int]]:
    return list(DismissedPair.objects.values_list("customer_low_id", "customer_high_id"))


def run_execute(run_id: int, report: Progress | None = None) -> DedupeRun:
    """Run the linkage of ``run_id`` and store its clusters (the job's work).

    Idempotent: a run interrupted and started again drops what it had written and starts
    over (the linkage is one step; its clusters are written in one transaction).
    """
    from vefa.dedupe.extract import customers_table

    run = DedupeRun.objects.get(pk=run_id)
    if run.status == RunStatus.SUCCEEDED:
        return run
    now = timezone.now()
    DedupeRun.objects.filter(pk=run.pk).update(status=RunStatus.RUNNING, started_at=now)
    steps = {"extract": 1, "train": 2, "predict": 3, "cluster": 4, "write": 5}
    total = len(steps)

    def note(step: str) -> None:
        if report is not None:
            report(steps.get(step, 0), total, message=step, checkpoint={"step": step})

    try:
        note("extract")
        started = time.perf_counter()
        table = customers_table()
        extract_seconds = time.perf_counter() - started
        result = linkage.link(
            table,
            threshold=run.threshold,
            engine=run.engine,
            dismissed=_dismissed_pairs(),
            progress=note,
        )
        note("write")
        step = time.perf_counter()
        with transaction.atomic():
            DuplicateCluster.objects.filter(run=run).delete()
            _write_clusters(run, result.clusters)
            # Open clusters of earlier runs are replaced by this run's.
            DuplicateCluster.objects.filter(status=ClusterStatus.OPEN).exclude(run=run).update(
                status=ClusterStatus.SUPERSEDED, updated_at=timezone.now()
            )
            timings = {"extract": extract_seconds, **result.timings}
            timings["write"] = time.perf_counter() - step
            DedupeRun.objects.filter(pk=run.pk).update(
                status=RunStatus.SUCCEEDED,
                customers_count=result.records,
                pairs_count=len(result.pairs),
                clusters_count=len(result.clusters),
                duplicates_count=sum(len(c) for c in result.clusters),
                timings={k: round(v, 3) for k, v in timings.items()},
                parameters={**run.parameters, **result.parameters, "trained": result.trained},
                finished_at=timezone.now(),
                message="",
            )
            run.refresh_from_db()
            _emit("dedupe.run.finished", run, None, clusters=run.clusters_count)
    except Exception as exc:
        DedupeRun.objects.filter(pk=run.pk).update(
            status=RunStatus.FAILED, message=str(exc)[:2000], finished_at=timezone.now()
        )
        raise
    return run


def _write_clusters(run: DedupeRun, clusters: list[list[tuple[int, float]]]) -> None:
    from vefa.customers.models import Customer

    # A customer deleted while the run went on is left out.
    present: set[int] = set()
    ids = sorted({cid for members in clusters for cid, _ in members})
    for start in range(0, len(ids), 5_000):
        chunk = ids[start : start + 5_000]
        present.update(
            Customer.objects.filter(pk__in=chunk, merged_into__isnull=True).values_list(
                "pk", flat=True
            )
        )
    rows: list[tuple[DuplicateCluster, list[tuple[int, float]]]] = []
    for members in clusters:
        kept = [(cid, p) for cid, p in members if cid in present]
        if len(kept) < 2:
            continue
        cluster = DuplicateCluster(
            run=run,
            probability=min(p for _, p in kept),
            size=min(len(kept), 32_767),
            key=",".join(str(cid) for cid, _ in kept)[:400],
            created_by=run.created_by,
            updated_by=run.created_by,
        )
        rows.append((cluster, kept))
    for start in range(0, len(rows), WRITE_CHUNK):
        part = rows[start : start + WRITE_CHUNK]
        made = DuplicateCluster.objects.bulk_create([c for c, _ in part])
        ClusterMember.objects.bulk_create(
            [
                ClusterMember(cluster=cluster, customer_id=cid, probability=p)
                for cluster, (_, kept) in zip(made, part, strict=True)
                for cid, p in kept
            ]
        )


def _for_review(
    actor: User | None, cluster: DuplicateCluster, expected_version: int | None
) -> None:
    if not can(actor, "change", cluster):
        raise PermissionDenied(_("You may not review duplicates."))
    if cluster.status != ClusterStatus.OPEN:
        raise Conflict(
            _("This cluster has already been reviewed."), current_version=cluster.version
        )
    if expected_version is not None and expected_version != cluster.version:
        raise Conflict(
            _("Someone else changed this cluster; reload the page."),
            current_version=cluster.version,
        )


def _lock(cluster: DuplicateCluster) -> DuplicateCluster:
    try:
        return DuplicateCluster.objects.select_for_update().get(pk=cluster.pk)
    except DuplicateCluster.DoesNotExist:
        raise NotFound(_("Not found.")) from None


def cluster_dismiss(
    *, actor: User | None, cluster: DuplicateCluster, expected_version: int | None = None
) -> DuplicateCluster:
    """ "Not duplicates": close the cluster and remember every pair of its members, so no
    later run proposes them together again."""
    with transaction.atomic():
        cluster = _lock(cluster)
        _for_review(actor, cluster, expected_version)
        before = snapshot(cluster)
        ids = sorted(cluster.members.values_list("customer_id", flat=True))
        DismissedPair.objects.bulk_create(
            [
                DismissedPair(
                    customer_low_id=a, customer_high_id=b, cluster=cluster, created_by=actor
                )
                for a, b in itertools.combinations(ids, 2)
            ],
            ignore_conflicts=True,
        )
        cluster.status = ClusterStatus.DISMISSED
        cluster.reviewed_by = actor
        cluster.reviewed_at = timezone.now()
        cluster.updated_by = actor
        cluster.version += 1
        cluster.save()
        log_change(
            actor=actor, instance=cluster, action="updated", before=before, after=snapshot(cluster)
        )
        _emit("dedupe.cluster.dismissed", cluster, actor, customers=ids)
    return cluster


def merge_service() -> Any | None:
    """The customer merge (``vefa.customers.services.merge.merge_customers``), when the
    installed version has it."""
    try:
        from vefa.customers.services import merge  # type: ignore[attr-defined, unused-ignore]
    except ImportError:
        return None
    return getattr(merge, "merge_customers", None)


def cluster_merge(
    *,
    actor: User | None,
    cluster: DuplicateCluster,
    survivor_id: Any,
    field_values: dict[str, Any] | None = None,
    expected_version: int | None = None,
) -> DuplicateCluster:
    """Merge the cluster's customers into ``survivor_id`` through the customer merge."""
    from vefa.customers.models import Customer

    merge_customers = merge_service()
    if merge_customers is None:
        raise ValidationFailed(_("Merging customers is not available in this version."))
    with transaction.atomic():
        cluster = _lock(cluster)
        _for_review(actor, cluster, expected_version)
        ids = list(cluster.members.values_list("customer_id", flat=True))
        try:
            survivor_pk = int(survivor_id)
        except (TypeError, ValueError):
            survivor_pk = 0
        if survivor_pk not in ids:
            raise ValidationFailed(
                _("Please correct the errors below."),
                fields={"survivor": [_("Choose one of the cluster's customers.")]},
            )
        customers = {c.pk: c for c in Customer.objects.filter(pk__in=ids)}
        survivor = customers[survivor_pk]
        others = [customers[i] for i in ids if i != survivor_pk and i in customers]
        merge_customers(actor, survivor, others, field_values or {})
        before = snapshot(cluster)
        _mark_merged(cluster, survivor, actor)
        log_change(
            actor=actor, instance=cluster, action="updated", before=before, after=snapshot(cluster)
        )
    return cluster


def _mark_merged(cluster: DuplicateCluster, survivor: Customer, actor: User | None) -> None:
    cluster.status = ClusterStatus.MERGED
    cluster.survivor = survivor
    cluster.reviewed_by = actor
    cluster.reviewed_at = timezone.now()
    cluster.updated_by = actor
    cluster.version += 1
    cluster.save()
    _emit("dedupe.cluster.merged", cluster, actor, survivor=survivor.pk)


def clusters_sync_merged(customer_ids: list[int], actor: User | None = None) -> int:
    """Close the open clusters whose members were merged into one of them (by the merge
    page, the API or a cluster's merge button). Returns how many were closed.

    The customer merge moves every row pointing at a merged customer to the survivor, the
    cluster's member rows too: a cluster whose members are down to one customer that is
    not merged away is done.
    """
    from vefa.customers.models import Customer

    closed = 0
    candidates = DuplicateCluster.objects.filter(
        status=ClusterStatus.OPEN, members__customer_id__in=customer_ids
    ).distinct()
    for cluster in candidates:
        with transaction.atomic():
            locked = _lock(cluster)
            if locked.status != ClusterStatus.OPEN:
                continue
            alive = list(
                Customer.objects.filter(
                    pk__in=locked.members.values("customer_id"), merged_into__isnull=True
                ).values_list("pk", flat=True)
            )
            if len(alive) != 1:
                continue
            before = snapshot(locked)
            _mark_merged(locked, Customer.objects.get(pk=alive[0]), actor)
            log_change(
                actor=actor,
                instance=locked,
                action="updated",
                before=before,
                after=snapshot(locked),
            )
            closed += 1
    return closed


def clusters_sync_unmerged(
    survivor_id: int, unmerged_ids: list[int], actor: User | None = None
) -> int:
    """Open again the merged clusters an undone customer merge had closed. Returns how many
    were opened.

    The undo puts every row the merge had moved back on its record, the cluster's member
    rows too. A cluster is opened again when it was merged into ``survivor_id``, one of the
    records the undo brought back is its member again, and at least two of its members are
    not merged away: the mirror of ``clusters_sync_merged``. Clusters of merges that were
    not undone keep their status.
    """
    from vefa.customers.models import Customer

    if not unmerged_ids:
        return 0
    opened = 0
    candidates = DuplicateCluster.objects.filter(
        status=ClusterStatus.MERGED,
        survivor_id=survivor_id,
        members__customer_id__in=unmerged_ids,
    ).distinct()
    for cluster in candidates:
        with transaction.atomic():
            locked = _lock(cluster)
            if locked.status != ClusterStatus.MERGED or locked.survivor_id != survivor_id:
                continue
            alive = Customer.objects.filter(
                pk__in=locked.members.values("customer_id"), merged_into__isnull=True
            ).count()
            if alive < 2:
                continue
            before = snapshot(locked)
            locked.status = ClusterStatus.OPEN
            locked.survivor = None
            locked.reviewed_by = None
            locked.reviewed_at = None
            locked.updated_by = actor
            locked.version += 1
            locked.save()
            log_change(
                actor=actor,
                instance=locked,
                action="updated",
                before=before,
                after=snapshot(locked),
            )
            _emit("dedupe.cluster.reopened", locked, actor, survivor=survivor_id)
            opened += 1
    return opened
