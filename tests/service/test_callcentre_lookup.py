"""Call-centre lookup: the caller is found by phone number written in any format."""

from __future__ import annotations

import pytest

from tests.customers.factories import make_customer
from tests.service.returns_helpers import make_order, make_product
from vefa.customers.models import ContactPoint, CustomerRelationship
from vefa.interactions.services import interaction_create
from vefa.service.models import Ticket
from vefa.service.selectors.callcentre import caller_lookup, phone_key

pytestmark = pytest.mark.django_db

E164 = "+905321234567"

FORMATS = [
    "+90 532 123 45 67",
    "0532 123 4567",
    "00905321234567",
    "(0532) 123-45-67",
    "+90 (532) 123 45 67",
    "0 532 123 45 67",
    "532 123 45 67",
    "+905321234567",
    "905321234567",
    "0532.123.45.67",
    "۰۵۳۲ ۱۲۳ ۴۵ ۶۷",
    "  +90-532-123-4567  ",
]


@pytest.fixture
def caller(agent, team):
    customer = make_customer(
        owner=agent, team=team, first_name="Mehmet", last_name="Arayan", primary_phone=E164
    )
    ContactPoint.objects.create(
        customer=customer, kind="mobile", value="0532 123 45 67", normalized=E164, is_primary=True
    )
    return customer


@pytest.mark.parametrize("typed", FORMATS)
def test_every_format_finds_the_caller(agent, caller, typed):
    lookup = caller_lookup(actor=agent, phone=typed)
    assert [m.customer for m in lookup.matches] == [caller], (typed, lookup.e164)
    assert lookup.e164 == E164


def test_a_contact_point_alone_is_enough(agent, team):
    # The number is a second phone, not the primary one.
    person = make_customer(
        owner=agent, team=team, first_name="Elif", last_name="Kaya", primary_phone="+902125550000"
    )
    ContactPoint.objects.create(
        customer=person, kind="phone", value="+90 532 123 45 67", normalized=E164
    )
    lookup = caller_lookup(actor=agent, phone="0532 123 45 67")
    assert [m.customer for m in lookup.matches] == [person]


def test_no_match_and_too_little_typed(agent, caller):
    lookup = caller_lookup(actor=agent, phone="0212 555 00 00")
    assert lookup.exact and lookup.e164 == "+902125550000" and lookup.matches == []
    for term in ("", "   ", "05", "abc", "<script>", "+", "x" * 500):
        assert caller_lookup(actor=agent, phone=term).matches == []
    assert phone_key("abc") == ("", False)


def test_partial_number_matches_as_a_prefix(agent, caller):
    lookup = caller_lookup(actor=agent, phone="0532 12")
    assert not lookup.exact and lookup.e164 == "+9053212"
    assert [m.customer for m in lookup.matches] == [caller]


def test_match_brings_people_tickets_orders_and_history(agent, caller, team):
    company = make_customer(kind="organisation", trade_name="Arayan Ltd", owner=agent, team=team)
    CustomerRelationship.objects.create(
        from_customer=caller, to_customer=company, kind="works_at", job_title="Buyer"
    )
    Ticket.objects.create(number="T-2026-000901", subject="Broken", customer=caller, team=team)
    Ticket.objects.create(
        number="T-2026-000902", subject="Old", customer=caller, team=team, status="closed"
    )
    order = make_order(caller, [(make_product(), "1", "10")])
    interaction_create(actor=agent, customer_id=caller.pk, kind="note", subject="Met at the fair")
    match = caller_lookup(actor=agent, phone=E164).matches[0]
    assert [(p, role) for p, role in match.people] == [(company, "Buyer")]
    assert [t.number for t in match.open_tickets] == ["T-2026-000901"]
    assert match.orders == [order]
    assert "Met at the fair" in [i.subject for i in match.interactions]


def test_merged_and_hidden_customers_are_not_shown(agent, caller, rep_other_team, other_team):
    hidden = make_customer(
        owner=rep_other_team, team=other_team, first_name="Gizli", primary_phone=E164
    )
    merged = make_customer(first_name="Eski", primary_phone=E164, merged_into=caller)
    # A sales rep sees only their team's customers; an agent sees all but merged ones.
    agent_view = [m.customer for m in caller_lookup(actor=agent, phone=E164).matches]
    assert caller in agent_view and hidden in agent_view and merged not in agent_view
    rep_view = [m.customer for m in caller_lookup(actor=rep_other_team, phone=E164).matches]
    assert rep_view == [hidden]
