"""The instant duplicate check against the database: keys follow the domain events, matches
are scored, and records the actor may not see never show."""

from __future__ import annotations

import pytest

from tests.customers.factories import make_customer
from vefa.common.errors import ValidationFailed
from vefa.customers.services import (
    address_create,
    contact_point_create,
    customer_delete,
    customer_update,
)
from vefa.quality.models import MatchKey, RecordKind
from vefa.quality.selectors import MAX_FIELD, duplicate_check
from vefa.quality.services import customer_keys_rebuild

pytestmark = pytest.mark.django_db


def keys_of(kind: str, pk: int) -> set[str]:
    return set(MatchKey.objects.filter(kind=kind, record_id=pk).values_list("key", flat=True))


def test_keys_follow_create_update_contact_points_and_delete(
    create_customer, admin_user, django_capture_on_commit_callbacks
):
    customer = create_customer(
        first_name="Ayşe", last_name="Yılmaz", email="ayse@example.com", phone="0532 111 22 33"
    )
    keys = keys_of(RecordKind.CUSTOMER, customer.pk)
    assert {"n:ayse yilmaz", "e:ayse@example.com", "p:905321112233"} <= keys

    with django_capture_on_commit_callbacks(execute=True):
        customer_update(actor=admin_user, customer_id=customer.pk, data={"last_name": "Kaya"})
    keys = keys_of(RecordKind.CUSTOMER, customer.pk)
    assert "n:ayse kaya" in keys
    assert "n:ayse yilmaz" not in keys

    with django_capture_on_commit_callbacks(execute=True):
        contact_point_create(
            actor=admin_user,
            customer_id=customer.pk,
            data={"kind": "phone", "value": "+90 212 555 00 00"},
        )
        address_create(
            actor=admin_user,
            customer_id=customer.pk,
            data={
                "kind": "home",
                "line1": "Bağdat Caddesi 12",
                "city": "İstanbul",
                "postal_code": "34710",
                "country": "TR",
                "is_primary": True,
            },
        )
    keys = keys_of(RecordKind.CUSTOMER, customer.pk)
    assert {"p:902125550000", "a:34710:bagdat"} <= keys

    with django_capture_on_commit_callbacks(execute=True):
        customer_delete(actor=admin_user, customer_id=customer.pk)
    assert keys_of(RecordKind.CUSTOMER, customer.pk) == set()


def test_keys_follow_leads(create_lead, admin_user, django_capture_on_commit_callbacks):
    from vefa.customers.services.leads import lead_delete

    lead = create_lead(first_name="Milan", last_name="Jovanović", email="milan@firma.rs")
    assert {"n:jovanovic milan", "e:milan@firma.rs"} <= keys_of(RecordKind.LEAD, lead.pk)
    with django_capture_on_commit_callbacks(execute=True):
        lead_delete(actor=admin_user, lead_id=lead.pk)
    assert keys_of(RecordKind.LEAD, lead.pk) == set()


def test_typed_values_find_customers_and_leads_with_reasons(
    create_customer, create_lead, admin_user
):
    ayse = create_customer(first_name="Ayşe", last_name="Yılmaz", phone="0532 111 22 33")
    create_customer(first_name="Hasan", last_name="Çelik")
    lead = create_lead(first_name="Ayse", last_name="Yilmas", email="ayse.y@example.com")

    result = duplicate_check(
        actor=admin_user,
        data={"first_name": "AYSE", "last_name": "yilmaz", "phone": "+905321112233"},
    )
    assert [(m.kind, m.id) for m in result.matches] == [("customer", ayse.pk), ("lead", lead.pk)]
    best = result.matches[0]
    assert best.score == 100
    assert best.reason_labels[0] == "same phone"
    assert "same name" in best.reason_labels
    assert best.url == f"/customers/{ayse.pk}/"
    assert result.matches[1].reason_labels == ["similar name 93%"] or any(
        label.startswith("similar name") for label in result.matches[1].reason_labels
    )


def test_the_record_being_edited_is_left_out(create_customer, admin_user):
    ayse = create_customer(first_name="Ayşe", last_name="Yılmaz")
    data = {"first_name": "Ayşe", "last_name": "Yılmaz"}
    assert [m.id for m in duplicate_check(actor=admin_user, data=data).matches] == [ayse.pk]
    edited = duplicate_check(actor=admin_user, data={**data, "exclude_customer": str(ayse.pk)})
    assert edited.matches == []


def test_persian_and_serbian_spellings_match(create_customer, admin_user):
    reza = create_customer(first_name="محمد", last_name="رضایی")
    djordje = create_customer(first_name="Ђорђе", last_name="Петровић")
    found = duplicate_check(
        actor=admin_user, data={"first_name": "Mohammad", "last_name": "Rezaei"}
    )
    assert [m.id for m in found.matches] == [reza.pk]
    assert found.matches[0].reasons[0].code == "similar_name"
    found = duplicate_check(
        actor=admin_user, data={"first_name": "Djordje", "last_name": "Petrovic"}
    )
    assert [m.id for m in found.matches] == [djordje.pk]
    assert found.matches[0].reason_labels == ["same name"]


def test_organisations_match_on_tax_number(create_customer, admin_user):
    acme = create_customer(
        kind="organisation", legal_name="Acme Ticaret A.Ş.", tax_number="1234567890"
    )
    found = duplicate_check(
        actor=admin_user, data={"legal_name": "Globex Ltd", "tax_number": "123 456 7890"}
    )
    assert [m.id for m in found.matches] == [acme.pk]
    assert found.matches[0].reason_labels == ["same tax number"]


