"""Undoing a customer merge opens the clusters it had closed again; undoing any other merge
leaves the clusters as they are."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.dedupe.conftest import person, write_customers
from vefa.common.errors import ValidationFailed
from vefa.customers.models import Customer, CustomerMerge
from vefa.customers.services.merge import merge_customers, undo_merge
from vefa.dedupe import selectors, services
from vefa.dedupe.models import (
    ClusterMember,
    ClusterStatus,
    DedupeRun,
    DismissedPair,
    DuplicateCluster,
    RunStatus,
)
from vefa.platform.models import ChangeLogEntry

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(db) -> list[int]:
    """Four customers: two entries of one person, a third and a fourth person."""
    return list(
        write_customers(
            [
                person("Ayşe", "Yılmaz", email="ayse@example.com"),
                person("AYSE", "Yilmaz", email="ayse@example.com"),
                person("Mehmet", "Kaya", email="mehmet@example.com", entity=1),
                person("Zeynep", "Demir", email="zeynep@example.com", entity=2),
            ]
        )
    )


def make_cluster(admin_user, ids: list[int]) -> DuplicateCluster:
    """A cluster of ``ids`` as a finished search writes it."""
    run = DedupeRun.objects.create(status=RunStatus.SUCCEEDED, created_by=admin_user)
    cluster = DuplicateCluster.objects.create(
        run=run, probability=0.97, size=len(ids), key=",".join(str(i) for i in sorted(ids))
    )
    ClusterMember.objects.bulk_create(
        [ClusterMember(cluster=cluster, customer_id=cid, probability=0.97) for cid in ids]
    )
    return cluster


def member_ids(cluster: DuplicateCluster) -> list[int]:
    return sorted(cluster.members.values_list("customer_id", flat=True))


def open_ids(user) -> set[int]:
    return {c.pk for c in selectors.cluster_list(actor=user, status=ClusterStatus.OPEN).items}


def test_undo_of_a_cluster_merge_opens_the_cluster_again(
    client, admin_user, people, django_capture_on_commit_callbacks
):
    cluster = make_cluster(admin_user, people[:2])
    with django_capture_on_commit_callbacks(execute=True):
        services.cluster_merge(
            actor=admin_user, cluster=cluster, survivor_id=people[1], expected_version=1
        )
    cluster.refresh_from_db()
    assert cluster.status == ClusterStatus.MERGED and cluster.survivor_id == people[1]
    # The merge moved the merged record's member row onto the survivor's (a duplicate).
    assert member_ids(cluster) == [people[1]]
    assert cluster.pk not in open_ids(admin_user)
    merged_version = cluster.version

    merge = CustomerMerge.objects.get(survivor_id=people[1])
    with django_capture_on_commit_callbacks(execute=True):
        undo_merge(admin_user, merge)

    cluster.refresh_from_db()
    assert cluster.status == ClusterStatus.OPEN
    assert cluster.survivor_id is None
    assert cluster.reviewed_by_id is None and cluster.reviewed_at is None
    assert cluster.version == merged_version + 1
    assert member_ids(cluster) == sorted(people[:2])
    assert cluster.pk in open_ids(admin_user)
    # Listed on the review page (open clusters by default) and reviewable again.
    client.force_login(admin_user)
    page = client.get(reverse("dedupe:cluster_list")).content.decode()
    assert reverse("dedupe:cluster_detail", args=[cluster.pk]) in page
    detail = client.get(reverse("dedupe:cluster_detail", args=[cluster.pk])).content.decode()
    assert 'name="survivor"' in detail
    entry = (
        ChangeLogEntry.objects.filter(model="dedupe.duplicatecluster", object_id=cluster.pk)
        .order_by("-pk")
        .first()
    )
    assert entry is not None
    assert entry.before["status"] == "merged" and entry.after["status"] == "open"

    # A reopened cluster can be reviewed differently this time.
    services.cluster_dismiss(actor=admin_user, cluster=cluster, expected_version=cluster.version)
    cluster.refresh_from_db()
    assert cluster.status == ClusterStatus.DISMISSED
    assert DismissedPair.objects.filter(cluster=cluster).count() == 1


def test_undo_of_a_merge_made_elsewhere_opens_the_cluster_it_closed(
    admin_user, people, django_capture_on_commit_callbacks
):
    cluster = make_cluster(admin_user, people[:2])
    with django_capture_on_commit_callbacks(execute=True):
        merge = merge_customers(admin_user, people[0], [people[1]], {})
    cluster.refresh_from_db()
    assert cluster.status == ClusterStatus.MERGED and cluster.survivor_id == people[0]
    with django_capture_on_commit_callbacks(execute=True):
        undo_merge(admin_user, merge)
    cluster.refresh_from_db()
    assert cluster.status == ClusterStatus.OPEN and cluster.survivor_id is None
    assert cluster.pk in open_ids(admin_user)


def test_undo_of_an_unrelated_merge_changes_no_cluster(
    admin_user, people, django_capture_on_commit_callbacks
):
    merged = make_cluster(admin_user, people[:2])
    with django_capture_on_commit_callbacks(execute=True):
        services.cluster_merge(actor=admin_user, cluster=merged, survivor_id=people[0])
    dismissed = make_cluster(admin_user, [people[0], people[3]])
    services.cluster_dismiss(actor=admin_user, cluster=dismissed)
    still_open = make_cluster(admin_user, [people[2], people[3]])
    before = {
        c.pk: (c.status, c.survivor_id, c.version, member_ids(c))
        for c in DuplicateCluster.objects.all()
    }
    logged = ChangeLogEntry.objects.filter(model="dedupe.duplicatecluster").count()

    # Merging the third person into the survivor of the merged cluster (from the merge page,
    # not from a cluster) and undoing it: the merged cluster stays merged, the others as they
    # were.
    with django_capture_on_commit_callbacks(execute=True):
        other = merge_customers(admin_user, people[0], [people[2]], {})
    still_open.refresh_from_db()
    assert still_open.status == ClusterStatus.OPEN
    with django_capture_on_commit_callbacks(execute=True):
        undo_merge(admin_user, other)

    after = {
        c.pk: (c.status, c.survivor_id, c.version, member_ids(c))
        for c in DuplicateCluster.objects.all()
    }
    assert after == before
    assert before[merged.pk][0] == ClusterStatus.MERGED
    assert before[dismissed.pk][0] == ClusterStatus.DISMISSED
    assert ChangeLogEntry.objects.filter(model="dedupe.duplicatecluster").count() == logged
    assert Customer.objects.get(pk=people[1]).merged_into_id == people[0]


def test_undo_of_a_later_merge_of_the_survivor_keeps_the_cluster_merged(
    admin_user, people, django_capture_on_commit_callbacks
):
    """The survivor of a cluster merged again into another customer, and that merge undone:
    the cluster's own merge still stands."""
    cluster = make_cluster(admin_user, people[:2])
    with django_capture_on_commit_callbacks(execute=True):
        services.cluster_merge(actor=admin_user, cluster=cluster, survivor_id=people[0])
        later = merge_customers(admin_user, people[3], [people[0]], {})
    cluster.refresh_from_db()
    assert cluster.status == ClusterStatus.MERGED and cluster.survivor_id == people[3]
    with django_capture_on_commit_callbacks(execute=True):
        undo_merge(admin_user, later)
    cluster.refresh_from_db()
    assert cluster.status == ClusterStatus.MERGED and cluster.survivor_id == people[0]
    assert member_ids(cluster) == [people[0]]


