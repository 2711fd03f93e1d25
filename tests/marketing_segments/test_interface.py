"""The functions campaigns and journeys rely on: membership without an actor, audiences."""

from __future__ import annotations

import pytest

from tests.customers.factories import make_customer
from vefa.common.errors import PermissionDenied, ValidationFailed
from vefa.marketing.models import Segment
from vefa.marketing.selectors.segments import (
    audience_queryset,
    segment_count,
    segment_customers,
    segment_get,
)
from vefa.marketing.services.segments import (
    segment_archive,
    segment_create,
    segment_update,
    static_members_add,
    static_members_remove,
)


def _ids(qs):
    return set(qs.values_list("pk", flat=True))


def test_dynamic_segment_by_city_ignores_the_actor(marketer, ankara, izmir, hidden):
    segment = segment_create(
        actor=marketer, name="Ankara", kind="dynamic", rules=[{"param": "city", "value": "ankara"}]
    )
    assert _ids(segment_customers(segment)) == {ankara.pk, hidden.pk}


def test_count_for_a_person_shows_only_visible_customers(marketer, rep, ankara, izmir, hidden):
    segment = segment_create(
        actor=marketer, name="Ankara", kind="dynamic", rules=[{"param": "city", "value": "Ankara"}]
    )
    assert segment_count(actor=marketer, segment_id=segment.pk) == 2
    assert segment_count(actor=rep, segment_id=segment.pk) == 1


def test_merged_customers_are_never_members(marketer, ankara, izmir):
    make_customer(first_name="Old", last_name="Copy", city="Ankara", merged_into=ankara)
    segment = segment_create(
        actor=marketer, name="A", kind="dynamic", rules=[{"param": "city", "value": "Ankara"}]
    )
    assert _ids(segment_customers(segment)) == {ankara.pk}


def test_match_any_and_all(marketer, ankara, izmir, hidden):
    rules = [{"param": "city", "value": "Ankara"}, {"param": "city", "value": "İzmir"}]
    any_of = segment_create(actor=marketer, name="Any", kind="dynamic", match="any", rules=rules)
    all_of = segment_create(actor=marketer, name="All", kind="dynamic", match="all", rules=rules)
    assert _ids(segment_customers(any_of)) == {ankara.pk, izmir.pk, hidden.pk}
    assert _ids(segment_customers(all_of)) == set()


def test_audience_is_union_minus_exclusions(marketer, ankara, izmir, hidden):
    a = segment_create(
        actor=marketer, name="A", kind="dynamic", rules=[{"param": "city", "value": "Ankara"}]
    )
    i = segment_create(
        actor=marketer, name="I", kind="dynamic", rules=[{"param": "city", "value": "İzmir"}]
    )
    excluded = segment_create(actor=marketer, name="X", kind="static")
    static_members_add(actor=marketer, segment_id=excluded.pk, customer_ids=[hidden.pk])
    audience = audience_queryset(segment_ids=[a.pk, i.pk], exclusion_ids=[excluded.pk])
    assert _ids(audience) == {ankara.pk, izmir.pk}
    assert _ids(audience_queryset(segment_ids=[], exclusion_ids=[])) == set()


def test_static_members_add_and_remove(marketer, ankara, izmir):
    segment = segment_create(actor=marketer, name="VIP", kind="static")
    assert static_members_add(actor=marketer, segment_id=segment.pk, customer_ids=[ankara.pk]) == 1
    assert (
        static_members_add(
            actor=marketer, segment_id=segment.pk, customer_ids=[ankara.pk, izmir.pk]
        )
        == 1
    )
    assert _ids(segment_customers(segment)) == {ankara.pk, izmir.pk}
    assert (
        static_members_remove(actor=marketer, segment_id=segment.pk, customer_ids=[izmir.pk]) == 1
    )
    assert _ids(segment_customers(segment)) == {ankara.pk}


def test_bad_rules_are_named(marketer):
    with pytest.raises(ValidationFailed) as caught:
        segment_create(
            actor=marketer,
            name="Bad",
            kind="dynamic",
            rules=[
                {"param": "city", "value": "Ankara"},
                {"param": "no_such", "value": "1"},
                {"param": "country", "value": "Narnia"},
            ],
        )
    fields = caught.value.fields
    assert "rules.2" in fields and "no_such" in fields["rules.2"][0]
    assert "rules.3" in fields and "Country" in fields["rules.3"][0]
    assert "rules.1" not in fields


def test_segment_cannot_contain_itself(marketer, ankara):
    first = segment_create(
        actor=marketer, name="First", kind="dynamic", rules=[{"param": "city", "value": "Ankara"}]
    )
    second = segment_create(
        actor=marketer,
        name="Second",
        kind="dynamic",
        rules=[{"param": "segment", "value": str(first.pk)}],
    )
    assert _ids(segment_customers(second)) == {ankara.pk}
    with pytest.raises(ValidationFailed) as direct:
        segment_update(
            actor=marketer,
            segment_id=first.pk,
            data={"rules": [{"param": "segment", "value": str(first.pk)}]},
        )
    assert "rules.1" in direct.value.fields
    with pytest.raises(ValidationFailed) as cycle:
        segment_update(
            actor=marketer,
            segment_id=first.pk,
            data={"rules": [{"param": "segment", "value": str(second.pk)}]},
        )
    assert "rules.1" in cycle.value.fields
    # A cycle written behind the services' back matches nobody instead of recursing.
    cycle_rules = [{"param": "segment", "value": str(second.pk)}]
    Segment.objects.filter(pk=first.pk).update(rules=cycle_rules)
    first.refresh_from_db()
    assert _ids(segment_customers(first)) == set()


def test_rep_cannot_change_a_marketers_segment(marketer, rep):
    segment = segment_create(actor=marketer, name="Mine", kind="static")
    assert segment_get(actor=rep, pk=segment.pk).pk == segment.pk
    with pytest.raises(PermissionDenied):
        segment_archive(actor=rep, segment_id=segment.pk)


def test_any_with_tags_counts_each_customer_once(marketer, ankara, izmir):
    from vefa.platform.services import tags_resolve

    vip, north = tags_resolve(["vip", "north"])
    ankara.tags.set([vip, north])
    izmir.tags.set([north])
    segment = segment_create(
        actor=marketer,
        name="Tags",
        kind="dynamic",
        match="any",
        rules=[
            {"param": "tag", "value": "vip"},
            {"param": "tag", "value": "north"},
            {"param": "city", "value": "Ankara"},
        ],
    )
    members = segment_customers(segment)
    assert members.count() == 2
    assert _ids(members) == {ankara.pk, izmir.pk}
    assert segment_count(actor=marketer, segment_id=segment.pk) == 2
