"""The service dashboard's figures on known data: medians, p90, first contact, reopen, SLA."""

from __future__ import annotations

import datetime
from decimal import Decimal
from itertools import count

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.factories import UserFactory
from vefa.accounts.choices import Role
from vefa.common.errors import NotFound
from vefa.sales.models import Order
from vefa.service.choices import ReturnReason, TicketPriority, TicketStatus, TicketType
from vefa.service.models import Category, ReturnRequest, SlaPolicy, Ticket
from vefa.service.selectors.metrics import percentiles, period_range, service_metrics

UTC = datetime.UTC
_numbers = count(1)
HOUR = datetime.timedelta(hours=1)


def make_ticket(*, opened: datetime.datetime, owner=None, team=None, **fields) -> Ticket:
    """A ticket written straight to the table (the metrics only read), opened at ``opened``."""
    fields.setdefault("subject", "Broken kettle")
    ticket = Ticket.objects.create(
        number=f"T-TEST-{next(_numbers):06d}", owner=owner, team=team, **fields
    )
    Ticket.objects.filter(pk=ticket.pk).update(created_at=opened)
    ticket.created_at = opened
    return ticket


def make_return(*, customer, owner, opened: datetime.datetime) -> ReturnRequest:
    n = next(_numbers)
    order = Order.objects.create(
        number=f"O-TEST-{n}",
        customer=customer,
        owner=owner,
        team=owner.team,
        status="confirmed",
        ordered_at=opened,
        currency="TRY",
        subtotal=Decimal(100),
        total=Decimal(100),
    )
    item = ReturnRequest.objects.create(
        number=f"R-TEST-{n}",
        customer=customer,
        order=order,
        reason=ReturnReason.DAMAGED,
        owner=owner,
        team=owner.team,
    )
    ReturnRequest.objects.filter(pk=item.pk).update(created_at=opened)
    return item


@pytest.fixture
def today() -> datetime.date:
    return timezone.now().astimezone(UTC).date()


@pytest.fixture
def opened(today) -> datetime.datetime:
    """Ten o'clock (UTC) five days ago: inside the last 30 days."""
    day = today - datetime.timedelta(days=5)
    return datetime.datetime.combine(day, datetime.time(10), tzinfo=UTC)


@pytest.fixture
def policy(db) -> SlaPolicy:
    return SlaPolicy.objects.create(
        name="Standard", first_response_minutes=60, resolution_minutes=480
    )


@pytest.fixture
def known(db, agent, agent_same_team, team, customer, policy, opened):
    """Five tickets with first responses after 1, 2, 3, 4 and 10 hours; four of them
    resolved after 2, 4, 6 and 8 hours.

    - t1 resolved, one reply, never reopened: first contact; SLA met
    - t2 resolved, two replies: not first contact; resolution breached
    - t3 resolved, one reply but reopened once: not first contact; SLA met
    - t4 closed, no reply: first contact; SLA met
    - t5 open again after a reopen; first response breached
    """
    base = {"team": team, "customer": customer, "sla_policy": policy}
    spec = [
        (1, 2, TicketStatus.RESOLVED, 1, 0, False, False, TicketType.COMPLAINT),
        (2, 4, TicketStatus.RESOLVED, 2, 0, False, True, TicketType.COMPLAINT),
        (3, 6, TicketStatus.RESOLVED, 1, 1, False, False, TicketType.REQUEST),
        (4, 8, TicketStatus.CLOSED, 0, 0, False, False, TicketType.COMPLAINT),
        (10, None, TicketStatus.OPEN, 1, 1, True, False, TicketType.QUESTION),
    ]
    tickets = []
    for fr, res, status, replies, reopens, fr_breach, res_breach, kind in spec:
        tickets.append(
            make_ticket(
                opened=opened,
                owner=agent if fr < 4 else agent_same_team,
                status=status,
                type=kind,
                first_responded_at=opened + fr * HOUR,
                resolved_at=opened + res * HOUR if res else None,
                reply_count=replies,
                reopen_count=reopens,
                first_response_breached=fr_breach,
                resolution_breached=res_breach,
                **base,
            )
        )
    return tickets


