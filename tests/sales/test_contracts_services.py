"""Contracts: create and update rules, renewal reminders (exactly once), renew now, expiry,
the next term after a won renewal."""

from __future__ import annotations

import datetime
import threading
from decimal import Decimal

import pytest
from django.db import connection, connections
from django.utils import timezone

from tests.sales.conftest import HOSTILE
from vefa.common.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from vefa.platform.models import ChangeLogEntry, Notification
from vefa.platform.periodic import jobs
from vefa.platform.scheduler import periodic_claim, slot_for
from vefa.sales.choices import ContractStatus, OpportunityStatus
from vefa.sales.models import Contract, Opportunity, Stage
from vefa.sales.services.contracts import (
    add_term,
    contract_create,
    contract_renew,
    contract_renew_now,
    contract_update,
    contracts_process_renewals,
)

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()
D = datetime.timedelta(days=1)


def make(actor, customer, **over):
    values = {
        "customer_id": customer.pk,
        "title": "Bakım sözleşmesi",
        "start_date": TODAY - 300 * D,
        "end_date": TODAY + 65 * D,
        "value": "12000.50",
        "currency": "TRY",
        "status": "active",
    }
    values.update(over)
    return contract_create(actor=actor, **values)


def at(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(9, 0)))


# --- create / update ---------------------------------------------------------------------------


def test_create_numbers_defaults_and_logs(rep, own_customer, team):
    contract = make(rep, own_customer)
    assert contract.number.startswith(f"C-{TODAY.year}-")
    assert contract.renewal_date == contract.end_date
    assert contract.owner == rep and contract.team == team
    assert contract.value == Decimal("12000.50")
    assert contract.remind_days_before == 30
    assert ChangeLogEntry.objects.filter(model="sales.contract", object_id=contract.pk).count() == 1
    second = make(rep, own_customer)
    assert int(second.number[-6:]) == int(contract.number[-6:]) + 1


@pytest.mark.parametrize(
    ("over", "field"),
    [
        ({"end_date": TODAY - 400 * D}, "end_date"),
        ({"value": "-1"}, "value"),
        ({"value": 1.5}, "value"),
        ({"value": "1" * 30}, "value"),
        ({"value": "NaN"}, "value"),
        ({"currency": "XYZ"}, "currency"),
        ({"currency": "türk"}, "currency"),
        ({"title": ""}, "title"),
        ({"title": "x" * 201}, "title"),
        ({"start_date": "2026-02-30"}, "start_date"),
        ({"start_date": 20260101}, "start_date"),
        ({"remind_days_before": 400}, "remind_days_before"),
        ({"remind_days_before": True}, "remind_days_before"),
        ({"billing_period": "weekly"}, "billing_period"),
        ({"status": "renewed"}, "status"),
        ({"auto_renew": "yes"}, "auto_renew"),
        ({"renewal_date": TODAY - 1000 * D}, "renewal_date"),
        ({"customer_id": "abc"}, "customer_id"),
        ({"customer_id": 10**30}, "customer_id"),
    ],
)
def test_bad_input_is_refused_with_the_field_and_nothing_written(rep, own_customer, over, field):
    with pytest.raises(ValidationFailed) as exc:
        make(rep, own_customer, **over)
    assert field in exc.value.fields
    assert Contract.objects.count() == 0


def test_hostile_text_is_stored_as_given(rep, own_customer):
    for text in HOSTILE:
        contract = make(rep, own_customer, title=text, notes=text)
        assert Contract.objects.get(pk=contract.pk).title == text.strip()


def test_hidden_customer_reads_as_missing(rep, other_customer):
    with pytest.raises(ValidationFailed) as exc:
        make(rep, other_customer)
    assert "customer_id" in exc.value.fields


def test_rep_cannot_give_a_contract_to_a_colleague(rep, rep_same_team, own_customer):
    with pytest.raises(ValidationFailed) as exc:
        make(rep, own_customer, owner_id=rep_same_team.pk)
    assert "owner_id" in exc.value.fields


def test_manager_assigns_within_team(manager, rep, own_customer, rep_other_team):
    contract = make(manager, own_customer, owner_id=rep.pk)
    assert contract.owner == rep
    with pytest.raises(ValidationFailed):
        make(manager, own_customer, owner_id=rep_other_team.pk)


def test_marketer_and_service_cannot_create(db, own_customer):
    from tests.factories import UserFactory

    for role in ("marketer", "service_agent", "read_only"):
        user = UserFactory(role=role)
        with pytest.raises(PermissionDenied):
            make(user, own_customer)


