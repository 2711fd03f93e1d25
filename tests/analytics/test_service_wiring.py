"""The service app learns a customer's value class from the scores, without importing analytics."""

from __future__ import annotations

import pytest
from django.utils import timezone

from tests.customers.factories import make_customer
from tests.factories import UserFactory
from vefa.accounts.choices import Role
from vefa.analytics.apps import customer_value_class
from vefa.analytics.models import CustomerScore
from vefa.service.services.assignment import value_class_of


def score(customer, value_class: str) -> CustomerScore:
    return CustomerScore.objects.create(
        customer=customer, computed_at=timezone.now(), currency="TRY", value_class=value_class
    )


def test_the_registered_source_reads_the_scores(db):
    gold = make_customer(first_name="Gold")
    plain = make_customer(first_name="Plain")
    unscored = make_customer(first_name="New")
    score(gold, "A")
    score(plain, "C")
    assert value_class_of(gold.pk) == "A"
    assert value_class_of(plain.pk) == "C"
    assert value_class_of(unscored.pk) == ""
    assert value_class_of(None) == ""
    assert customer_value_class(999_999_999) == ""


def test_a_scored_row_without_a_class_is_unknown(db):
    customer = make_customer()
    score(customer, "")
    assert value_class_of(customer.pk) == ""


@pytest.mark.django_db
def test_a_new_ticket_records_the_value_class(team):
    from vefa.service.models import Queue
    from vefa.service.services.tickets import ticket_create

    agent = UserFactory(role=Role.SERVICE_AGENT, team=team)
    Queue.objects.create(name="Support", team=team, is_default=True)
    customer = make_customer(owner=agent, team=team)
    score(customer, "A")
    ticket = ticket_create(actor=agent, data={"subject": "Broken", "customer": customer.pk})
    assert ticket.value_class == "A"
