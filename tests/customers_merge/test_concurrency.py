"""Two merges of overlapping records at the same time: one wins, the other fails cleanly."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from tests.customers.factories import make_customer
from tests.factories import TeamFactory, UserFactory
from vefa.accounts.choices import Role
from vefa.common.errors import ValidationFailed
from vefa.customers.models import Address, Customer, CustomerMerge
from vefa.customers.services.merge import merge_customers


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the in-memory SQLite test database has one writer"
)
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("shape", ["same_other", "chain"])
def test_overlapping_merges(shape):
    """``same_other``: b into a and b into c at once, exactly one wins. ``chain``: b into a
    and c into b at once: c into b may come first (then both succeed, c ends in a) or b into
    a first (then c into b is refused). Either way no row is lost or left on an archived
    record."""
    team = TeamFactory(name="Satış")
    admin = UserFactory(role=Role.ADMIN, team=team)
    a, b, c = (make_customer(first_name=n, last_name="X", owner=admin) for n in "ABC")
    for customer in (a, b, c):
        for n in range(20):
            Address.objects.create(
                customer=customer, kind="home", line1=f"{n}", city="Ankara", country="TR"
            )
    jobs = [(a, [b]), (c, [b])] if shape == "same_other" else [(a, [b]), (b, [c])]
    results: list[CustomerMerge] = []
    failures: list[BaseException] = []
    barrier = threading.Barrier(2)

    def run(survivor, others) -> None:
        try:
            barrier.wait()
            results.append(merge_customers(admin, survivor, others, {}))
        except BaseException as exc:  # checked below
            failures.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=job) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert all(isinstance(f, ValidationFailed) for f in failures), failures
    assert len(results) + len(failures) == 2
    if shape == "same_other":
        assert len(results) == 1
    assert CustomerMerge.objects.count() == len(results)
    # Nothing lost, nothing left on an archived record, every archived record leads to a
    # live one.
    assert Address.objects.count() == 60
    live = set(Customer.objects.filter(merged_into__isnull=True).values_list("pk", flat=True))
    assert set(Address.objects.values_list("customer_id", flat=True)) <= live
    for customer in Customer.objects.filter(merged_into__isnull=False):
        assert customer.merged_into_id in live
    assert len(live) == 3 - sum(len(m.merged_ids) for m in results)
