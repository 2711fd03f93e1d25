"""Two people move the same opportunity at the same moment: one wins, the other is told.

On PostgreSQL the two moves run in two threads with their own connections, released
together by a barrier, through the board's move endpoint; the row lock serialises them and
the version check turns the second into a conflict (HTTP 412). SQLite serialises writers
on its own; there the same version check is shown by two moves from the same version.
"""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections
from django.test import Client
from django.urls import reverse

from vefa.platform.models import ChangeLogEntry
from vefa.sales.models import Opportunity
from vefa.sales.services.opportunities import opportunity_create


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _move(client: Client, opportunity: Opportunity, stage_pk: int, version: int):
    return client.post(
        reverse("sales:board_move", args=[opportunity.pipeline_id]),
        {"opportunity": opportunity.pk, "stage": stage_pk, "version": version},
    )


@pytest.mark.django_db(transaction=True)
def test_two_people_move_at_once_one_wins_one_conflict(rep, manager, own_customer, stages):
    if connection.vendor != "postgresql":
        pytest.skip("SQLite serialises writers; the row locks matter on PostgreSQL")
    opp = opportunity_create(actor=rep, data={"name": "Race", "customer": own_customer.pk})
    clients = {rep.pk: _client(rep), manager.pk: _client(manager)}
    targets = {rep.pk: stages[1].pk, manager.pk: stages[2].pk}
    barrier = threading.Barrier(2)
    statuses: dict[int, int] = {}
    errors: list[BaseException] = []

    def move(user_pk: int) -> None:
        try:
            barrier.wait()
            response = _move(clients[user_pk], opp, targets[user_pk], opp.version)
            statuses[user_pk] = response.status_code
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=move, args=(pk,)) for pk in targets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(statuses.values()) == [200, 412]
    winner = next(pk for pk, code in statuses.items() if code == 200)
    fresh = Opportunity.objects.get(pk=opp.pk)
    assert fresh.stage_id == targets[winner]
    assert fresh.version == opp.version + 1
    moves = ChangeLogEntry.objects.filter(
        model="sales.opportunity", object_id=opp.pk, action="update"
    )
    assert moves.count() == 1


@pytest.mark.django_db
def test_second_move_from_the_same_version_is_a_conflict(rep, manager, own_customer, stages):
    opp = opportunity_create(actor=rep, data={"name": "Race", "customer": own_customer.pk})
    seen = opp.version
    first = _move(_client(rep), opp, stages[1].pk, seen)
    second = _move(_client(manager), opp, stages[2].pk, seen)
    assert first.status_code == 200
    assert second.status_code == 412
    assert "Someone else changed" in second.json()["message"]
    assert Opportunity.objects.get(pk=opp.pk).stage == stages[1]
