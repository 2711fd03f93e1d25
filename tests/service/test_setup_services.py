"""Service configuration writes: admins only, validation, the category tree, calendars."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from tests.factories import UserFactory
from tests.service.conftest import HOSTILE
from vefa.accounts.choices import Role
from vefa.common.errors import Conflict, NotFound, ValidationFailed
from vefa.platform.models import ChangeLogEntry
from vefa.service.models import Category, Queue, Ticket
from vefa.service.services import setup as services
from vefa.service.sla import clock_for

IST = ZoneInfo("Europe/Istanbul")


@pytest.fixture
def admin(db, team):
    return UserFactory(role=Role.ADMIN, team=team, full_name="Admin")


def fields(exc: pytest.ExceptionInfo[ValidationFailed]) -> set[str]:
    return set(exc.value.fields)


# --- access ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "role", [Role.SERVICE_AGENT, Role.SALES_MANAGER, Role.SALES_REP, Role.READ_ONLY]
)
def test_only_admins_write(db, team, queue, role):
    user = UserFactory(role=role, team=team)
    with pytest.raises(NotFound):
        services.queue_create(actor=user, data={"name": "Mine"})
    with pytest.raises(NotFound):
        services.queue_update(actor=user, queue_id=queue.pk, data={"name": "Mine"})
    with pytest.raises(NotFound):
        services.sla_policy_create(
            actor=user,
            data={"name": "P", "first_response_minutes": 1, "resolution_minutes": 2},
        )
    with pytest.raises(NotFound):
        services.holiday_add(actor=user, calendar_id=queue.calendar_id, date="2026-12-31", name="x")
    assert not Queue.objects.filter(name="Mine").exists()


# --- queues ----------------------------------------------------------------------------------


def test_queue_create_update_and_single_default(admin, team, calendar, queue):
    assert queue.is_default
    new = services.queue_create(
        actor=admin,
        data={
            "name": "  Returns   desk ",
            "team": team.pk,
            "calendar": calendar.pk,
            "assignment": "least_open",
            "email_address": "Returns@Vefa.example",
            "is_default": True,
        },
    )
    assert new.name == "Returns desk" and new.email_address == "returns@vefa.example"
    queue.refresh_from_db()
    assert new.is_default and not queue.is_default
    assert ChangeLogEntry.objects.filter(model="service.queue", object_id=new.pk).exists()
    updated = services.queue_update(
        actor=admin, queue_id=new.pk, data={"is_active": False, "is_default": False}
    )
    assert not updated.is_active
    with pytest.raises(Conflict):
        services.queue_update(
            actor=admin, queue_id=new.pk, data={"name": "Old"}, expected_version=1
        )


@pytest.mark.parametrize(
    "data, field",
    [
        ({}, "name"),
        ({"name": ""}, "name"),
        ({"name": "x" * 101}, "name"),
        ({"name": 42}, "name"),
        ({"name": "Support"}, "name"),  # taken (case-insensitive below)
        ({"name": "SUPPORT"}, "name"),
        ({"name": "Q", "team": "abc"}, "team"),
        ({"name": "Q", "team": 999999}, "team"),
        ({"name": "Q", "calendar": True}, "calendar"),
        ({"name": "Q", "assignment": "random"}, "assignment"),
        ({"name": "Q", "email_address": "not an address"}, "email_address"),
        ({"name": "Q", "email_address": "support@vefa.example"}, "email_address"),
        ({"name": "Q", "is_default": "maybe"}, "is_default"),
        ({"name": "Q", "is_default": True, "is_active": False}, "is_default"),
        ({"name": "Q", "colour": "red"}, "colour"),
    ],
)
def test_queue_invalid_input(admin, queue, data, field):
    with pytest.raises(ValidationFailed) as caught:
        services.queue_create(actor=admin, data=data)
    assert field in fields(caught)


def test_queue_data_must_be_an_object(admin):
    with pytest.raises(ValidationFailed):
        services.queue_create(actor=admin, data=["name", "x"])  # type: ignore[arg-type]


# --- categories ------------------------------------------------------------------------------


def test_category_paths_follow_renames_and_moves(admin):
    delivery = services.category_create(actor=admin, data={"name": "Delivery"})
    late = services.category_create(actor=admin, data={"name": "Late", "parent": delivery.pk})
    carrier = services.category_create(actor=admin, data={"name": "Carrier", "parent": late.pk})
    assert carrier.path == "Delivery › Late › Carrier"
    services.category_update(actor=admin, category_id=delivery.pk, data={"name": "Shipping"})
    carrier.refresh_from_db()
    assert carrier.path == "Shipping › Late › Carrier"
    product = services.category_create(actor=admin, data={"name": "Product"})
    services.category_update(actor=admin, category_id=late.pk, data={"parent": product.pk})
    carrier.refresh_from_db()
    late.refresh_from_db()
    assert late.path == "Product › Late"
    assert carrier.path == "Product › Late › Carrier"
    services.category_update(actor=admin, category_id=late.pk, data={"parent": None})
    carrier.refresh_from_db()
    assert carrier.path == "Late › Carrier"


def test_category_cycles_are_refused(admin):
    a = services.category_create(actor=admin, data={"name": "A"})
    b = services.category_create(actor=admin, data={"name": "B", "parent": a.pk})
    c = services.category_create(actor=admin, data={"name": "C", "parent": b.pk})
    for parent in (a, c):
        with pytest.raises(ValidationFailed) as caught:
            services.category_update(actor=admin, category_id=a.pk, data={"parent": parent.pk})
        assert fields(caught) == {"parent"}
    a.refresh_from_db()
    assert a.parent_id is None and a.path == "A"


def test_category_depth_and_sibling_names(admin):
    parent = None
    for level in range(services.MAX_DEPTH):
        parent = services.category_create(
            actor=admin, data={"name": f"L{level}", "parent": parent.pk if parent else None}
        )
    with pytest.raises(ValidationFailed) as caught:
        services.category_create(actor=admin, data={"name": "Too deep", "parent": parent.pk})
    assert fields(caught) == {"parent"}
    services.category_create(actor=admin, data={"name": "Same"})
    with pytest.raises(ValidationFailed) as caught:
        services.category_create(actor=admin, data={"name": "same"})
    assert fields(caught) == {"name"}


def test_hostile_names_are_stored_as_text(admin):
    for index, name in enumerate(HOSTILE):
        category = services.category_create(actor=admin, data={"name": name})
        assert category.name == " ".join(name.split())
        services.queue_create(actor=admin, data={"name": f"{name} {index}"})


# --- calendars -------------------------------------------------------------------------------


def test_calendar_hours_normalised(admin):
    calendar = services.calendar_create(
        actor=admin,
        data={
            "name": "Tehran",
            "time_zone": "Asia/Tehran",
            "hours": {"6": [["13:00", "17:00"], ["08:00", "12:00"]], "7": []},
        },
    )
    assert calendar.hours == {"6": [["08:00", "12:00"], ["13:00", "17:00"]]}


@pytest.mark.parametrize(
    "data, field",
    [
        ({"name": "X", "time_zone": "Mars/Olympus"}, "time_zone"),
        ({"name": "X", "time_zone": ""}, "time_zone"),
        ({"name": "X", "time_zone": 3}, "time_zone"),
        ({"name": "X"}, "time_zone"),
        ({"name": "X", "time_zone": "UTC", "hours": {"1": [["09:00", "25:00"]]}}, "hours"),
        ({"name": "X", "time_zone": "UTC", "hours": {"1": [["18:00", "09:00"]]}}, "hours"),
        (
            {
                "name": "X",
                "time_zone": "UTC",
                "hours": {"1": [["09:00", "13:00"], ["12:00", "18:00"]]},
            },
            "hours",
        ),
        ({"name": "X", "time_zone": "UTC", "hours": "09:00-18:00"}, "hours"),
        ({"name": "X", "time_zone": "UTC", "hours": {"1": "09:00-18:00"}}, "hours"),
        ({"name": "Istanbul office", "time_zone": "UTC"}, "name"),
    ],
)
def test_calendar_invalid_input(admin, calendar, data, field):
    with pytest.raises(ValidationFailed) as caught:
        services.calendar_create(actor=admin, data=data)
    assert field in fields(caught)


def test_invalid_hours_error_names_the_problem(admin):
    with pytest.raises(ValidationFailed) as caught:
        services.calendar_create(
            actor=admin,
            data={"name": "X", "time_zone": "UTC", "hours": {"2": [["09:00", "25:00"]]}},
        )
    assert "25:00" in caught.value.fields["hours"][0]


def test_holiday_changes_rebuild_the_cached_clock(admin, queue, calendar):
    ticket = Ticket(queue=queue)
    monday = dt.datetime(2026, 11, 30, 9, 0, tzinfo=IST)
    assert clock_for(ticket).add(monday, 60) == dt.datetime(2026, 11, 30, 10, 0, tzinfo=IST)
    holiday = services.holiday_add(
        actor=admin, calendar_id=calendar.pk, date="2026-11-30", name="Bayram"
    )
    queue.calendar.refresh_from_db()
    assert clock_for(ticket).add(monday, 60) == dt.datetime(2026, 12, 1, 10, 0, tzinfo=IST)
    with pytest.raises(ValidationFailed):
        services.holiday_add(actor=admin, calendar_id=calendar.pk, date="2026-11-30", name="x")
    for bad in ("30.11.2026", "2026-02-30", "", None, 20261130, "9999-01-01"):
        with pytest.raises(ValidationFailed) as caught:
            services.holiday_add(actor=admin, calendar_id=calendar.pk, date=bad, name="x")
        assert "date" in fields(caught)
    services.holiday_remove(actor=admin, holiday_id=holiday.pk)
    queue.calendar.refresh_from_db()
    assert clock_for(ticket).add(monday, 60) == dt.datetime(2026, 11, 30, 10, 0, tzinfo=IST)
    with pytest.raises(NotFound):
        services.holiday_remove(actor=admin, holiday_id=holiday.pk)


def test_calendar_hours_change_rebuilds_the_cached_clock(admin, queue, calendar):
    ticket = Ticket(queue=queue)
    monday = dt.datetime(2026, 11, 30, 9, 0, tzinfo=IST)
    assert clock_for(ticket).add(monday, 60).astimezone(IST).hour == 10
    services.calendar_update(
        actor=admin,
        calendar_id=calendar.pk,
        data={"hours": {str(d): [["10:00", "18:00"]] for d in range(1, 6)}},
    )
    queue.calendar.refresh_from_db()
    assert clock_for(ticket).add(monday, 60).astimezone(IST).hour == 11


# --- SLA policies and rules ------------------------------------------------------------------


def test_policy_rules(admin, agent):
    policy = services.sla_policy_create(
        actor=admin,
        data={
            "name": "Urgent A",
            "priority": "urgent",
            "value_class": "A",
            "first_response_minutes": "30",
            "resolution_minutes": 240,
            "escalation": "reassign",
            "escalate_to": agent.pk,
        },
    )
    assert policy.first_response_minutes == 30 and policy.escalate_to == agent
    with pytest.raises(ValidationFailed) as caught:
        services.sla_policy_update(actor=admin, policy_id=policy.pk, data={"escalate_to": None})
    assert fields(caught) == {"escalate_to"}
    with pytest.raises(ValidationFailed) as caught:
        services.sla_policy_update(
            actor=admin, policy_id=policy.pk, data={"resolution_minutes": 29}
        )
    assert fields(caught) == {"resolution_minutes"}
    services.sla_policy_update(actor=admin, policy_id=policy.pk, data={"is_active": False})
    policy.refresh_from_db()
    assert not policy.is_active


@pytest.mark.parametrize(
    "data, field",
    [
        ({"first_response_minutes": 0}, "first_response_minutes"),
        ({"first_response_minutes": -5}, "first_response_minutes"),
        ({"first_response_minutes": 1.5}, "first_response_minutes"),
        ({"first_response_minutes": "ten"}, "first_response_minutes"),
        ({"first_response_minutes": True}, "first_response_minutes"),
        ({"first_response_minutes": 10**12}, "first_response_minutes"),
        ({"warn_at_percent": 100}, "warn_at_percent"),
        ({"warn_at_percent": 0}, "warn_at_percent"),
        ({"priority": "critical"}, "priority"),
        ({"value_class": "Z"}, "value_class"),
        ({"escalation": "fire"}, "escalation"),
    ],
)
def test_policy_invalid_input(admin, data, field):
    base = {"name": "P", "first_response_minutes": 60, "resolution_minutes": 600}
    with pytest.raises(ValidationFailed) as caught:
        services.sla_policy_create(actor=admin, data={**base, **data})
    assert field in fields(caught)


def test_inactive_user_cannot_be_escalation_contact(admin, agent):
    agent.is_active = False
    agent.save()
    with pytest.raises(ValidationFailed) as caught:
        services.sla_policy_create(
            actor=admin,
            data={
                "name": "P",
                "first_response_minutes": 1,
                "resolution_minutes": 1,
                "escalate_to": agent.pk,
            },
        )
    assert fields(caught) == {"escalate_to"}


def test_assignment_rules(admin, queue, agent):
    category = Category.objects.create(name="Billing", path="Billing")
    rule = services.assignment_rule_create(
        actor=admin,
        data={
            "name": "Billing to support",
            "category": category.pk,
            "queue": queue.pk,
            "assignee": agent.pk,
        },
    )
    assert rule.queue == queue and rule.assignee == agent
    with pytest.raises(ValidationFailed) as caught:
        services.assignment_rule_create(actor=admin, data={"name": "All", "queue": queue.pk})
    assert "__all__" in fields(caught)
    with pytest.raises(ValidationFailed) as caught:
        services.assignment_rule_create(actor=admin, data={"name": "No queue", "value_class": "A"})
    assert "queue" in fields(caught)
    services.assignment_rule_update(actor=admin, rule_id=rule.pk, data={"is_active": False})
    rule.refresh_from_db()
    assert not rule.is_active


def test_unknown_kind_and_missing_record(admin):
    with pytest.raises(NotFound):
        services.setup_create(actor=admin, kind="printer", data={})
    with pytest.raises(NotFound):
        services.setup_update(actor=admin, kind="queue", pk=999999, data={"name": "x"})
    with pytest.raises(NotFound):
        services.setup_update(actor=admin, kind="queue", pk="abc", data={"name": "x"})
