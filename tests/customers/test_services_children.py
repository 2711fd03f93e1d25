"""Contact points, addresses and relationships of a customer."""

from __future__ import annotations

import pytest

from tests.customers.conftest import HOSTILE
from tests.customers.factories import make_customer
from vefa.common.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from vefa.customers.models import Address, ContactPoint, CustomerRelationship
from vefa.customers.services import (
    address_create,
    address_delete,
    address_update,
    contact_point_create,
    contact_point_delete,
    contact_point_update,
    relationship_create,
    relationship_delete,
    relationship_update,
)
from vefa.platform.models import ChangeLogEntry

pytestmark = pytest.mark.django_db


def _logs(model: str) -> int:
    return ChangeLogEntry.objects.filter(model=model).count()


class TestContactPoints:
    def test_email_is_lower_cased_into_normalized_and_becomes_primary(self, rep, own_customer):
        point = contact_point_create(
            actor=rep,
            customer_id=own_customer.pk,
            data={"kind": "email", "value": " Ayse@Example.COM "},
        )
        own_customer.refresh_from_db()
        assert point.value == "Ayse@Example.COM"
        assert point.normalized == "ayse@example.com"
        assert point.is_primary is True
        assert own_customer.primary_email == "ayse@example.com"
        entry = ChangeLogEntry.objects.get(model="customers.contactpoint")
        assert entry.customer_id == own_customer.pk

    def test_phone_is_read_in_the_customers_country(self, rep, own_customer):
        own_customer.country = "RS"
        own_customer.save()
        point = contact_point_create(
            actor=rep, customer_id=own_customer.pk, data={"kind": "mobile", "value": "060 1234567"}
        )
        assert point.normalized == "+381601234567"
        assert point.country == "RS"

    def test_phone_is_read_in_the_given_country_before_the_customers(self, rep, own_customer):
        point = contact_point_create(
            actor=rep,
            customer_id=own_customer.pk,
            data={"kind": "phone", "value": "0912 345 6789", "country": "IR"},
        )
        assert point.normalized == "+989123456789"

    def test_phone_defaults_to_turkey(self, rep, own_customer):
        point = contact_point_create(
            actor=rep,
            customer_id=own_customer.pk,
            data={"kind": "phone", "value": "0212 555 00 00"},
        )
        own_customer.refresh_from_db()
        assert point.normalized == "+902125550000"
        assert own_customer.primary_phone == "+902125550000"

    @pytest.mark.parametrize(
        ("data", "field"),
        [
            ({"kind": "phone", "value": "123"}, "value"),
            ({"kind": "email", "value": "nope"}, "value"),
            ({"kind": "website", "value": "javascript:alert(1)"}, "value"),
            ({"kind": "pigeon", "value": "x"}, "kind"),
            ({"kind": "email"}, "value"),
            ({"kind": "email", "value": 42}, "value"),
            ({"kind": "phone", "value": "0532 123 45 67", "country": "XX"}, "country"),
            ({"kind": "email", "value": "a@b.co", "is_primary": "yes"}, "is_primary"),
            ({"kind": "email", "value": "x" * 10_000}, "value"),
            ({"kind": "email", "value": "a@b.co", "label": "<script>" * 20}, "label"),
        ],
    )
    def test_invalid_contact_points_are_refused_with_a_field_error(
        self, rep, own_customer, data, field
    ):
        with pytest.raises(ValidationFailed) as exc:
            contact_point_create(actor=rep, customer_id=own_customer.pk, data=data)
        assert field in exc.value.fields
        assert ContactPoint.objects.count() == 0
        assert _logs("customers.contactpoint") == 0

    def test_the_same_number_twice_is_refused_even_written_differently(self, rep, own_customer):
        contact_point_create(
            actor=rep,
            customer_id=own_customer.pk,
            data={"kind": "mobile", "value": "0532 123 45 67"},
        )
        with pytest.raises(ValidationFailed) as exc:
            contact_point_create(
                actor=rep,
                customer_id=own_customer.pk,
                data={"kind": "phone", "value": "+90 532 123 4567"},
            )
        assert "value" in exc.value.fields

    def test_one_primary_per_type_and_the_next_is_promoted_on_delete(self, rep, own_customer):
        first = contact_point_create(
            actor=rep, customer_id=own_customer.pk, data={"kind": "email", "value": "a@x.com"}
        )
        second = contact_point_create(
            actor=rep,
            customer_id=own_customer.pk,
            data={"kind": "email", "value": "b@x.com", "is_primary": True},
        )
        first.refresh_from_db()
        own_customer.refresh_from_db()
        assert (first.is_primary, second.is_primary) == (False, True)
        assert own_customer.primary_email == "b@x.com"
        contact_point_delete(actor=rep, contact_point_id=second.pk)
        first.refresh_from_db()
        own_customer.refresh_from_db()
        assert first.is_primary is True
        assert own_customer.primary_email == "a@x.com"

    def test_deleting_the_last_email_clears_the_customer_column(self, rep, own_customer):
        point = contact_point_create(
            actor=rep, customer_id=own_customer.pk, data={"kind": "email", "value": "a@x.com"}
        )
        contact_point_delete(actor=rep, contact_point_id=point.pk)
        own_customer.refresh_from_db()
        assert own_customer.primary_email == ""

    def test_update_normalises_again_and_keeps_the_summary_in_step(self, rep, own_customer):
        point = contact_point_create(
            actor=rep, customer_id=own_customer.pk, data={"kind": "email", "value": "a@x.com"}
        )
        updated = contact_point_update(
            actor=rep, contact_point_id=point.pk, data={"value": "New@X.com"}, expected_version=1
        )
        own_customer.refresh_from_db()
        assert updated.normalized == "new@x.com"
        assert updated.version == 2
        assert own_customer.primary_email == "new@x.com"

    def test_stale_update_is_a_conflict(self, rep, own_customer):
        point = contact_point_create(
            actor=rep, customer_id=own_customer.pk, data={"kind": "email", "value": "a@x.com"}
        )
        contact_point_update(actor=rep, contact_point_id=point.pk, data={"label": "work"})
        with pytest.raises(Conflict):
            contact_point_update(
                actor=rep, contact_point_id=point.pk, data={"label": "home"}, expected_version=1
            )

    def test_the_only_primary_stays_primary(self, rep, own_customer):
        point = contact_point_create(
            actor=rep, customer_id=own_customer.pk, data={"kind": "email", "value": "a@x.com"}
        )
        updated = contact_point_update(
            actor=rep, contact_point_id=point.pk, data={"is_primary": False}
        )
        assert updated.is_primary is True

    def test_hidden_customer_is_not_found_and_nothing_is_written(self, rep, other_customer):
        with pytest.raises(NotFound):
            contact_point_create(
                actor=rep, customer_id=other_customer.pk, data={"kind": "email", "value": "a@x.com"}
            )
        assert ContactPoint.objects.count() == 0

    def test_read_only_customer_is_permission_denied(self, rep, team_customer):
        with pytest.raises(PermissionDenied):
            contact_point_create(
                actor=rep, customer_id=team_customer.pk, data={"kind": "email", "value": "a@x.com"}
            )
        assert ContactPoint.objects.count() == 0
        assert _logs("customers.contactpoint") == 0

    def test_hidden_contact_point_cannot_be_changed_or_deleted(
        self, rep, rep_other_team, other_customer
    ):
        point = contact_point_create(
            actor=rep_other_team,
            customer_id=other_customer.pk,
            data={"kind": "email", "value": "a@x.com"},
        )
        with pytest.raises(NotFound):
            contact_point_update(actor=rep, contact_point_id=point.pk, data={"label": "x"})
        with pytest.raises(NotFound):
            contact_point_delete(actor=rep, contact_point_id=point.pk)
        assert ContactPoint.objects.filter(pk=point.pk, label="").exists()