def test_update_with_version_and_conflict(rep, own_customer):
    contract = make(rep, own_customer)
    updated = contract_update(
        actor=rep,
        contract_id=contract.pk,
        data={"value": "15000", "title": "Yeni"},
        expected_version=contract.version,
    )
    assert updated.version == contract.version + 1
    assert updated.value == Decimal("15000")
    with pytest.raises(Conflict):
        contract_update(actor=rep, contract_id=contract.pk, data={"value": "1"}, expected_version=1)
    assert Contract.objects.get(pk=contract.pk).value == Decimal("15000")


def test_update_end_date_moves_a_default_renewal_date(rep, own_customer):
    contract = make(rep, own_customer)
    new_end = contract.end_date + 100 * D
    updated = contract_update(actor=rep, contract_id=contract.pk, data={"end_date": new_end})
    assert updated.renewal_date == new_end


def test_update_refuses_bad_values_and_transitions(rep, own_customer):
    contract = make(rep, own_customer)
    for data, field in [
        ({"end_date": contract.start_date - D}, "end_date"),
        ({"value": "-5"}, "value"),
        ({"currency": "ABC"}, "currency"),
        ({"status": "renewed"}, "status"),
        ({"status": "draft"}, "status"),
        ({"number": "X"}, "number"),
        ({"reminded_at": None}, "reminded_at"),
    ]:
        with pytest.raises(ValidationFailed) as exc:
            contract_update(actor=rep, contract_id=contract.pk, data=data)
        assert field in exc.value.fields
    assert Contract.objects.get(pk=contract.pk).version == 1


def test_cancel_is_final(rep, own_customer):
    contract = make(rep, own_customer)
    contract_update(actor=rep, contract_id=contract.pk, data={"status": "cancelled"})
    with pytest.raises(ValidationFailed):
        contract_update(actor=rep, contract_id=contract.pk, data={"status": "active"})


def test_others_contract_is_not_found_for_a_rep(rep, rep_same_team, team_customer):
    contract = make(rep_same_team, team_customer)
    with pytest.raises(NotFound):
        contract_update(actor=rep, contract_id=contract.pk, data={"title": "x"})


# --- renewal reminders -------------------------------------------------------------------------


def test_reminder_opens_one_renewal_opportunity_and_notifies_once(rep, own_customer):
    contract = make(rep, own_customer, end_date=TODAY + 20 * D, remind_days_before=30)
    run = contracts_process_renewals(now=at(TODAY))
    assert (run.reminded, run.opportunities) == (1, 1)
    again = contracts_process_renewals(now=at(TODAY))
    assert (again.reminded, again.opportunities) == (0, 0)
    opportunity = Opportunity.objects.get(renewal_of=contract)
    assert opportunity.pipeline.kind == "renewal" and opportunity.pipeline.is_default
    first_open = (
        Stage.objects.filter(pipeline=opportunity.pipeline, kind="open").order_by("order").first()
    )
    assert opportunity.stage == first_open
    assert opportunity.amount == contract.value and opportunity.currency == "TRY"
    assert opportunity.expected_close_date == contract.renewal_date
    assert opportunity.owner == rep and opportunity.team == contract.team
    assert opportunity.probability == first_open.probability
    notices = Notification.objects.filter(recipient=rep, verb="contract_renewal_due")
    assert notices.count() == 1
    assert notices.get().url == contract.get_absolute_url()
    assert Contract.objects.get(pk=contract.pk).reminded_at is not None


def test_not_yet_due_and_non_active_contracts_are_left_alone(rep, own_customer):
    make(rep, own_customer, end_date=TODAY + 60 * D, remind_days_before=30)
    make(rep, own_customer, end_date=TODAY + 5 * D, status="draft")
    assert contracts_process_renewals(now=at(TODAY)).reminded == 0
    assert not Opportunity.objects.exists()


def test_a_crash_after_the_opportunity_does_not_duplicate_it(rep, own_customer):
    contract = make(rep, own_customer, end_date=TODAY + 10 * D)
    contracts_process_renewals(now=at(TODAY))
    # reminded_at lost (e.g. restored backup): the existing opportunity still stops a second one
    Contract.objects.filter(pk=contract.pk).update(reminded_at=None)
    run = contracts_process_renewals(now=at(TODAY))
    assert run.opportunities == 0
    assert Opportunity.objects.filter(renewal_of=contract).count() == 1
    assert Notification.objects.filter(verb="contract_renewal_due").count() == 1


