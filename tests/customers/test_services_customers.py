"""customer_create / customer_update / customer_delete and the bulk actions."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from tests.customers.conftest import HOSTILE
from tests.customers.factories import make_customer
from tests.factories import UserFactory
from vefa.accounts.choices import Role
from vefa.common.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from vefa.customers.models import ContactPoint, Customer
from vefa.customers.services import (
    customer_bulk_assign,
    customer_bulk_tag,
    customer_create,
    customer_delete,
    customer_update,
)
from vefa.platform.models import ChangeLogEntry, CustomFieldDefinition

pytestmark = pytest.mark.django_db


def _log_count(model: str = "customers.customer") -> int:
    return ChangeLogEntry.objects.filter(model=model).count()


class TestCreate:
    def test_person_gets_display_name_key_owner_team_and_one_log_row(self, rep, team):
        # given a sales rep in a team
        # when he creates a person
        customer = customer_create(
            actor=rep, data={"kind": "person", "first_name": " İpek ", "last_name": "Şahin"}
        )
        # then the name is derived and folded, he owns it, his team shares it
        assert customer.display_name == "İpek Şahin"
        assert customer.name_key == "ipek sahin"
        assert customer.owner_id == rep.pk
        assert customer.team_id == team.pk
        assert customer.lifecycle_stage == "prospect"
        assert customer.version == 1
        entries = ChangeLogEntry.objects.filter(model="customers.customer", object_id=customer.pk)
        assert [e.action for e in entries] == ["create"]
        assert entries[0].actor_id == rep.pk

    def test_organisation_uses_trade_name_then_legal_name(self, rep):
        both = customer_create(
            actor=rep,
            data={
                "kind": "organisation",
                "legal_name": "Acme Anonim Şirketi",
                "trade_name": "Acme",
            },
        )
        legal = customer_create(actor=rep, data={"kind": "organisation", "legal_name": "Beta AŞ"})
        assert both.display_name == "Acme"
        assert legal.display_name == "Beta AŞ"
        assert legal.name_key == "beta as"

    def test_customer_stage_is_stamped(self, rep):
        customer = customer_create(
            actor=rep, data={"kind": "person", "last_name": "Kaya", "lifecycle_stage": "customer"}
        )
        assert customer.became_customer_at is not None
        assert customer.lost_at is None
        assert abs((customer.stage_changed_at - timezone.now()).total_seconds()) < 5

    def test_email_and_phone_become_primary_contact_points(self, rep):
        customer = customer_create(
            actor=rep,
            data={"kind": "person", "first_name": "Ali"},
            email="Ali@Example.COM",
            phone="0532 123 45 67",
        )
        assert customer.primary_email == "ali@example.com"
        assert customer.primary_phone == "+905321234567"
        kinds = sorted(
            ContactPoint.objects.filter(customer=customer).values_list("kind", flat=True)
        )
        assert kinds == ["email", "mobile"]

    def test_invalid_phone_leaves_no_customer(self, rep):
        with pytest.raises(ValidationFailed) as exc:
            customer_create(actor=rep, data={"kind": "person", "first_name": "Ali"}, phone="123")
        assert "phone" in exc.value.fields
        assert Customer.objects.count() == 0
        assert _log_count() == 0

    @pytest.mark.parametrize("value", HOSTILE)
    def test_hostile_text_is_stored_as_given(self, rep, value):
        customer = customer_create(
            actor=rep, data={"kind": "person", "first_name": value, "notes": value}
        )
        customer.refresh_from_db()
        assert customer.first_name == value.strip()
        assert customer.notes == value.strip()

    def test_persian_name_is_folded_for_search(self, rep):
        customer = customer_create(
            actor=rep, data={"kind": "person", "first_name": "علي", "last_name": "كريمي"}
        )
        assert customer.display_name == "علي كريمي"
        assert customer.name_key == "علی کریمی"

    def test_ten_thousand_character_name_is_refused_with_a_field_error(self, rep):
        with pytest.raises(ValidationFailed) as exc:
            customer_create(actor=rep, data={"kind": "person", "first_name": "x" * 10_000})
        assert list(exc.value.fields) == ["first_name"]
        assert Customer.objects.count() == 0

    def test_huge_notes_are_refused(self, rep):
        with pytest.raises(ValidationFailed) as exc:
            customer_create(
                actor=rep, data={"kind": "person", "last_name": "A", "notes": "x" * 30_000}
            )
        assert "notes" in exc.value.fields

    @pytest.mark.parametrize(
        ("data", "field"),
        [
            ({"kind": "person", "first_name": 123}, "first_name"),
            ({"kind": "person", "last_name": "A", "children_count": "many"}, "children_count"),
            ({"kind": "person", "last_name": "A", "children_count": True}, "children_count"),
            ({"kind": "person", "last_name": "A", "birth_date": "yesterday"}, "birth_date"),
            ({"kind": "person", "last_name": "A", "birth_date": "2999-01-01"}, "birth_date"),
            ({"kind": "person", "last_name": "A", "gender": "robot"}, "gender"),
            ({"kind": "person", "last_name": "A", "currency": "XXXX"}, "currency"),
            ({"kind": "person", "last_name": "A", "currency": "ABC"}, "currency"),
            ({"kind": "person", "last_name": "A", "language": "English!"}, "language"),
            ({"kind": "person", "last_name": "A", "lifecycle_stage": "vip"}, "lifecycle_stage"),
            ({"kind": "person", "last_name": "A", "legal_name": "Acme"}, "legal_name"),
            ({"kind": "organisation", "legal_name": "A", "birth_date": "2000-01-01"}, "birth_date"),
            (
                {"kind": "organisation", "legal_name": "A", "annual_revenue": "lots"},
                "annual_revenue",
            ),
            (
                {"kind": "organisation", "legal_name": "A", "annual_revenue": "NaN"},
                "annual_revenue",
            ),
            ({"kind": "organisation", "legal_name": "A", "employee_count": -5}, "employee_count"),
            ({"kind": "organisation", "legal_name": "A", "nace_code": "hello"}, "nace_code"),
            ({"kind": "organisation", "legal_name": "A", "sic_code": "12345"}, "sic_code"),
            ({"kind": "person", "last_name": "A", "quiet_hours_start": "22:00"}, "quiet_hours_end"),
            ({"kind": "person", "last_name": "A", "notes": "a\x00b"}, "notes"),
            ({"kind": "person", "last_name": "A", "no_such_field": 1}, "no_such_field"),
            ({"kind": "person"}, "first_name"),
            ({"kind": "organisation"}, "legal_name"),
            ({"first_name": "A"}, "kind"),
            ({"kind": "robot", "first_name": "A"}, "kind"),
            ({"kind": "person", "last_name": "A", "owner": 999999}, "owner"),
            ({"kind": "person", "last_name": "A", "team": "x"}, "team"),
        ],
    )
    def test_invalid_input_names_the_field_and_writes_nothing(self, admin_user, data, field):
        with pytest.raises(ValidationFailed) as exc:
            customer_create(actor=admin_user, data=data)
        assert field in exc.value.fields
        assert Customer.objects.count() == 0
        assert _log_count() == 0

    def test_data_that_is_not_a_mapping_is_refused(self, rep):
        with pytest.raises(ValidationFailed):
            customer_create(actor=rep, data=["kind", "person"])  # type: ignore[arg-type]

    def test_custom_fields_are_validated(self, rep):
        CustomFieldDefinition.objects.create(
            model="customers.customer", key="size", label="Size", field_type="integer"
        )
        with pytest.raises(ValidationFailed) as exc:
            customer_create(
                actor=rep, data={"kind": "person", "last_name": "A", "custom_fields": {"size": "x"}}
            )
        assert "custom_fields.size" in exc.value.fields
        ok = customer_create(
            actor=rep, data={"kind": "person", "last_name": "A", "custom_fields": {"size": "12"}}
        )
        assert ok.custom_fields == {"size": 12}

    def test_tags_are_attached(self, rep):
        customer = customer_create(
            actor=rep, data={"kind": "person", "last_name": "A"}, tags=["VIP", " gold "]
        )
        assert sorted(customer.tags.values_list("name", flat=True)) == ["VIP", "gold"]

    def test_read_only_user_may_not_create(self, read_only):
        with pytest.raises(PermissionDenied):
            customer_create(actor=read_only, data={"kind": "person", "last_name": "A"})
        assert Customer.objects.count() == 0

    def test_rep_may_not_create_a_customer_for_another_owner(self, rep, rep_same_team):
        with pytest.raises(PermissionDenied):
            customer_create(
                actor=rep, data={"kind": "person", "last_name": "A", "owner": rep_same_team.pk}
            )
        assert Customer.objects.count() == 0
        assert _log_count() == 0

    def test_manager_may_create_for_a_team_member(self, manager, rep, team):
        customer = customer_create(
            actor=manager, data={"kind": "person", "last_name": "A", "owner": rep.pk}
        )
        assert customer.owner_id == rep.pk
        assert customer.team_id == team.pk

    def test_inactive_user_may_not_create(self, rep):
        rep.is_active = False
        rep.save()
        with pytest.raises(PermissionDenied):
            customer_create(actor=rep, data={"kind": "person", "last_name": "A"})


class TestUpdate:
    def test_name_change_updates_display_name_and_logs_before_after(self, rep, own_customer):
        updated = customer_update(
            actor=rep, customer_id=own_customer.pk, data={"last_name": "Demir"}
        )
        assert updated.display_name == "Ayşe Demir"
        assert updated.name_key == "ayse demir"
        assert updated.version == 2
        entry = ChangeLogEntry.objects.filter(action="update", object_id=own_customer.pk).get()
        assert entry.before["last_name"] == "Yılmaz"
        assert entry.after["last_name"] == "Demir"

    def test_stage_changes_stamp_dates(self, rep):
        customer = customer_create(actor=rep, data={"kind": "person", "last_name": "A"})
        first_stamp = customer.stage_changed_at
        won = customer_update(
            actor=rep, customer_id=customer.pk, data={"lifecycle_stage": "customer"}
        )
        assert won.became_customer_at is not None
        assert won.stage_changed_at >= first_stamp
        lost = customer_update(actor=rep, customer_id=customer.pk, data={"lifecycle_stage": "lost"})
        assert lost.lost_at is not None
        assert lost.became_customer_at == won.became_customer_at
        back = customer_update(
            actor=rep, customer_id=customer.pk, data={"lifecycle_stage": "customer"}
        )
        assert back.lost_at is None
        # "customer since" is the first time
        assert back.became_customer_at == won.became_customer_at

    def test_same_stage_does_not_restamp(self, rep, own_customer):
        stamp = own_customer.stage_changed_at
        updated = customer_update(
            actor=rep, customer_id=own_customer.pk, data={"lifecycle_stage": "customer"}
        )
        assert updated.stage_changed_at == stamp

    def test_stale_version_is_a_conflict_and_changes_nothing(self, rep, own_customer):
        customer_update(actor=rep, customer_id=own_customer.pk, data={"pets": "cat"})
        with pytest.raises(Conflict) as exc:
            customer_update(
                actor=rep, customer_id=own_customer.pk, data={"pets": "dog"}, expected_version=1
            )
        assert exc.value.current_version == 2
        own_customer.refresh_from_db()
        assert own_customer.pets == "cat"

    def test_kind_cannot_change(self, rep, own_customer):
        with pytest.raises(ValidationFailed) as exc:
            customer_update(actor=rep, customer_id=own_customer.pk, data={"kind": "organisation"})
        assert "kind" in exc.value.fields

    def test_removing_both_names_is_refused(self, rep, own_customer):
        with pytest.raises(ValidationFailed) as exc:
            customer_update(
                actor=rep, customer_id=own_customer.pk, data={"first_name": "", "last_name": " "}
            )
        assert "first_name" in exc.value.fields

    def test_hidden_customer_is_not_found_and_unchanged(self, rep, other_customer):
        with pytest.raises(NotFound):
            customer_update(actor=rep, customer_id=other_customer.pk, data={"pets": "dog"})
        other_customer.refresh_from_db()
        assert other_customer.pets == ""
        assert _log_count() == 0

    def test_visible_but_not_changeable_is_permission_denied(self, rep, team_customer):
        # a rep sees his team's customers but changes only his own
        with pytest.raises(PermissionDenied):
            customer_update(actor=rep, customer_id=team_customer.pk, data={"pets": "dog"})
        team_customer.refresh_from_db()
        assert team_customer.pets == ""
        assert _log_count() == 0

    @pytest.mark.parametrize("pk", ["abc", None, -1, 0, 2**70, True])
    def test_bad_ids_are_not_found(self, rep, pk):
        with pytest.raises(NotFound):
            customer_update(actor=rep, customer_id=pk, data={})

    def test_change_that_changes_nothing_writes_nothing(self, rep, own_customer):
        customer_update(actor=rep, customer_id=own_customer.pk, data={"first_name": "Ayşe"})
        assert _log_count() == 0

    def test_tags_replace_the_set(self, rep, own_customer):
        customer_update(actor=rep, customer_id=own_customer.pk, data={}, tags=["a", "b"])
        customer_update(actor=rep, customer_id=own_customer.pk, data={}, tags="b, c")
        assert sorted(own_customer.tags.values_list("name", flat=True)) == ["b", "c"]


class TestDelete:
    def test_manager_deletes_team_customer_and_log_keeps_last_state(self, manager, own_customer):
        customer_delete(actor=manager, customer_id=own_customer.pk)
        assert not Customer.objects.filter(pk=own_customer.pk).exists()
        entry = ChangeLogEntry.objects.get(action="delete", object_id=own_customer.pk)
        assert entry.before["display_name"] == "Ayşe Yılmaz"

    def test_rep_may_not_delete_even_his_own(self, rep, own_customer):
        with pytest.raises(PermissionDenied):
            customer_delete(actor=rep, customer_id=own_customer.pk)
        assert Customer.objects.filter(pk=own_customer.pk).exists()
        assert _log_count() == 0

    def test_manager_sees_other_team_customer_but_may_not_delete_it(self, manager, other_customer):
        # a sales manager sees every customer, but deletes only his team's
        with pytest.raises(PermissionDenied):
            customer_delete(actor=manager, customer_id=other_customer.pk)
        assert Customer.objects.filter(pk=other_customer.pk).exists()
        assert _log_count() == 0

    def test_hidden_customer_is_not_found(self, rep, other_customer):
        with pytest.raises(NotFound):
            customer_delete(actor=rep, customer_id=other_customer.pk)
        assert Customer.objects.filter(pk=other_customer.pk).exists()


class TestBulk:
    def test_assign_changes_only_what_the_actor_may_change(
        self, rep, own_customer, team_customer, other_customer, rep_same_team
    ):
        second_own = make_customer(owner=rep, team=own_customer.team, last_name="Second")
        result = customer_bulk_assign(
            actor=rep,
            customer_ids=[own_customer.pk, second_own.pk, team_customer.pk, other_customer.pk],
            owner=rep_same_team.pk,
        )
        assert (result.changed, result.unchanged, result.refused) == (2, 0, 2)
        own_customer.refresh_from_db()
        team_customer.refresh_from_db()
        other_customer.refresh_from_db()
        assert own_customer.owner_id == rep_same_team.pk
        assert team_customer.owner_id == rep_same_team.pk  # was already theirs
        assert other_customer.owner_id != rep_same_team.pk
        assert ChangeLogEntry.objects.filter(action="update").count() == 2

    def test_assign_reports_records_already_assigned(self, manager, own_customer, rep):
        result = customer_bulk_assign(actor=manager, customer_ids=[own_customer.pk], owner=rep)
        assert (result.changed, result.unchanged, result.refused) == (0, 1, 0)

    def test_assign_team(self, admin_user, own_customer, other_team):
        result = customer_bulk_assign(
            actor=admin_user,
            customer_ids=[own_customer.pk],
            team=other_team.pk,
            set_owner=False,
            set_team=True,
        )
        own_customer.refresh_from_db()
        assert result.changed == 1
        assert own_customer.team_id == other_team.pk
        assert own_customer.owner_id is not None

    @pytest.mark.parametrize("ids", [[], "1,2", [None], ["x"], list(range(1, 600))])
    def test_bad_id_lists_are_refused(self, admin_user, ids):
        with pytest.raises(ValidationFailed):
            customer_bulk_assign(actor=admin_user, customer_ids=ids, owner=admin_user)

    def test_assign_to_inactive_user_is_refused(self, admin_user, own_customer):
        gone = UserFactory(role=Role.SALES_REP, is_active=False)
        with pytest.raises(ValidationFailed) as exc:
            customer_bulk_assign(actor=admin_user, customer_ids=[own_customer.pk], owner=gone.pk)
        assert "owner" in exc.value.fields

    def test_tag_adds_and_removes(self, rep, own_customer, other_customer):
        customer_update(actor=rep, customer_id=own_customer.pk, data={}, tags=["old", "keep"])
        result = customer_bulk_tag(
            actor=rep,
            customer_ids=[own_customer.pk, other_customer.pk],
            add=["New"],
            remove=["OLD"],
        )
        assert (result.changed, result.unchanged, result.refused) == (1, 0, 1)
        assert sorted(own_customer.tags.values_list("name", flat=True)) == ["New", "keep"]
        assert other_customer.tags.count() == 0

    def test_tag_twice_is_unchanged(self, rep, own_customer):
        customer_bulk_tag(actor=rep, customer_ids=[own_customer.pk], add=["x"])
        result = customer_bulk_tag(actor=rep, customer_ids=[own_customer.pk], add=["x"])
        assert (result.changed, result.unchanged, result.refused) == (0, 1, 0)

    def test_tag_needs_something_to_do(self, rep, own_customer):
        with pytest.raises(ValidationFailed):
            customer_bulk_tag(actor=rep, customer_ids=[own_customer.pk])


def test_birth_date_gives_age_and_next_birthday(rep):
    today = timezone.localdate()
    born = today.replace(year=today.year - 30) - datetime.timedelta(days=1)
    customer = customer_create(
        actor=rep, data={"kind": "person", "last_name": "A", "birth_date": born.isoformat()}
    )
    assert customer.age == 30
    assert customer.next_birthday is not None
    assert customer.next_birthday > today
