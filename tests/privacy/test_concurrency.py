"""Two erasures of the same person at the same moment: one does the work, both agree."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections

from tests.privacy.scan import database_hits
from vefa.privacy import services
from vefa.privacy.models import DeletionLog


@pytest.mark.django_db(transaction=True)
def test_concurrent_erasure_of_the_same_person(admin_user):
    if connection.vendor != "postgresql":
        pytest.skip("SQLite serialises writers; the race matters on PostgreSQL")
    from tests.privacy.world import build_world

    world = build_world(admin_user)
    barrier = threading.Barrier(2, timeout=30)
    results: list[int] = []
    errors: list[BaseException] = []

    def erase() -> None:
        try:
            barrier.wait()
            log = services.erase_subject(
                actor=admin_user, subject_kind="customer", subject_id=world.customer.pk
            )
            results.append(log.pk)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=erase) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(results) == 2 and results[0] == results[1]
    assert DeletionLog.objects.count() == 1
    assert database_hits(world.needles()) == []


@pytest.mark.django_db
def test_erasure_after_erasure_returns_the_first_log(world, admin_user):
    first = services.erase_subject(
        actor=admin_user, subject_kind="customer", subject_id=world.customer.pk
    )
    # A job resumed after a crash runs the erasure again: nothing more happens.
    again = services.erase_subject(
        actor=None, subject_kind="customer", subject_id=world.customer.pk
    )
    assert again.pk == first.pk
