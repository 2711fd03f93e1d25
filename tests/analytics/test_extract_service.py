"""The help desk in the analytical store: tickets, returns, return lines, survey answers."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

import pyarrow.parquet as pq
import pytest
from django.utils import timezone

from tests.customers.factories import make_customer
from tests.factories import UserFactory
from tests.service.conftest import HOSTILE
from tests.service.returns_helpers import make_order, make_product
from vefa.accounts.choices import Role
from vefa.analytics import extract
from vefa.analytics.engine import day_number
from vefa.analytics.store import Store
from vefa.platform.records import record_delete
from vefa.sales.models import ExchangeRate
from vefa.service.models import (
    Category,
    Queue,
    ReturnLine,
    ReturnRequest,
    SurveyInvitation,
    Ticket,
)
from vefa.service.services import surveys
from vefa.service.services.returns import return_advance, return_cancel, return_create
from vefa.service.services.tickets import (
    ticket_create,
    ticket_merge,
    ticket_message_add,
    ticket_set_status,
)

pytestmark = pytest.mark.django_db
UTC = datetime.UTC


@pytest.fixture(autouse=True)
def _business_settings(settings):
    settings.TIME_ZONE = "Europe/Istanbul"
    settings.VEFA_ANALYTICS_CURRENCY = "TRY"


@pytest.fixture
def store(tmp_path) -> Store:
    return Store(tmp_path / "analytics", overlap=0)


@pytest.fixture
def agent(db, team):
    return UserFactory(role=Role.SERVICE_AGENT, team=team)


@pytest.fixture
def queue(db, team) -> Queue:
    return Queue.objects.create(name="Support", team=team, is_default=True)


@pytest.fixture
def customer(agent, team):
    return make_customer(
        owner=agent, team=team, first_name="Ayşe", last_name="Yılmaz", primary_email="a@example.com"
    )


@pytest.fixture
def delivery(db) -> Category:
    return Category.objects.create(name="Late", path="Delivery › Late")


def rows(store: Store, table: str, key: str) -> list[dict[str, Any]]:
    return sorted(pq.read_table(store.path(table)).to_pylist(), key=lambda r: r[key])


def local_day(moment: datetime.datetime) -> int:
    return day_number(timezone.localtime(moment).date())


def open_ticket(agent, customer, **data: Any) -> Ticket:
    values = {"subject": "Kargo gecikti", "customer": customer.pk, **data}
    return ticket_create(actor=agent, data=values)


def answer(ticket: Ticket, score: int) -> SurveyInvitation:
    invitation = surveys.csat_request(ticket_id=ticket.pk)
    assert invitation is not None
    # The token the e-mail task would issue.
    token, hashed = surveys._new_token()
    SurveyInvitation.objects.filter(pk=invitation.pk).update(token_hash=hashed)
    return surveys.survey_answer(token=token, score=str(score))


def walk(agent, rr: ReturnRequest, refund: str = "120.00") -> ReturnRequest:
    steps = {
        "approved": {},
        "pickup": {"carrier": "Aras Kargo", "tracking_number": "AR123"},
        "in_transit": {},
        "received": {"storage_location": "Depo A-3"},
        "inspected": {"inspection_notes": "Broken", "disposition": "refund"},
        "completed": {"refund_amount": refund},
    }
    for status, data in steps.items():
        rr = return_advance(actor=agent, return_id=rr.pk, status=status, data=data)
    return rr


def ask_return(agent, order, quantity: str = "1", **data: Any) -> ReturnRequest:
    line = order.lines.order_by("position").first()
    return return_create(
        actor=agent,
        data={"order": order.pk, "reason": "defective", **data},
        lines=[{"order_line": line.pk, "quantity": quantity}],
    )


# --- columns and values ---------------------------------------------------------------------------


def test_ticket_columns_times_and_flags(store, agent, customer, queue, delivery):
    ticket = open_ticket(
        agent, customer, type="complaint", channel="email", category=delivery.pk, priority="high"
    )
    opened = ticket.created_at
    Ticket.objects.filter(pk=ticket.pk).update(
        created_at=opened - datetime.timedelta(hours=5),
        first_response_due_at=opened - datetime.timedelta(hours=4),
    )
    ticket_message_add(actor=agent, ticket_id=ticket.pk, kind="reply", body="Bakıyoruz")
    ticket_set_status(actor=agent, ticket_id=ticket.pk, status="resolved")
    ticket.refresh_from_db()
    store.extract()
    (row,) = rows(store, "tickets", "ticket_id")
    assert row["ticket_id"] == ticket.pk and row["customer_id"] == customer.pk
    assert row["number"] == ticket.number
    assert (row["type"], row["channel"], row["priority"]) == ("complaint", "email", "high")
    assert (row["category_id"], row["category"]) == (delivery.pk, "Delivery › Late")
    assert row["status"] == "resolved"
    assert row["day"] == local_day(ticket.created_at)
    assert row["resolved_day"] == local_day(ticket.resolved_at)
    assert row["closed_day"] is None
    minutes = int((ticket.first_responded_at - ticket.created_at).total_seconds() // 60)
    assert row["first_response_minutes"] == minutes >= 299
    resolution = int((ticket.resolved_at - ticket.created_at).total_seconds() // 60)
    assert row["resolution_minutes"] == resolution
    assert row["reply_count"] == ticket.reply_count == 1
    assert row["reopen_count"] == 0
    # Answered after its due time: breached, even where the flag was never set.
    assert row["first_response_breached"] is True
    assert row["queue_id"] == queue.pk and row["owner_id"] == ticket.owner_id
    assert row["merged_into_id"] is None
    assert "updated_at" not in row


def test_a_ticket_without_customer_and_one_still_open(store, agent, queue, customer):
    ticket = ticket_create(
        actor=agent, data={"subject": " | ".join(HOSTILE)[:300], "requester_email": "x@example.com"}
    )
    still_open = open_ticket(agent, customer)
    store.extract()
    found = {r["ticket_id"]: r for r in rows(store, "tickets", "ticket_id")}
    assert found[ticket.pk]["customer_id"] is None
    assert found[ticket.pk]["category"] == "" and found[ticket.pk]["category_id"] is None
    open_row = found[still_open.pk]
    assert open_row["resolved_day"] is None and open_row["resolution_minutes"] is None
    assert open_row["first_response_minutes"] is None
    assert open_row["first_response_breached"] is False
    assert open_row["resolution_breached"] is False


def test_return_and_line_columns_with_the_refund_in_cents(store, agent, customer, queue):
    product = make_product()
    order = make_order(customer, [(product, "3", "100"), (None, "2", "50")])
    ticket = open_ticket(agent, customer, type="return_request")
    rr = walk(agent, ask_return(agent, order, "2", ticket=ticket.pk), refund="240.00")
    store.extract()
    (head,) = rows(store, "returns", "return_id")
    assert head["return_id"] == rr.pk and head["number"] == rr.number
    assert (head["customer_id"], head["order_id"], head["ticket_id"]) == (
        customer.pk,
        order.pk,
        ticket.pk,
    )
    assert (head["status"], head["reason"], head["disposition"]) == (
        "completed",
        "defective",
        "refund",
    )
    assert head["refund"] == 24000 and head["currency"] == "TRY"
    assert head["day"] == local_day(rr.created_at)
    assert head["received_day"] == local_day(rr.received_at)
    assert head["completed_day"] == local_day(rr.completed_at)
    (line,) = rows(store, "return_lines", "return_line_id")
    stored = ReturnLine.objects.get(return_request=rr)
    assert line["return_line_id"] == stored.pk and line["return_id"] == rr.pk
    assert line["order_line_id"] == stored.order_line_id
    assert (line["product_id"], line["quantity"]) == (product.pk, 2.0)
    # A line without its own reason carries the return's.
    assert line["reason"] == "defective"
    assert line["status"] == "completed" and line["customer_id"] == customer.pk


def test_a_refund_in_another_currency_is_converted_on_the_return_day(store, agent, customer, queue):
    order = make_order(customer, [(make_product(), "1", "100")], currency="EUR")
    ExchangeRate.objects.create(
        currency="EUR",
        quote_currency="TRY",
        rate=Decimal("35.5"),
        day=datetime.date(2020, 1, 1),
    )
    rr = walk(agent, ask_return(agent, order), refund="10.00")
    assert rr.currency == "EUR"
    result = store.extract()
    (head,) = rows(store, "returns", "return_id")
    assert head["refund"] == 35500 and head["currency"] == "EUR"
    assert "EUR" not in result.missing_currencies


def test_survey_answers_only_once_answered(store, agent, customer, queue):
    ticket = open_ticket(agent, customer)
    waiting = surveys.csat_request(ticket_id=ticket.pk)
    assert waiting is not None
    store.extract()
    assert rows(store, "survey_answers", "answer_id") == []
    answered = answer(ticket, 4)
    second = store.extract()
    assert second.counts["survey_answers"] == 1
    (row,) = rows(store, "survey_answers", "answer_id")
    assert (row["answer_id"], row["customer_id"], row["ticket_id"]) == (
        answered.pk,
        customer.pk,
        ticket.pk,
    )
    assert (row["kind"], row["score"]) == ("csat", 4.0)
    assert row["day"] == local_day(answered.responded_at)


# --- incremental runs -----------------------------------------------------------------------------


def test_created_changed_and_deleted_between_runs(store, agent, customer, queue):
    first = open_ticket(agent, customer, type="complaint")
    second = open_ticket(agent, customer, type="question")
    order = make_order(customer, [(make_product(), "3", "100")])
    kept = ask_return(agent, order)
    gone = ask_return(agent, order)
    one = store.extract()
    assert one.counts["tickets"] == 2 and one.counts["returns"] == 2
    assert one.counts["return_lines"] == 2

    quiet = store.extract()
    assert {quiet.counts[t] for t in ("tickets", "returns", "return_lines")} == {0}

    ticket_set_status(actor=agent, ticket_id=first.pk, status="resolved")
    third = open_ticket(agent, customer, type="request")
    record_delete(Ticket.objects.get(pk=second.pk), actor=agent)
    return_cancel(actor=agent, return_id=kept.pk, note="Vazgeçti")
    record_delete(ReturnRequest.objects.get(pk=gone.pk), actor=agent)
    run = store.extract()
    assert not run.full
    assert run.counts["tickets"] == 2  # the resolved one and the new one
    assert run.deleted["tickets"] == 1
    assert run.counts["returns"] == 1 and run.deleted["returns"] == 1
    # The cancelled return's line is read again with it; the deleted return's line goes.
    assert run.counts["return_lines"] == 1
    tickets = {r["ticket_id"]: r for r in rows(store, "tickets", "ticket_id")}
    assert set(tickets) == {first.pk, third.pk}
    assert tickets[first.pk]["status"] == "resolved"
    assert tickets[first.pk]["resolved_day"] is not None
    returns = rows(store, "returns", "return_id")
    assert [(r["return_id"], r["status"]) for r in returns] == [(kept.pk, "cancelled")]
    lines = rows(store, "return_lines", "return_line_id")
    assert [(r["return_id"], r["status"]) for r in lines] == [(kept.pk, "cancelled")]

    fresh = Store(store.root.parent / "fresh", overlap=0)
    fresh.extract()
    for table, key in (
        ("tickets", "ticket_id"),
        ("returns", "return_id"),
        ("return_lines", "return_line_id"),
    ):
        assert rows(fresh, table, key) == rows(store, table, key), table


def test_a_changed_return_line_replaces_the_lines_of_its_return(store, agent, customer, queue):
    order = make_order(customer, [(make_product(), "3", "100")])
    rr = ask_return(agent, order, "1")
    store.extract()
    line = ReturnLine.objects.get(return_request=rr)
    ReturnLine.objects.filter(pk=line.pk).update(
        quantity=Decimal("2"), reason="wrong_item", updated_at=timezone.now()
    )
    run = store.extract()
    assert run.counts["return_lines"] == 1 and run.counts["returns"] == 0
    (row,) = rows(store, "return_lines", "return_line_id")
    assert (row["quantity"], row["reason"]) == (2.0, "wrong_item")


def test_merged_ticket_and_deleted_survey_answers(store, agent, customer, queue):
    kept = open_ticket(agent, customer)
    duplicate = open_ticket(agent, customer)
    answered = answer(kept, 5)
    store.extract()
    ticket_merge(actor=agent, source_id=duplicate.pk, target_id=kept.pk)
    record_delete(SurveyInvitation.objects.get(pk=answered.pk), actor=None)
    run = store.extract()
    assert run.deleted["survey_answers"] == 1
    assert rows(store, "survey_answers", "answer_id") == []
    tickets = {r["ticket_id"]: r for r in rows(store, "tickets", "ticket_id")}
    assert tickets[duplicate.pk]["merged_into_id"] == kept.pk
    assert tickets[duplicate.pk]["status"] == "closed"


@pytest.mark.parametrize("table", ["tickets", "return_lines", "survey_answers"])
def test_a_run_that_dies_while_reading_the_help_desk_is_redone_cleanly(
    table, store, monkeypatch, agent, customer, queue
):
    ticket = open_ticket(agent, customer, type="complaint")
    order = make_order(customer, [(make_product(), "3", "100")])
    rr = ask_return(agent, order)
    store.extract()
    manifest = store.manifest
    before = {t: rows(store, t, "customer_id") for t in ("tickets", "returns", "return_lines")}

    ticket_set_status(actor=agent, ticket_id=ticket.pk, status="resolved")
    walk(agent, rr)
    answer(ticket, 3)
    open_ticket(agent, customer, type="question")

    class Killed(Exception):
        pass

    real_advance = extract.advance

    def advance(source, marks, raw):
        if source.name == table:
            raise Killed
        return real_advance(source, marks, raw)

    monkeypatch.setattr(extract, "advance", advance)
    with pytest.raises(Killed):
        store.extract()
    monkeypatch.undo()
    assert store.manifest == manifest
    assert {t: rows(store, t, "customer_id") for t in before} == before

    again = store.extract()
    assert again.run == 2 and not again.full
    listed = {name for t in store.manifest["tables"].values() for name in t["parts"] + t["deletes"]}
    on_disk = {p.name for p in (store.root / "parts").rglob("*") if p.is_file()}
    assert on_disk == listed
    fresh = Store(store.root.parent / "fresh", overlap=0)
    fresh.extract()
    for name, key in (
        ("tickets", "ticket_id"),
        ("returns", "return_id"),
        ("return_lines", "return_line_id"),
        ("survey_answers", "answer_id"),
    ):
        assert rows(store, name, key) == rows(fresh, name, key), name
    assert len(rows(store, "tickets", "ticket_id")) == 2
    assert len(rows(store, "survey_answers", "answer_id")) == 1


def test_an_older_store_is_read_again_in_full(store, agent, customer, queue):
    open_ticket(agent, customer)
    store.extract()
    manifest = store.manifest
    manifest["format"] = 1
    (store.root / "manifest.json").write_text(__import__("json").dumps(manifest))
    run = store.extract()
    assert run.full and run.reason == "format"
    assert run.counts["tickets"] == 1


def test_complaint_interactions_written_by_tickets_are_marked(store, agent, customer, queue):
    from vefa.interactions.services.interactions import interaction_create

    open_ticket(agent, customer, type="complaint")
    interaction_create(actor=agent, customer_id=customer.pk, kind="complaint", subject="Phone")
    store.extract()
    found = sorted(
        (r["kind"], r["from_ticket"]) for r in rows(store, "interactions", "interaction_id")
    )
    assert found == [("complaint", False), ("complaint", True)]


def test_copy_and_cursor_reading_agree_on_postgresql(tmp_path, agent, customer, queue):
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("COPY is PostgreSQL's")
    ticket = open_ticket(agent, customer, subject=" | ".join(HOSTILE)[:300])
    ticket_set_status(actor=agent, ticket_id=ticket.pk, status="resolved")
    order = make_order(customer, [(make_product(), "3", "100")])
    walk(agent, ask_return(agent, order, "1.5"))
    answer(ticket, 2)
    by_copy = Store(tmp_path / "copy", overlap=0, use_copy=True)
    by_cursor = Store(tmp_path / "cursor", overlap=0, use_copy=False)
    by_copy.extract()
    by_cursor.extract()
    for name, key in (
        ("tickets", "ticket_id"),
        ("returns", "return_id"),
        ("return_lines", "return_line_id"),
        ("survey_answers", "answer_id"),
    ):
        assert rows(by_copy, name, key) == rows(by_cursor, name, key), name
        assert rows(by_copy, name, key), name
