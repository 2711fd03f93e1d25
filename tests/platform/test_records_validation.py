"""What records validate before writing: a foreign key is checked unless its target is known
to exist (read from the database, or unchanged on update), and the change log carries the
tags without reading them back."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.customers.factories import make_customer
from vefa.common.errors import ValidationFailed
from vefa.customers.models import Customer
from vefa.interactions.models import Interaction
from vefa.platform.models import ChangeLogEntry
from vefa.platform.records import record_create, record_update

pytestmark = pytest.mark.django_db


def _interaction(**fields):
    fields.setdefault("kind", "note")
    return Interaction(subject="Call", occurred_at=timezone.now(), **fields)


def test_a_missing_foreign_key_target_is_refused_on_create():
    with pytest.raises(ValidationFailed) as error:
        record_create(_interaction(customer_id=987_654), actor=None)
    assert "customer" in error.value.fields
    assert not Interaction.objects.exists()


def test_a_changed_foreign_key_to_a_missing_target_is_refused_on_update():
    customer = make_customer()
    interaction = record_create(_interaction(customer=customer), actor=None)
    with pytest.raises(ValidationFailed) as error:
        # An object made in memory is not known to exist: it is checked.
        record_update(interaction, actor=None, data={"customer": Customer(pk=987_654)})
    assert "customer" in error.value.fields
    interaction.refresh_from_db()
    assert interaction.customer_id == customer.pk


def test_a_target_read_from_the_database_is_not_asked_for_again():
    customer = make_customer()
    with CaptureQueriesContext(connection) as ctx:
        record_create(_interaction(customer=customer), actor=None)
    asked = [q["sql"] for q in ctx.captured_queries if 'FROM "customers_customer"' in q["sql"]]
    assert asked == []


def test_the_other_checks_still_run_for_a_known_target():
    customer = make_customer()
    record_create(_interaction(customer=customer, external_id="crm-1"), actor=None)
    with pytest.raises(ValidationFailed) as error:
        record_create(_interaction(customer=customer, external_id="crm-1"), actor=None)
    assert error.value.fields  # the unique external id, whatever field it is reported on
    with pytest.raises(ValidationFailed) as error:
        record_create(_interaction(customer=customer, kind="no-such-kind"), actor=None)
    assert "kind" in error.value.fields


def test_the_change_log_has_the_tags_set_on_create_and_kept_on_update():
    customer = make_customer()
    interaction = record_create(
        _interaction(customer=customer), actor=None, tags=["VIP", "Geri arama"]
    )
    created = ChangeLogEntry.objects.get(model="interactions.interaction", action="create")
    assert created.after["tags"] == ["Geri arama", "VIP"]
    record_update(interaction, actor=None, data={"subject": "Call back"})
    updated = ChangeLogEntry.objects.get(model="interactions.interaction", action="update")
    assert updated.before["tags"] == updated.after["tags"] == ["Geri arama", "VIP"]
    record_update(interaction, actor=None, data={}, tags=["VIP"])
    retagged = ChangeLogEntry.objects.filter(action="update").order_by("-id").first()
    assert retagged is not None and retagged.after["tags"] == ["VIP"]
