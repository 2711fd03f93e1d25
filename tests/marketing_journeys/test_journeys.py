"""Journeys run day after day: each step once, reruns do nothing twice, birthdays every year."""

from __future__ import annotations

import datetime
import sys
import types
from collections.abc import Iterator

import pytest

from tests.customers.factories import make_customer
from tests.marketing_journeys.conftest import HOSTILE, add_step
from vefa.common.errors import NotFound, PermissionDenied, ValidationFailed
from vefa.customers.models import Consent
from vefa.interactions.models import Activity
from vefa.marketing.models import (
    Campaign,
    JourneyEnrollment,
    PointsEntry,
    Segment,
    SegmentMember,
)
from vefa.marketing.services.journeys import (
    enrollment_exit,
    journey_create,
    journey_delete,
    journey_set_active,
    journey_update,
    journeys_run,
    step_delete,
    step_update,
)

UTC = datetime.UTC


class FakeSending:
    """Stands in for the sending service: records each (campaign, customer, occasion) once."""

    def __init__(self) -> None:
        self.sent: list[tuple[int, int, str]] = []

    def send_to_customers(self, *, campaign_id, customer_ids, occasion, not_before=None) -> int:
        new = 0
        for customer_id in customer_ids:
            key = (campaign_id, customer_id, occasion)
            if key not in self.sent:
                self.sent.append(key)
                new += 1
        return new


@pytest.fixture
def sending(monkeypatch) -> Iterator[FakeSending]:
    fake = FakeSending()
    module = types.ModuleType("vefa.marketing.services.sending")
    module.send_to_customers = fake.send_to_customers  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "vefa.marketing.services.sending", module)
    yield fake


def days(start: datetime.date, end: datetime.date) -> Iterator[datetime.datetime]:
    day = start
    while day <= end:
        yield datetime.datetime(day.year, day.month, day.day, 6, tzinfo=UTC)
        day += datetime.timedelta(days=1)


def birthday_journey(marketer, days_before=3):
    journey = journey_create(
        actor=marketer,
        name="Doğum günü",
        trigger="birthday",
        trigger_params={"days_before": days_before},
    )
    add_step(actor=marketer, journey_id=journey.pk, action="send_email", wait_days=0)
    add_step(actor=marketer, journey_id=journey.pk, action="award_points", wait_days=2, points=10)
    add_step(
        actor=marketer,
        journey_id=journey.pk,
        action="call_task",
        wait_days=1,
        task_subject="Call to congratulate",
    )
    journey_set_active(actor=marketer, journey_id=journey.pk, active=True)
    return journey


def test_birthday_steps_run_once_each_day_by_day(marketer, customer, program, sending):
    customer.birth_date = datetime.date(1990, 3, 14)
    customer.save(update_fields=["birth_date"])
    journey = birthday_journey(marketer)
    campaign = Campaign.objects.get(journey=journey)
    assert campaign.channel == "email" and campaign.objective == "loyalty"
    seen: dict[str, int] = {}
    for now in days(datetime.date(2026, 3, 1), datetime.date(2026, 3, 25)):
        for _rerun in range(2):
            journeys_run(now=now)
        seen[now.date().isoformat()] = (
            len(sending.sent)
            + PointsEntry.objects.filter(customer=customer).count()
            + Activity.objects.filter(customer=customer).count()
        )
    enrollment = JourneyEnrollment.objects.get(journey=journey, customer=customer)
    assert enrollment.occasion == "2026"
    assert enrollment.status == "completed"
    assert sending.sent == [(campaign.pk, customer.pk, "2026")]
    assert seen["2026-03-10"] == 0 and seen["2026-03-11"] == 1  # three days before
    assert seen["2026-03-12"] == 1 and seen["2026-03-13"] == 2  # points two days later
    assert seen["2026-03-14"] == 3 and seen["2026-03-25"] == 3  # the call on the day
    task = Activity.objects.get(customer=customer)
    assert task.kind == "call" and task.owner == customer.owner
    assert PointsEntry.objects.get(customer=customer).points == 10
    # Next year the same customer is enrolled again, once.
    for now in days(datetime.date(2027, 3, 9), datetime.date(2027, 3, 16)):
        journeys_run(now=now)
        journeys_run(now=now)
    assert JourneyEnrollment.objects.filter(journey=journey, customer=customer).count() == 2
    assert len(sending.sent) == 2 and sending.sent[1][2] == "2027"
    assert PointsEntry.objects.filter(customer=customer).count() == 2


