"""A merge keeps every row of every model that points at a customer, and undo restores all.

The rows are built from the models themselves (see ``builders``), one relation at a time, so
a model added later that points at customers is part of this test without editing it.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.apps import apps
from django.db import IntegrityError, transaction

from tests.customers.factories import make_customer
from tests.customers_merge.builders import build, clone
from vefa.customers.models import Customer
from vefa.customers.services.merge import (
    _unique_sets,
    customer_relations,
    merge_customers,
    row_data,
    undo_merge,
)

pytestmark = pytest.mark.django_db

VOLATILE = {"updated_at"}


def _rows(labels: set[str]) -> dict[tuple[str, Any], dict[str, Any]]:
    """Every row of the given models, by (label, pk)."""
    found: dict[tuple[str, Any], dict[str, Any]] = {}
    for label in sorted(labels):
        model = apps.get_model(label)
        for row in model._base_manager.all():
            data = {k: v for k, v in row_data(row).items() if k not in VOLATILE}
            found[(label, row.pk)] = data
    return found


def _customer_fields(model: type, chosen: str, target: Customer, neutral: Customer) -> dict:
    values: dict[str, Any] = {}
    for fld in model._meta.concrete_fields:
        if fld.is_relation and fld.related_model is Customer:
            values[fld.name] = target if fld.name == chosen else neutral
    return values


def _build(model, name, target, neutrals, row=None):
    """A row pointing at ``target`` (the others at a neutral record); when a check constraint
    refuses one neutral record (an ordered pair), the other."""
    last: Exception | None = None
    for neutral in neutrals:
        values = _customer_fields(model, name, target, neutral)
        try:
            with transaction.atomic():
                return build(model, **values) if row is None else clone(row, **values)
        except IntegrityError as exc:
            last = exc
    raise AssertionError(f"cannot build {model._meta.label}: {last}")


@pytest.fixture
def world(admin_user):
    low = make_customer(first_name="Low", last_name="Neutral", owner=admin_user)
    survivor = make_customer(first_name="Ayşe", last_name="Yılmaz", owner=admin_user)
    other = make_customer(first_name="Ayse", last_name="Yilmaz", owner=admin_user)
    neutral = make_customer(first_name="Kemal", last_name="Demir", owner=admin_user)
    built: dict[str, list[Any]] = {}
    for relation in customer_relations():
        model, name = relation.model, relation.field.name
        row = _build(model, name, other, (neutral, low))
        rows = [row]
        if _unique_sets(relation):
            # The survivor has the like of it: the merge must collapse or keep one.
            rows.append(_build(model, name, survivor, (neutral, low), row=row))
        built[relation.key] = rows
    return survivor, other, (neutral, low), built


def test_every_relation_is_built(world):
    _survivor, _other, _neutral, built = world
    assert set(built) == {r.key for r in customer_relations()}
    # The relations known today, so losing one by accident is noticed too.
    for key in (
        "customers.address.customer",
        "customers.contactpoint.customer",
        "customers.consent.customer",
        "customers.customerrelationship.from_customer",
        "customers.customerrelationship.to_customer",
        "customers.lead.converted_customer",
        "interactions.interaction.customer",
        "interactions.activity.customer",
        "sales.order.customer",
        "sales.quote.customer",
        "sales.opportunity.customer",
        "service.ticket.customer",
        "portal.portalaccount.customer",
        "marketing.segmentmember.customer",
        "marketing.pointsentry.customer",
        "analytics.customerscore.customer",
    ):
        assert key in built


def test_merge_moves_every_row_and_undo_restores_them(world, admin_user):
    survivor, other, neutral, built = world
    labels = {r.label for r in customer_relations()}
    before = _rows(labels)
    merge = merge_customers(admin_user, survivor, [other], {})
    collapsed = {(c["model"], c["pk"]) for c in merge.collapsed}
    kept = {(k["model"], k["pk"]) for k in merge.kept}
    for relation in customer_relations():
        column = relation.field.attname
        for row in built[relation.key]:
            key = (relation.label, row.pk)
            if key in collapsed:
                assert not relation.model._base_manager.filter(pk=row.pk).exists()
                continue
            now = relation.model._base_manager.get(pk=row.pk)
            if key in kept:
                assert getattr(now, column) == other.pk, relation.key
            else:
                # Nothing points at the merged record any more, except rows kept with it.
                assert getattr(now, column) in (survivor.pk, *(n.pk for n in neutral)), relation.key
        left = relation.model._base_manager.filter(**{column: other.pk}).count()
        assert left == sum(1 for k in kept if k[0] == relation.label), relation.key
    # Every row is still there or recorded in full.
    after = _rows(labels)
    assert set(before) - set(after) == collapsed
    other.refresh_from_db()
    assert other.merged_into_id == survivor.pk

    undo_merge(admin_user, merge)
    assert _rows(labels) == before
    other.refresh_from_db()
    assert other.merged_into_id is None
