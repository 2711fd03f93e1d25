"""Leads: creation, round-robin assignment, changes and conversion into customers."""

from __future__ import annotations

import datetime
import threading

import pytest
from django.db import connection, connections
from django.utils import timezone

from tests.customers.factories import make_customer, make_lead
from tests.factories import TeamFactory, UserFactory
from vefa.accounts.choices import Role
from vefa.common import events
from vefa.common.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from vefa.customers.models import (
    ContactPoint,
    Customer,
    CustomerRelationship,
    Lead,
    LeadAssignmentRule,
)
from vefa.customers.services import (
    lead_assignment_rule_create,
    lead_convert,
    lead_create,
    lead_delete,
    lead_update,
)
from vefa.interactions.models import Activity
from vefa.platform.models import ChangeLogEntry, CustomFieldDefinition

pytestmark = pytest.mark.django_db


@pytest.fixture
def captured_events():
    """Domain events dispatched during the test (after their transaction committed)."""
    seen: list[events.DomainEvent] = []

    def listen(event: events.DomainEvent) -> None:
        seen.append(event)

    events._subscribers["*"].append(listen)
    yield seen
    events._subscribers["*"].remove(listen)


@pytest.fixture
def sales_team():
    team = TeamFactory(name="Inside sales")
    first = UserFactory(role=Role.SALES_REP, team=team, full_name="First")
    second = UserFactory(role=Role.SALES_MANAGER, team=team, full_name="Second")
    # not eligible: a service agent and an inactive rep of the same team
    UserFactory(role=Role.SERVICE_AGENT, team=team)
    UserFactory(role=Role.SALES_REP, team=team, is_active=False)
    return team, first, second


class TestCreate:
    def test_without_a_rule_the_actor_owns_the_lead(self, rep, team):
        lead = lead_create(
            actor=rep,
            data={"first_name": "Deniz", "email": " Deniz@Example.com ", "phone": "0532 123 45 67"},
        )
        assert (lead.owner_id, lead.team_id) == (rep.pk, team.pk)
        assert lead.email == "deniz@example.com"
        assert lead.phone == "+905321234567"
        assert lead.name_key == "deniz"
        assert ChangeLogEntry.objects.filter(model="customers.lead", action="create").count() == 1

    @pytest.mark.parametrize(
        ("data", "field"),
        [
            ({}, "last_name"),
            ({"first_name": "A", "email": "nope"}, "email"),
            ({"first_name": "A", "phone": "12"}, "phone"),
            ({"first_name": "A", "score": 101}, "score"),
            ({"first_name": "A", "score": "high"}, "score"),
            ({"first_name": "A", "status": "converted"}, "status"),
            ({"first_name": "A", "status": "hot"}, "status"),
            ({"first_name": "x" * 10_000}, "first_name"),
            ({"first_name": ["A"]}, "first_name"),
            ({"first_name": "A", "owner": "someone"}, "owner"),
        ],
    )
    def test_invalid_leads_are_refused(self, admin_user, data, field):
        with pytest.raises(ValidationFailed) as exc:
            lead_create(actor=admin_user, data=data)
        assert field in exc.value.fields
        assert Lead.objects.count() == 0

    def test_service_agent_may_not_create_leads(self, service_agent):
        with pytest.raises(PermissionDenied):
            lead_create(actor=service_agent, data={"first_name": "A"})

    def test_rep_may_not_create_a_lead_for_a_colleague(self, rep, rep_same_team):
        with pytest.raises(PermissionDenied):
            lead_create(actor=rep, data={"first_name": "A", "owner": rep_same_team.pk})
        assert Lead.objects.count() == 0


