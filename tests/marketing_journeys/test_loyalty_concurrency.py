"""Two redemptions at the same time cannot overdraw the balance (PostgreSQL row lock)."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections

from vefa.common.errors import ValidationFailed
from vefa.marketing.services.loyalty import balance_of, points_award, points_redeem

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL row locks")
def test_concurrent_redemptions_do_not_overdraw(program, customer, admin_user):
    points_award(customer_id=customer.pk, points=100, key="start")
    barrier = threading.Barrier(4)
    outcomes: list[str] = []

    def redeem() -> None:
        try:
            barrier.wait()
            points_redeem(actor=admin_user, customer_id=customer.pk, points=60, reason="gift")
            outcomes.append("ok")
        except ValidationFailed:
            outcomes.append("refused")
        finally:
            connections.close_all()

    threads = [threading.Thread(target=redeem) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["ok", "refused", "refused", "refused"]
    assert balance_of(customer.pk, program) == 40
