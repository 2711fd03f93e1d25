"""Rows keyed by the customer (one per customer, computed by their app: data-quality findings,
analytics scores) stay with their record through a merge, so the undo stays exact even when
the app rewrites them in between."""

from __future__ import annotations

import pytest
from django.utils import timezone

from vefa.analytics.models import CustomerScore
from vefa.customers.models import Customer
from vefa.customers.services import customer_create
from vefa.customers.services.merge import merge_customers, undo_merge
from vefa.quality.models import CustomerFinding

pytestmark = pytest.mark.django_db


@pytest.fixture
def twins(admin_user, django_capture_on_commit_callbacks):
    """Two entries of one person created through the service: the second one's data-quality
    finding names the first as its likely duplicate (the first was checked alone)."""
    with django_capture_on_commit_callbacks(execute=True):
        first = customer_create(
            actor=admin_user,
            data={"kind": "person", "first_name": "Leyla", "last_name": "Sadeghi"},
            email="leyla@example.com",
        )
        second = customer_create(
            actor=admin_user,
            data={"kind": "person", "first_name": "Leila", "last_name": "Sadeghi"},
            email="leyla@example.com",
        )
    return first, second


def test_a_finding_of_the_merged_record_does_not_block_the_undo(
    admin_user, twins, django_capture_on_commit_callbacks
):
    first, second = twins
    finding = CustomerFinding.objects.get(customer_id=second.pk)
    assert finding.duplicate_id == first.pk
    assert not CustomerFinding.objects.filter(customer_id=first.pk).exists()

    with django_capture_on_commit_callbacks(execute=True):
        merge = merge_customers(admin_user, first, [second], {})
    assert {"model": "quality.customerfinding", "pk": second.pk, "customer": second.pk} in (
        merge.kept
    )
    assert not any(m["model"] == "quality.customerfinding" for m in merge.moves)
    # The check rewrites findings on every customer change: here the archived record's.
    CustomerFinding.objects.filter(customer_id=second.pk).delete()

    with django_capture_on_commit_callbacks(execute=True):
        result = undo_merge(admin_user, merge)
    assert result.problems == []
    assert Customer.objects.get(pk=second.pk).merged_into_id is None


def test_a_score_stays_with_its_record(admin_user, twins):
    first, second = twins
    CustomerScore.objects.create(customer=second, computed_at=timezone.now(), currency="TRY")
    merge = merge_customers(admin_user, first, [second], {})
    assert CustomerScore.objects.get(pk=second.pk).customer_id == second.pk
    assert not CustomerScore.objects.filter(pk=first.pk).exists()
    assert {"model": "analytics.customerscore", "pk": second.pk, "customer": second.pk} in (
        merge.kept
    )
    result = undo_merge(admin_user, merge)
    assert result.problems == []
    assert CustomerScore.objects.get(pk=second.pk).customer_id == second.pk


def test_the_survivors_own_score_is_left_alone(admin_user, twins):
    first, second = twins
    now = timezone.now()
    CustomerScore.objects.create(customer=first, computed_at=now, currency="TRY", frequency=3)
    CustomerScore.objects.create(customer=second, computed_at=now, currency="TRY", frequency=1)
    merge = merge_customers(admin_user, first, [second], {})
    assert all(c["model"] != "analytics.customerscore" for c in merge.collapsed)
    assert CustomerScore.objects.get(pk=first.pk).frequency == 3
    assert CustomerScore.objects.get(pk=second.pk).frequency == 1
    undo_merge(admin_user, merge)
    assert CustomerScore.objects.get(pk=first.pk).frequency == 3
    assert CustomerScore.objects.get(pk=second.pk).frequency == 1


def test_the_merge_page_does_not_count_them_as_moving(admin_user, twins):
    from vefa.customers.services.merge import related_counts

    first, second = twins
    CustomerScore.objects.create(customer=second, computed_at=timezone.now(), currency="TRY")
    keys = {c.key for c in related_counts([first.pk, second.pk])}
    assert "customers.contactpoint.customer" in keys
    assert "analytics.customerscore.customer" not in keys
    assert "quality.customerfinding.customer" not in keys


def test_the_duplicate_checks_keys_and_findings_follow_merge_and_undo(
    admin_user, twins, django_capture_on_commit_callbacks
):
    from vefa.quality.models import MatchKey, RecordKind

    first, second = twins

    def keys(customer):
        return set(
            MatchKey.objects.filter(kind=RecordKind.CUSTOMER, record_id=customer.pk).values_list(
                "key", flat=True
            )
        )

    assert "n:leila sadeghi" in keys(second)
    with django_capture_on_commit_callbacks(execute=True):
        merge = merge_customers(admin_user, first, [second], {})
    assert keys(second) == set()  # archived: no longer a candidate
    assert "e:leyla@example.com" in keys(first)
    assert not CustomerFinding.objects.filter(customer_id__in=[first.pk, second.pk]).exists()
    with django_capture_on_commit_callbacks(execute=True):
        undo_merge(admin_user, merge)
    assert "n:leila sadeghi" in keys(second)
    # Both are checked again: each is the other's likely duplicate.
    assert CustomerFinding.objects.get(customer_id=second.pk).duplicate_id == first.pk
    assert CustomerFinding.objects.get(customer_id=first.pk).duplicate_id == second.pk
