"""Two people acting on the same quote at once: one wins, the other is told, nothing doubles."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from tests.sales.test_quotes_fixtures import make_quote
from vefa.common.errors import ApplicationError
from vefa.sales.models import Order, Quote
from vefa.sales.services import quotes as services

pytestmark = pytest.mark.django_db(transaction=True)


def _race(*actions):
    results: list[object] = [None] * len(actions)
    barrier = threading.Barrier(len(actions))

    def run(i, action):
        try:
            barrier.wait(timeout=10)
            results[i] = action()
        except ApplicationError as exc:
            results[i] = exc
        except Exception as exc:  # a database "locked" error on SQLite counts as losing
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, a)) for i, a in enumerate(actions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def test_two_new_versions_at_once_make_one(rep, manager, own_customer):
    quote = make_quote(rep, own_customer, sent=True)
    results = _race(
        lambda: services.quote_new_version(actor=rep, quote_id=quote.pk),
        lambda: services.quote_new_version(actor=manager, quote_id=quote.pk),
    )
    made = [r for r in results if isinstance(r, Quote)]
    assert len(made) == 1, results
    assert Quote.objects.filter(number=quote.number).count() == 2
    assert Quote.objects.get(pk=quote.pk).status == "superseded"


def test_two_accepts_at_once_make_one_order(rep, manager, own_customer):
    quote = make_quote(rep, own_customer, sent=True)
    results = _race(
        lambda: services.quote_accept(actor=rep, quote_id=quote.pk),
        lambda: services.quote_accept(actor=manager, quote_id=quote.pk),
    )
    assert len([r for r in results if isinstance(r, Order)]) == 1, results
    assert Order.objects.filter(quote=quote).count() == 1
