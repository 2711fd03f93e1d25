"""Helpers for batches of writes in one transaction: custom-field definitions read once
(``definitions_cached``) and the search index updated once at the end (``deferred``)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from vefa.customers.services import customer_create, customer_delete
from vefa.platform.custom_fields import clean_custom_fields, definitions_cached, definitions_for
from vefa.platform.models import CustomFieldDefinition, SearchEntry
from vefa.platform.search import indexer

pytestmark = pytest.mark.django_db
MODEL = "customers.customer"


def _reads(ctx) -> int:
    return sum("platform_customfielddefinition" in q["sql"] for q in ctx.captured_queries)


def test_definitions_are_read_once_inside_the_block_and_afresh_outside():
    CustomFieldDefinition.objects.create(model=MODEL, key="tier", label="Tier", field_type="text")
    with CaptureQueriesContext(connection) as ctx, definitions_cached():
        for _ in range(3):
            assert [d.key for d in definitions_for(MODEL)] == ["tier"]
            assert clean_custom_fields(MODEL, {"tier": " Gold "}) == {"tier": "Gold"}
        definitions_for("service.ticket")
        # The caller may change the list it got without changing the cache.
        definitions_for(MODEL).clear()
        assert [d.key for d in definitions_for(MODEL)] == ["tier"]
    assert _reads(ctx) == 2  # one per model
    CustomFieldDefinition.objects.create(
        model=MODEL, key="vip", label="VIP", field_type="boolean", required=True
    )
    with CaptureQueriesContext(connection) as ctx:
        assert [d.key for d in definitions_for(MODEL)] == ["tier", "vip"]
        assert [d.key for d in definitions_for(MODEL)] == ["tier", "vip"]
    assert _reads(ctx) == 2  # outside a block nothing is kept


def test_a_required_field_is_still_enforced_inside_the_block():
    from vefa.common.errors import ValidationFailed

    CustomFieldDefinition.objects.create(
        model=MODEL, key="vip", label="VIP", field_type="boolean", required=True
    )
    with definitions_cached():
        assert clean_custom_fields(MODEL, {"vip": True}) == {"vip": True}
        with pytest.raises(ValidationFailed):
            clean_custom_fields(MODEL, {})


def _entries(model: str) -> set[int]:
    return set(SearchEntry.objects.filter(model=model).values_list("object_id", flat=True))


def test_deferred_indexes_once_at_the_end(admin_user, committed):
    with CaptureQueriesContext(connection) as ctx, indexer.deferred():
        with committed():
            people = [
                customer_create(actor=admin_user, data={"kind": "person", "first_name": f"Ayşe{n}"})
                for n in range(3)
            ]
        assert not _entries("customer")  # not yet: at the end of the block
    assert _entries("customer") == {p.pk for p in people}
    upserts = [q["sql"] for q in ctx.captured_queries if "INTO platform_searchentry" in q["sql"]]
    assert len(upserts) == 1, upserts


def test_deferred_removes_at_once_and_never_indexes_a_deleted_record(admin_user, committed):
    with committed():
        kept = customer_create(actor=admin_user, data={"kind": "person", "first_name": "Milica"})
    with indexer.deferred():
        with committed():
            gone = customer_create(actor=admin_user, data={"kind": "person", "first_name": "Emre"})
        with committed():
            customer_delete(actor=admin_user, customer_id=gone.pk)
    assert _entries("customer") == {kept.pk}


def test_a_failing_index_is_logged_not_raised(admin_user, committed, monkeypatch, caplog):
    def broken(label, ids):
        raise RuntimeError("index down")

    monkeypatch.setattr(indexer, "index_records", broken)
    with indexer.deferred(), committed():
        customer_create(actor=admin_user, data={"kind": "person", "first_name": "Jovana"})
    assert "could not index" in caplog.text