def test_a_missed_day_is_caught_up(marketer, customer, sending):
    customer.birth_date = datetime.date(1985, 7, 2)
    customer.save(update_fields=["birth_date"])
    journey = journey_create(
        actor=marketer, name="B", trigger="birthday", trigger_params={"days_before": 0}
    )
    add_step(actor=marketer, journey_id=journey.pk, action="send_sms")
    journey_set_active(actor=marketer, journey_id=journey.pk, active=True)
    journeys_run(now=datetime.datetime(2026, 6, 30, 6, tzinfo=UTC))
    journeys_run(now=datetime.datetime(2026, 7, 4, 6, tzinfo=UTC))  # the worker was down
    assert len(sending.sent) == 1


def test_sending_not_available_waits_for_the_next_run(marketer, customer, monkeypatch):
    monkeypatch.setitem(sys.modules, "vefa.marketing.services.sending", None)
    journey = journey_create(actor=marketer, name="Welcome", trigger="new_customer")
    add_step(actor=marketer, journey_id=journey.pk, action="send_email")
    journey_set_active(actor=marketer, journey_id=journey.pk, active=True)
    now = datetime.datetime.now(UTC)
    customer.became_customer_at = now - datetime.timedelta(hours=2)
    customer.save(update_fields=["became_customer_at"])
    result = journeys_run(now=now)
    assert result.enrolled == 1 and result.deferred == 1
    enrollment = JourneyEnrollment.objects.get(journey=journey)
    assert enrollment.status == "active" and enrollment.next_position == 0


def test_withdrawn_consent_and_merge_leave_the_journey(marketer, customer, rep, team, sending):
    twin = make_customer(owner=rep, team=team, first_name="İkiz")
    now = datetime.datetime(2026, 5, 1, 6, tzinfo=UTC)
    for person in (customer, twin):
        person.became_customer_at = now - datetime.timedelta(hours=1)
        person.save(update_fields=["became_customer_at"])
    journey = journey_create(actor=marketer, name="Welcome", trigger="new_customer")
    add_step(actor=marketer, journey_id=journey.pk, action="award_points", points=5)
    add_step(actor=marketer, journey_id=journey.pk, action="send_email", wait_days=3)
    journey_set_active(actor=marketer, journey_id=journey.pk, active=True)
    journeys_run(now=now)
    Consent.objects.create(
        customer=customer,
        channel="email",
        purpose="marketing",
        status="withdrawn",
        source="unsubscribe link",
        text_version="1",
    )
    from vefa.customers.models import Customer

    Customer.objects.filter(pk=twin.pk).update(merged_into=customer)
    journeys_run(now=now + datetime.timedelta(days=3))
    statuses = dict(
        JourneyEnrollment.objects.filter(journey=journey).values_list("customer_id", "status")
    )
    assert statuses == {customer.pk: "exited", twin.pk: "exited"}
    assert sending.sent == []
    reasons = {e.customer_id: e.log[-1]["reason"] for e in JourneyEnrollment.objects.all()}
    assert reasons == {customer.pk: "consent_withdrawn", twin.pk: "merged"}


