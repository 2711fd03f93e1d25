"""Order services: totals and rounding, the status flow, shipments, payments, purchases."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from tests.sales.conftest import HOSTILE
from vefa.common.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from vefa.interactions.models import Interaction
from vefa.interactions.services import interaction_create
from vefa.platform.models import ChangeLogEntry
from vefa.sales.models import Order
from vefa.sales.services.orders import (
    next_statuses,
    order_create,
    order_set_status,
    order_update,
    payment_create,
    payment_delete,
    shipment_create,
    shipment_update,
)

pytestmark = pytest.mark.django_db


def test_create_fills_from_product_and_records_purchase(rep, own_customer, product):
    order = order_create(
        actor=rep,
        customer=own_customer,
        lines=[{"product": product.pk, "quantity": "3"}],
        currency="TRY",
    )
    order.refresh_from_db()
    assert order.number.startswith("O-")
    line = order.lines.get()
    assert line.sku == "KHV-001"
    assert line.unit_price == Decimal("120.00")
    assert line.net == Decimal("360.00")
    assert line.tax == Decimal("72.00")
    assert order.total == Decimal("432.00")
    assert order.cost_total == Decimal("210.00")
    assert order.owner == rep
    purchase = Interaction.objects.get(external_id=f"sales.order:{order.pk}")
    assert purchase.kind == "purchase"
    assert purchase.amount == Decimal("432.00")
    assert purchase.related_model == "sales.order"
    assert purchase.related_id == order.pk
    assert purchase.occurred_at == order.ordered_at
    own_customer.refresh_from_db()
    assert own_customer.last_interaction_at == order.ordered_at
    assert Order.objects.count() == 1


# --- totals and rounding ---------------------------------------------------------------------


def line(**values):
    values.setdefault("description", "Hizmet")
    values.setdefault("quantity", "1")
    return values


def test_irr_totals_have_no_decimals(admin_user, own_customer):
    order = order_create(
        actor=admin_user,
        customer=own_customer,
        lines=[
            line(quantity="3", unit_price="333.33", tax_rate="9"),
            line(quantity="1", unit_price="0.6", discount_percent="10"),
        ],
        currency="IRR",
    )
    first, second = order.lines.order_by("position")
    assert first.net == Decimal("1000")  # 999.99 rounded to whole rials
    assert first.tax == Decimal("90")
    assert second.net == Decimal("1")  # 0.54 → 1
    assert order.total == Decimal("1091")
    assert order.total == order.total.to_integral_value()


def test_try_rounding_half_up_per_line(admin_user, own_customer):
    order = order_create(
        actor=admin_user,
        customer=own_customer,
        lines=[line(quantity="1", unit_price="0.125", tax_rate="20"), line(unit_price="0.125")],
        currency="TRY",
    )
    assert [x.net for x in order.lines.order_by("position")] == [Decimal("0.13"), Decimal("0.13")]
    assert order.subtotal == Decimal("0.26")
    assert order.cost_total is None  # no line has a unit cost


def test_cost_total_needs_every_line_cost(admin_user, own_customer, product):
    both = order_create(
        actor=admin_user,
        customer=own_customer,
        lines=[{"product": product, "quantity": "2"}, line(unit_price="5", unit_cost="1.5")],
        currency="TRY",
    )
    assert both.cost_total == Decimal("141.50")
    eur = order_create(
        actor=admin_user,
        customer=own_customer,
        lines=[{"product": product, "quantity": "1", "unit_price": "10"}],
        currency="EUR",
    )
    assert eur.lines.get().unit_cost is None  # the product's cost is in TRY: not converted
    assert eur.cost_total is None


@pytest.mark.parametrize(
    ("bad", "field"),
    [
        ({"quantity": "0"}, "lines.0.quantity"),
        ({"quantity": "-2"}, "lines.0.quantity"),
        ({"quantity": 1.5}, "lines.0.quantity"),
        ({"quantity": "abc"}, "lines.0.quantity"),
        ({"unit_price": "1e30"}, "lines.0.unit_price"),
        ({"quantity": "99999999999", "unit_price": "9999999999999999"}, "lines.0.quantity"),
        ({"unit_price": None}, "lines.0.unit_price"),
        ({"discount_percent": "101"}, "lines.0.discount_percent"),
        ({"tax_rate": "-1"}, "lines.0.tax_rate"),
        ({"description": "x" * 301}, "lines.0.description"),
        ({"description": "a\x00b"}, "lines.0.description"),
        ({"description": ""}, "lines.0.description"),
        ({"unit": "parsec"}, "lines.0.unit"),
        ({"product": "abc"}, "lines.0.product"),
        ({"product": 999_999}, "lines.0.product"),
        ({"colour": "red"}, "lines.0.colour"),
    ],
)
def test_bad_lines_are_refused_with_the_field(admin_user, own_customer, bad, field):
    values = line(unit_price="10")
    values.update(bad)
    with pytest.raises(ValidationFailed) as info:
        order_create(actor=admin_user, customer=own_customer, lines=[values], currency="TRY")
    assert field in info.value.fields
    assert Order.objects.count() == 0
    assert Interaction.objects.count() == 0


def test_bad_orders_are_refused(admin_user, own_customer, other_customer):
    ok = [line(unit_price="1")]
    cases = [
        ({"lines": []}, "lines"),
        ({"lines": "x"}, "lines"),
        ({"lines": [line(unit_price="1")] * 501}, "lines"),
        ({"currency": "XYZ1"}, "currency"),
        ({"currency": 7}, "currency"),
        ({"status": "paid"}, "status"),
        ({"status": "cancelled"}, "status"),
        ({"source": "fax"}, "source"),
        ({"ordered_at": "tomorrow"}, "ordered_at"),
        ({"notes": "x" * 20_001}, "notes"),
        ({"customer": 999_999}, "customer"),
        ({"customer": "abc"}, "customer"),
    ]
    for extra, field in cases:
        kwargs = {"customer": own_customer, "lines": ok, "currency": "TRY", **extra}
        with pytest.raises(ValidationFailed) as info:
            order_create(actor=admin_user, **kwargs)
        assert field in info.value.fields, (extra, info.value.fields)
    assert Order.objects.count() == 0


def test_hostile_text_is_stored_as_typed(admin_user, own_customer):
    for text in HOSTILE:
        order = order_create(
            actor=admin_user,
            customer=own_customer,
            lines=[line(description=text, unit_price="1")],
            currency="TRY",
            notes=text,
            shipping_address=text,
        )
        assert order.lines.get().description == text.strip()
        assert Order.objects.get(pk=order.pk).notes == text.strip()


def test_external_id_is_unique_per_source(admin_user, own_customer):
    kwargs = {"customer": own_customer, "lines": [line(unit_price="1")], "currency": "TRY"}
    order_create(actor=admin_user, source="ecommerce", external_id="W-1", **kwargs)
    order_create(actor=admin_user, source="epos", external_id="W-1", **kwargs)
    with pytest.raises(ValidationFailed) as info:
        order_create(actor=admin_user, source="ecommerce", external_id="W-1", **kwargs)
    assert "external_id" in info.value.fields
    assert Order.objects.count() == 2


def test_numbers_are_consecutive(admin_user, own_customer):
    kwargs = {"customer": own_customer, "lines": [line(unit_price="1")], "currency": "TRY"}
    first = order_create(actor=admin_user, **kwargs)
    second = order_create(actor=admin_user, **kwargs)
    assert int(second.number.rsplit("-", 1)[1]) == int(first.number.rsplit("-", 1)[1]) + 1


def test_from_quote_copies_lines_and_links(admin_user, own_customer):
    from vefa.sales.models import Quote

    quote = Quote.objects.create(
        number="Q-2026-000001", customer=own_customer, owner=admin_user, currency="TRY"
    )
    order = order_create(
        actor=admin_user,
        customer=own_customer,
        lines=[line(unit_price="10", quantity="2", sku="X-1")],
        currency="TRY",
        source="quote",
        quote=quote,
    )
    assert order.quote == quote and order.source == "quote"
    assert order.lines.get().sku == "X-1"


# --- who may do what ---------------------------------------------------------------------------


def test_rep_enters_orders_for_own_customers_only(rep, own_customer, other_customer, rep_same_team):
    kwargs = {"lines": [line(unit_price="1")], "currency": "TRY"}
    order = order_create(actor=rep, customer=own_customer, **kwargs)
    assert (order.owner, order.team) == (rep, rep.team)
    with pytest.raises(ValidationFailed):
        order_create(actor=rep, customer=other_customer, **kwargs)
    with pytest.raises(ValidationFailed) as info:
        order_create(actor=rep, customer=own_customer, owner=rep_same_team, **kwargs)
    assert "owner" in info.value.fields


def test_view_only_roles_cannot_enter_or_change(rep, own_customer):
    from tests.factories import UserFactory

    order = order_create(
        actor=rep, customer=own_customer, lines=[line(unit_price="1")], currency="TRY"
    )
    for role in ("service_agent", "marketer", "read_only"):
        viewer = UserFactory(role=role)
        with pytest.raises(PermissionDenied):
            order_create(
                actor=viewer, customer=own_customer, lines=[line(unit_price="1")], currency="TRY"
            )
        with pytest.raises(NotFound):
            order_set_status(actor=viewer, order_id=order.pk, status="confirmed")
        with pytest.raises(NotFound):
            order_update(actor=viewer, order_id=order.pk, data={"notes": "x"})
    order.refresh_from_db()
    assert order.status == "draft" and order.notes == ""


def test_manager_changes_team_orders(manager, rep, own_customer, rep_other_team, other_customer):
    kwargs = {"lines": [line(unit_price="1")], "currency": "TRY"}
    team_order = order_create(actor=rep, customer=own_customer, **kwargs)
    other = order_create(actor=rep_other_team, customer=other_customer, **kwargs)
    order_set_status(actor=manager, order_id=team_order.pk, status="confirmed")
    with pytest.raises(NotFound):
        order_set_status(actor=manager, order_id=other.pk, status="confirmed")


# --- status flow ----------------------------------------------------------------------------------


def _order(actor, customer, total="100"):
    return order_create(
        actor=actor, customer=customer, lines=[line(unit_price=total)], currency="TRY"
    )


def test_status_moves_one_step_at_a_time(admin_user, own_customer):
    order = _order(admin_user, own_customer)
    for illegal in ("shipped", "delivered", "invoiced", "paid", "draft", "bogus", 3):
        with pytest.raises(ValidationFailed):
            order_set_status(actor=admin_user, order_id=order.pk, status=illegal)
    for step in ("confirmed", "shipped", "delivered", "invoiced"):
        order = order_set_status(actor=admin_user, order_id=order.pk, status=step)
        assert order.status == step
        assert getattr(order, f"{step}_at") is not None
    with pytest.raises(ValidationFailed):
        order_set_status(actor=admin_user, order_id=order.pk, status="confirmed")
    with pytest.raises(ValidationFailed):  # paid follows from payments
        order_set_status(actor=admin_user, order_id=order.pk, status="paid")
    payment_create(actor=admin_user, order_id=order.pk, amount="100")
    order.refresh_from_db()
    assert order.status == "paid" and order.paid_at is not None
    with pytest.raises(ValidationFailed):
        order_set_status(actor=admin_user, order_id=order.pk, status="cancelled")
    purchase = Interaction.objects.get(external_id=f"sales.order:{order.pk}")
    assert purchase.status == "done"


def test_cancel_before_paid_removes_the_purchase(admin_user, own_customer):
    earlier = timezone.now() - datetime.timedelta(days=3)
    interaction_create(
        actor=admin_user, customer_id=own_customer.pk, kind="call", subject="c", occurred_at=earlier
    )
    order = _order(admin_user, own_customer)
    order = order_set_status(actor=admin_user, order_id=order.pk, status="confirmed")
    order = order_set_status(actor=admin_user, order_id=order.pk, status="cancelled")
    assert order.cancelled_at is not None
    assert not Interaction.objects.filter(kind="purchase").exists()
    own_customer.refresh_from_db()
    assert own_customer.last_interaction_at == earlier  # recomputed from what is left
    with pytest.raises(ValidationFailed):
        order_set_status(actor=admin_user, order_id=order.pk, status="confirmed")
    assert next_statuses(order) == []
    log = ChangeLogEntry.objects.filter(model="interactions.interaction", action="delete")
    assert log.count() == 1


def test_stale_version_conflicts(admin_user, own_customer):
    order = _order(admin_user, own_customer)
    order_update(actor=admin_user, order_id=order.pk, data={"notes": "first"}, expected_version=1)
    with pytest.raises(Conflict):
        order_update(
            actor=admin_user, order_id=order.pk, data={"notes": "second"}, expected_version=1
        )
    with pytest.raises(Conflict):
        order_set_status(
            actor=admin_user, order_id=order.pk, status="confirmed", expected_version=1
        )
    order.refresh_from_db()
    assert order.notes == "first" and order.status == "draft"


def test_lines_change_only_on_drafts_and_purchase_follows(admin_user, own_customer):
    order = _order(admin_user, own_customer)
    order = order_update(
        actor=admin_user,
        order_id=order.pk,
        data={},
        lines=[line(unit_price="40", quantity="2"), line(unit_price="5")],
    )
    assert order.total == Decimal("85.00") and order.lines.count() == 2
    purchase = Interaction.objects.get(external_id=f"sales.order:{order.pk}")
    assert purchase.amount == Decimal("85.00") and purchase.status == "open"
    order_set_status(actor=admin_user, order_id=order.pk, status="confirmed")
    purchase.refresh_from_db()
    assert purchase.status == "in_progress"
    with pytest.raises(ValidationFailed):
        order_update(actor=admin_user, order_id=order.pk, data={}, lines=[line(unit_price="1")])
    with pytest.raises(ValidationFailed):
        order_update(actor=admin_user, order_id=order.pk, data={"total": "1"})
    moved = timezone.now() - datetime.timedelta(days=10)
    order_update(actor=admin_user, order_id=order.pk, data={"ordered_at": moved})
    purchase.refresh_from_db()
    assert purchase.occurred_at == moved


# --- shipments and payments --------------------------------------------------------------------


def test_shipments_move_the_order(admin_user, own_customer):
    order = _order(admin_user, own_customer)
    with pytest.raises(ValidationFailed):  # a draft is not shipped
        shipment_create(actor=admin_user, order_id=order.pk, carrier="Aras")
    order_set_status(actor=admin_user, order_id=order.pk, status="confirmed")
    with pytest.raises(ValidationFailed):
        shipment_create(actor=admin_user, order_id=order.pk, carrier="")
    first = shipment_create(actor=admin_user, order_id=order.pk, carrier="Aras")
    order.refresh_from_db()
    assert order.status == "confirmed"  # still being prepared
    shipment_update(actor=admin_user, shipment_id=first.pk, data={"status": "in_transit"})
    second = shipment_create(
        actor=admin_user,
        order_id=order.pk,
        carrier="MNG",
        tracking_number="T-2",
        status="in_transit",
    )
    order.refresh_from_db()
    assert order.status == "shipped"
    first = shipment_update(actor=admin_user, shipment_id=first.pk, data={"status": "delivered"})
    assert first.delivered_at is not None and first.shipped_at is not None
    order.refresh_from_db()
    assert order.status == "shipped"  # one shipment is still on its way
    shipment_update(actor=admin_user, shipment_id=second.pk, data={"status": "delivered"})
    order.refresh_from_db()
    assert order.status == "delivered" and order.delivered_at is not None
    with pytest.raises(ValidationFailed):
        shipment_update(
            actor=admin_user,
            shipment_id=second.pk,
            data={
                "shipped_at": timezone.now(),
                "delivered_at": timezone.now() - datetime.timedelta(days=1),
            },
        )
    with pytest.raises(ValidationFailed):
        shipment_update(actor=admin_user, shipment_id=second.pk, data={"status": "lost"})


def test_payments_add_up_and_refuse_overpaying(admin_user, own_customer):
    order = order_create(
        actor=admin_user,
        customer=own_customer,
        lines=[line(unit_price="100", tax_rate="20")],
        currency="TRY",
    )
    with pytest.raises(ValidationFailed):  # not before confirmation
        payment_create(actor=admin_user, order_id=order.pk, amount="10")
    for step in ("confirmed", "shipped", "delivered"):
        order_set_status(actor=admin_user, order_id=order.pk, status=step)
    for bad in ("0", "-5", "abc", 1.5, "200"):
        with pytest.raises(ValidationFailed):
            payment_create(actor=admin_user, order_id=order.pk, amount=bad)
    payment_create(actor=admin_user, order_id=order.pk, amount="100.004", method="card")
    first = payment_create(actor=admin_user, order_id=order.pk, amount="20")
    order.refresh_from_db()
    assert order.paid_total == Decimal("120.00")
    assert order.status == "delivered"  # fully paid, but paid comes after invoiced
    payment_delete(actor=admin_user, payment_id=first.pk)
    order.refresh_from_db()
    assert order.paid_total == Decimal("100.00")
    order_set_status(actor=admin_user, order_id=order.pk, status="invoiced")
    payment_create(actor=admin_user, order_id=order.pk, amount="20", reference=HOSTILE[1])
    order.refresh_from_db()
    assert order.status == "paid"


def test_purchase_appears_in_the_customer_timeline(admin_user, rep, own_customer):
    from django.test import Client

    order = _order(rep, own_customer)
    client = Client()
    client.force_login(rep)
    page = client.get(f"/interactions/customers/{own_customer.pk}/timeline/?kind=purchase")
    assert page.status_code == 200
    assert order.number in page.content.decode()
