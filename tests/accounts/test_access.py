"""The access policy: restrict() and can() for every role × scope × own/team/other record."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser

from tests.accounts.conftest import make_address, make_record
from tests.factories import UserFactory
from vefa.accounts import access
from vefa.accounts.access import (
    POLICIES,
    can,
    can_create,
    explain,
    restrict,
    scope_for,
    sees_all,
)
from vefa.accounts.choices import Role, Scope
from vefa.customers.models import Address, Customer, Lead
from vefa.dedupe.models import DuplicateCluster
from vefa.exports.models import Export
from vefa.imports.models import ImportRun
from vefa.interactions.models import Activity, Interaction
from vefa.marketing.models import Campaign, Journey, LoyaltyProgram, Segment
from vefa.sales.models import Contract, Opportunity, Order, Product, Quote, SalesTarget
from vefa.service.models import Article, Queue, ReturnRequest, Survey, Ticket

MODELS = {
    "customers.customer": Customer,
    "customers.lead": Lead,
    "interactions.interaction": Interaction,
    "interactions.activity": Activity,
    "sales.product": Product,
    "sales.opportunity": Opportunity,
    "sales.quote": Quote,
    "sales.order": Order,
    "sales.contract": Contract,
    "sales.salestarget": SalesTarget,
    "service.ticket": Ticket,
    "service.returnrequest": ReturnRequest,
    "service.survey": Survey,
    "service.article": Article,
    "service.queue": Queue,
    "marketing.segment": Segment,
    "marketing.campaign": Campaign,
    "marketing.journey": Journey,
    "marketing.settings": LoyaltyProgram,
    "imports.importrun": ImportRun,
    "exports.export": Export,
    "dedupe.cluster": DuplicateCluster,
}
RELATIONS = ("own", "team", "other")


def expected(scope: Scope, relation: str, *, has_team: bool) -> bool:
    if scope == Scope.ALL:
        return True
    if scope == Scope.NONE:
        return False
    if scope == Scope.OWN or not has_team:
        return relation == "own"
    return relation in ("own", "team")


def records_for(policy, actor, teammate, stranger, team, other_team):
    """One record the actor owns, one of the actor's team, one of another team."""
    return {
        "own": make_record(policy, owner=actor, team=other_team),
        "team": make_record(policy, owner=teammate, team=team),
        "other": make_record(policy, owner=stranger, team=other_team),
    }


@pytest.mark.django_db
@pytest.mark.parametrize("has_team", [True, False], ids=["in-team", "no-team"])
@pytest.mark.parametrize("role", list(Role.values))
@pytest.mark.parametrize("policy", list(POLICIES))
def test_restrict_and_can_follow_the_policy_for_own_team_and_other_records(
    policy, role, has_team, team, other_team, teammate, stranger
):
    # given an actor in the role (with or without a team) and three records
    actor = UserFactory(role=role, team=team if has_team else None)
    records = records_for(policy, actor, teammate, stranger, team, other_team)
    model = MODELS[policy]
    for action in access.ACTIONS:
        scope = POLICIES[policy][role][("view", "change", "delete").index(action)]
        if role == Role.ADMIN:
            assert scope == Scope.ALL
        # when the records are restricted and checked one by one
        visible = set(restrict(model.objects.all(), actor, action).values_list("pk", flat=True))
        for relation, record in records.items():
            want = expected(scope, relation, has_team=has_team)
            # then both agree with the policy table
            assert (record.pk in visible) is want, (policy, role, action, relation)
            assert can(actor, action, record) is want, (policy, role, action, relation)
            assert explain(actor, action, record).allowed is want


@pytest.mark.django_db
@pytest.mark.parametrize("role", list(Role.values))
@pytest.mark.parametrize("policy", list(POLICIES))
def test_inactive_users_reach_nothing(policy, role, team, other_team, teammate, stranger):
    # given an inactive user in any role, admins included
    actor = UserFactory(role=role, team=team, is_active=False, is_superuser=role == Role.ADMIN)
    records = records_for(policy, actor, teammate, stranger, team, other_team)
    model = MODELS[policy]
    for action in access.ACTIONS:
        # then nothing is visible, not even the actor's own record
        assert not restrict(model.objects.all(), actor, action).exists()
        assert [can(actor, action, r) for r in records.values()] == [False, False, False]
        assert scope_for(actor, policy, action) == Scope.NONE
        decision = explain(actor, action, records["own"])
        assert decision.allowed is False
        assert decision.reason == "Inactive users reach no records."
    assert can_create(actor, model) is False


@pytest.mark.django_db
def test_anonymous_and_missing_actors_reach_nothing(team, other_team, teammate, stranger):
    record = make_record("customers.customer", owner=teammate, team=team)
    for actor in (None, AnonymousUser()):
        assert list(restrict(Customer.objects.all(), actor, "view")) == []
        assert can(actor, "view", record) is False
        assert can_create(actor, Customer) is False


@pytest.mark.django_db
def test_a_superuser_reaches_everything_whatever_the_role(team, other_team, stranger):
    # given a superuser whose role is only sales representative
    actor = UserFactory(role=Role.SALES_REP, team=team, is_superuser=True)
    record = make_record("customers.lead", owner=stranger, team=other_team)
    for action in access.ACTIONS:
        assert list(restrict(Lead.objects.all(), actor, action)) == [record]
        assert can(actor, action, record) is True
        assert explain(actor, action, record).reason == "Superusers reach all records."