def test_medians_and_p90(known, agent, today):
    start, end = period_range(30, today)
    report = service_metrics(actor=agent, start=start, end=end, use_cache=False)
    assert report["first_response_hours"] == {"count": 5, "median": 3.0, "p90": 7.6}
    assert report["resolution_hours"] == {"count": 4, "median": 5.0, "p90": 7.4}


def test_first_contact_reopen_and_compliance(known, agent, today):
    start, end = period_range(30, today)
    report = service_metrics(actor=agent, start=start, end=end, use_cache=False)
    assert report["first_contact_resolution"] == {"resolved": 4, "first_contact": 2, "share": 0.5}
    assert report["reopen"] == {"resolved": 5, "reopened": 2, "rate": 0.4}
    # Resolution: four resolved under a policy, one breached.
    assert report["sla"]["resolution"] == {"measured": 4, "met": 3, "share": 0.75}
    # First response: all five answered under a policy, one breached.
    assert report["sla"]["first_response"] == {"measured": 5, "met": 4, "share": 0.8}
    assert report["summary"]["opened"] == 5
    assert report["summary"]["complaints"] == 3
    assert report["summary"]["open"] == 1


def test_complaints_per_day_fills_every_day(known, agent, today, opened):
    start, end = period_range(30, today)
    report = service_metrics(actor=agent, start=start, end=end, use_cache=False)
    days = report["complaints_per_day"]
    assert len(days) == 30
    assert days[0]["day"] == start and days[-1]["day"] == end
    by_day = {d["day"]: d["count"] for d in days}
    assert by_day[opened.date()] == 3
    assert sum(by_day.values()) == 3


def test_the_local_day_decides(known, agent, today, opened):
    """10:00 UTC is already the next day at UTC+14: the day follows the actor's time zone."""
    agent.time_zone = "Pacific/Kiritimati"  # UTC+14: 10:00 UTC is 00:00 the next day
    agent.save(update_fields=["time_zone"])
    start, end = period_range(30, today + datetime.timedelta(days=1))
    report = service_metrics(actor=agent, start=start, end=end, use_cache=False)
    by_day = {d["day"]: d["count"] for d in report["complaints_per_day"]}
    assert by_day[opened.date() + datetime.timedelta(days=1)] == 3
    assert by_day[opened.date()] == 0


def test_out_of_period_and_merged_tickets_do_not_count(known, agent, team, today, opened):
    make_ticket(opened=opened - datetime.timedelta(days=60), team=team, owner=agent)
    make_ticket(opened=opened, team=team, owner=agent, merged_into=known[0])
    start, end = period_range(30, today)
    report = service_metrics(actor=agent, start=start, end=end, use_cache=False)
    assert report["summary"]["opened"] == 5
    longer = service_metrics(
        actor=agent, start=today - datetime.timedelta(days=89), end=today, use_cache=False
    )
    assert longer["summary"]["opened"] == 6


def test_per_agent_and_per_team(known, agent, agent_same_team, team, today):
    start, end = period_range(30, today)
    report = service_metrics(actor=agent, start=start, end=end, use_cache=False)
    agents = {row["id"]: row for row in report["by_agent"]}
    mine = agents[agent.pk]
    assert mine["name"] == "Zeynep Agent"
    assert mine["opened"] == 3 and mine["resolved"] == 3
    assert mine["first_contact_share"] == round(1 / 3, 4)
    assert mine["sla_compliance"] == round(2 / 3, 4)
    assert mine["mean_resolution_hours"] == 4.0
    theirs = agents[agent_same_team.pk]
    assert theirs["opened"] == 2 and theirs["resolved"] == 1
    assert theirs["reopen_rate"] == 0.5
    assert theirs["mean_resolution_hours"] == 8.0
    assert report["by_team"] == [
        {
            "id": team.pk,
            "name": "North",
            "opened": 5,
            "complaints": 3,
            "resolved": 4,
            "first_contact_share": 0.5,
            "reopen_rate": 0.4,
            "sla_compliance": 0.75,
            "mean_resolution_hours": 5.0,
        }
    ]