class TestAddresses:
    def _address(self, rep, customer, **extra):
        data = {"kind": "home", "line1": "Bağdat Cd. 1", "city": "İstanbul", "country": "tr"}
        return address_create(actor=rep, customer_id=customer.pk, data={**data, **extra})

    def test_first_address_is_primary_and_sets_city_and_country(self, rep, own_customer):
        address = self._address(rep, own_customer)
        own_customer.refresh_from_db()
        assert address.is_primary is True
        assert address.country == "TR"
        assert (own_customer.city, own_customer.country) == ("İstanbul", "TR")

    def test_one_primary_per_customer(self, rep, own_customer):
        first = self._address(rep, own_customer)
        second = self._address(rep, own_customer, city="Beograd", country="RS", is_primary=True)
        first.refresh_from_db()
        own_customer.refresh_from_db()
        assert (first.is_primary, second.is_primary) == (False, True)
        assert own_customer.city == "Beograd"
        assert Address.objects.filter(customer=own_customer, is_primary=True).count() == 1

    def test_making_another_primary_by_update(self, rep, own_customer):
        first = self._address(rep, own_customer)
        second = self._address(rep, own_customer, city="Ankara")
        address_update(actor=rep, address_id=second.pk, data={"is_primary": True})
        first.refresh_from_db()
        own_customer.refresh_from_db()
        assert first.is_primary is False
        assert own_customer.city == "Ankara"

    def test_deleting_the_primary_promotes_the_next(self, rep, own_customer):
        first = self._address(rep, own_customer)
        second = self._address(rep, own_customer, city="Ankara")
        address_delete(actor=rep, address_id=first.pk)
        second.refresh_from_db()
        own_customer.refresh_from_db()
        assert second.is_primary is True
        assert own_customer.city == "Ankara"

    @pytest.mark.parametrize(
        ("data", "field"),
        [
            ({"kind": "home", "city": "X", "country": "TR"}, "line1"),
            ({"kind": "home", "line1": "X", "country": "TR"}, "city"),
            ({"kind": "home", "line1": "X", "city": "X"}, "country"),
            ({"kind": "home", "line1": "X", "city": "X", "country": "Turkey"}, "country"),
            ({"kind": "castle", "line1": "X", "city": "X", "country": "TR"}, "kind"),
            ({"kind": "home", "line1": "x" * 10_000, "city": "X", "country": "TR"}, "line1"),
            ({"kind": "home", "line1": ["x"], "city": "X", "country": "TR"}, "line1"),
        ],
    )
    def test_invalid_addresses_are_refused(self, rep, own_customer, data, field):
        with pytest.raises(ValidationFailed) as exc:
            address_create(actor=rep, customer_id=own_customer.pk, data=data)
        assert field in exc.value.fields
        assert Address.objects.count() == 0

    @pytest.mark.parametrize("value", HOSTILE)
    def test_hostile_text_is_stored_as_given(self, rep, own_customer, value):
        address = self._address(rep, own_customer, line1=value)
        address.refresh_from_db()
        assert address.line1 == value.strip()

    def test_other_teams_customer_is_not_found(self, rep, other_customer):
        with pytest.raises(NotFound):
            self._address(rep, other_customer)
        assert Address.objects.count() == 0


