"""The duplicate search end to end on the Django database: the job, the clusters, dismissal
remembered, merges followed, empty and one-customer databases."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from tests.dedupe.conftest import person, write_customers
from vefa.common.errors import Conflict, PermissionDenied, ValidationFailed
from vefa.dedupe import services
from vefa.dedupe.models import (
    ClusterStatus,
    DedupeRun,
    DismissedPair,
    DuplicateCluster,
    RunStatus,
)
from vefa.dedupe.synthetic import pairwise_scores
from vefa.platform.models import ChangeLogEntry, Job

pytestmark = pytest.mark.django_db


def test_run_job_end_to_end(labelled, manager, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        run = services.run_start(actor=manager)
    run.refresh_from_db()
    assert run.status == RunStatus.SUCCEEDED, run.message
    job = Job.objects.get(pk=run.job_id)
    assert job.status == Job.Status.SUCCEEDED
    assert job.result["clusters"] == run.clusters_count > 10
    assert run.customers_count == 300
    assert {"extract", "predict", "cluster", "write"} <= set(run.timings)
    clusters = DuplicateCluster.objects.filter(run=run).prefetch_related("members")
    predicted = {m.customer_id: c.pk for c in clusters for m in c.members.all()}
    scores = pairwise_scores(labelled, predicted)
    assert scores.precision >= 0.9 and scores.recall >= 0.85, scores
    for cluster in clusters:
        probabilities = [m.probability for m in cluster.members.all()]
        assert cluster.size == len(probabilities) >= 2
        assert cluster.probability == pytest.approx(min(probabilities))
        assert cluster.probability >= run.threshold
    assert ChangeLogEntry.objects.filter(model="dedupe.deduperun", object_id=run.pk).exists()


def test_cross_script_duplicates_found(twins, admin_user):
    run = services.run_start(actor=admin_user, background=False)
    cluster = DuplicateCluster.objects.get(run=run)
    assert sorted(cluster.members.values_list("customer_id", flat=True)) == sorted(twins[:2])


def test_new_run_supersedes_open_clusters(twins, admin_user):
    first = services.run_start(actor=admin_user, background=False)
    second = services.run_start(actor=admin_user, background=False)
    assert DuplicateCluster.objects.get(run=first).status == ClusterStatus.SUPERSEDED
    assert DuplicateCluster.objects.get(run=second).status == ClusterStatus.OPEN


def test_dismiss_is_remembered(twins, admin_user):
    run = services.run_start(actor=admin_user, background=False)
    cluster = DuplicateCluster.objects.get(run=run)
    services.cluster_dismiss(actor=admin_user, cluster=cluster)
    cluster.refresh_from_db()
    assert cluster.status == ClusterStatus.DISMISSED
    assert cluster.reviewed_by == admin_user and cluster.reviewed_at is not None
    low, high = sorted(twins[:2])
    assert DismissedPair.objects.filter(customer_low_id=low, customer_high_id=high).exists()
    again = services.run_start(actor=admin_user, background=False)
    assert again.clusters_count == 0
    assert not DuplicateCluster.objects.filter(run=again).exists()
    with pytest.raises(Conflict):
        services.cluster_dismiss(actor=admin_user, cluster=cluster)


def test_dismiss_needs_change_and_current_version(twins, admin_user, marketer, manager):
    run = services.run_start(actor=admin_user, background=False)
    cluster = DuplicateCluster.objects.get(run=run)
    with pytest.raises(PermissionDenied):
        services.cluster_dismiss(actor=marketer, cluster=cluster)
    with pytest.raises(Conflict):
        services.cluster_dismiss(
            actor=manager, cluster=cluster, expected_version=cluster.version + 1
        )
    services.cluster_dismiss(actor=manager, cluster=cluster, expected_version=cluster.version)


def test_merge_through_the_customer_merge(twins, admin_user):
    if services.merge_service() is None:
        pytest.skip("the customer merge is not installed")
    from vefa.customers.models import Customer

    run = services.run_start(actor=admin_user, background=False)
    cluster = DuplicateCluster.objects.get(run=run)
    with pytest.raises(ValidationFailed):
        services.cluster_merge(actor=admin_user, cluster=cluster, survivor_id=twins[2])
    with pytest.raises(ValidationFailed):
        services.cluster_merge(actor=admin_user, cluster=cluster, survivor_id="x")
    services.cluster_merge(actor=admin_user, cluster=cluster, survivor_id=twins[1])
    cluster.refresh_from_db()
    assert cluster.status == ClusterStatus.MERGED and cluster.survivor_id == twins[1]
    assert Customer.objects.get(pk=twins[0]).merged_into_id == twins[1]
    # The merged customer is not compared again.
    again = services.run_start(actor=admin_user, background=False)
    assert again.customers_count == 2 and again.clusters_count == 0


def test_merge_elsewhere_closes_the_cluster(twins, admin_user, django_capture_on_commit_callbacks):
    merge = services.merge_service()
    if merge is None:
        pytest.skip("the customer merge is not installed")
    run = services.run_start(actor=admin_user, background=False)
    cluster = DuplicateCluster.objects.get(run=run)
    with django_capture_on_commit_callbacks(execute=True):
        merge(admin_user, twins[0], [twins[1]], {})
    cluster.refresh_from_db()
    assert cluster.status == ClusterStatus.MERGED and cluster.survivor_id == twins[0]


@pytest.mark.parametrize("count", [0, 1])
def test_empty_and_one_customer_database(admin_user, count):
    write_customers([person("Ayşe", "Yılmaz")][:count])
    run = services.run_start(actor=admin_user, background=False)
    assert run.status == RunStatus.SUCCEEDED
    assert run.customers_count == count and run.clusters_count == 0


def test_hostile_names_are_linked_safely(admin_user):
    from tests.dedupe.conftest import HOSTILE

    rows = [person(h, h, email="x@example.com") for h in HOSTILE for _ in range(2)]
    write_customers(rows)
    run = services.run_start(actor=admin_user, background=False)
    assert run.status == RunStatus.SUCCEEDED
    assert run.customers_count == len(rows)


@pytest.mark.parametrize(
    ("threshold", "engine"),
    [("abc", None), (0.2, None), (1.5, None), (float("nan"), None), (True, None), (None, "oracle")],
)
def test_invalid_parameters(admin_user, threshold, engine):
    with pytest.raises(ValidationFailed) as info:
        services.run_start(actor=admin_user, threshold=threshold, engine=engine)
    assert set(info.value.fields) <= {"threshold", "engine"} and info.value.fields
    assert not DedupeRun.objects.exists()


@pytest.mark.parametrize("role", ["rep", "read_only"])
def test_only_reviewers_start_a_run(request, role):
    with pytest.raises(PermissionDenied):
        services.run_start(actor=request.getfixturevalue(role))


def test_failed_run_is_recorded(admin_user, monkeypatch):
    from vefa.dedupe import linkage

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(linkage, "link", broken)
    with pytest.raises(RuntimeError):
        services.run_start(actor=admin_user, background=False)
    run = DedupeRun.objects.get()
    assert run.status == RunStatus.FAILED and "disk full" in run.message


def test_command(twins, capsys):
    call_command("dedupe", "--threshold", "0.95")
    out = capsys.readouterr().out
    assert "1 clusters" in out
    run = DedupeRun.objects.get()
    assert run.threshold == 0.95 and run.created_by is None


def test_command_refuses_bad_input(db):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        call_command("dedupe", "--threshold", "7")
    with pytest.raises(CommandError):
        call_command("dedupe", "--user", "nobody@example.com")


def test_interrupted_run_starts_over(twins, admin_user):
    """A run the worker lost half-way is run again from the start without doubles."""
    run = services.run_start(actor=admin_user, background=False)
    DedupeRun.objects.filter(pk=run.pk).update(status=RunStatus.RUNNING)
    services.run_execute(run.pk)
    run.refresh_from_db()
    assert run.status == RunStatus.SUCCEEDED
    assert DuplicateCluster.objects.filter(run=run).count() == run.clusters_count == 1
    # A finished run is not run again.
    assert services.run_execute(run.pk).clusters_count == 1