def test_the_periodic_slot_is_claimed_once(rep, own_customer):
    make(rep, own_customer, end_date=TODAY + 10 * D)
    job = jobs()["sales.process_contract_renewals"]
    slot = slot_for(timezone.now(), job.every)
    assert periodic_claim(job.name, slot) is True
    assert periodic_claim(job.name, slot) is False
    job.func()
    job.func()
    assert Opportunity.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_runs_create_exactly_one_opportunity(rep, own_customer):
    if connection.vendor == "sqlite" and connection.settings_dict["NAME"].startswith(
        "file:memorydb"
    ):
        pytest.skip("an in-memory SQLite database is not shared between threads")
    contract = make(rep, own_customer, end_date=TODAY + 10 * D)
    barrier = threading.Barrier(3)
    errors: list[BaseException] = []

    def run() -> None:
        try:
            barrier.wait()
            contracts_process_renewals(now=at(TODAY))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert Opportunity.objects.filter(renewal_of=contract).count() == 1
    assert Notification.objects.filter(verb="contract_renewal_due").count() == 1


def test_renew_now_is_idempotent_and_notifies_owner(manager, rep, own_customer):
    contract = make(rep, own_customer, end_date=TODAY + 200 * D)
    first = contract_renew_now(actor=manager, contract_id=contract.pk)
    second = contract_renew_now(actor=manager, contract_id=contract.pk)
    assert first.pk == second.pk
    assert Opportunity.objects.filter(renewal_of=contract).count() == 1
    assert Notification.objects.filter(recipient=rep, verb="contract_renewal_due").count() == 1
    # the job later does not open another one
    contracts_process_renewals(now=at(contract.end_date - 5 * D))
    assert Opportunity.objects.filter(renewal_of=contract).count() == 1


def test_renew_now_refuses_a_draft(rep, own_customer):
    contract = make(rep, own_customer, status="draft")
    with pytest.raises(ValidationFailed):
        contract_renew_now(actor=rep, contract_id=contract.pk)


# --- expiry and renewal --------------------------------------------------------------------------


def test_contract_past_its_end_expires(rep, own_customer):
    contract = make(rep, own_customer, start_date=TODAY - 400 * D, end_date=TODAY - 2 * D)
    run = contracts_process_renewals(now=at(TODAY))
    assert run.expired == 1
    assert Contract.objects.get(pk=contract.pk).status == ContractStatus.EXPIRED
    assert contracts_process_renewals(now=at(TODAY)).expired == 0


def test_auto_renewing_contract_is_renewed_at_its_end(rep, own_customer):
    contract = make(
        rep,
        own_customer,
        start_date=datetime.date(2025, 1, 1),
        end_date=datetime.date(2025, 12, 31),
        auto_renew=True,
    )
    contracts_process_renewals(now=at(datetime.date(2026, 1, 2)))
    old = Contract.objects.get(pk=contract.pk)
    assert old.status == ContractStatus.RENEWED
    assert old.renewed_by is not None
    assert (old.renewed_by.start_date, old.renewed_by.end_date) == (
        datetime.date(2026, 1, 1),
        datetime.date(2026, 12, 31),
    )


def test_won_renewal_gives_the_next_term_in_one_click(rep, own_customer):
    contract = make(
        rep, own_customer, start_date=datetime.date(2026, 3, 1), end_date=TODAY + 10 * D
    )
    with pytest.raises(ValidationFailed):
        contract_renew(actor=rep, contract_id=contract.pk)
    opportunity = contract_renew_now(actor=rep, contract_id=contract.pk)
    won_stage = Stage.objects.get(pipeline=opportunity.pipeline, kind="won")
    Opportunity.objects.filter(pk=opportunity.pk).update(
        status=OpportunityStatus.WON,
        stage=won_stage,
        amount=Decimal("13500"),
        closed_at=timezone.now(),
    )
    successor = contract_renew(actor=rep, contract_id=contract.pk)
    old = Contract.objects.get(pk=contract.pk)
    assert old.status == ContractStatus.RENEWED and old.renewed_by_id == successor.pk
    assert successor.status == ContractStatus.ACTIVE
    assert successor.start_date == contract.end_date + D
    assert successor.value == Decimal("13500")
    assert successor.number != contract.number
    with pytest.raises(ValidationFailed):
        contract_renew(actor=rep, contract_id=contract.pk)


@pytest.mark.parametrize(
    ("start", "end", "new_start", "new_end"),
    [
        ((2026, 1, 1), (2026, 12, 31), (2027, 1, 1), (2027, 12, 31)),
        ((2024, 3, 1), (2024, 3, 31), (2024, 4, 1), (2024, 4, 30)),
        ((2023, 3, 1), (2024, 2, 29), (2024, 3, 1), (2025, 2, 28)),
        ((2026, 1, 10), (2026, 1, 19), (2026, 1, 20), (2026, 1, 29)),
    ],
)
def test_add_term(start, end, new_start, new_end):
    got = add_term(datetime.date(*start), datetime.date(*end))
    assert got == (datetime.date(*new_start), datetime.date(*new_end))
