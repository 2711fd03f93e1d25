"""Domain events: dispatched after commit, with per-commit rounds for once-per-record work."""

from __future__ import annotations

import pytest
from django.db import transaction

from vefa.common import events
from vefa.common.events import DomainEvent, emit


@pytest.fixture
def seen():
    """Records every event named ``test.thing.*`` and the work done once per commit."""
    calls: list[tuple[str, int, bool]] = []

    def listen(event: DomainEvent) -> None:
        calls.append((event.name, event.object_id, event.first_in_commit("work", event.object_id)))

    for name in ("test.thing.created", "test.thing.updated"):
        events._subscribers[name].append(listen)
    yield calls
    for name in ("test.thing.created", "test.thing.updated"):
        events._subscribers[name].remove(listen)


def _event(verb: str, pk: int) -> DomainEvent:
    return DomainEvent(name=f"test.thing.{verb}", model="test.thing", object_id=pk)


@pytest.mark.django_db(transaction=True)
def test_work_runs_once_per_record_and_commit(seen):
    with transaction.atomic():
        emit(_event("created", 1))
        emit(_event("updated", 1))
        with transaction.atomic():
            emit(_event("updated", 2))
            emit(_event("updated", 1))
        assert seen == []  # nothing before the commit
    assert seen == [
        ("test.thing.created", 1, True),
        ("test.thing.updated", 1, False),
        ("test.thing.updated", 2, True),
        ("test.thing.updated", 1, False),
    ]
    seen.clear()
    with transaction.atomic():
        emit(_event("updated", 1))
    assert seen == [("test.thing.updated", 1, True)]  # a new commit, the work again


@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_savepoint_drops_its_events_and_starts_a_new_round(seen):
    with transaction.atomic():
        emit(_event("created", 1))
        try:
            with transaction.atomic():
                emit(_event("updated", 1))
                raise ValueError
        except ValueError:
            pass
        emit(_event("updated", 1))
    assert [(name, first) for name, _pk, first in seen] == [
        ("test.thing.created", True),
        ("test.thing.updated", True),  # a round of its own: more work, never less
    ]


@pytest.mark.django_db(transaction=True)
def test_outside_a_transaction_every_event_is_its_own_round(seen):
    emit(_event("updated", 1))
    emit(_event("updated", 1))
    assert [first for _n, _pk, first in seen] == [True, True]


def test_commit_hooks_run_by_hand_open_a_new_round_for_later_events(
    db, seen, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        emit(_event("created", 1))
        emit(_event("updated", 1))
    with django_capture_on_commit_callbacks(execute=True):
        emit(_event("updated", 1))
    assert [first for _n, _pk, first in seen] == [True, False, True]


def test_an_event_dispatched_on_its_own_always_does_the_work(seen):
    events.dispatch(_event("updated", 3))
    events.dispatch(_event("updated", 3))
    assert [first for _n, _pk, first in seen] == [True, True]
