"""Opportunity services: create, update, the one move service, lines, bids, follow-ups."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from tests.factories import UserFactory
from tests.sales.conftest import HOSTILE
from vefa.accounts.choices import Role
from vefa.common.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from vefa.interactions.models import Activity
from vefa.platform.models import ChangeLogEntry
from vefa.sales.models import Competitor, Opportunity, Pipeline, Stage
from vefa.sales.services.opportunities import (
    opportunity_amount_from_lines,
    opportunity_bid_add,
    opportunity_bid_delete,
    opportunity_create,
    opportunity_delete,
    opportunity_line_add,
    opportunity_line_delete,
    opportunity_line_update,
    opportunity_move,
    opportunity_update,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def opp(rep, own_customer, pipeline):
    return opportunity_create(
        actor=rep,
        data={"name": "Kahve makinesi", "customer": own_customer.pk, "amount": "1000"},
    )


@pytest.fixture
def service_agent(team):
    return UserFactory(role=Role.SERVICE_AGENT, team=team)


@pytest.fixture
def marketer(team):
    return UserFactory(role=Role.MARKETER, team=team)


@pytest.fixture
def competitor(db):
    return Competitor.objects.create(name="Rakip A.Ş.")


def _log(opportunity):
    return list(
        ChangeLogEntry.objects.filter(model="sales.opportunity", object_id=opportunity.pk).order_by(
            "id"
        )
    )


class TestCreate:
    def test_defaults(self, rep, own_customer, pipeline, stages, opp):
        assert opp.pipeline == pipeline
        assert opp.stage == stages[0]
        assert opp.status == "open"
        assert opp.probability == stages[0].probability
        assert opp.owner == rep and opp.team == rep.team
        assert opp.amount == Decimal("1000")
        assert opp.closed_at is None
        assert len(_log(opp)) == 1

    @pytest.mark.parametrize(
        ("data", "field"),
        [
            ({"name": ""}, "name"),
            ({"name": "x", "customer": None}, "customer"),
            ({"name": "x", "customer": "abc"}, "customer"),
            ({"name": "x", "amount": 1.5}, "amount"),
            ({"name": "x", "amount": "-3"}, "amount"),
            ({"name": "x", "amount": "1e30"}, "amount"),
            ({"name": "x", "currency": "XX"}, "currency"),
            ({"name": "x", "probability": "101"}, "probability"),
            ({"name": "x", "expected_close_date": "31.12.2026"}, "expected_close_date"),
            ({"name": "x" * 201}, "name"),
            ({"name": "x", "bogus": 1}, "bogus"),
            ({"name": "x", "stage": "nope"}, "stage"),
            ({"name": "x", "name\x00": "y"}, "name\x00"),
            ({"name": "a\x00b"}, "name"),
        ],
    )
    def test_bad_input_names_the_field(self, rep, own_customer, data, field):
        with pytest.raises(ValidationFailed) as info:
            opportunity_create(actor=rep, data={"customer": own_customer.pk} | data)
        assert field in info.value.fields
        assert not Opportunity.objects.exists()

    def test_hidden_customer_reads_as_missing(self, rep, other_customer):
        with pytest.raises(ValidationFailed) as info:
            opportunity_create(actor=rep, data={"name": "x", "customer": other_customer.pk})
        assert "customer" in info.value.fields

    def test_stage_of_another_pipeline_is_refused(self, rep, own_customer, renewal_pipeline):
        foreign = renewal_pipeline.stages.first()
        with pytest.raises(ValidationFailed) as info:
            opportunity_create(
                actor=rep, data={"name": "x", "customer": own_customer.pk, "stage": foreign.pk}
            )
        assert "stage" in info.value.fields

    def test_rep_may_not_plant_on_colleague(self, rep, rep_same_team, own_customer):
        with pytest.raises(PermissionDenied):
            opportunity_create(
                actor=rep,
                data={"name": "x", "customer": own_customer.pk, "owner": rep_same_team.pk},
            )

    @pytest.mark.parametrize("role_fixture", ["service_agent", "marketer", "read_only"])
    def test_roles_without_access_cannot_create(self, request, role_fixture, own_customer):
        actor = request.getfixturevalue(role_fixture)
        with pytest.raises(PermissionDenied):
            opportunity_create(actor=actor, data={"name": "x", "customer": own_customer.pk})

    @pytest.mark.parametrize("text", HOSTILE)
    def test_hostile_names_are_kept_verbatim(self, rep, own_customer, text):
        opp = opportunity_create(actor=rep, data={"name": text, "customer": own_customer.pk})
        assert Opportunity.objects.get(pk=opp.pk).name == text.strip()

    def test_lines_set_the_amount(self, rep, own_customer, product):
        opp = opportunity_create(
            actor=rep,
            data={"name": "x", "customer": own_customer.pk},
            lines=[
                {"product": product.pk, "quantity": "3"},
                {"description": "Kurulum", "unit_price": "99.99", "discount_percent": "10"},
            ],
        )
        assert opp.lines.count() == 2
        assert opp.amount == Decimal("360.00") + Decimal("89.99")


class TestMove:
    def test_move_sets_stage_fields(self, rep, opp, stages):
        before = opp.stage_changed_at
        moved = opportunity_move(
            actor=rep, opportunity_id=opp.pk, stage_id=stages[2].pk, expected_version=opp.version
        )
        assert moved.stage == stages[2]
        assert moved.probability == stages[2].probability
        assert moved.stage_changed_at > before
        assert moved.version == opp.version + 1
        assert moved.status == "open" and moved.closed_at is None

    def test_explicit_probability_wins(self, rep, opp, stages):
        moved = opportunity_move(
            actor=rep, opportunity_id=opp.pk, stage_id=stages[2].pk, probability=33
        )
        assert moved.probability == 33

    def test_won_closes_and_reopen_clears(self, rep, opp, stages):
        won = next(s for s in stages if s.kind == "won")
        moved = opportunity_move(actor=rep, opportunity_id=opp.pk, stage_id=won.pk)
        assert moved.status == "won" and moved.closed_at is not None
        assert moved.probability == 100
        reopened = opportunity_move(actor=rep, opportunity_id=opp.pk, stage_id=stages[1].pk)
        assert reopened.status == "open" and reopened.closed_at is None

    def test_lost_needs_a_reason(self, rep, opp, stages, competitor):
        lost = next(s for s in stages if s.kind == "lost")
        with pytest.raises(ValidationFailed) as info:
            opportunity_move(actor=rep, opportunity_id=opp.pk, stage_id=lost.pk)
        assert "lost_reason" in info.value.fields
        assert "lost reason" in info.value.fields["lost_reason"][0]
        assert Opportunity.objects.get(pk=opp.pk).stage_id == opp.stage_id
        moved = opportunity_move(
            actor=rep,
            opportunity_id=opp.pk,
            stage_id=lost.pk,
            lost_reason="competitor",
            lost_note="Cheaper",
            lost_to=competitor.pk,
        )
        assert moved.status == "lost" and moved.lost_to == competitor
        assert moved.closed_at is not None and moved.probability == 0
        reopened = opportunity_move(actor=rep, opportunity_id=opp.pk, stage_id=stages[0].pk)
        assert reopened.lost_reason == "" and reopened.lost_to is None

    def test_bad_lost_reason(self, rep, opp, stages):
        lost = next(s for s in stages if s.kind == "lost")
        with pytest.raises(ValidationFailed) as info:
            opportunity_move(
                actor=rep, opportunity_id=opp.pk, stage_id=lost.pk, lost_reason="<script>"
            )
        assert "lost_reason" in info.value.fields

    def test_stage_of_another_pipeline(self, rep, opp, renewal_pipeline):
        with pytest.raises(ValidationFailed) as info:
            opportunity_move(
                actor=rep,
                opportunity_id=opp.pk,
                stage_id=renewal_pipeline.stages.first().pk,
            )
        assert "stage" in info.value.fields

    @pytest.mark.parametrize("stage_id", ["abc", None, -1, 10**20, True, 999999])
    def test_bad_stage_ids(self, rep, opp, stage_id):
        with pytest.raises(ValidationFailed) as info:
            opportunity_move(actor=rep, opportunity_id=opp.pk, stage_id=stage_id)
        assert "stage" in info.value.fields

    def test_stale_version_is_a_conflict(self, rep, opp, stages):
        opportunity_move(actor=rep, opportunity_id=opp.pk, stage_id=stages[1].pk)
        with pytest.raises(Conflict):
            opportunity_move(
                actor=rep,
                opportunity_id=opp.pk,
                stage_id=stages[2].pk,
                expected_version=opp.version,
            )
        assert Opportunity.objects.get(pk=opp.pk).stage == stages[1]

    def test_hidden_opportunity_is_not_found(self, rep_other_team, opp, stages):
        with pytest.raises(NotFound):
            opportunity_move(actor=rep_other_team, opportunity_id=opp.pk, stage_id=stages[1].pk)

    def test_read_only_may_not_move(self, read_only, opp, stages):
        with pytest.raises((NotFound, PermissionDenied)):
            opportunity_move(actor=read_only, opportunity_id=opp.pk, stage_id=stages[1].pk)
        assert Opportunity.objects.get(pk=opp.pk).version == opp.version

    def test_manager_moves_team_opportunity(self, manager, opp, stages):
        moved = opportunity_move(actor=manager, opportunity_id=opp.pk, stage_id=stages[3].pk)
        assert moved.stage == stages[3]

    def test_same_stage_writes_nothing(self, rep, opp):
        opportunity_move(actor=rep, opportunity_id=opp.pk, stage_id=opp.stage_id)
        assert len(_log(opp)) == 1


class TestUpdate:
    def test_form_stage_change_equals_move(self, rep, own_customer, stages):
        a = opportunity_create(actor=rep, data={"name": "A", "customer": own_customer.pk})
        b = opportunity_create(actor=rep, data={"name": "A", "customer": own_customer.pk})
        opportunity_move(
            actor=rep, opportunity_id=a.pk, stage_id=stages[2].pk, expected_version=a.version
        )
        form = {
            "name": "A",
            "customer": own_customer.pk,
            "stage": stages[2].pk,
            "probability": b.probability,  # shown, not changed by the user
            "amount": "0",
            "lost_reason": "",
            "next_step": "",
        }
        opportunity_update(actor=rep, opportunity_id=b.pk, data=form, expected_version=b.version)
        a.refresh_from_db()
        b.refresh_from_db()
        for name in ("stage_id", "status", "probability", "closed_at", "version", "lost_reason"):
            assert getattr(a, name) == getattr(b, name), name
        (ea,) = _log(a)[1:]
        (eb,) = _log(b)[1:]
        changed = {k for k in ea.after if ea.before.get(k) != ea.after.get(k)}
        changed_b = {k for k in eb.after if eb.before.get(k) != eb.after.get(k)}
        assert changed == changed_b

    def test_pipeline_change_needs_stage(self, rep, opp, renewal_pipeline):
        with pytest.raises(ValidationFailed) as info:
            opportunity_update(
                actor=rep, opportunity_id=opp.pk, data={"pipeline": renewal_pipeline.pk}
            )
        assert "stage" in info.value.fields
        stage = renewal_pipeline.stages.order_by("order").first()
        moved = opportunity_update(
            actor=rep,
            opportunity_id=opp.pk,
            data={"pipeline": renewal_pipeline.pk, "stage": stage.pk},
        )
        assert moved.pipeline == renewal_pipeline and moved.stage == stage

    def test_stale_update_is_a_conflict(self, rep, opp):
        opportunity_update(actor=rep, opportunity_id=opp.pk, data={"name": "B"})
        with pytest.raises(Conflict):
            opportunity_update(
                actor=rep, opportunity_id=opp.pk, data={"name": "C"}, expected_version=1
            )
        assert Opportunity.objects.get(pk=opp.pk).name == "B"

    def test_lost_reason_only_when_lost(self, rep, opp):
        with pytest.raises(ValidationFailed) as info:
            opportunity_update(actor=rep, opportunity_id=opp.pk, data={"lost_reason": "price"})
        assert "lost_reason" in info.value.fields

    def test_unknown_field(self, rep, opp):
        with pytest.raises(ValidationFailed) as info:
            opportunity_update(actor=rep, opportunity_id=opp.pk, data={"status": "won"})
        assert "status" in info.value.fields


class TestFollowUp:
    def test_follow_up_plans_an_activity_with_reminders(self, rep, opp):
        day = timezone.localdate() + datetime.timedelta(days=5)
        updated = opportunity_update(
            actor=rep,
            opportunity_id=opp.pk,
            data={"follow_up_date": day.isoformat(), "next_step": "Demo"},
        )
        activity = Activity.objects.get(pk=updated.follow_up_activity_id)
        assert activity.owner == rep and activity.kind == "task"
        assert activity.customer_id == opp.customer_id
        assert activity.due_at is not None
        assert "Demo" in activity.subject
        assert activity.reminders.count() >= 1

    def test_moving_the_date_moves_the_activity(self, rep, opp):
        day = timezone.localdate() + datetime.timedelta(days=5)
        first = opportunity_update(
            actor=rep, opportunity_id=opp.pk, data={"follow_up_date": day}
        ).follow_up_activity_id
        later = day + datetime.timedelta(days=2)
        second = opportunity_update(
            actor=rep, opportunity_id=opp.pk, data={"follow_up_date": later}
        )
        assert second.follow_up_activity_id == first
        assert Activity.objects.filter(owner=rep).count() == 1
        activity = Activity.objects.get(pk=first)
        assert activity.due_at.date() in {later, later - datetime.timedelta(days=1)}

    def test_clearing_the_date_cancels(self, rep, opp):
        day = timezone.localdate() + datetime.timedelta(days=5)
        first = opportunity_update(
            actor=rep, opportunity_id=opp.pk, data={"follow_up_date": day, "follow_up_kind": "call"}
        ).follow_up_activity_id
        assert Activity.objects.get(pk=first).kind == "call"
        cleared = opportunity_update(
            actor=rep, opportunity_id=opp.pk, data={"follow_up_date": None}
        )
        assert cleared.follow_up_activity_id is None
        assert Activity.objects.get(pk=first).status == "cancelled"


class TestLinesAndBids:
    def test_lines_and_amount(self, rep, opp, product):
        line = opportunity_line_add(
            actor=rep, opportunity_id=opp.pk, data={"product": product.pk, "quantity": "2"}
        )
        assert line.total == Decimal("240.00")
        line = opportunity_line_update(actor=rep, line_id=line.pk, data={"discount_percent": "50"})
        assert line.total == Decimal("120.00")
        updated = opportunity_amount_from_lines(actor=rep, opportunity_id=opp.pk)
        assert updated.amount == Decimal("120.00")
        opportunity_line_delete(actor=rep, line_id=line.pk)
        assert opp.lines.count() == 0

    @pytest.mark.parametrize(
        "data",
        [
            {"description": "x", "unit_price": "abc"},
            {"description": "x", "unit_price": "1", "quantity": "0"},
            {"description": "x", "unit_price": "1", "discount_percent": "101"},
            {"unit_price": "1"},
            {"description": "x"},
            {"description": "x", "unit_price": "1", "colour": "red"},
        ],
    )
    def test_bad_lines(self, rep, opp, data):
        with pytest.raises(ValidationFailed):
            opportunity_line_add(actor=rep, opportunity_id=opp.pk, data=data)
        assert opp.lines.count() == 0

    def test_other_rep_cannot_touch_lines(self, rep, rep_other_team, opp):
        line = opportunity_line_add(
            actor=rep, opportunity_id=opp.pk, data={"description": "x", "unit_price": "5"}
        )
        with pytest.raises(NotFound):
            opportunity_line_delete(actor=rep_other_team, line_id=line.pk)
        with pytest.raises(NotFound):
            opportunity_line_add(
                actor=rep_other_team, opportunity_id=opp.pk, data={"description": "y"}
            )

    def test_bids(self, rep, opp, competitor):
        bid = opportunity_bid_add(
            actor=rep, opportunity_id=opp.pk, competitor_id=competitor.pk, price="900", notes="!"
        )
        assert bid.currency == opp.currency
        with pytest.raises(ValidationFailed):
            opportunity_bid_add(actor=rep, opportunity_id=opp.pk, competitor_id=competitor.pk)
        opportunity_bid_delete(actor=rep, bid_id=bid.pk)
        assert opp.competitor_bids.count() == 0


class TestDelete:
    def test_rep_deletes_own(self, rep, opp):
        opportunity_delete(actor=rep, opportunity_id=opp.pk)
        assert not Opportunity.objects.filter(pk=opp.pk).exists()
        assert _log(opp)[-1].action == "delete"

    def test_other_rep_cannot(self, rep_other_team, opp):
        with pytest.raises(NotFound):
            opportunity_delete(actor=rep_other_team, opportunity_id=opp.pk)
        assert Opportunity.objects.filter(pk=opp.pk).exists()


def test_default_pipeline_exists(db):
    assert Pipeline.objects.filter(is_default=True).exists()
    assert Stage.objects.filter(kind="lost").exists()
