"""Return services: the whole lifecycle, refused steps, quantities, refunds, bad input."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.customers.factories import make_customer
from tests.factories import UserFactory
from tests.service.conftest import HOSTILE
from tests.service.returns_helpers import make_order, make_product
from vefa.accounts.choices import Role
from vefa.common.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from vefa.customers.models import CustomerRelationship
from vefa.interactions.models import Interaction
from vefa.platform.models import ChangeLogEntry
from vefa.service.models import ReturnLine, ReturnRequest, Ticket
from vefa.service.services.returns import (
    FLOW,
    next_statuses,
    return_advance,
    return_cancel,
    return_create,
    returned_value,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def product():
    return make_product()


@pytest.fixture
def order(customer, product):
    # 3 × 100 + 20 % tax = 360.00; 2 × 50 + 20 % = 120.00.
    return make_order(customer, [(product, "3", "100"), (None, "2", "50")])


def _create(actor, order, quantities=None, **data):
    lines = list(order.lines.order_by("position"))
    quantities = quantities or ["1"]
    return return_create(
        actor=actor,
        data={"order": order.pk, "reason": "defective", **data},
        lines=[
            {"order_line": line.pk, "quantity": qty}
            for line, qty in zip(lines, quantities, strict=False)
            if qty
        ],
    )


def _walk(actor, rr, until):
    steps = {
        "approved": {},
        "pickup": {"carrier": "Aras Kargo", "tracking_number": "AR123"},
        "in_transit": {},
        "received": {"storage_location": "Depo A-3"},
        "inspected": {"inspection_notes": "Broken hinge", "disposition": "refund"},
        "completed": {"refund_amount": "120.00"},
    }
    order = list(steps)
    start = order.index(rr.status) + 1 if rr.status in order else 0
    for status in order[start:]:
        data = steps[status]
        rr = return_advance(actor=actor, return_id=rr.pk, status=status, data=data)
        if status == until:
            break
    return rr


def test_whole_lifecycle_stamps_logs_and_records_history(agent, customer, order):
    rr = _create(agent, order, ["1"], reason_detail="It stopped working")
    assert rr.number.startswith("R-")
    assert rr.status == "requested"
    assert rr.owner == agent and rr.team_id == agent.team_id
    assert rr.customer == customer and rr.currency == "TRY"
    line = rr.lines.get()
    assert line.quantity == Decimal("1.000") and line.product_id is not None

    rr = _walk(agent, rr, "completed")
    rr.refresh_from_db()
    assert rr.status == "completed"
    assert rr.carrier == "Aras Kargo" and rr.tracking_number == "AR123"
    assert rr.storage_location == "Depo A-3"
    assert rr.inspection_notes == "Broken hinge" and rr.disposition == "refund"
    assert rr.refund_amount == Decimal("120.00")
    for stamp in ("pickup_at", "received_at", "inspected_at", "completed_at"):
        assert getattr(rr, stamp) is not None
    assert rr.pickup_at <= rr.received_at <= rr.inspected_at <= rr.completed_at
    assert rr.lines.get().disposition == "refund"

    steps = Interaction.objects.filter(related_model="service.returnrequest", related_id=rr.pk)
    assert [i.external_id.rsplit(":", 1)[1] for i in steps.order_by("id")] == [
        "requested",
        "approved",
        "pickup",
        "in_transit",
        "received",
        "inspected",
        "completed",
    ]
    assert all(i.kind == "return" and i.customer_id == customer.pk for i in steps)
    assert steps.get(external_id__endswith=":completed").amount == Decimal("120.00")
    assert "It stopped working" in steps.get(external_id__endswith=":requested").body
    entries = ChangeLogEntry.objects.filter(model="service.returnrequest", object_id=rr.pk)
    assert entries.count() == 7  # created + six steps
    assert rr.version == 7


@pytest.mark.parametrize(
    ("reached", "refused"),
    [
        ("requested", ["pickup", "in_transit", "received", "inspected", "completed"]),
        ("approved", ["requested", "in_transit", "received", "rejected", "completed"]),
        ("pickup", ["approved", "received", "inspected", "rejected"]),
        ("in_transit", ["cancelled", "inspected", "completed", "rejected", "pickup"]),
        ("received", ["completed", "cancelled", "rejected", "in_transit"]),
        ("inspected", ["cancelled", "received", "approved"]),
        ("completed", ["cancelled", "rejected", "requested", "inspected"]),
    ],
)
def test_every_refused_transition(agent, order, reached, refused):
    rr = _create(agent, order)
    if reached != "requested":
        rr = _walk(agent, rr, reached)
    assert rr.status == reached
    for status in refused:
        assert status not in FLOW[reached]
        with pytest.raises(ValidationFailed) as exc:
            return_advance(actor=agent, return_id=rr.pk, status=status)
        assert "status" in exc.value.fields
    rr.refresh_from_db()
    assert rr.status == reached


def test_final_states_allow_nothing(agent, order):
    rejected = _create(agent, order)
    return_advance(actor=agent, return_id=rejected.pk, status="rejected", data={"note": "Late"})
    cancelled = _create(agent, order)
    return_cancel(actor=agent, return_id=cancelled.pk, note="Customer changed mind")
    for rr in (rejected, cancelled):
        rr.refresh_from_db()
        assert next_statuses(rr) == []
        for status in ("requested", "approved", "completed", "cancelled", "rejected"):
            with pytest.raises(ValidationFailed):
                return_advance(actor=agent, return_id=rr.pk, status=status)


def test_rejection_needs_a_reason_and_is_possible_after_inspection(agent, order):
    rr = _create(agent, order)
    with pytest.raises(ValidationFailed) as exc:
        return_advance(actor=agent, return_id=rr.pk, status="rejected")
    assert "note" in exc.value.fields
    rr = _walk(agent, rr, "inspected")
    rr = return_advance(
        actor=agent, return_id=rr.pk, status="rejected", data={"note": "Used, not defective"}
    )
    assert rr.status == "rejected"


def test_step_data_is_required_and_checked(agent, order):
    rr = _create(agent, order)
    rr = return_advance(actor=agent, return_id=rr.pk, status="approved")
    with pytest.raises(ValidationFailed) as exc:
        return_advance(actor=agent, return_id=rr.pk, status="pickup", data={"carrier": " "})
    assert "carrier" in exc.value.fields
    with pytest.raises(ValidationFailed) as exc:
        return_advance(
            actor=agent, return_id=rr.pk, status="pickup", data={"carrier": "X", "bogus": 1}
        )
    assert "bogus" in exc.value.fields
    with pytest.raises(ValidationFailed) as exc:
        return_advance(actor=agent, return_id=rr.pk, status="pickup", data={"carrier": 42})
    assert "carrier" in exc.value.fields
    with pytest.raises(ValidationFailed) as exc:
        return_advance(actor=agent, return_id=rr.pk, status="pickup", data={"carrier": "x" * 101})
    assert "carrier" in exc.value.fields
    rr = _walk(agent, rr, "in_transit")
    with pytest.raises(ValidationFailed) as exc:
        return_advance(actor=agent, return_id=rr.pk, status="received", data={})
    assert "storage_location" in exc.value.fields
    rr = return_advance(
        actor=agent, return_id=rr.pk, status="received", data={"storage_location": "B-1"}
    )
    for bad in ({"inspection_notes": "ok"}, {"inspection_notes": "ok", "disposition": "burn"}):
        with pytest.raises(ValidationFailed) as exc:
            return_advance(actor=agent, return_id=rr.pk, status="inspected", data=bad)
        assert "disposition" in exc.value.fields
    with pytest.raises(ValidationFailed) as exc:
        return_advance(
            actor=agent, return_id=rr.pk, status="inspected", data={"disposition": "restock"}
        )
    assert "inspection_notes" in exc.value.fields
    for bad_status in (None, 3, "flying", ["approved"]):
        with pytest.raises(ValidationFailed):
            return_advance(actor=agent, return_id=rr.pk, status=bad_status)  # type: ignore[arg-type]


def test_inspection_sets_each_lines_disposition(agent, order):
    rr = _create(agent, order, ["1", "2"])
    rr = _walk(agent, rr, "received")
    first, second = rr.lines.order_by("id")
    rr = return_advance(
        actor=agent,
        return_id=rr.pk,
        status="inspected",
        data={
            "inspection_notes": "One fine, one broken",
            "disposition": "restock",
            "lines": [{"id": second.pk, "disposition": "dispose", "condition": "Cracked"}],
        },
    )
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.disposition == "restock"
    assert second.disposition == "dispose" and second.condition == "Cracked"


def test_refund_never_above_the_returned_value(agent, order):
    # 2 of the 3 × 100 (+20 % tax) line: 240.00.
    rr = _create(agent, order, ["2"])
    assert returned_value(rr) == Decimal("240.00")
    rr = _walk(agent, rr, "inspected")
    for too_much in ("240.01", "240.006", "1000", "99999999999999999999"):
        with pytest.raises(ValidationFailed) as exc:
            return_advance(
                actor=agent, return_id=rr.pk, status="completed", data={"refund_amount": too_much}
            )
        assert "refund_amount" in exc.value.fields
    for bad in ("-1", "abc", 1.5, True, "NaN", "Infinity"):
        with pytest.raises(ValidationFailed) as exc:
            return_advance(
                actor=agent, return_id=rr.pk, status="completed", data={"refund_amount": bad}
            )
        assert "refund_amount" in exc.value.fields
    # A refund disposition needs an amount.
    with pytest.raises(ValidationFailed):
        return_advance(actor=agent, return_id=rr.pk, status="completed", data={})
    rr = return_advance(
        actor=agent, return_id=rr.pk, status="completed", data={"refund_amount": "240.004"}
    )
    assert rr.refund_amount == Decimal("240.00")


def test_refund_rounded_to_a_currency_without_decimals(agent, customer, product):
    order = make_order(customer, [(product, "1", "1000.40")], currency="IRR")
    rr = _create(agent, order, ["1"])
    rr = _walk(agent, rr, "inspected")
    # 1000.40 × 1.2 = 1200.48 → 1200 rial.
    assert returned_value(rr) == Decimal("1200")
    with pytest.raises(ValidationFailed):
        return_advance(
            actor=agent, return_id=rr.pk, status="completed", data={"refund_amount": "1200.6"}
        )
    rr = return_advance(
        actor=agent, return_id=rr.pk, status="completed", data={"refund_amount": "1199.5"}
    )
    assert rr.refund_amount == Decimal("1200")


def test_over_return_is_refused_and_inactive_returns_free_the_quantity(agent, order):
    first_line = order.lines.order_by("position").first()
    _create(agent, order, ["2"])
    with pytest.raises(ValidationFailed) as exc:
        _create(agent, order, ["2"])
    assert "lines.0.quantity" in exc.value.fields
    assert "1" in exc.value.fields["lines.0.quantity"][0]
    third = _create(agent, order, ["1"])
    with pytest.raises(ValidationFailed):
        _create(agent, order, ["0.001"])
    return_cancel(actor=agent, return_id=third.pk)
    again = _create(agent, order, ["1"])
    assert again.lines.get().order_line == first_line
    assert ReturnRequest.objects.filter(order=order).count() == 3


def test_same_line_twice_and_lines_of_another_order_are_refused(agent, customer, order, product):
    line = order.lines.first()
    with pytest.raises(ValidationFailed) as exc:
        return_create(
            actor=agent,
            data={"order": order.pk, "reason": "damaged"},
            lines=[
                {"order_line": line.pk, "quantity": "1"},
                {"order_line": line.pk, "quantity": "1"},
            ],
        )
    assert "lines.1.order_line" in exc.value.fields
    other = make_order(customer, [(product, "1", "10")])
    with pytest.raises(ValidationFailed) as exc:
        return_create(
            actor=agent,
            data={"order": order.pk, "reason": "damaged"},
            lines=[{"order_line": other.lines.get().pk, "quantity": "1"}],
        )
    assert "lines.0.order_line" in exc.value.fields


@pytest.mark.parametrize(
    ("data", "lines", "field"),
    [
        ({"reason": "defective"}, None, "order"),
        ({"order": "abc", "reason": "defective"}, None, "order"),
        ({"order": True, "reason": "defective"}, None, "order"),
        ({"order": 10**30, "reason": "defective"}, None, "order"),
        ({"reason": None}, None, "reason"),
        ({"reason": "bored"}, None, "reason"),
        ({"reason": ["defective"]}, None, "reason"),
        ({"reason": "defective", "reason_detail": "x" * 20_001}, None, "reason_detail"),
        ({"reason": "defective", "reason_detail": "a\x00b"}, None, "reason_detail"),
        ({"reason": "defective", "status": "completed"}, None, "status"),
        ({"reason": "defective"}, [], "lines"),
        ({"reason": "defective"}, "not a list", "lines"),
        ({"reason": "defective"}, ["x"], "lines.0"),
        ({"reason": "defective"}, [{"order_line": 1, "quantity": "1", "x": 1}], "lines.0.x"),
        ({"reason": "defective"}, [{"quantity": "1"}], "lines.0.order_line"),
        ({"reason": "defective"}, "QTY:0", "lines.0.quantity"),
        ({"reason": "defective"}, "QTY:-1", "lines.0.quantity"),
        ({"reason": "defective"}, "QTY:abc", "lines.0.quantity"),
        ({"reason": "defective"}, "QTY:float", "lines.0.quantity"),
        ({"reason": "defective"}, "QTY:0.0001", "lines.0.quantity"),
        ({"reason": "defective"}, "QTY:4", "lines.0.quantity"),
        ({"reason": "defective"}, "REASON:bogus", "lines.0.reason"),
        ({"reason": "defective"}, "LINES:201", "lines"),
    ],
)
def test_bad_input_names_the_field_and_writes_nothing(agent, order, data, lines, field):
    line = order.lines.order_by("position").first()
    payload = {"order": order.pk, **data}
    if "order" in data or field == "order":
        payload = dict(data)
    if isinstance(lines, str) and lines.startswith("QTY:"):
        qty = lines[4:]
        lines = [{"order_line": line.pk, "quantity": 1.5 if qty == "float" else qty}]
    elif isinstance(lines, str) and lines.startswith("REASON:"):
        lines = [{"order_line": line.pk, "quantity": "1", "reason": lines[7:]}]
    elif isinstance(lines, str) and lines.startswith("LINES:"):
        lines = [{"order_line": line.pk, "quantity": "1"}] * int(lines[6:])
    elif lines is None:
        lines = [{"order_line": line.pk, "quantity": "1"}]
    with pytest.raises(ValidationFailed) as exc:
        return_create(actor=agent, data=payload, lines=lines)
    assert field in exc.value.fields, exc.value.fields
    assert ReturnRequest.objects.count() == 0
    assert ReturnLine.objects.count() == 0
    assert not Interaction.objects.filter(kind="return").exists()


def test_draft_and_cancelled_orders_cannot_be_returned(agent, customer, product):
    for status in ("draft", "cancelled"):
        order = make_order(customer, [(product, "1", "10")], status=status)
        with pytest.raises(ValidationFailed) as exc:
            _create(agent, order)
        assert "order" in exc.value.fields


def test_hostile_text_is_stored_as_given(agent, order):
    for text in HOSTILE:
        rr = _create(agent, order, ["0.5"], reason_detail=text)
        assert ReturnRequest.objects.get(pk=rr.pk).reason_detail == text.strip()
        return_cancel(actor=agent, return_id=rr.pk)


def test_other_team_agent_cannot_advance_and_sees_not_found(agent, agent_other_team, order):
    rr = _create(agent, order)
    with pytest.raises(NotFound):
        return_advance(actor=agent_other_team, return_id=rr.pk, status="approved")
    for bad_id in ("abc", None, True, 10**30, -1):
        with pytest.raises(NotFound):
            return_advance(actor=agent, return_id=bad_id, status="approved")  # type: ignore[arg-type]


def test_same_team_agent_may_advance(agent, agent_same_team, order):
    rr = _create(agent, order)
    rr = return_advance(actor=agent_same_team, return_id=rr.pk, status="approved")
    assert rr.status == "approved"


def test_roles_without_change_rights_cannot_create(order, team):
    marketer = UserFactory(role=Role.MARKETER, team=team)
    with pytest.raises(PermissionDenied):
        _create(marketer, order)


def test_stale_version_is_a_conflict(agent, order):
    rr = _create(agent, order)
    return_advance(actor=agent, return_id=rr.pk, status="approved", expected_version=rr.version)
    with pytest.raises(Conflict):
        return_advance(
            actor=agent,
            return_id=rr.pk,
            status="pickup",
            data={"carrier": "MNG"},
            expected_version=rr.version,
        )


def test_portal_request_takes_the_customers_owner_and_checks_the_contact(
    agent, agent_other_team, customer, order
):
    rr = return_create(
        actor=None,
        data={"order": order.pk, "reason": "wrong_item"},
        lines=[{"order_line": order.lines.first().pk, "quantity": "1"}],
        author_contact=customer,
    )
    assert rr.owner == agent and rr.team_id == customer.team_id
    assert rr.contact == customer
    step = Interaction.objects.get(external_id=f"service.returnrequest:{rr.pk}:requested")
    assert step.user is None and step.initiated_by == "customer"
    stranger = make_customer(first_name="Bilinmeyen", last_name="Kişi")
    with pytest.raises(ValidationFailed) as exc:
        return_create(
            actor=None,
            data={"order": order.pk, "reason": "wrong_item"},
            lines=[{"order_line": order.lines.first().pk, "quantity": "1"}],
            author_contact=stranger,
        )
    assert "contact" in exc.value.fields
    CustomerRelationship.objects.create(
        from_customer=stranger, to_customer=customer, kind="works_at"
    )
    rr = return_create(
        actor=agent,
        data={"order": order.pk, "reason": "wrong_item", "contact": stranger.pk},
        lines=[{"order_line": order.lines.first().pk, "quantity": "1"}],
    )
    assert rr.contact == stranger


def test_ticket_link_must_be_about_the_same_customer(agent, customer, other_customer, order):
    # Tickets written straight to the table: their services are tested in their own files.
    ticket = Ticket.objects.create(
        number="T-2026-900001",
        subject="Return please",
        customer=customer,
        owner=agent,
        team=agent.team,
        type="return_request",
    )
    rr = _create(agent, order, ticket=ticket.pk)
    assert rr.ticket == ticket
    foreign = Ticket.objects.create(
        number="T-2026-900002", subject="Other", customer=other_customer, team=other_customer.team
    )
    with pytest.raises(ValidationFailed) as exc:
        _create(agent, order, ticket=foreign.pk)
    assert "ticket" in exc.value.fields
    with pytest.raises(ValidationFailed) as exc:
        _create(agent, order, ticket="nope")
    assert "ticket" in exc.value.fields
