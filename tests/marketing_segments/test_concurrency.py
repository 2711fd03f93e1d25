"""Two people adding the same customers to a static list at the same time: each once."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from tests.customers.factories import make_customer
from tests.factories import TeamFactory, UserFactory
from vefa.accounts.choices import Role
from vefa.marketing.models import SegmentMember
from vefa.marketing.services.segments import segment_create, static_members_add


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the in-memory SQLite test database has one writer"
)
@pytest.mark.django_db(transaction=True)
def test_concurrent_adds_keep_each_customer_once():
    team = TeamFactory(name="Pazarlama")
    marketer = UserFactory(role=Role.MARKETER, team=team)
    colleague = UserFactory(role=Role.MARKETER, team=team)
    customers = [make_customer(first_name=f"C{n}", last_name="X") for n in range(30)]
    ids = [c.pk for c in customers]
    segment = segment_create(actor=marketer, name="List", kind="static")
    results: list[int] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(2)

    def add(actor) -> None:
        try:
            barrier.wait()
            results.append(static_members_add(actor=actor, segment_id=segment.pk, customer_ids=ids))
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=add, args=(user,)) for user in (marketer, colleague)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    assert sorted(results) == [0, 30]
    assert SegmentMember.objects.filter(segment=segment).count() == 30
