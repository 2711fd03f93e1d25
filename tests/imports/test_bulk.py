"""The bulk writer of imports: instances made without ``Model.__init__`` and inserted fast."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from vefa.customers.models import ContactPoint, Customer
from vefa.imports.bulk import insert_objects, maker


def test_made_instance_equals_one_made_by_the_model(manager):
    values = {
        "kind": "person",
        "first_name": "Ayşe",
        "display_name": "Ayşe",
        "owner_id": manager.pk,
        "team_id": manager.team_id,
    }
    fast = maker(Customer).new(**values)
    slow = Customer(**values)
    # Callable defaults (a new uuid, the time now) differ between any two instances.
    called = {f.attname for f in Customer._meta.concrete_fields if callable(f.default)}
    fields = [f.attname for f in Customer._meta.concrete_fields if f.attname not in called]
    assert {f: getattr(fast, f) for f in fields} == {f: getattr(slow, f) for f in fields}
    for name in called:
        assert type(getattr(fast, name)) is type(getattr(slow, name))
    assert fast._state.adding and fast._state.db is None


def test_callable_defaults_are_called_for_every_instance(manager):
    one = maker(Customer).new(kind="person", owner_id=manager.pk)
    two = maker(Customer).new(kind="person", owner_id=manager.pk)
    one.custom_fields["a"] = 1
    assert two.custom_fields == {}


def test_an_unknown_or_relation_name_is_refused_like_the_model_does(manager):
    with pytest.raises(TypeError, match="colour"):
        maker(Customer).new(kind="person", colour="red")
    with pytest.raises(TypeError, match="owner"):
        maker(Customer).new(kind="person", owner=manager)


def test_inserted_instances_get_their_ids_and_read_back_equal(manager):
    now = timezone.now()
    customers = [
        maker(Customer).new(
            kind="person",
            first_name=f"Kişi {i}",
            display_name=f"Kişi {i}",
            owner_id=manager.pk,
            team_id=manager.team_id,
            birth_date=datetime.date(1990, 1, 1 + i),
            stage_changed_at=now,
            custom_fields={"tier": i} if i % 2 else {},
        )
        for i in range(5)
    ]
    insert_objects(Customer, customers)
    assert all(c.pk for c in customers) and not customers[0]._state.adding
    for made in customers:
        stored = Customer.objects.get(pk=made.pk)
        assert stored.first_name == made.first_name
        assert stored.birth_date == made.birth_date
        assert stored.stage_changed_at == now
        assert stored.custom_fields == made.custom_fields
    points = [
        maker(ContactPoint).new(
            customer_id=c.pk, kind="email", value=f"k{c.pk}@example.com", normalized="x"
        )
        for c in customers
    ]
    insert_objects(ContactPoint, points)
    assert ContactPoint.objects.filter(customer__in=customers).count() == 5