@pytest.mark.django_db
def test_users_without_a_team_see_only_their_own_under_a_team_scope(loner, other_team, stranger):
    # given team-less records and a rep without a team (sales reps view their team's customers)
    own = make_record("customers.customer", owner=loner, team=None)
    teamless = make_record("customers.customer", owner=stranger, team=None)
    foreign = make_record("customers.customer", owner=stranger, team=other_team)
    # when the rep lists customers
    visible = list(restrict(Customer.objects.order_by("pk"), loner, "view"))
    # then a NULL team never matches a NULL team: only their own record is there
    assert visible == [own]
    assert can(loner, "view", teamless) is False
    assert can(loner, "view", foreign) is False
    assert explain(loner, "view", teamless).reason == (
        "Sales representative: own team's records, but they have no team; this is not theirs."
    )


@pytest.mark.django_db
def test_the_documented_rules_hold_for_sales_reps(rep, teammate, stranger, team, other_team):
    # Spot checks written out by hand, so a careless edit of POLICIES fails a test.
    teammates_customer = make_record("customers.customer", owner=teammate, team=team)
    own_customer = make_record("customers.customer", owner=rep, team=team)
    foreign_customer = make_record("customers.customer", owner=stranger, team=other_team)
    assert can(rep, "view", teammates_customer) is True
    assert can(rep, "change", teammates_customer) is False
    assert can(rep, "change", own_customer) is True
    assert can(rep, "delete", own_customer) is False  # reps never delete customers
    assert can(rep, "view", foreign_customer) is False
    assert can_create(rep, Customer) is True


@pytest.mark.django_db
def test_service_agents_never_see_leads_and_marketers_never_change_customers(
    team, other_team, teammate
):
    agent = UserFactory(role=Role.SERVICE_AGENT, team=team)
    marketer = UserFactory(role=Role.MARKETER, team=team)
    lead = make_record("customers.lead", owner=agent, team=team)
    customer = make_record("customers.customer", owner=marketer, team=team)
    assert list(restrict(Lead.objects.all(), agent, "view")) == []
    assert can(agent, "view", lead) is False
    assert can_create(agent, Lead) is False
    assert can(marketer, "view", customer) is True
    assert can(marketer, "change", customer) is False
    assert can_create(marketer, Customer) is False


@pytest.mark.django_db
def test_an_interaction_belongs_to_its_recorder_and_to_its_customers_owner(
    rep, stranger, other_team
):
    # given a call recorded by a stranger on a customer the rep owns
    from tests.factories import CustomerFactory

    customer = CustomerFactory(owner=rep, team=other_team)
    call = Interaction.objects.create(customer=customer, kind="call", subject="Hi", user=stranger)
    # then the rep, as the customer's owner, may change it
    assert can(rep, "change", call) is True
    assert list(restrict(Interaction.objects.all(), rep, "change")) == [call]
    assert explain(rep, "change", call).reason == (
        "Sales representative: own records; this is theirs."
    )


@pytest.mark.django_db
def test_child_records_follow_their_customers_access(rep, teammate, stranger, team, other_team):
    # given addresses of a teammate's customer and of a foreign customer
    mine = make_address(owner=teammate, team=team)
    foreign = make_address(owner=stranger, team=other_team)
    # then the rep sees the address exactly when the customer is visible
    assert list(restrict(Address.objects.all(), rep, "view")) == [mine]
    assert can(rep, "view", mine) is True
    assert can(rep, "view", foreign) is False
    assert access.policy_key_of(Address) == "customers.customer"


@pytest.mark.django_db
def test_a_model_without_a_policy_is_for_administrators_only(rep, admin_user):
    from vefa.platform.models import Tag

    tag = Tag.objects.create(name="VIP", slug="vip")
    assert list(restrict(Tag.objects.all(), rep, "view")) == []
    assert list(restrict(Tag.objects.all(), admin_user, "view")) == [tag]


@pytest.mark.django_db
def test_explain_names_the_role_and_the_reason(manager, teammate, stranger, team, other_team):
    teams_customer = make_record("customers.customer", owner=teammate, team=team)
    foreign = make_record("customers.customer", owner=stranger, team=other_team)
    assert explain(manager, "view", foreign).reason == "Sales manager: all records."
    assert explain(manager, "change", teams_customer).reason == (
        "Sales manager: own team's records; this is their team's."
    )
    decision = explain(manager, "delete", foreign)
    assert (decision.allowed, decision.scope) == (False, Scope.TEAM)
    assert decision.reason == (
        "Sales manager: own team's records; this is neither theirs nor their team's."
    )
    reader = UserFactory(role=Role.READ_ONLY, team=team)
    assert explain(reader, "change", teams_customer).reason == "Read-only: no records."


def test_every_policy_names_every_role_with_three_scopes():
    for policy, rules in POLICIES.items():
        assert set(rules) == set(Role.values), policy
        for scopes in rules.values():
            assert len(scopes) == 3
            assert all(isinstance(s, Scope) for s in scopes)


def test_sees_all_is_true_only_where_restrict_leaves_everything(admin_user, rep, manager):
    assert sees_all(admin_user, Customer)
    assert not sees_all(rep, Customer)
    assert not sees_all(None, Customer)
    for user in (admin_user, rep, manager):
        whole = sees_all(user, Customer, "change")
        assert whole == (scope_for(user, "customers.customer", "change") == Scope.ALL)