class TestRelationships:
    def test_person_works_at_organisation_with_job_title(self, rep, own_customer, organisation):
        relationship = relationship_create(
            actor=rep,
            from_customer_id=own_customer.pk,
            to_customer_id=organisation.pk,
            data={"kind": "works_at", "job_title": "Buyer", "role": "Decision maker"},
        )
        assert relationship.job_title == "Buyer"
        assert ChangeLogEntry.objects.get(model="customers.customerrelationship").customer_id == (
            own_customer.pk
        )

    @pytest.mark.parametrize(
        ("kind", "from_org", "to_org", "field"),
        [
            ("works_at", True, True, "from_customer"),
            ("works_at", False, False, "to_customer"),
            ("parent_company", False, True, "from_customer"),
            ("spouse", False, True, "to_customer"),
            ("household", True, False, "from_customer"),
        ],
    )
    def test_ends_must_be_of_the_right_kind(self, rep, team, kind, from_org, to_org, field):
        def make(org: bool, name: str):
            if org:
                return make_customer(owner=rep, team=team, kind="organisation", trade_name=name)
            return make_customer(owner=rep, team=team, last_name=name)

        source, target = make(from_org, "A"), make(to_org, "B")
        with pytest.raises(ValidationFailed) as exc:
            relationship_create(
                actor=rep,
                from_customer_id=source.pk,
                to_customer_id=target.pk,
                data={"kind": kind},
            )
        assert field in exc.value.fields
        assert CustomerRelationship.objects.count() == 0

    def test_referred_by_links_any_kinds(self, rep, own_customer, organisation):
        relationship_create(
            actor=rep,
            from_customer_id=organisation.pk,
            to_customer_id=own_customer.pk,
            data={"kind": "referred_by"},
        )
        assert CustomerRelationship.objects.count() == 1

    def test_no_self_relation(self, rep, own_customer):
        with pytest.raises(ValidationFailed) as exc:
            relationship_create(
                actor=rep,
                from_customer_id=own_customer.pk,
                to_customer_id=own_customer.pk,
                data={"kind": "referred_by"},
            )
        assert "to_customer" in exc.value.fields

    def test_spouse_is_not_recorded_twice_in_either_direction(self, rep, team, own_customer):
        partner = make_customer(owner=rep, team=team, last_name="Partner")
        relationship_create(
            actor=rep,
            from_customer_id=own_customer.pk,
            to_customer_id=partner.pk,
            data={"kind": "spouse"},
        )
        for source, target in ((own_customer, partner), (partner, own_customer)):
            with pytest.raises(ValidationFailed):
                relationship_create(
                    actor=rep,
                    from_customer_id=source.pk,
                    to_customer_id=target.pk,
                    data={"kind": "spouse"},
                )
        assert CustomerRelationship.objects.count() == 1

    def test_parent_companies_never_form_a_cycle(self, rep, team):
        a, b, c = (
            make_customer(owner=rep, team=team, kind="organisation", trade_name=n) for n in "ABC"
        )
        relationship_create(
            actor=rep, from_customer_id=a.pk, to_customer_id=b.pk, data={"kind": "parent_company"}
        )
        relationship_create(
            actor=rep, from_customer_id=b.pk, to_customer_id=c.pk, data={"kind": "parent_company"}
        )
        with pytest.raises(ValidationFailed):
            relationship_create(
                actor=rep,
                from_customer_id=c.pk,
                to_customer_id=a.pk,
                data={"kind": "parent_company"},
            )
        assert CustomerRelationship.objects.count() == 2

    def test_job_title_only_for_works_at(self, rep, team, own_customer):
        partner = make_customer(owner=rep, team=team, last_name="Partner")
        with pytest.raises(ValidationFailed) as exc:
            relationship_create(
                actor=rep,
                from_customer_id=own_customer.pk,
                to_customer_id=partner.pk,
                data={"kind": "spouse", "job_title": "CEO"},
            )
        assert "job_title" in exc.value.fields

    def test_hidden_other_end_reads_as_missing(self, rep, own_customer, other_customer):
        with pytest.raises(ValidationFailed) as exc:
            relationship_create(
                actor=rep,
                from_customer_id=own_customer.pk,
                to_customer_id=other_customer.pk,
                data={"kind": "referred_by"},
            )
        assert exc.value.fields == {"to_customer": ["Choose an existing customer."]}

    def test_from_customer_the_actor_may_not_change_is_denied(
        self, rep, team_customer, own_customer
    ):
        with pytest.raises(PermissionDenied):
            relationship_create(
                actor=rep,
                from_customer_id=team_customer.pk,
                to_customer_id=own_customer.pk,
                data={"kind": "referred_by"},
            )
        assert CustomerRelationship.objects.count() == 0

    def test_update_and_delete(self, rep, own_customer, organisation):
        relationship = relationship_create(
            actor=rep,
            from_customer_id=own_customer.pk,
            to_customer_id=organisation.pk,
            data={"kind": "works_at"},
        )
        updated = relationship_update(
            actor=rep, relationship_id=relationship.pk, data={"job_title": "CFO"}
        )
        assert updated.job_title == "CFO"
        with pytest.raises(ValidationFailed):
            relationship_update(
                actor=rep,
                relationship_id=relationship.pk,
                data={"start_date": "2024-05-01", "end_date": "2024-01-01"},
            )
        relationship_delete(actor=rep, relationship_id=relationship.pk)
        assert CustomerRelationship.objects.count() == 0
        assert [e.action for e in ChangeLogEntry.objects.order_by("id")] == [
            "create",
            "update",
            "delete",
        ]

    def test_relationship_with_a_hidden_end_cannot_be_deleted(
        self, rep, rep_other_team, other_customer, other_team
    ):
        stranger_org = make_customer(
            owner=rep_other_team, team=other_team, kind="organisation", trade_name="Hidden AŞ"
        )
        relationship = relationship_create(
            actor=rep_other_team,
            from_customer_id=other_customer.pk,
            to_customer_id=stranger_org.pk,
            data={"kind": "works_at"},
        )
        with pytest.raises(NotFound):
            relationship_delete(actor=rep, relationship_id=relationship.pk)
        assert CustomerRelationship.objects.filter(pk=relationship.pk).exists()
