"""Selectors: who sees which customers, leads and child records."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from tests.customers.factories import make_customer, make_lead
from tests.factories import UserFactory
from vefa.accounts.choices import Role
from vefa.common.errors import NotFound, PermissionDenied, ValidationFailed
from vefa.customers import selectors
from vefa.customers.models import Customer, CustomerRelationship
from vefa.customers.services import (
    contact_point_create,
    customer_update,
    relationship_create,
)

pytestmark = pytest.mark.django_db

# (role, relation) → may view. Relations: the actor's own record, a teammate's, another team's.
VIEW = {
    Role.ADMIN: {"own": True, "team": True, "other": True},
    Role.SALES_MANAGER: {"own": True, "team": True, "other": True},
    Role.SALES_REP: {"own": True, "team": True, "other": False},
    Role.SERVICE_AGENT: {"own": True, "team": True, "other": True},
    Role.MARKETER: {"own": True, "team": True, "other": True},
    Role.READ_ONLY: {"own": True, "team": True, "other": True},
}
CHANGE = {
    Role.ADMIN: {"own": True, "team": True, "other": True},
    Role.SALES_MANAGER: {"own": True, "team": True, "other": False},
    Role.SALES_REP: {"own": True, "team": False, "other": False},
    Role.SERVICE_AGENT: {"own": True, "team": True, "other": False},
    Role.MARKETER: {"own": False, "team": False, "other": False},
    Role.READ_ONLY: {"own": False, "team": False, "other": False},
}


@pytest.fixture
def world(team, other_team):
    teammate = UserFactory(role=Role.SALES_REP, team=team)
    stranger = UserFactory(role=Role.SALES_REP, team=other_team)
    return {"team": teammate, "other": stranger}


@pytest.mark.parametrize("relation", ["own", "team", "other"])
@pytest.mark.parametrize("role", list(VIEW))
def test_customer_get_follows_the_policy(world, team, role, relation):
    actor = UserFactory(role=role, team=team, is_superuser=role == Role.ADMIN)
    owner = actor if relation == "own" else world[relation]
    customer = make_customer(owner=owner, team=owner.team)

    if VIEW[role][relation]:
        assert selectors.customer_get(actor=actor, pk=customer.pk).pk == customer.pk
    else:
        with pytest.raises(NotFound):
            selectors.customer_get(actor=actor, pk=customer.pk)

    if CHANGE[role][relation]:
        assert selectors.customer_get(actor=actor, pk=customer.pk, action="change")
    elif VIEW[role][relation]:
        with pytest.raises(PermissionDenied):
            selectors.customer_get(actor=actor, pk=customer.pk, action="change")
    ids = [c.pk for c in selectors.customer_list(actor=actor).items]
    assert (customer.pk in ids) is VIEW[role][relation]


def test_inactive_user_sees_nothing(rep, own_customer):
    rep.is_active = False
    rep.save()
    with pytest.raises(NotFound):
        selectors.customer_get(actor=rep, pk=own_customer.pk)
    assert selectors.customer_list(actor=rep).items == []


def test_merged_customers_are_hidden_from_lists(admin_user, own_customer, team_customer):
    Customer.objects.filter(pk=team_customer.pk).update(merged_into=own_customer)
    ids = [c.pk for c in selectors.customer_list(actor=admin_user).items]
    assert ids == [own_customer.pk]


@pytest.mark.parametrize("pk", ["x", None, -3, "1 OR 1=1"])
def test_bad_ids_are_not_found(admin_user, pk):
    with pytest.raises(NotFound):
        selectors.customer_get(actor=admin_user, pk=pk)


def test_list_with_bad_filters_raises_a_validation_error(rep):
    with pytest.raises(ValidationFailed) as exc:
        selectors.customer_list(actor=rep, filters={"created_from": "yesterday", "sort": "evil"})
    assert set(exc.value.fields) == {"created_from", "sort"}


def test_recent_customers_are_the_actors_most_recently_touched(rep, team, rep_same_team):
    old = make_customer(owner=rep, team=team, last_name="Old")
    contacted = make_customer(owner=rep, team=team, last_name="Contacted")
    edited = make_customer(owner=rep_same_team, team=team, last_name="Edited by rep")
    not_mine = make_customer(owner=rep_same_team, team=team, last_name="Not mine")
    now = timezone.now()
    Customer.objects.filter(pk=old.pk).update(updated_at=now - datetime.timedelta(days=30))
    Customer.objects.filter(pk=contacted.pk).update(
        updated_at=now - datetime.timedelta(days=20), last_interaction_at=now
    )
    Customer.objects.filter(pk=edited.pk).update(
        updated_at=now - datetime.timedelta(days=1), updated_by=rep
    )
    Customer.objects.filter(pk=not_mine.pk).update(updated_at=now)
    recent = selectors.customer_recent(actor=rep, limit=10)
    assert [c.pk for c in recent] == [contacted.pk, edited.pk, old.pk]


def test_relationships_show_both_directions_but_hide_invisible_ends(
    rep, team, own_customer, organisation, rep_other_team, other_team
):
    relationship_create(
        actor=rep,
        from_customer_id=own_customer.pk,
        to_customer_id=organisation.pk,
        data={"kind": "works_at"},
    )
    hidden = make_customer(owner=rep_other_team, team=other_team, last_name="Hidden")
    # A link from a customer the rep may not see (made directly: its owner cannot see ours).
    CustomerRelationship.objects.create(
        from_customer=hidden, to_customer=organisation, kind="referred_by"
    )
    seen = selectors.relationship_list(actor=rep, customer=organisation)
    assert [(r.from_customer_id, r.kind) for r in seen] == [(own_customer.pk, "works_at")]
    admin_view = selectors.relationship_list(
        actor=UserFactory(role=Role.ADMIN, is_superuser=True), customer=organisation
    )
    assert len(admin_view) == 2


def test_child_records_follow_their_customer(rep, own_customer, other_customer, rep_other_team):
    mine = contact_point_create(
        actor=rep, customer_id=own_customer.pk, data={"kind": "email", "value": "a@x.com"}
    )
    theirs = contact_point_create(
        actor=rep_other_team,
        customer_id=other_customer.pk,
        data={"kind": "email", "value": "b@x.com"},
    )
    assert selectors.contact_point_get(actor=rep, pk=mine.pk).pk == mine.pk
    with pytest.raises(NotFound):
        selectors.contact_point_get(actor=rep, pk=theirs.pk)


def test_lead_visibility(rep, own_lead, other_lead, service_agent):
    assert [lead.pk for lead in selectors.lead_list(actor=rep).items] == [own_lead.pk]
    with pytest.raises(NotFound):
        selectors.lead_get(actor=rep, pk=other_lead.pk)
    # service agents have no access to leads at all
    assert selectors.lead_list(actor=service_agent).items == []


def test_recent_leads_are_open_and_owned(rep, team):
    open_lead = make_lead(owner=rep, team=team, first_name="Open")
    make_lead(owner=rep, team=team, first_name="Won", status="converted")
    assert [lead.pk for lead in selectors.lead_recent(actor=rep)] == [open_lead.pk]


def test_organisation_matches_fold_the_name(rep, team):
    acme = make_customer(owner=rep, team=team, kind="organisation", trade_name="ACME Ltd")
    make_customer(owner=rep, team=team, kind="organisation", trade_name="Acme Ltd Two")
    assert [c.pk for c in selectors.organisation_matches(actor=rep, name="acme ltd")] == [acme.pk]


def test_picker_finds_by_name_prefix(rep, own_customer, other_customer, organisation):
    assert [c.pk for c in selectors.customer_picker(actor=rep, q="ayş")] == [own_customer.pk]
    assert selectors.customer_picker(actor=rep, q="jovana") == []
    assert [c.pk for c in selectors.customer_picker(actor=rep, q="a", kind="organisation")] == [
        organisation.pk
    ]


def test_name_change_keeps_list_order_by_folded_name(rep, team):
    zed = make_customer(owner=rep, team=team, first_name="Zeynep", last_name="Ak")
    make_customer(owner=rep, team=team, first_name="Ömer", last_name="Bal")
    customer_update(actor=rep, customer_id=zed.pk, data={"first_name": "Ahmet"})
    names = [c.display_name for c in selectors.customer_list(actor=rep).items]
    assert names == ["Ahmet Ak", "Ömer Bal"]
