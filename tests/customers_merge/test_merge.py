"""Merging customers through the service: field picks, duplicates, refusals, log, undo."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest

from tests.customers.factories import make_customer
from tests.factories import UserFactory
from vefa.accounts.choices import Role
from vefa.common.errors import NotFound, ValidationFailed
from vefa.customers.models import (
    Address,
    ContactPoint,
    Customer,
    CustomerMerge,
    CustomerRelationship,
)
from vefa.customers.services.merge import MAX_MERGE, merge_customers, undo_merge
from vefa.platform.models import ChangeLogEntry, CustomFieldDefinition, SearchEntry, Tag

pytestmark = pytest.mark.django_db


@pytest.fixture
def pair(rep, team):
    CustomFieldDefinition.objects.create(
        model="customers.customer", key="segment", label="Segment", field_type="text"
    )
    survivor = make_customer(
        owner=rep, team=team, first_name="Ayşe", last_name="Yılmaz", tags=["vip"], notes="A"
    )
    other = make_customer(
        owner=rep,
        team=team,
        first_name="Ayse",
        last_name="Yilmaz",
        birth_date=datetime.date(1990, 5, 17),
        tags=["istanbul"],
        notes="B",
        custom_fields={"segment": "gold"},
    )
    return survivor, other


def _address(customer, line1, primary):
    return Address.objects.create(
        customer=customer,
        kind="home",
        line1=line1,
        city="İstanbul",
        country="TR",
        is_primary=primary,
    )


def _point(customer, value, primary):
    return ContactPoint.objects.create(
        customer=customer, kind="email", value=value, normalized=value.lower(), is_primary=primary
    )


def test_field_picks_and_defaults(rep, pair):
    survivor, other = pair
    merge = merge_customers(rep, survivor, [other], {"first_name": other.pk, "notes": other.pk})
    survivor.refresh_from_db()
    assert survivor.first_name == "Ayse"  # picked
    assert survivor.last_name == "Yılmaz"  # the survivor's, not picked
    assert survivor.display_name == "Ayse Yılmaz"
    assert survivor.notes == "B"
    assert survivor.birth_date == datetime.date(1990, 5, 17)  # the survivor had none
    assert survivor.custom_fields == {"segment": "gold"}
    assert sorted(t.name for t in survivor.tags.all()) == ["istanbul", "vip"]
    assert merge.field_choices["first_name"] == other.pk
    assert merge.previous_values["first_name"] == "Ayşe"

    undo_merge(rep, merge)
    survivor.refresh_from_db()
    assert (survivor.first_name, survivor.notes, survivor.birth_date) == ("Ayşe", "A", None)
    assert survivor.custom_fields == {}
    assert [t.name for t in survivor.tags.all()] == ["vip"]
    assert Tag.objects.filter(name="istanbul").exists()


def test_kind_picked_from_an_organisation_clears_the_person_fields(rep, team):
    person = make_customer(owner=rep, team=team, first_name="Acme", last_name="Person")
    org = make_customer(
        owner=rep, team=team, kind="organisation", trade_name="Acme Ltd", tax_number="123"
    )
    merge = merge_customers(rep, person, [org], {"kind": org.pk, "trade_name": org.pk})
    person.refresh_from_db()
    assert person.kind == "organisation"
    assert (person.first_name, person.last_name) == ("", "")
    assert person.display_name == "Acme Ltd"
    assert person.tax_number == "123"
    undo_merge(rep, merge)
    person.refresh_from_db()
    assert (person.kind, person.first_name, person.tax_number) == ("person", "Acme", "")


def test_owner_and_money_values_picked(manager, rep_same_team, rep, team):
    a = make_customer(owner=rep, team=team, kind="organisation", trade_name="A")
    b = make_customer(
        owner=rep_same_team,
        team=team,
        kind="organisation",
        trade_name="B",
        annual_revenue=Decimal("1234.50"),
    )
    merge_customers(manager, a, [b], {"owner": b.pk})
    a.refresh_from_db()
    assert a.owner_id == rep_same_team.pk
    assert a.annual_revenue == Decimal("1234.50")


def test_primary_flags_and_duplicates(rep, pair):
    survivor, other = pair
    home = _address(survivor, "Bağdat Cd. 1", True)
    away = _address(other, "Atatürk Blv. 2", True)
    _point(survivor, "ayse@example.com", True)
    dup = _point(other, "AYSE@example.com", True)
    extra = _point(other, "work@example.com", False)
    merge = merge_customers(rep, survivor, [other], {})
    away.refresh_from_db()
    assert away.customer_id == survivor.pk and away.is_primary is False
    home.refresh_from_db()
    assert home.is_primary is True
    assert not ContactPoint.objects.filter(pk=dup.pk).exists()
    assert ContactPoint.objects.get(pk=extra.pk).customer_id == survivor.pk
    assert [c["pk"] for c in merge.collapsed] == [dup.pk]

    undo_merge(rep, merge)
    away.refresh_from_db()
    assert away.customer_id == other.pk and away.is_primary is True
    restored = ContactPoint.objects.get(pk=dup.pk)
    assert (restored.customer_id, restored.value, restored.is_primary) == (
        other.pk,
        "AYSE@example.com",
        True,
    )


def test_relationships_both_ways_no_self_no_duplicates(rep, pair, team):
    survivor, other = pair
    acme = make_customer(owner=rep, team=team, kind="organisation", trade_name="Acme")
    spouse = CustomerRelationship.objects.create(
        from_customer=other, to_customer=survivor, kind="spouse"
    )
    works = CustomerRelationship.objects.create(
        from_customer=survivor, to_customer=acme, kind="employee"
    )
    works_dup = CustomerRelationship.objects.create(
        from_customer=other, to_customer=acme, kind="employee"
    )
    incoming = CustomerRelationship.objects.create(
        from_customer=acme, to_customer=other, kind="contact"
    )
    merge = merge_customers(rep, survivor, [other], {})
    assert not CustomerRelationship.objects.filter(pk__in=[spouse.pk, works_dup.pk]).exists()
    assert CustomerRelationship.objects.get(pk=incoming.pk).to_customer_id == survivor.pk
    assert (
        CustomerRelationship.objects.filter(from_customer=survivor, to_customer=survivor).count()
        == 0
    )
    assert {c["reason"] for c in merge.collapsed} == {"self", "duplicate"}
    undo_merge(rep, merge)
    assert set(
        CustomerRelationship.objects.values_list("pk", "from_customer_id", "to_customer_id")
    ) == {
        (spouse.pk, other.pk, survivor.pk),
        (works.pk, survivor.pk, acme.pk),
        (works_dup.pk, other.pk, acme.pk),
        (incoming.pk, acme.pk, other.pk),
    }


def test_archived_logged_and_hidden(rep, pair):
    from vefa.customers.selectors import visible_customers

    survivor, other = pair
    merge = merge_customers(rep, survivor, [other], {})
    other.refresh_from_db()
    assert other.merged_into_id == survivor.pk
    entry = ChangeLogEntry.objects.filter(
        model="customers.customer", object_id=survivor.pk, action="merge"
    ).get()
    assert entry.after["merge"] == merge.pk and entry.customer_id == survivor.pk
    assert ChangeLogEntry.objects.filter(
        model="customers.customer", object_id=other.pk, after={"merged_into": survivor.pk}
    ).exists()
    assert list(visible_customers(rep).values_list("pk", flat=True)) == [survivor.pk]


def test_search_index_follows(rep, pair, django_capture_on_commit_callbacks):
    from vefa.platform.search.indexer import index_records

    survivor, other = pair
    point = _point(other, "b@example.com", False)
    index_records("customers.customer", [survivor.pk, other.pk])
    index_records("customers.contactpoint", [point.pk])
    with django_capture_on_commit_callbacks(execute=True):
        merge = merge_customers(rep, survivor, [other], {})
    assert not SearchEntry.objects.filter(object_id=other.pk, customer_id=other.pk).exists()
    assert SearchEntry.objects.filter(object_id=point.pk, customer_id=survivor.pk).exists()
    with django_capture_on_commit_callbacks(execute=True):
        undo_merge(rep, merge)
    assert SearchEntry.objects.filter(object_id=point.pk, customer_id=other.pk).exists()
    assert SearchEntry.objects.filter(object_id=other.pk, customer_id=other.pk).exists()


def test_event_customer_merged(rep, pair, django_capture_on_commit_callbacks):
    from vefa.common import events

    seen = []
    events.subscribe("customers.customer.merged")(seen.append)
    try:
        survivor, other = pair
        with django_capture_on_commit_callbacks(execute=True):
            merge_customers(rep, survivor, [other], {})
    finally:
        events._subscribers["customers.customer.merged"].remove(seen.append)
    assert [(e.object_id, e.payload["merged"]) for e in seen] == [(survivor.pk, [other.pk])]


class TestRefusals:
    def test_into_itself(self, rep, pair):
        survivor, _ = pair
        with pytest.raises(ValidationFailed) as exc:
            merge_customers(rep, survivor, [survivor], {})
        assert "others" in exc.value.fields

    def test_already_merged(self, rep, pair, team):
        survivor, other = pair
        third = make_customer(owner=rep, team=team)
        merge_customers(rep, survivor, [other], {})
        with pytest.raises(ValidationFailed):
            merge_customers(rep, third, [other], {})
        with pytest.raises(ValidationFailed):
            merge_customers(rep, other, [third], {})

    def test_hidden_or_read_only_records_are_not_found(self, rep, pair, rep_other_team, other_team):
        survivor, _ = pair
        hidden = make_customer(owner=rep_other_team, team=other_team)
        with pytest.raises(NotFound):
            merge_customers(rep, survivor, [hidden], {})
        reader = UserFactory(role=Role.READ_ONLY, team=survivor.team)
        with pytest.raises(NotFound):
            merge_customers(reader, survivor, [pair[1]], {})
        assert Customer.objects.filter(merged_into__isnull=False).count() == 0

    def test_too_many(self, admin_user):
        records = [make_customer(first_name=f"C{n}") for n in range(MAX_MERGE + 1)]
        with pytest.raises(ValidationFailed):
            merge_customers(admin_user, records[0], records[1:], {})

    @pytest.mark.parametrize(
        "values",
        [
            {"display_name": 1},
            {"first_name": "not an id"},
            {"first_name": 999999},
            {"'; DROP TABLE customers_customer; --": 1},
            {"merged_into": 1},
            "=cmd|' /C calc'!A0",
            ["first_name"],
        ],
    )
    def test_bad_field_values(self, rep, pair, values):
        survivor, other = pair
        with pytest.raises(ValidationFailed):
            merge_customers(rep, survivor, [other], values)
        assert CustomerMerge.objects.count() == 0

    @pytest.mark.parametrize("others", [[], "12", None, [True], [1.5], [{"id": 1}], [-1]])
    def test_bad_others(self, rep, pair, others):
        with pytest.raises((ValidationFailed, NotFound)):
            merge_customers(rep, pair[0], others, {})


class TestUndo:
    def test_refused_when_a_moved_row_was_deleted_then_partial(self, rep, pair):
        survivor, other = pair
        away = _address(other, "Atatürk Blv. 2", False)
        keep = _address(other, "Kordon 3", False)
        merge = merge_customers(rep, survivor, [other], {})
        Address.objects.filter(pk=away.pk).delete()
        with pytest.raises(ValidationFailed) as exc:
            undo_merge(rep, merge)
        assert any(f"#{away.pk}" in m for m in exc.value.fields["__all__"])
        other.refresh_from_db()
        assert other.merged_into_id == survivor.pk  # nothing was undone
        result = undo_merge(rep, merge, partial=True)
        assert any(f"#{away.pk}" in p for p in result.problems)
        assert Address.objects.get(pk=keep.pk).customer_id == other.pk
        other.refresh_from_db()
        assert other.merged_into_id is None
        merge.refresh_from_db()
        assert merge.undone_at is not None and merge.undo_report

    def test_a_field_changed_since_is_reported(self, rep, pair):
        from vefa.customers.services import customer_update

        survivor, other = pair
        merge = merge_customers(rep, survivor, [other], {"notes": other.pk})
        customer_update(actor=rep, customer_id=survivor.pk, data={"notes": "later"})
        with pytest.raises(ValidationFailed):
            undo_merge(rep, merge)
        undo_merge(rep, merge, partial=True)
        survivor.refresh_from_db()
        assert survivor.notes == "later"

    def test_twice_is_refused(self, rep, pair):
        merge = merge_customers(rep, pair[0], [pair[1]], {})
        undo_merge(rep, merge)
        with pytest.raises(ValidationFailed):
            undo_merge(rep, merge)

    def test_chain_and_undo_in_order(self, rep, pair, team):
        survivor, other = pair
        third = make_customer(owner=rep, team=team, first_name="Third")
        first = merge_customers(rep, other, [third], {})
        second = merge_customers(rep, survivor, [other], {})
        third.refresh_from_db()
        assert third.merged_into_id == survivor.pk
        with pytest.raises(ValidationFailed):
            undo_merge(rep, first)  # the survivor was merged again since
        undo_merge(rep, second)
        third.refresh_from_db()
        assert third.merged_into_id == other.pk
        undo_merge(rep, first)
        third.refresh_from_db()
        assert third.merged_into_id is None

    def test_other_users_may_not_undo(self, rep, pair, rep_other_team):
        merge = merge_customers(rep, pair[0], [pair[1]], {})
        with pytest.raises(NotFound):
            undo_merge(rep_other_team, merge)


def test_a_row_a_check_constraint_would_refuse_is_removed_and_restored(pair):
    """The generic path, on a model with a check constraint between two customer columns."""
    from vefa.customers.services.merge import MovePlan, Relation, _move_relation, _reinsert

    survivor, other = pair
    row = CustomerRelationship.objects.create(
        from_customer=survivor, to_customer=other, kind="spouse"
    )
    plan = MovePlan()
    field = CustomerRelationship._meta.get_field("to_customer")
    _move_relation(Relation(CustomerRelationship, field), survivor.pk, [other.pk], plan)
    assert not CustomerRelationship.objects.filter(pk=row.pk).exists()
    assert [(c["pk"], c["reason"]) for c in plan.collapsed] == [(row.pk, "invalid")]
    _reinsert(CustomerRelationship, plan.collapsed[0]["row"])
    again = CustomerRelationship.objects.get(pk=row.pk)
    assert (again.from_customer_id, again.to_customer_id, again.created_at) == (
        survivor.pk,
        other.pk,
        row.created_at,
    )