def test_refused_undo_keeps_the_cluster_merged(
    admin_user, people, django_capture_on_commit_callbacks
):
    cluster = make_cluster(admin_user, people[:2])
    with django_capture_on_commit_callbacks(execute=True):
        services.cluster_merge(actor=admin_user, cluster=cluster, survivor_id=people[0])
    merge = CustomerMerge.objects.get(survivor_id=people[0])
    with django_capture_on_commit_callbacks(execute=True):
        undo_merge(admin_user, merge)
    # Undone once: a second undo is refused and changes nothing.
    cluster.refresh_from_db()
    version = cluster.version
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(ValidationFailed):
        undo_merge(admin_user, merge)
    cluster.refresh_from_db()
    assert cluster.status == ClusterStatus.OPEN and cluster.version == version


def test_sync_ignores_empty_and_unknown_ids(admin_user, people):
    cluster = make_cluster(admin_user, people[:2])
    DuplicateCluster.objects.filter(pk=cluster.pk).update(
        status=ClusterStatus.MERGED, survivor_id=people[0]
    )
    assert services.clusters_sync_unmerged(people[0], [], admin_user) == 0
    assert services.clusters_sync_unmerged(people[0], [10**9], admin_user) == 0
    # Both members are live records, but the survivor named is not the cluster's.
    assert services.clusters_sync_unmerged(people[1], [people[0]], admin_user) == 0
    cluster.refresh_from_db()
    assert cluster.status == ClusterStatus.MERGED
    assert services.clusters_sync_unmerged(people[0], [people[1]], admin_user) == 1
    cluster.refresh_from_db()
    assert cluster.status == ClusterStatus.OPEN


def test_undo_of_a_cluster_merge_of_customers_made_through_the_service(
    admin_user, django_capture_on_commit_callbacks
):
    """Customers made as people make them (with their data-quality findings, which the
    quality check rewrites on every change): the undo is exact and opens the cluster."""
    from vefa.customers.services import customer_create
    from vefa.quality.models import CustomerFinding

    ids = []
    for first in ("Leyla", "Leila"):  # one after the other: only the second has a finding
        with django_capture_on_commit_callbacks(execute=True):
            made = customer_create(
                actor=admin_user,
                data={"kind": "person", "first_name": first, "last_name": "Sadeghi"},
                email="leyla@example.com",
            )
        ids.append(made.pk)
    assert list(CustomerFinding.objects.values_list("customer_id", flat=True)) == [ids[1]]
    cluster = make_cluster(admin_user, ids)
    with django_capture_on_commit_callbacks(execute=True):
        services.cluster_merge(actor=admin_user, cluster=cluster, survivor_id=ids[0])
    merge = CustomerMerge.objects.get(survivor_id=ids[0])
    with django_capture_on_commit_callbacks(execute=True):
        result = undo_merge(admin_user, merge)
    assert result.problems == []
    cluster.refresh_from_db()
    assert cluster.status == ClusterStatus.OPEN and member_ids(cluster) == sorted(ids)
    assert cluster.pk in open_ids(admin_user)