def test_filter_by_agent(known, agent, agent_same_team, today):
    start, end = period_range(30, today)
    report = service_metrics(
        actor=agent, start=start, end=end, owner_id=agent_same_team.pk, use_cache=False
    )
    assert report["summary"]["opened"] == 2
    assert report["first_response_hours"]["median"] == 7.0  # 4 and 10 hours
    assert report["resolution_hours"] == {"count": 1, "median": 8.0, "p90": 8.0}


def test_filter_by_team(known, agent, other_team, today):
    start, end = period_range(30, today)
    report = service_metrics(
        actor=agent, start=start, end=end, team_id=other_team.pk, use_cache=False
    )
    assert report["summary"]["opened"] == 0
    assert report["first_response_hours"] == {"count": 0, "median": None, "p90": None}
    assert report["first_contact_resolution"]["share"] is None
    assert report["sla"]["resolution"]["share"] is None


def test_high_value_open_complaints_and_open_matrix(db, agent, team, customer, opened, today):
    wanted = make_ticket(
        opened=opened,
        team=team,
        owner=agent,
        customer=customer,
        type=TicketType.COMPLAINT,
        status=TicketStatus.WAITING,
        priority=TicketPriority.HIGH,
        value_class="A",
        subject="<b>Late</b>",
    )
    make_ticket(opened=opened, team=team, type=TicketType.COMPLAINT, value_class="B")
    make_ticket(
        opened=opened, team=team, type=TicketType.COMPLAINT, value_class="A",
        status=TicketStatus.RESOLVED,
    )  # fmt: skip
    make_ticket(opened=opened, team=team, type=TicketType.QUESTION, value_class="A")
    start, end = period_range(30, today)
    report = service_metrics(actor=agent, start=start, end=end, use_cache=False)
    rows = report["high_value_open_complaints"]
    assert [r["id"] for r in rows] == [wanted.pk]
    assert rows[0]["customer_name"] == "Ayşe Yılmaz"
    assert rows[0]["subject"] == "<b>Late</b>"
    matrix = {(r["status"], r["priority"]): r["count"] for r in report["open_by_status_priority"]}
    assert matrix == {("waiting", "high"): 1, ("new", "normal"): 2}


def test_top_categories(db, agent, team, opened, today):
    root = Category.objects.create(name="Delivery", path="Delivery")
    late = Category.objects.create(name="Late", parent=root, path="Delivery › Late")
    for _ in range(3):
        make_ticket(opened=opened, team=team, category=late, type=TicketType.COMPLAINT)
    make_ticket(opened=opened, team=team, category=root)
    make_ticket(opened=opened, team=team)
    start, end = period_range(30, today)
    report = service_metrics(actor=agent, start=start, end=end, use_cache=False)
    rows = report["top_categories"]
    assert rows[0] == {
        "category_id": late.pk,
        "label": "Delivery › Late",
        "count": 3,
        "complaints": 3,
    }
    assert {r["category_id"] for r in rows[1:]} == {root.pk, None}


def test_returns_per_month_and_change(db, agent, customer, today):
    noon = datetime.datetime.combine(today, datetime.time(12), tzinfo=UTC)
    for days in (1, 2, 3):
        make_return(customer=customer, owner=agent, opened=noon - datetime.timedelta(days=days))
    make_return(customer=customer, owner=agent, opened=noon - datetime.timedelta(days=40))
    make_return(customer=customer, owner=agent, opened=noon - datetime.timedelta(days=45))
    make_return(customer=customer, owner=agent, opened=noon - datetime.timedelta(days=400))
    start, end = period_range(30, today)
    returns = service_metrics(actor=agent, start=start, end=end, use_cache=False)["returns"]
    assert returns["total"] == 3
    assert returns["previous_total"] == 2
    assert returns["change"] == 0.5
    assert sum(m["count"] for m in returns["months"]) == 3
    assert returns["months"][0]["month"] == start.replace(day=1)
    assert returns["previous_end"] == start - datetime.timedelta(days=1)