def test_purchase_in_a_category_and_complaint_survey(marketer, customer, sending):
    from vefa.sales.models import Order, Product, ProductCategory
    from vefa.service.models import SurveyInvitation, Ticket

    tea = ProductCategory.objects.create(name="Tea")
    product = Product.objects.create(sku="T1", name="Rize", category=tea, currency="TRY")
    now = datetime.datetime(2026, 4, 2, 6, tzinfo=UTC)
    cross = journey_create(
        actor=marketer, name="Cross-sell", trigger="purchase", trigger_params={"category": tea.pk}
    )
    add_step(actor=marketer, journey_id=cross.pk, action="send_email", wait_days=1)
    journey_set_active(actor=marketer, journey_id=cross.pk, active=True)
    thanks = journey_create(actor=marketer, name="Thanks", trigger="complaint_resolved")
    add_step(actor=marketer, journey_id=thanks.pk, action="send_survey")
    journey_set_active(actor=marketer, journey_id=thanks.pk, active=True)
    journeys_run(now=now - datetime.timedelta(hours=12))
    order = Order.objects.create(
        number="O-J-1",
        customer=customer,
        status="paid",
        currency="TRY",
        paid_at=now - datetime.timedelta(hours=2),
    )
    order.lines.create(product=product, description="Rize", quantity=1, unit_price=10)
    plain = Order.objects.create(
        number="O-J-2",
        customer=customer,
        status="paid",
        currency="TRY",
        paid_at=now - datetime.timedelta(hours=2),
    )
    ticket = Ticket.objects.create(
        number="T-J-1",
        subject="Kırık",
        customer=customer,
        type="complaint",
        status="resolved",
        resolved_at=now - datetime.timedelta(hours=1),
    )
    journeys_run(now=now)
    journeys_run(now=now + datetime.timedelta(days=1))
    journeys_run(now=now + datetime.timedelta(days=1, hours=1))
    occasions = set(
        JourneyEnrollment.objects.filter(journey=cross).values_list("occasion", flat=True)
    )
    assert occasions == {str(order.pk)} and str(plain.pk) not in occasions
    assert len(sending.sent) == 1
    assert SurveyInvitation.objects.filter(ticket=ticket, kind="csat").count() == 1
    enrollment = JourneyEnrollment.objects.get(journey=thanks)
    assert enrollment.occasion == str(ticket.pk) and enrollment.log[-1]["result"] == "survey_sent"


def test_customers_entering_a_segment_with_cooling_off(marketer, customer, rep, team, sending):
    segment = Segment.objects.create(name="Declining", kind="static", owner=marketer)
    SegmentMember.objects.create(segment=segment, customer=customer)
    journey = journey_create(
        actor=marketer,
        name="Win-back",
        trigger="declining",
        trigger_params={"segment": segment.pk, "cooldown_days": 30},
    )
    add_step(actor=marketer, journey_id=journey.pk, action="send_email")
    journey_set_active(actor=marketer, journey_id=journey.pk, active=True)
    start = datetime.datetime(2026, 2, 1, 6, tzinfo=UTC)
    for offset in range(0, 40):
        journeys_run(now=start + datetime.timedelta(days=offset))
    assert JourneyEnrollment.objects.filter(journey=journey).count() == 2  # day 0 and day 30
    assert len(sending.sent) == 2


