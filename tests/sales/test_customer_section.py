"""The sales section of the customer 360 page: only what the actor may see, escaped."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from tests.sales.conftest import HOSTILE
from vefa.sales.models import Contract, Opportunity, Order, Quote
from vefa.sales.selectors.customer import customer_sales


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _opportunity(customer, stages, owner, team, **fields):
    stage = stages[0]
    return Opportunity.objects.create(
        name=fields.pop("name", "Kahve makinesi"),
        customer=customer,
        pipeline=stage.pipeline,
        stage=stage,
        owner=owner,
        team=team,
        amount=fields.pop("amount", Decimal("1000")),
        currency=fields.pop("currency", "TRY"),
        **fields,
    )


@pytest.mark.django_db
def test_a_rep_sees_their_own_deals_not_a_colleagues(
    rep, rep_same_team, team, team_customer, stages
):
    mine = _opportunity(team_customer, stages, rep, team, name="Mine")
    _opportunity(team_customer, stages, rep_same_team, team, name="Colleague's")
    sales = customer_sales(actor=rep, customer=team_customer)
    assert [o.pk for o in sales.opportunities] == [mine.pk]
    assert sales.open_pipeline == [{"currency": "TRY", "total": Decimal("1000"), "count": 1}]


@pytest.mark.django_db
def test_revenue_sums_per_currency_and_leaves_out_drafts_and_cancelled(manager, team, own_customer):
    for number, status, currency, total in [
        ("O-1", "confirmed", "TRY", "100.50"),
        ("O-2", "paid", "TRY", "200.00"),
        ("O-3", "delivered", "EUR", "10.00"),
        ("O-4", "cancelled", "TRY", "999.00"),
        ("O-5", "draft", "TRY", "999.00"),
    ]:
        Order.objects.create(
            number=number,
            customer=own_customer,
            owner=manager,
            team=team,
            status=status,
            currency=currency,
            total=Decimal(total),
        )
    sales = customer_sales(actor=manager, customer=own_customer)
    assert sales.revenue == [
        {"currency": "EUR", "total": Decimal("10.00"), "count": 1},
        {"currency": "TRY", "total": Decimal("300.50"), "count": 2},
    ]
    assert len(sales.orders) == 5


@pytest.mark.django_db
def test_the_section_lists_every_kind_and_escapes_names(admin_user, team, own_customer, stages):
    hostile = HOSTILE[0]
    _opportunity(own_customer, stages, admin_user, team, name=hostile)
    Quote.objects.create(number="Q-2026-000001", customer=own_customer, owner=admin_user)
    Order.objects.create(number="O-2026-000001", customer=own_customer, owner=admin_user)
    Contract.objects.create(
        number="C-2026-000001",
        title=HOSTILE[1],
        customer=own_customer,
        owner=admin_user,
        start_date=datetime.date(2026, 1, 1),
        end_date=datetime.date(2026, 12, 31),
    )
    response = _client(admin_user).get(reverse("sales:customer_sales", args=[own_customer.pk]))
    assert response.status_code == 200
    body = response.content.decode()
    assert "<script>alert(1)</script>" not in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body
    for text in ("Q-2026-000001/1", "O-2026-000001", "=cmd"):
        assert text in body


@pytest.mark.django_db
def test_a_hidden_customer_is_not_found(rep, other_customer):
    response = _client(rep).get(reverse("sales:customer_sales", args=[other_customer.pk]))
    assert response.status_code == 404


@pytest.mark.django_db
def test_a_service_agent_sees_orders_but_not_opportunities(db, team, own_customer, stages, rep):
    from tests.factories import UserFactory
    from vefa.accounts.choices import Role

    agent = UserFactory(role=Role.SERVICE_AGENT, team=team)
    _opportunity(own_customer, stages, rep, team)
    Order.objects.create(number="O-9", customer=own_customer, owner=rep, team=team)
    sales = customer_sales(actor=agent, customer=own_customer)
    assert sales.opportunities == []
    assert [o.number for o in sales.orders] == ["O-9"]
    assert sales.can_add["order"] is False


@pytest.mark.django_db
def test_the_section_takes_a_fixed_number_of_queries(
    admin_user, team, own_customer, stages, django_assert_max_num_queries
):
    for i in range(8):
        _opportunity(own_customer, stages, admin_user, team, name=f"Deal {i}")
        Order.objects.create(number=f"O-{i}", customer=own_customer, owner=admin_user)
    with django_assert_max_num_queries(8):
        sales = customer_sales(actor=admin_user, customer=own_customer)
    assert len(sales.opportunities) == 5
