"""Two returns of the same order line written at the same moment cannot over-return."""

from __future__ import annotations

import threading
from decimal import Decimal

import pytest
from django.db import connection
from django.db.models import Sum

from tests.service.returns_helpers import make_order, make_product
from vefa.service.models import ReturnLine, ReturnRequest
from vefa.service.services.returns import return_create

pytestmark = pytest.mark.django_db(transaction=True)


def _race(*actions):
    results: list[object] = [None] * len(actions)
    barrier = threading.Barrier(len(actions))

    def run(i, action):
        try:
            barrier.wait(timeout=10)
            results[i] = action()
        except Exception as exc:  # a refusal, or "database is locked" on SQLite: both lose
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, a)) for i, a in enumerate(actions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def test_two_concurrent_returns_of_the_whole_line_make_one(agent, agent_same_team, customer):
    order = make_order(customer, [(make_product(), "3", "100")])
    line = order.lines.get()

    def request(actor):
        return lambda: return_create(
            actor=actor,
            data={"order": order.pk, "reason": "defective"},
            lines=[{"order_line": line.pk, "quantity": "2"}],
        )

    results = _race(request(agent), request(agent_same_team))
    made = [r for r in results if isinstance(r, ReturnRequest)]
    assert len(made) == 1, results
    returned = ReturnLine.objects.filter(order_line=line).aggregate(total=Sum("quantity"))
    assert returned["total"] == Decimal("2.000")
    if connection.vendor == "postgresql":
        # PostgreSQL serialises the two on the order's row lock: the loser is told why.
        loser = next(r for r in results if not isinstance(r, ReturnRequest))
        assert "lines.0.quantity" in getattr(loser, "fields", {}), loser