def test_editing_rules_and_errors(marketer, rep, customer, sending):
    with pytest.raises(PermissionDenied):
        journey_create(actor=rep, name="x", trigger="birthday")
    with pytest.raises(ValidationFailed) as bad_trigger:
        journey_create(actor=marketer, name="x", trigger="nonsense")
    assert "trigger" in bad_trigger.value.fields
    with pytest.raises(ValidationFailed) as bad_days:
        journey_create(
            actor=marketer, name="x", trigger="birthday", trigger_params={"days_before": "-1"}
        )
    assert "days_before" in bad_days.value.fields
    with pytest.raises(ValidationFailed):
        journey_create(actor=marketer, name="x", trigger="declining", trigger_params={})
    with pytest.raises(ValidationFailed):
        journey_create(actor=marketer, name="", trigger="birthday")
    journey = journey_create(actor=marketer, name=HOSTILE[0], trigger="birthday")
    assert journey.name == HOSTILE[0]
    with pytest.raises(ValidationFailed):
        journey_set_active(actor=marketer, journey_id=journey.pk, active=True)
    with pytest.raises(ValidationFailed) as survey:
        add_step(actor=marketer, journey_id=journey.pk, action="send_survey")
    assert "action" in survey.value.fields
    with pytest.raises(ValidationFailed) as points:
        add_step(actor=marketer, journey_id=journey.pk, action="award_points", points="abc")
    assert "points" in points.value.fields
    with pytest.raises(ValidationFailed) as task:
        add_step(actor=marketer, journey_id=journey.pk, action="call_task", task_subject=" ")
    assert "task_subject" in task.value.fields
    with pytest.raises(ValidationFailed):
        add_step(actor=marketer, journey_id=journey.pk, action="send_email", wait_days="9999")
    with pytest.raises(NotFound):
        add_step(actor=rep, journey_id=journey.pk, action="send_email")
    first = add_step(actor=marketer, journey_id=journey.pk, action="send_email")
    second = add_step(actor=marketer, journey_id=journey.pk, action="award_points", points=3)
    step_update(actor=marketer, step_id=second.pk, wait_days=4, points=7)
    second.refresh_from_db()
    assert (second.wait_days, second.points) == (4, 7)
    step_delete(actor=marketer, step_id=first.pk)
    second.refresh_from_db()
    assert second.position == 0
    journey_update(
        actor=marketer, journey_id=journey.pk, data={"trigger_params": {"days_before": 5}}
    )
    journey.refresh_from_db()
    assert journey.trigger_params == {"days_before": 5}
    with pytest.raises(ValidationFailed):
        journey_update(actor=marketer, journey_id=journey.pk, data={"owner": rep.pk})
    journey_delete(actor=marketer, journey_id=journey.pk)


def test_exit_by_hand_and_no_delete_once_used(marketer, customer, sending):
    now = datetime.datetime(2026, 5, 1, 6, tzinfo=UTC)
    customer.became_customer_at = now - datetime.timedelta(hours=1)
    customer.save(update_fields=["became_customer_at"])
    journey = journey_create(actor=marketer, name="Welcome", trigger="new_customer")
    add_step(actor=marketer, journey_id=journey.pk, action="send_email", wait_days=2)
    journey_set_active(actor=marketer, journey_id=journey.pk, active=True)
    journeys_run(now=now)
    enrollment = JourneyEnrollment.objects.get(journey=journey)
    enrollment_exit(actor=marketer, enrollment_id=enrollment.pk)
    journeys_run(now=now + datetime.timedelta(days=3))
    assert sending.sent == []
    with pytest.raises(ValidationFailed):
        journey_delete(actor=marketer, journey_id=journey.pk)
    with pytest.raises(ValidationFailed):
        journey_update(actor=marketer, journey_id=journey.pk, data={"trigger": "birthday"})


def test_with_the_sending_service_each_occasion_is_one_recipient(marketer, customer):
    from vefa.marketing.models import CampaignRecipient, CampaignVariant

    customer.birth_date = datetime.date(1991, 9, 9)
    customer.save(update_fields=["birth_date"])
    journey = journey_create(
        actor=marketer, name="B", trigger="birthday", trigger_params={"days_before": 0}
    )
    step = add_step(actor=marketer, journey_id=journey.pk, action="send_email")
    journey_set_active(actor=marketer, journey_id=journey.pk, active=True)
    for year in (2026, 2027):
        now = datetime.datetime(year, 9, 9, 6, tzinfo=UTC)
        journeys_run(now=now)
        journeys_run(now=now + datetime.timedelta(hours=1))
    rows = CampaignRecipient.objects.filter(campaign=step.campaign, customer=customer)
    assert sorted(rows.values_list("occasion", flat=True)) == ["2026", "2027"]
    # A message removed after activation: the step waits instead of being skipped.
    CampaignVariant.objects.filter(campaign=step.campaign).delete()
    result = journeys_run(now=datetime.datetime(2028, 9, 9, 6, tzinfo=UTC))
    assert result.deferred == 1
    waiting = JourneyEnrollment.objects.get(journey=journey, occasion="2028")
    assert waiting.status == "active" and waiting.next_position == 0