class TestRoundRobin:
    def test_rule_assigns_least_recently_assigned_first(
        self, admin_user, sales_team, captured_events, django_capture_on_commit_callbacks
    ):
        team, first, second = sales_team
        LeadAssignmentRule.objects.create(name="Web leads", team=team, source="web")
        with django_capture_on_commit_callbacks(execute=True):
            owners = [
                lead_create(
                    actor=admin_user, data={"first_name": f"L{i}", "source": "web"}
                ).owner_id
                for i in range(4)
            ]
        assert owners == [first.pk, second.pk, first.pk, second.pk]
        assert {lead.team_id for lead in Lead.objects.all()} == {team.pk}
        assigned = [e for e in captured_events if e.name == "customers.lead.assigned"]
        assert [e.payload["owner_id"] for e in assigned] == owners

    def test_longest_waiting_person_goes_first(self, admin_user, sales_team):
        team, first, second = sales_team
        first.last_assigned_at = timezone.now() - datetime.timedelta(days=1)
        first.save()
        second.last_assigned_at = timezone.now() - datetime.timedelta(days=2)
        second.save()
        LeadAssignmentRule.objects.create(name="All", team=team)
        lead = lead_create(actor=admin_user, data={"first_name": "A"})
        assert lead.owner_id == second.pk

    def test_rule_of_another_source_does_not_match(self, rep, sales_team):
        team, _, _ = sales_team
        LeadAssignmentRule.objects.create(name="Events", team=team, source="event")
        lead = lead_create(actor=rep, data={"first_name": "A", "source": "web"})
        assert lead.owner_id == rep.pk

    def test_first_active_rule_in_order_wins(self, admin_user, sales_team, other_team):
        team, first, _ = sales_team
        other = UserFactory(role=Role.SALES_REP, team=other_team)
        LeadAssignmentRule.objects.create(
            name="Inactive", team=other_team, order=1, is_active=False
        )
        LeadAssignmentRule.objects.create(name="Second", team=other_team, order=20)
        LeadAssignmentRule.objects.create(name="First", team=team, order=10)
        assert lead_create(actor=admin_user, data={"first_name": "A"}).owner_id == first.pk
        assert other.pk != first.pk

    def test_explicit_owner_skips_the_rules(self, admin_user, sales_team, rep):
        team, first, _ = sales_team
        LeadAssignmentRule.objects.create(name="All", team=team)
        lead = lead_create(actor=admin_user, data={"first_name": "A", "owner": rep.pk})
        assert lead.owner_id == rep.pk
        first.refresh_from_db()
        assert first.last_assigned_at is None

    def test_rules_are_managed_by_administrators_only(self, admin_user, rep, team):
        with pytest.raises(PermissionDenied):
            lead_assignment_rule_create(actor=rep, data={"name": "X"}, team=team.pk)
        rule = lead_assignment_rule_create(
            actor=admin_user, data={"name": "Web", "source": "web"}, team=team.pk
        )
        assert rule.team_id == team.pk

    @pytest.mark.django_db(transaction=True)
    def test_concurrent_leads_go_to_different_people(self, sales_team):
        if connection.vendor != "postgresql":
            pytest.skip("SQLite serialises writers; the row locks matter on PostgreSQL")
        team, first, second = sales_team
        admin = UserFactory(role=Role.ADMIN, team=team)
        LeadAssignmentRule.objects.create(name="All", team=team)
        barrier = threading.Barrier(2)
        owners: list[int] = []
        errors: list[BaseException] = []

        def create(i: int) -> None:
            try:
                barrier.wait()
                owners.append(lead_create(actor=admin, data={"first_name": f"T{i}"}).owner_id)
            except BaseException as exc:
                errors.append(exc)
            finally:
                connections.close_all()

        threads = [threading.Thread(target=create, args=(i,)) for i in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        assert sorted(owners) == sorted([first.pk, second.pk])


class TestUpdateDelete:
    def test_update_changes_fields_and_name_key(self, rep, own_lead):
        updated = lead_update(
            actor=rep, lead_id=own_lead.pk, data={"last_name": "Yıldız", "status": "contacted"}
        )
        assert updated.name_key == "deniz yildiz"
        assert updated.status == "contacted"
        assert updated.version == 2

    def test_stale_update_is_a_conflict(self, rep, own_lead):
        lead_update(actor=rep, lead_id=own_lead.pk, data={"score": 10})
        with pytest.raises(Conflict):
            lead_update(actor=rep, lead_id=own_lead.pk, data={"score": 20}, expected_version=1)
        own_lead.refresh_from_db()
        assert own_lead.score == 10

    def test_hidden_lead_is_not_found_and_unchanged(self, rep, other_lead):
        with pytest.raises(NotFound):
            lead_update(actor=rep, lead_id=other_lead.pk, data={"score": 50})
        with pytest.raises(NotFound):
            lead_delete(actor=rep, lead_id=other_lead.pk)
        other_lead.refresh_from_db()
        assert other_lead.score == 0
        assert ChangeLogEntry.objects.count() == 0

    def test_rep_deletes_his_own_lead(self, rep, own_lead):
        lead_delete(actor=rep, lead_id=own_lead.pk)
        assert not Lead.objects.filter(pk=own_lead.pk).exists()
        assert ChangeLogEntry.objects.get(action="delete").before["first_name"] == "Deniz"


class TestConvert:
    def _lead(self, rep, team, **extra):
        lead = lead_create(
            actor=rep,
            data={
                "first_name": "Deniz",
                "last_name": "Arslan",
                "company_name": "Arslan Tekstil",
                "job_title": "Satın alma müdürü",
                "email": "deniz@arslan.com.tr",
                "phone": "0532 123 45 67",
                "source": "event",
                "notes": "Met at the fair",
                **extra,
            },
            tags=["fair-2024"],
        )
        return lead

    def test_converts_into_person_organisation_and_works_at(
        self, rep, team, captured_events, django_capture_on_commit_callbacks
    ):
        lead = self._lead(rep, team)
        activity = Activity.objects.create(
            kind="call", subject="Call Deniz", owner=rep, team=team, lead=lead
        )
        with django_capture_on_commit_callbacks(execute=True):
            result = lead_convert(actor=rep, lead_id=lead.pk)

        person, organisation = result.customer, result.organisation
        assert person.kind == "person" and person.display_name == "Deniz Arslan"
        assert organisation is not None and organisation.display_name == "Arslan Tekstil"
        assert (person.owner_id, person.team_id, person.source) == (rep.pk, team.pk, "event")
        assert person.notes == "Met at the fair"
        assert list(person.tags.values_list("name", flat=True)) == ["fair-2024"]
        assert person.primary_email == "deniz@arslan.com.tr"
        assert person.primary_phone == "+905321234567"
        assert sorted(
            ContactPoint.objects.filter(customer=person).values_list("kind", flat=True)
        ) == [
            "email",
            "mobile",
        ]
        relationship = CustomerRelationship.objects.get()
        assert (relationship.from_customer_id, relationship.to_customer_id) == (
            person.pk,
            organisation.pk,
        )
        assert (relationship.kind, relationship.job_title) == ("works_at", "Satın alma müdürü")

        lead.refresh_from_db()
        assert lead.status == "converted"
        assert lead.converted_customer_id == person.pk
        assert lead.converted_at is not None
        activity.refresh_from_db()
        assert activity.customer_id == person.pk
        # the lead's history stays: its creation and its conversion
        assert list(
            ChangeLogEntry.objects.filter(model="customers.lead", object_id=lead.pk)
            .order_by("id")
            .values_list("action", flat=True)
        ) == ["create", "update"]
        converted = [e for e in captured_events if e.name == "customers.lead.converted"]
        assert len(converted) == 1
        assert converted[0].payload == {
            "customer_id": person.pk,
            "organisation_id": organisation.pk,
        }

    def test_converting_twice_is_refused(self, rep, team):
        lead = self._lead(rep, team)
        lead_convert(actor=rep, lead_id=lead.pk)
        with pytest.raises(ValidationFailed):
            lead_convert(actor=rep, lead_id=lead.pk)
        assert Customer.objects.count() == 2

    def test_failure_half_way_leaves_nothing(self, rep, team):
        CustomFieldDefinition.objects.create(
            model="customers.customer", key="vat", label="VAT", field_type="text", required=True
        )
        lead = self._lead(rep, team)
        with pytest.raises(ValidationFailed) as exc:
            lead_convert(actor=rep, lead_id=lead.pk)
        assert "custom_fields.vat" in exc.value.fields
        assert Customer.objects.count() == 0
        lead.refresh_from_db()
        assert lead.status == "new"
        # with the missing value given, it converts
        result = lead_convert(actor=rep, lead_id=lead.pk, custom_fields={"vat": "123"})
        assert result.customer.custom_fields == {"vat": "123"}

    def test_stale_version_is_refused(self, rep, team):
        lead = self._lead(rep, team)
        lead_update(actor=rep, lead_id=lead.pk, data={"score": 5})
        with pytest.raises(Conflict):
            lead_convert(actor=rep, lead_id=lead.pk, expected_version=1)
        assert Customer.objects.count() == 0

    def test_company_only_lead_becomes_the_organisation(self, rep, team):
        lead = lead_create(actor=rep, data={"company_name": "Beta AŞ", "email": "info@beta.com.tr"})
        result = lead_convert(actor=rep, lead_id=lead.pk, lifecycle_stage="customer")
        assert result.customer.kind == "organisation"
        assert result.customer.pk == result.organisation.pk
        assert result.customer.primary_email == "info@beta.com.tr"
        assert result.customer.became_customer_at is not None
        assert result.relationship is None

    def test_person_without_company_gets_no_organisation(self, rep, own_lead):
        result = lead_convert(actor=rep, lead_id=own_lead.pk)
        assert result.organisation is None
        assert Customer.objects.count() == 1

    def test_link_to_an_existing_organisation(self, rep, team, organisation):
        lead = self._lead(rep, team, company_name="Acme Ltd")
        result = lead_convert(actor=rep, lead_id=lead.pk, organisation_id=organisation.pk)
        assert result.organisation.pk == organisation.pk
        assert Customer.objects.filter(kind="organisation").count() == 1

    def test_hidden_organisation_reads_as_missing(self, rep, team, rep_other_team, other_team):
        hidden = make_customer(
            owner=rep_other_team, team=other_team, kind="organisation", trade_name="Hidden"
        )
        lead = self._lead(rep, team)
        with pytest.raises(ValidationFailed) as exc:
            lead_convert(actor=rep, lead_id=lead.pk, organisation_id=hidden.pk)
        assert "organisation" in exc.value.fields
        assert Customer.objects.exclude(pk=hidden.pk).count() == 0

    def test_lead_without_a_name_or_company_cannot_be_converted(self, rep):
        lead = make_lead(owner=rep, team=rep.team, email="only@mail.com")
        with pytest.raises(ValidationFailed):
            lead_convert(actor=rep, lead_id=lead.pk)

    def test_hidden_lead_is_not_found(self, rep, other_lead):
        with pytest.raises(NotFound):
            lead_convert(actor=rep, lead_id=other_lead.pk)
        assert Customer.objects.count() == 0

    def test_marketer_may_change_leads_but_not_create_customers(self, marketer, own_lead):
        with pytest.raises(PermissionDenied):
            lead_convert(actor=marketer, lead_id=own_lead.pk)
        own_lead.refresh_from_db()
        assert own_lead.status == "new"
