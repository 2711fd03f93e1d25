# ruff: noqa: F811 (fixtures imported from the helpers module)
"""Routing of new tickets: assignment rules by category, type and value class (first match
wins), the category's queue, the default queue; round robin and fewest-open owners, also for
two tickets created at the same time (PostgreSQL)."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection, connections, transaction

from tests.factories import UserFactory
from tests.service.test_tickets_helpers import (  # noqa: F401 (fixtures)
    csat_requests,
    open_ticket,
    sent_replies,
    side_effects,
    sla_calls,
)
from vefa.accounts.choices import Role
from vefa.service.models import AssignmentRule, Category, Queue, Ticket
from vefa.service.services import assignment
from vefa.service.services.assignment import register_value_class_source, value_class_of
from vefa.service.services.tickets import ticket_create

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _effects(side_effects):
    return side_effects


@pytest.fixture
def value_classes(monkeypatch):
    """A value-class source answering from a dict (customer id → class)."""
    classes: dict[int, str] = {}
    monkeypatch.setattr(assignment, "_value_class_source", None)
    register_value_class_source(lambda customer_id: classes.get(customer_id, ""))
    return classes


@pytest.fixture
def vip_queue(db, other_team):
    return Queue.objects.create(name="VIP", team=other_team)


def test_default_queue_when_nothing_matches(agent, queue):
    assert open_ticket(agent).queue_id == queue.pk


def test_category_queue_and_its_ancestors(agent, queue, other_queue):
    delivery = Category.objects.create(name="Teslimat", queue=other_queue)
    late = Category.objects.create(name="Gecikme", parent=delivery)
    assert open_ticket(agent, category=late.pk).queue_id == other_queue.pk


def test_rule_by_category_type_and_value_class(
    agent, queue, other_queue, vip_queue, customer, value_classes, agent_other_team
):
    billing = Category.objects.create(name="Fatura", queue=queue)
    AssignmentRule.objects.create(position=1, name="A müşteriler", value_class="A", queue=vip_queue)
    AssignmentRule.objects.create(
        position=2,
        name="Fatura şikâyetleri",
        category=billing,
        ticket_type="complaint",
        queue=other_queue,
        assignee=agent_other_team,
    )
    complaint = open_ticket(agent, category=billing.pk, type="complaint")
    assert complaint.queue_id == other_queue.pk and complaint.owner_id == agent_other_team.pk
    question = open_ticket(agent, category=billing.pk, type="question")
    assert question.queue_id == queue.pk
    value_classes[customer.pk] = "A"
    vip = open_ticket(agent, category=billing.pk, type="complaint", customer=customer.pk)
    assert vip.queue_id == vip_queue.pk and vip.value_class == "A"


def test_inactive_rules_and_queues_are_skipped(agent, queue, other_queue):
    AssignmentRule.objects.create(position=1, name="Off", queue=other_queue, is_active=False)
    closed = Queue.objects.create(name="Closed", is_active=False)
    AssignmentRule.objects.create(position=2, name="Closed queue", queue=closed)
    assert open_ticket(agent).queue_id == queue.pk


def test_explicit_queue_and_owner_are_kept(agent, agent_same_team, queue, other_queue):
    AssignmentRule.objects.create(position=1, name="All", queue=other_queue)
    ticket = open_ticket(agent, queue=queue.pk, owner=agent_same_team.pk)
    assert ticket.queue_id == queue.pk and ticket.owner_id == agent_same_team.pk


def test_value_class_source_failures_and_junk_are_unknown(monkeypatch, customer):
    monkeypatch.setattr(assignment, "_value_class_source", None)
    assert value_class_of(customer.pk) == ""
    register_value_class_source(lambda _id: "b")
    assert value_class_of(customer.pk) == "B"
    register_value_class_source(lambda _id: "Z")
    assert value_class_of(customer.pk) == ""

    def broken(_id):
        raise RuntimeError("store offline")

    register_value_class_source(broken)
    assert value_class_of(customer.pk) == ""
    assert value_class_of(None) == ""


def test_round_robin_is_fair(agent, agent_same_team, team, queue):
    third = UserFactory(role=Role.SERVICE_AGENT, team=team)
    UserFactory(role=Role.SALES_REP, team=team)  # not an agent: never picked
    UserFactory(role=Role.SERVICE_AGENT, team=team, is_active=False)
    owners = [open_ticket(agent).owner_id for _ in range(6)]
    expected = sorted([agent.pk, agent_same_team.pk, third.pk])
    assert owners == expected * 2
    queue.refresh_from_db()
    assert queue.last_assigned_id == expected[-1]


def test_least_open_picks_the_least_busy(agent, agent_same_team, queue):
    queue.assignment = "least_open"
    queue.save()
    for _ in range(2):
        open_ticket(agent, owner=agent.pk)
    first = open_ticket(agent)
    assert first.owner_id == agent_same_team.pk
    second = open_ticket(agent)
    assert second.owner_id == agent_same_team.pk
    third = open_ticket(agent)
    assert third.owner_id == agent.pk  # 2 each now: the lower id wins


def test_manual_queue_and_team_without_agents_leave_it_unassigned(agent, queue, other_team):
    queue.assignment = "manual"
    queue.save()
    assert open_ticket(agent).owner_id is None
    empty = Queue.objects.create(name="Nobody", team=None)
    ticket = open_ticket(agent, queue=empty.pk)
    assert ticket.owner_id is None and ticket.team_id is None


@pytest.mark.django_db(transaction=True)
def test_round_robin_two_concurrent_picks_go_to_two_agents(
    agent, agent_same_team, queue, monkeypatch
):
    """Two transactions picking an owner from one queue at the same time (a creation and a
    re-assignment, say) get two different agents: the queue's row lock serialises them."""
    if connection.vendor != "postgresql":
        pytest.skip("row locks are PostgreSQL's; SQLite serialises every writer anyway")
    barrier = threading.Barrier(2)
    results: list[int | None] = []
    errors: list[BaseException] = []
    original = assignment.queue_agents

    def slow_agents(q):
        # Widens the window between reading the queue's last agent and writing the next one:
        # without the row lock both picks would read the same last agent.
        found = original(q)
        time.sleep(0.3)
        return found

    monkeypatch.setattr(assignment, "queue_agents", slow_agents)

    def pick():
        try:
            barrier.wait(timeout=10)
            with transaction.atomic():
                chosen = assignment.pick_owner(Queue.objects.get(pk=queue.pk))
            results.append(chosen.pk if chosen else None)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=pick) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not errors, errors
    assert sorted(results) == sorted([agent.pk, agent_same_team.pk])


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_creations_get_two_agents_and_two_numbers(agent, agent_same_team, queue):
    if connection.vendor != "postgresql":
        pytest.skip("concurrent writers need PostgreSQL")
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def create():
        try:
            barrier.wait(timeout=10)
            ticket_create(actor=agent, data={"subject": "Aynı anda"})
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=create) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not errors, errors
    rows = list(Ticket.objects.values_list("owner_id", "number"))
    assert sorted(owner for owner, _ in rows) == sorted([agent.pk, agent_same_team.pk])
    assert len({number for _, number in rows}) == 2
