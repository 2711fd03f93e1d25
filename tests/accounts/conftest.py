"""Fixtures of the accounts tests: records of every kind owned by someone, logged-in clients."""

from __future__ import annotations

import datetime
import itertools

import pytest
from django.test import Client

from tests.factories import CustomerFactory, TeamFactory, UserFactory
from vefa.accounts.choices import Role
from vefa.customers.models import Address, Lead
from vefa.interactions.models import Activity, Interaction

PASSWORD = "correct-horse-battery"  # the password tests/factories.py gives every user

HOSTILE = [
    "<script>alert(1)</script>",
    "=cmd|' /C calc'!A0",
    "علی رضایی‎ — مشتری «ویژه»",
    "\"'><img src=x onerror=alert(2)>",
]


def make_record(policy: str, *, owner, team):
    """A record under ``policy`` whose owner is ``owner`` and whose team is ``team``."""
    if policy == "customers.customer":
        return CustomerFactory(owner=owner, team=team)
    if policy == "customers.lead":
        return Lead.objects.create(first_name="Lale", last_name="Demir", owner=owner, team=team)
    if policy == "interactions.interaction":
        # An interaction is owned by whoever recorded it; its team is its customer's.
        customer = CustomerFactory(owner=None, team=team)
        return Interaction.objects.create(
            customer=customer, kind="call", subject="Call", user=owner
        )
    if policy == "interactions.activity":
        return Activity.objects.create(kind="task", subject="Follow up", owner=owner, team=team)
    if policy.startswith("sales."):
        return make_sales_record(policy, owner=owner, team=team)
    if policy.startswith("service."):
        return make_service_record(policy, owner=owner, team=team)
    if policy.startswith("marketing."):
        return make_marketing_record(policy, owner=owner, team=team)
    if policy in DATA_POLICIES:
        return make_data_record(policy, owner=owner, team=team)
    raise AssertionError(policy)


DATA_POLICIES = ("imports.importrun", "exports.export", "dedupe.cluster")


def make_data_record(policy: str, *, owner, team):
    """An import run (owner and team), an export (owner only) or a duplicate cluster (the
    person who reviewed it)."""
    n = next(_counter)
    if policy == "imports.importrun":
        from vefa.imports.models import ImportRun

        return ImportRun.objects.create(
            entity="customers",
            file_name=f"list-{n}.csv",
            file_path=f"imports/list-{n}.csv",
            file_kind="csv",
            file_hash=f"{n:064d}",
            owner=owner,
            team=team,
        )
    if policy == "exports.export":
        from vefa.exports.models import Export

        return Export.objects.create(owner=owner, entity="customers")
    from vefa.dedupe.models import DedupeRun, DuplicateCluster

    run = DedupeRun.objects.create(created_by=owner)
    return DuplicateCluster.objects.create(
        run=run, probability=0.97, size=2, key=f"{n},{n + 1}", reviewed_by=owner
    )


def make_marketing_record(policy: str, *, owner, team):
    from vefa.marketing.models import Campaign, Journey, LoyaltyProgram, Segment

    n = next(_counter)
    if policy == "marketing.segment":
        return Segment.objects.create(name=f"Segment {n}", owner=owner, team=team)
    if policy == "marketing.campaign":
        return Campaign.objects.create(
            name=f"Campaign {n}", objective="win_back", owner=owner, team=team
        )
    if policy == "marketing.journey":
        return Journey.objects.create(
            name=f"Journey {n}", trigger="birthday", owner=owner, team=team
        )
    if policy == "marketing.settings":
        return LoyaltyProgram.objects.create(name=f"Programme {n}", created_by=owner)
    raise AssertionError(policy)


def make_service_record(policy: str, *, owner, team):
    from vefa.sales.models import Order
    from vefa.service.models import Article, Queue, ReturnRequest, Survey, Ticket

    n = next(_counter)
    if policy == "service.queue":
        return Queue.objects.create(name=f"Queue {n}", team=team, created_by=owner)
    if policy == "service.article":
        return Article.objects.create(slug=f"article-{n}", created_by=owner)
    if policy == "service.survey":
        return Survey.objects.create(kind="nps", name=f"NPS {n}", owner=owner, team=team)
    customer = CustomerFactory(owner=None, team=None)
    if policy == "service.ticket":
        return Ticket.objects.create(
            number=f"T-T-{n}", subject="Help", customer=customer, owner=owner, team=team
        )
    if policy == "service.returnrequest":
        order = Order.objects.create(number=f"O-R-{n}", customer=customer)
        return ReturnRequest.objects.create(
            number=f"R-T-{n}",
            customer=customer,
            order=order,
            reason="damaged",
            owner=owner,
            team=team,
        )
    raise AssertionError(policy)


def make_sales_record(policy: str, *, owner, team):
    from vefa.sales.models import Contract, Opportunity, Order, Product, Quote, SalesTarget, Stage

    n = next(_counter)
    if policy == "sales.product":
        return Product.objects.create(sku=f"SKU-{n}", name="Kahve", created_by=owner)
    if policy == "sales.salestarget":
        # A target is the user's; the team reaches it through the user's team.
        return SalesTarget.objects.create(
            user=owner,
            period_start=datetime.date(2026, 1, 1) + datetime.timedelta(days=31 * n),
            period_end=datetime.date(2026, 1, 28) + datetime.timedelta(days=31 * n),
            amount=1000,
            currency="TRY",
        )
    customer = CustomerFactory(owner=None, team=None)
    if policy == "sales.opportunity":
        stage = Stage.objects.filter(kind="open").select_related("pipeline").first()
        assert stage is not None
        return Opportunity.objects.create(
            name="Deal",
            customer=customer,
            pipeline=stage.pipeline,
            stage=stage,
            owner=owner,
            team=team,
        )
    if policy == "sales.quote":
        return Quote.objects.create(number=f"Q-T-{n}", customer=customer, owner=owner, team=team)
    if policy == "sales.order":
        return Order.objects.create(number=f"O-T-{n}", customer=customer, owner=owner, team=team)
    if policy == "sales.contract":
        return Contract.objects.create(
            number=f"C-T-{n}",
            title="Support",
            customer=customer,
            owner=owner,
            team=team,
            start_date=datetime.date(2026, 1, 1),
            end_date=datetime.date(2026, 12, 31),
        )
    raise AssertionError(policy)


_counter = itertools.count(1)


def make_address(*, owner, team) -> Address:
    customer = CustomerFactory(owner=owner, team=team)
    return Address.objects.create(
        customer=customer, kind="home", line1="Bağdat Cd. 1", city="İstanbul", country="TR"
    )


@pytest.fixture
def stranger(db, other_team):
    """Someone in another team who owns the "other" records."""
    return UserFactory(role=Role.SALES_REP, team=other_team, full_name="Zoran Stranger")


@pytest.fixture
def teammate(db, team):
    return UserFactory(role=Role.SALES_REP, team=team, full_name="Tülay Teammate")


@pytest.fixture
def loner(db):
    return UserFactory(role=Role.SALES_REP, team=None, full_name="Lone Rep")


@pytest.fixture
def third_team(db):
    return TeamFactory(name="West")


def login(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def admin_client_(admin_user) -> Client:
    return login(admin_user)


@pytest.fixture
def rep_client(rep) -> Client:
    return login(rep)