def test_invisible_records_never_leak(create_customer, rep, rep_other_team, other_team):
    hidden = create_customer(
        first_name="Jovana",
        last_name="Petrović",
        phone="+381 61 123 4567",
        owner=rep_other_team.pk,
        team=other_team.pk,
    )
    data = {"first_name": "Jovana", "last_name": "Petrović", "phone": "+381611234567"}
    result = duplicate_check(actor=rep, data=data)
    assert result.matches == []
    assert result.keys > 0  # it was looked up, and nothing may be said
    assert [m.id for m in duplicate_check(actor=rep_other_team, data=data).matches] == [hidden.pk]


def test_merged_customers_are_not_offered(create_customer, admin_user):
    kept = make_customer(first_name="Zeynep", last_name="Demir")
    gone = make_customer(first_name="Zeynep", last_name="Demir")
    type(gone).objects.filter(pk=gone.pk).update(merged_into=kept)
    customer_keys_rebuild([kept.pk, gone.pk])
    found = duplicate_check(actor=admin_user, data={"first_name": "Zeynep", "last_name": "Demir"})
    assert [m.id for m in found.matches] == [kept.pk]


def test_too_little_typed_checks_nothing(admin_user):
    assert duplicate_check(actor=admin_user, data={}).keys == 0
    assert duplicate_check(actor=admin_user, data={"first_name": "  "}).matches == []


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"first_name": "x" * 10_000}, "first_name"),
        ({"email": "a" * (MAX_FIELD + 1)}, "email"),
        ({"phone": 5321112233}, "phone"),
        ({"last_name": ["Yılmaz"]}, "last_name"),
        ({"exclude_customer": "abc"}, "exclude_customer"),
        ({"exclude_lead": -3}, "exclude_lead"),
        ({"exclude_customer": True}, "exclude_customer"),
    ],
)
def test_bad_input_is_refused_naming_the_field(admin_user, data, field):
    with pytest.raises(ValidationFailed) as caught:
        duplicate_check(actor=admin_user, data=data)
    assert field in caught.value.fields


def test_not_an_object_is_refused(admin_user):
    with pytest.raises(ValidationFailed):
        duplicate_check(actor=admin_user, data=["first_name"])  # type: ignore[arg-type]


def test_hostile_strings_are_only_text(create_customer, admin_user):
    from tests.quality.conftest import HOSTILE

    for text in HOSTILE:
        duplicate_check(actor=admin_user, data={"first_name": text, "email": text, "phone": text})
    assert MatchKey.objects.count() == 0  # nothing was written, no table was dropped
    create_customer(first_name="<script>alert(1)</script>", last_name="Yılmaz")
    found = duplicate_check(
        actor=admin_user, data={"first_name": "<script>alert(1)</script>", "last_name": "Yilmaz"}
    )
    assert found.matches[0].name == "<script>alert(1)</script> Yılmaz"


def test_a_check_takes_a_fixed_number_of_queries(
    admin_user, rep, team, django_assert_max_num_queries
):
    from tests.customers.factories import make_lead
    from vefa.quality.services import lead_keys_rebuild

    many = [
        make_customer(first_name="Mehmet", last_name="Yılmaz", owner=rep, team=team)
        for _ in range(60)
    ]
    lead = make_lead(first_name="Mehmet", last_name="Yilmaz")
    customer_keys_rebuild([c.pk for c in many])
    lead_keys_rebuild([lead.pk])
    data = {"first_name": "Mehmet", "last_name": "Yilmaz", "email": "m@example.com"}
    for actor in (admin_user, rep):
        with django_assert_max_num_queries(5):
            result = duplicate_check(actor=actor, data=data)
        assert len(result.matches) == 5


def test_the_nightly_batch_finds_what_the_check_finds_one_by_one(create_customer, create_lead):
    """``best_matches`` (a batch at once) gives each customer the best match the instant
    check without access limits gives it alone: same record, same score."""
    from vefa.customers.models import Customer
    from vefa.quality.profiles import customer_profiles
    from vefa.quality.selectors import best_matches, find_matches

    people = [
        ("Ayşe", "Yılmaz", "ayse@example.com", "0532 111 22 33"),
        ("Ayse", "Yilmaz", "ayse@example.com", ""),
        ("Ayşe", "Yilmazz", "", "0532 111 22 33"),
        ("Milan", "Jovanović", "milan@firma.rs", ""),
        ("Милан", "Јовановић", "", ""),
        ("علی", "رضایی", "ali@example.ir", ""),
        ("Zeynep", "Kaya", "", ""),
    ]
    ids = [
        create_customer(first_name=f, last_name=last, email=e, phone=p).pk
        for f, last, e, p in people
    ]
    create_lead(first_name="Ali", last_name="Rezaei", email="ali@example.ir")
    create_lead(first_name="Zeynep", last_name="Kaya", company_name="Kaya Ltd.")
    profiles = customer_profiles(Customer.objects.filter(pk__in=ids))
    batch = best_matches({pk: profile for pk, (_c, profile) in profiles.items()})
    assert set(batch) == set(ids)
    found = 0
    for pk, (_customer, profile) in profiles.items():
        alone = find_matches(profile, actor=None, exclude_customer=pk, limit=1).matches
        expected = (alone[0].kind, alone[0].id, alone[0].score) if alone else None
        got = batch[pk]
        assert ((got.kind, got.id, got.score) if got else None) == expected, pk
        found += got is not None
    assert found >= 5  # the test set does hold duplicates
