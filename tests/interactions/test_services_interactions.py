"""Recording, editing and deleting interactions through the services."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from tests.interactions.conftest import HOSTILE
from vefa.common.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from vefa.customers.models import Customer
from vefa.interactions.models import Interaction
from vefa.interactions.services import (
    interaction_create,
    interaction_delete,
    interaction_update,
)
from vefa.platform.models import ChangeLogEntry

pytestmark = pytest.mark.django_db


def _log_count(model: str = "interactions.interaction") -> int:
    return ChangeLogEntry.objects.filter(model=model).count()


def test_create_records_interaction_with_recorder_and_change_log(rep, own_customer):
    # given a rep and their customer
    # when the rep logs an inbound call
    interaction = interaction_create(
        actor=rep,
        customer_id=own_customer.pk,
        kind="call",
        direction="inbound",
        initiated_by="customer",
        channel="phone",
        subject="  Asked about delivery  ",
        outcome="Promised a call back",
    )
    # then it is stored with the rep as user, the subject trimmed, and one change-log row
    interaction.refresh_from_db()
    assert interaction.user_id == rep.pk
    assert interaction.subject == "Asked about delivery"
    assert interaction.customer_id == own_customer.pk
    entries = ChangeLogEntry.objects.filter(model="interactions.interaction")
    assert [(e.action, e.object_id, e.customer_id) for e in entries] == [
        ("create", interaction.pk, own_customer.pk)
    ]


def test_any_employee_who_sees_the_customer_may_record(service_agent, other_customer):
    # given a service agent who sees every customer but owns none
    # when they record a complaint on another team's customer
    interaction = interaction_create(
        actor=service_agent, customer_id=other_customer.pk, kind="complaint", subject="Broken"
    )
    # then it is recorded
    assert Interaction.objects.filter(pk=interaction.pk, user=service_agent).exists()


def test_hidden_customer_reads_like_missing_and_nothing_is_written(rep, other_customer):
    # given a customer of another team, hidden from the rep
    for customer_id in (other_customer.pk, 999_999):
        # when the rep tries to record on it (or on a customer that does not exist)
        with pytest.raises(ValidationFailed) as exc:
            interaction_create(actor=rep, customer_id=customer_id, kind="call", subject="x")
        # then both are refused with the same message and nothing is written
        assert exc.value.fields == {"customer": ["Choose an existing customer."]}
    assert Interaction.objects.count() == 0
    assert _log_count() == 0


def test_read_only_user_cannot_record(read_only, own_customer):
    with pytest.raises(PermissionDenied):
        interaction_create(actor=read_only, customer_id=own_customer.pk, kind="note", subject="x")
    assert Interaction.objects.count() == 0
    assert _log_count() == 0


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"kind": "telepathy"}, "kind"),
        ({"kind": 123}, "kind"),
        ({"subject": ""}, "subject"),
        ({"subject": "x" * 10_000}, "subject"),
        ({"direction": "sideways"}, "direction"),
        ({"occurred_at": "yesterday-ish"}, "occurred_at"),
        ({"occurred_at": 12345}, "occurred_at"),
        ({"duration_minutes": -5}, "duration_minutes"),
        ({"amount": "lots", "currency": "EUR"}, "amount"),
        ({"amount": "10.00", "currency": "euro"}, "currency"),
        ({"related_model": "sales.order"}, "related_id"),
        ({"related_model": "<script>", "related_id": 1}, "related_model"),
    ],
)
def test_invalid_input_names_the_field_and_writes_nothing(rep, own_customer, kwargs, field):
    values = {"kind": "call", "subject": "Call"} | kwargs
    with pytest.raises(ValidationFailed) as exc:
        interaction_create(actor=rep, customer_id=own_customer.pk, **values)
    assert field in exc.value.fields
    assert Interaction.objects.count() == 0
    assert _log_count() == 0


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_text_is_stored_verbatim(rep, own_customer, text):
    interaction = interaction_create(
        actor=rep, customer_id=own_customer.pk, kind="note", subject=text, body=text * 3
    )
    interaction.refresh_from_db()
    assert interaction.subject == text.strip()
    assert interaction.body == text * 3


def test_amount_defaults_to_customer_currency(rep, own_customer):
    interaction = interaction_create(
        actor=rep, customer_id=own_customer.pk, kind="purchase", subject="Order", amount="12.50"
    )
    interaction.refresh_from_db()
    assert (interaction.amount, interaction.currency) == (Decimal("12.50"), "TRY")


def test_last_interaction_at_only_moves_forward(rep, own_customer):
    # given a recent interaction
    recent = timezone.now().replace(microsecond=0)
    interaction_create(
        actor=rep, customer_id=own_customer.pk, kind="call", subject="a", occurred_at=recent
    )
    # when an older one is recorded afterwards
    interaction_create(
        actor=rep,
        customer_id=own_customer.pk,
        kind="letter",
        subject="b",
        occurred_at=recent - datetime.timedelta(days=30),
    )
    # then last contact stays at the newest, and the customer was not "edited"
    own_customer.refresh_from_db()
    assert own_customer.last_interaction_at == recent
    assert own_customer.version == 1
    assert ChangeLogEntry.objects.filter(model="customers.customer").count() == 0


def test_deleting_newest_interaction_recomputes_last_contact(rep, own_customer):
    old = timezone.now().replace(microsecond=0) - datetime.timedelta(days=10)
    interaction_create(
        actor=rep, customer_id=own_customer.pk, kind="call", subject="old", occurred_at=old
    )
    newest = interaction_create(actor=rep, customer_id=own_customer.pk, kind="call", subject="new")
    interaction_delete(actor=rep, interaction_id=newest.pk)
    own_customer.refresh_from_db()
    assert own_customer.last_interaction_at == old
    assert (
        ChangeLogEntry.objects.filter(
            model="interactions.interaction", action="delete", object_id=newest.pk
        ).count()
        == 1
    )


def test_update_changes_status_and_bumps_version(rep, own_customer):
    interaction = interaction_create(
        actor=rep, customer_id=own_customer.pk, kind="complaint", subject="Late", status="open"
    )
    updated = interaction_update(
        actor=rep,
        interaction_id=interaction.pk,
        data={"status": "done", "outcome": "Refunded"},
        expected_version=1,
    )
    assert (updated.status, updated.outcome, updated.version) == ("done", "Refunded", 2)
    assert _log_count() == 2


def test_update_with_stale_version_conflicts_and_changes_nothing(rep, own_customer):
    interaction = interaction_create(
        actor=rep, customer_id=own_customer.pk, kind="note", subject="x"
    )
    interaction_update(actor=rep, interaction_id=interaction.pk, data={"subject": "y"})
    with pytest.raises(Conflict):
        interaction_update(
            actor=rep, interaction_id=interaction.pk, data={"subject": "z"}, expected_version=1
        )
    interaction.refresh_from_db()
    assert interaction.subject == "y"


def test_update_refuses_fields_that_are_not_editable(rep, own_customer):
    interaction = interaction_create(
        actor=rep, customer_id=own_customer.pk, kind="note", subject="x"
    )
    with pytest.raises(ValidationFailed) as exc:
        interaction_update(
            actor=rep,
            interaction_id=interaction.pk,
            data={"user": 1, "customer": 2},  # type: ignore[typeddict-unknown-key]
        )
    assert set(exc.value.fields) == {"user", "customer"}


def test_moving_an_interaction_back_in_time_recomputes_last_contact(rep, own_customer):
    interaction = interaction_create(
        actor=rep, customer_id=own_customer.pk, kind="note", subject="x"
    )
    earlier = timezone.now().replace(microsecond=0) - datetime.timedelta(days=3)
    interaction_update(actor=rep, interaction_id=interaction.pk, data={"occurred_at": earlier})
    own_customer.refresh_from_db()
    assert own_customer.last_interaction_at == earlier


def test_customer_last_contact_untouched_for_other_customer(rep, own_customer, team_customer):
    interaction_create(actor=rep, customer_id=own_customer.pk, kind="note", subject="x")
    assert Customer.objects.get(pk=team_customer.pk).last_interaction_at is None


def test_update_of_hidden_or_missing_interaction_is_not_found(rep, rep_other_team, other_customer):
    theirs = interaction_create(
        actor=rep_other_team, customer_id=other_customer.pk, kind="note", subject="secret"
    )
    for pk in (theirs.pk, 987_654, "abc"):
        with pytest.raises(NotFound):
            interaction_update(actor=rep, interaction_id=pk, data={"subject": "hacked"})
        with pytest.raises(NotFound):
            interaction_delete(actor=rep, interaction_id=pk)
    theirs.refresh_from_db()
    assert theirs.subject == "secret"
    assert _log_count() == 1
