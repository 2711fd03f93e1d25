"""The refresh on known tickets, returns and answers: signals, service cost, satisfaction."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

import pyarrow.parquet as pq
import pytest

from tests.customers.factories import make_customer
from tests.factories import UserFactory
from tests.service.returns_helpers import make_order, make_product
from vefa.accounts.choices import Role
from vefa.analytics import refresh as refresh_module
from vefa.analytics.engine import day_number
from vefa.analytics.models import AnalyticsSettings, CustomerScore, Refresh
from vefa.interactions.models import Interaction
from vefa.interactions.services.interactions import interaction_create
from vefa.service.models import Queue, ReturnRequest, SurveyInvitation, Ticket
from vefa.service.services import surveys
from vefa.service.services.returns import return_advance, return_cancel, return_create
from vefa.service.services.tickets import ticket_create, ticket_merge, ticket_set_status

pytestmark = pytest.mark.django_db

UTC = datetime.UTC
AS_OF = datetime.date(2026, 11, 1)
DAY = day_number(AS_OF)


@pytest.fixture(autouse=True)
def _store(settings, tmp_path):
    settings.ANALYTICS_DIR = tmp_path / "analytics"
    settings.VEFA_ANALYTICS_OVERLAP_SECONDS = 0
    settings.TIME_ZONE = "Europe/Istanbul"


def when(days_before: int, hour: int = 9) -> datetime.datetime:
    day = AS_OF - datetime.timedelta(days=days_before)
    return datetime.datetime(day.year, day.month, day.day, hour, 0, tzinfo=UTC)


def ticket(agent, customer, kind: str, opened: int, resolved: int | None = None) -> Ticket:
    made = ticket_create(
        actor=agent, data={"subject": "Kargo", "customer": customer.pk, "type": kind}
    )
    if resolved is not None:
        ticket_set_status(actor=agent, ticket_id=made.pk, status="resolved")
    Ticket.objects.filter(pk=made.pk).update(
        created_at=when(opened),
        resolved_at=None if resolved is None else when(resolved),
    )
    return made


def ask_return(agent, order, quantity: str, days_before: int) -> ReturnRequest:
    line = order.lines.order_by("position").first()
    made = return_create(
        actor=agent,
        data={"order": order.pk, "reason": "defective"},
        lines=[{"order_line": line.pk, "quantity": quantity}],
    )
    ReturnRequest.objects.filter(pk=made.pk).update(created_at=when(days_before))
    return made


def answer(on: Ticket, score: int, answered: datetime.datetime) -> None:
    invitation = surveys.csat_request(ticket_id=on.pk)
    assert invitation is not None
    token, hashed = surveys._new_token()
    SurveyInvitation.objects.filter(pk=invitation.pk).update(token_hash=hashed)
    surveys.survey_answer(token=token, score=str(score))
    SurveyInvitation.objects.filter(pk=invitation.pk).update(responded_at=answered)


@pytest.fixture
def desk(team) -> dict[str, Any]:
    options = AnalyticsSettings.current()
    AnalyticsSettings.objects.filter(pk=options.pk).update(
        cost_per_ticket=Decimal("10.00"),
        cost_per_return=Decimal("25.00"),
        cost_per_activity=Decimal("0"),
        cost_per_message=Decimal("0"),
    )
    agent = UserFactory(role=Role.SERVICE_AGENT, team=team)
    Queue.objects.create(name="Support", team=team, is_default=True)
    ayse = make_customer(owner=agent, team=team, first_name="Ayşe", primary_email="a@example.com")
    mehmet = make_customer(
        owner=agent, team=team, first_name="Mehmet", primary_email="m@example.com"
    )
    coffee = make_product()
    bought = make_order(ayse, [(coffee, "10", "100")], ordered_at=when(30))
    make_order(mehmet, [(coffee, "5", "100")], ordered_at=when(40))

    late = ticket(agent, ayse, "complaint", opened=10, resolved=7)
    broken = ticket(agent, ayse, "complaint", opened=20, resolved=19)
    ticket(agent, ayse, "question", opened=5)
    duplicate = ticket(agent, ayse, "complaint", opened=10)
    ticket_merge(actor=agent, source_id=duplicate.pk, target_id=late.pk)
    old = ticket(agent, mehmet, "complaint", opened=200, resolved=100)
    # A complaint ticket's first message is a complaint in the contact history too; it
    # falls in the window here, and must not be paid for twice.
    Interaction.objects.filter(related_model="service.ticket").update(occurred_at=when(10))
    interaction_create(
        actor=agent, customer_id=mehmet.pk, kind="complaint", subject="Phone", occurred_at=when(3)
    )

    ask_return(agent, bought, "2", days_before=15)
    rejected = ask_return(agent, bought, "1", days_before=14)
    return_advance(actor=agent, return_id=rejected.pk, status="rejected", data={"note": "Late"})
    cancelled = ask_return(agent, bought, "1", days_before=13)
    return_cancel(actor=agent, return_id=cancelled.pk, note="Vazgeçti")

    answer(late, 4, when(22))  # 10 October
    answer(broken, 2, when(20))  # 12 October
    answer(old, 5, when(45))  # 17 September
    return {"ayse": ayse, "mehmet": mehmet, "coffee": coffee}


def run() -> Refresh:
    row = Refresh.objects.create(as_of=AS_OF)
    refresh_module.run(row)
    row.refresh_from_db()
    assert row.status == Refresh.Status.DONE, row.error
    return row


def result(name: str) -> list[dict[str, Any]]:
    folder = refresh_module.latest_results()
    assert folder is not None
    return pq.read_table(folder / f"{name}.parquet").to_pylist()


def test_service_signals_from_known_tickets_and_returns(desk):
    refresh = run()
    assert "service" in refresh.figures["seconds"]
    assert result("complaints_per_day") == [
        {"day": DAY - 20, "complaints": 1},
        {"day": DAY - 10, "complaints": 1},  # the merged duplicate is not counted
    ]
    by_type = {row["type"]: row for row in result("resolution")}
    assert set(by_type) == {"complaint", "question"}  # the old complaint is out of the quarter
    complaint = by_type["complaint"]
    assert (complaint["tickets"], complaint["resolved"]) == (2, 2)
    assert complaint["share_resolved"] == 1.0
    assert complaint["mean_days_to_resolve"] == complaint["median_days_to_resolve"] == 2.0
    question = by_type["question"]
    assert (question["tickets"], question["resolved"], question["share_resolved"]) == (1, 0, 0.0)
    assert question["median_days_to_resolve"] is None
    # Sold 10 + 5; returned 2 (the rejected and the cancelled ones brought nothing back).
    (rate,) = result("return_rates")
    assert rate["product_id"] == desk["coffee"].pk
    assert (rate["returned_quantity"], rate["sold_quantity"]) == (2.0, 15.0)
    assert rate["return_rate"] == pytest.approx(2 / 15)
    (reason,) = result("return_reasons")
    assert reason["reason"] == "defective" and reason["return_rate"] == pytest.approx(2 / 15)


def test_service_cost_and_counts_per_customer(desk):
    run()
    scores = {s.customer_id: s for s in CustomerScore.objects.all()}
    ayse = scores[desk["ayse"].pk].reasons
    # Three tickets (the duplicate merged away) and two returns (the cancelled one never
    # happened; the rejected one was handled); the tickets' complaint messages add nothing.
    assert (ayse["tickets_12m"], ayse["complaints_12m"], ayse["returns_12m"]) == (3, 2, 2)
    assert ayse["service_cost"] == 3 * 1000 + 2 * 2500
    mehmet = scores[desk["mehmet"].pk].reasons
    assert (mehmet["tickets_12m"], mehmet["complaints_12m"], mehmet["returns_12m"]) == (1, 1, 0)
    # His ticket and a complaint recorded by hand in the contact history.
    assert mehmet["service_cost"] == 1000 + 1000
    margin = scores[desk["ayse"].pk].margin
    assert margin is not None
    assert margin * 100 == ayse["gross_margin"] - ayse["service_cost"]


def test_satisfaction_kpi_from_the_csat_answers(desk):
    run()
    kpis = {row["kpi"]: row for row in result("kpis")}
    satisfaction = kpis["satisfaction_change"]
    assert satisfaction["current"] == 3.0  # October: 4 and 2
    assert satisfaction["previous"] == 5.0  # September
    assert satisfaction["change"] == pytest.approx(-0.4)


def test_a_refresh_without_any_help_desk_data_still_runs(team, admin_user):
    customer = make_customer(owner=admin_user, team=team)
    make_order(customer, [(make_product(), "1", "100")], ordered_at=when(10))
    run()
    assert result("complaints_per_day") == []
    assert result("return_rates") == []
    (resolution,) = result("resolution") or [None]
    assert resolution is None
    score = CustomerScore.objects.get(customer=customer)
    assert score.reasons["service_cost"] == 0
    assert score.reasons.get("tickets_12m") is None


def test_the_signals_on_the_store_tables_agree_on_both_engines(desk, parity):
    from vefa.analytics.metrics import signals
    from vefa.analytics.store import Store

    store = Store()
    store.extract()
    table = {name: pq.read_table(store.path(name)) for name in ("tickets", "return_lines", "lines")}
    complaints = parity(
        signals.complaints_per_day, {"tickets": table["tickets"]}, sort=["day"], as_of_day=DAY
    )
    # The store's table holds the merged duplicate; the refresh leaves it out.
    assert sum(complaints.column("complaints").to_pylist()) == 3
    resolution = parity(
        signals.resolution,
        {"tickets": table["tickets"]},
        sort=["category", "type"],
        as_of_day=DAY,
        by=("category", "type"),
    )
    assert sum(resolution.column("tickets").to_pylist()) == 4
    rates = parity(
        signals.return_rates,
        {"returns": table["return_lines"], "lines": table["lines"]},
        sort=["reason"],
        as_of_day=DAY,
        by=("reason",),
    )
    # Every return line (the rejected and cancelled ones too: the refresh filters those).
    assert rates.column("returned_quantity").to_pylist() == [4.0]
    per_customer = parity(
        lambda tickets, returns: refresh_module._service_per_customer(
            tickets, returns, as_of_day=DAY
        ),
        {"tickets": table["tickets"], "returns": pq.read_table(store.path("returns"))},
        sort=["customer_id"],
    )
    assert per_customer.num_rows == 2