def test_sales_rep_sees_own_team_only(known, other_team, opened, today):
    """A sales rep's ticket scope is their team: another team's tickets are left out."""
    rep = UserFactory(role=Role.SALES_REP, team=other_team)
    make_ticket(opened=opened, team=other_team, type=TicketType.COMPLAINT)
    start, end = period_range(30, today)
    report = service_metrics(actor=rep, start=start, end=end, use_cache=False)
    assert report["summary"]["opened"] == 1
    assert report["scope"] == "team"
    agent_view = service_metrics(
        actor=UserFactory(role=Role.SERVICE_AGENT, team=other_team),
        start=start,
        end=end,
        use_cache=False,
    )
    assert agent_view["summary"]["opened"] == 6  # agents read every ticket


def test_admin_sees_everything(known, admin_user, other_team, opened, today):
    make_ticket(opened=opened, team=other_team)
    start, end = period_range(30, today)
    report = service_metrics(actor=admin_user, start=start, end=end, use_cache=False)
    assert report["summary"]["opened"] == 6


def test_inactive_user_is_refused(db, agent, today):
    agent.is_active = False
    agent.save(update_fields=["is_active"])
    with pytest.raises(NotFound):
        service_metrics(actor=agent, start=today, end=today)


def test_reversed_and_too_long_ranges_are_tamed(known, agent, today):
    start, end = period_range(30, today)
    swapped = service_metrics(actor=agent, start=end, end=start, use_cache=False)
    assert (swapped["start"], swapped["end"]) == (start, end)
    long = service_metrics(actor=agent, start=datetime.date(1990, 1, 1), end=today, use_cache=False)
    assert (long["end"] - long["start"]).days == 3 * 366


def test_cached_until_the_cache_expires(known, agent, team, opened, today):
    start, end = period_range(30, today)
    first = service_metrics(actor=agent, start=start, end=end)
    assert first["cached"] is False
    make_ticket(opened=opened, team=team)
    again = service_metrics(actor=agent, start=start, end=end)
    assert again["cached"] is True
    assert again["summary"]["opened"] == first["summary"]["opened"]
    fresh = service_metrics(actor=agent, start=start, end=end, use_cache=False)
    assert fresh["summary"]["opened"] == first["summary"]["opened"] + 1


def test_percentiles_of_one_and_even_counts(known):
    tickets = Ticket.objects.filter(pk__in=[t.pk for t in known[:2]])
    result = percentiles(tickets, "created_at", "first_responded_at", 2, (0.0, 0.5, 1.0))
    assert result == {0.0: 1.0, 0.5: 1.5, 1.0: 2.0}
    one = Ticket.objects.filter(pk=known[4].pk)
    assert percentiles(one, "created_at", "first_responded_at", 1) == {0.5: 10.0, 0.9: 10.0}
    with pytest.raises(ValueError):
        from vefa.service.selectors.metrics import PercentileCont

        PercentileCont("id", 1.5)


def test_query_count_does_not_grow_with_tickets(known, agent, team, opened, today):
    start, end = period_range(30, today)
    with CaptureQueriesContext(connection) as small:
        service_metrics(actor=agent, start=start, end=end, use_cache=False)
    for i in range(30):
        make_ticket(opened=opened + i * HOUR, team=team, owner=agent, type=TicketType.COMPLAINT)
    with CaptureQueriesContext(connection) as large:
        service_metrics(actor=agent, start=start, end=end, use_cache=False)
    assert len(large) == len(small)
    assert len(small) <= 20
