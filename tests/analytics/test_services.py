"""The analytics write services: the one writer of customer scores, settings, refresh
requests, segments and call tasks."""

from __future__ import annotations

import datetime
import json
from decimal import Decimal

import pyarrow as pa
import pytest
from django.core.exceptions import PermissionDenied

from tests.factories import CustomerFactory, UserFactory
from vefa.accounts.choices import Role
from vefa.analytics import services
from vefa.analytics.engine import day_number
from vefa.analytics.models import AnalyticsSettings, CustomerScore, Refresh
from vefa.common.errors import ValidationFailed
from vefa.interactions.models import Activity

pytestmark = pytest.mark.django_db


def _row(customer_id: int, **values):
    row = dict.fromkeys(services.SCORE_COLUMNS)
    row.update(
        customer_id=customer_id,
        rfm_segment="champions",
        ladder_step="loyal",
        value_class="A",
        declining=False,
        overdue=False,
        churn_risk="low",
        next_best=[],
        reasons="{}",
    )
    row.update(values)
    return row


def test_scores_write_inserts_converts_and_replaces(admin_user):
    customer = CustomerFactory()
    day = day_number(datetime.date(2026, 3, 1))
    written = services.scores_write(
        [
            _row(
                customer.pk,
                last_purchase_day=day,
                monetary=123456,
                clv=99950,
                p_alive=0.8123,
                next_best=[3, 1],
                reasons=json.dumps({"orders_last_12m": 4}),
            )
        ],
        refresh=None,
        currency="TRY",
    )
    assert written == 1
    score = CustomerScore.objects.get(customer=customer)
    assert score.last_purchase_on == datetime.date(2026, 3, 1)
    assert score.monetary == Decimal("1234.56")
    assert score.clv == Decimal("999.50")
    assert score.p_alive == pytest.approx(0.8123)
    assert score.next_best == [3, 1]
    assert score.reasons == {"orders_last_12m": 4}
    assert score.currency == "TRY"

    # The same call again (a restarted refresh) changes nothing; new values replace old ones.
    services.scores_write(
        [_row(customer.pk, last_purchase_day=day, monetary=123456, clv=99950, p_alive=0.8123)],
        refresh=None,
        currency="TRY",
    )
    services.scores_write(
        [_row(customer.pk, value_class="C", churn_risk="high", declining=True)],
        refresh=None,
        currency="EUR",
    )
    assert CustomerScore.objects.count() == 1
    score.refresh_from_db()
    assert (score.value_class, score.churn_risk, score.declining, score.currency) == (
        "C",
        "high",
        True,
        "EUR",
    )
    assert score.monetary is None


def test_scores_write_from_arrow_in_batches_and_prunes(monkeypatch):
    customers = CustomerFactory.create_batch(7)
    ids = [c.pk for c in customers]
    monkeypatch.setattr(services, "WRITE_BATCH", 3)
    seen: list[int] = []
    table = pa.Table.from_pylist([_row(pk, frequency=i) for i, pk in enumerate(ids)])
    assert services.scores_write(table, refresh=None, currency="TRY", progress=seen.append) == 7
    assert seen == [3, 6, 7]
    assert CustomerScore.objects.count() == 7
    # The next result no longer has the first two customers: their rows go.
    services.scores_write([], refresh=None, currency="TRY", keep_ids=ids[2:])
    assert sorted(CustomerScore.objects.values_list("customer_id", flat=True)) == ids[2:]


def test_scores_write_drops_nan_and_keeps_hostile_text_as_data():
    customer = CustomerFactory()
    hostile = {"note": "<script>alert(1)</script> =SUM(A1) ' OR 1=1 -- مشتری"}
    services.scores_write(
        [_row(customer.pk, p_alive=float("nan"), share_of_wallet=float("inf"), reasons=hostile)],
        refresh=None,
        currency="TRY",
    )
    score = CustomerScore.objects.get(customer=customer)
    assert score.p_alive is None and score.share_of_wallet is None
    assert score.reasons == hostile


def test_settings_update_is_for_admins_and_checks_every_value(admin_user, manager):
    with pytest.raises(PermissionDenied):
        services.settings_update(actor=manager, data={"rfm_window_days": 180})
    updated = services.settings_update(
        actor=admin_user, data={"rfm_window_days": 180, "value_a_share": "0.7"}
    )
    assert updated.rfm_window_days == 180
    assert AnalyticsSettings.current().value_a_share == Decimal("0.700")
    bad = {
        "value_a_share": "0.96",
        "ladder_regular_orders": 1,
        "rfm_window_days": 5,
        "decline_share": "1.5",
    }
    with pytest.raises(ValidationFailed) as caught:
        services.settings_update(actor=admin_user, data=bad)
    fields = caught.value.fields
    assert {"value_b_share", "ladder_regular_orders", "rfm_window_days"} <= set(fields) or (
        "decline_share" in fields
    )
    with pytest.raises(ValidationFailed) as caught:
        services.settings_update(actor=admin_user, data={"no_such_setting": 1})
    assert "__all__" in caught.value.fields
    with pytest.raises(ValidationFailed):
        services.settings_update(actor=admin_user, data={"rfm_window_days": "many"})
    # Nothing of the refused changes was kept.
    assert AnalyticsSettings.current().rfm_window_days == 180


def test_refresh_request_permissions_and_one_at_a_time(admin_user, rep, monkeypatch):
    from vefa.platform import jobs

    queued: list[int] = []
    monkeypatch.setattr(jobs, "job_enqueue", queued.append)
    with pytest.raises(PermissionDenied):
        services.refresh_request(actor=rep)
    first = services.refresh_request(actor=admin_user, full=True)
    assert first.status == Refresh.Status.QUEUED and first.full and first.job is not None
    again = services.refresh_request(actor=admin_user)
    assert again.pk == first.pk
    assert Refresh.objects.count() == 1
    Refresh.objects.filter(pk=first.pk).update(status=Refresh.Status.DONE)
    nightly = services.refresh_request(actor=None)
    assert nightly.pk != first.pk and nightly.requested_by is None


def test_segment_create_saves_a_customer_view_and_refuses_bad_filters(admin_user):
    view = services.segment_create(
        actor=admin_user,
        name="A class at risk",
        filters={"value_class": "A", "churn_risk": "high", "cursor": "x"},
    )
    assert view.list_key == "customers"
    assert view.filters == {"value_class": "A", "churn_risk": "high"}
    with pytest.raises(ValidationFailed) as caught:
        services.segment_create(actor=admin_user, name="bad", filters={"value_class": "Z"})
    assert "value_class" in caught.value.fields
    with pytest.raises(ValidationFailed):
        services.segment_create(actor=admin_user, name="  ", filters={"value_class": "A"})


def test_call_tasks_plan_one_call_per_customer_for_its_owner_once(
    admin_user, team, django_capture_on_commit_callbacks
):
    owner = UserFactory(role=Role.SALES_REP, team=team)
    mine = CustomerFactory.create_batch(3, owner=owner, team=team)
    orphan = CustomerFactory()
    other = CustomerFactory(owner=owner)
    for customer in [*mine, orphan]:
        services.scores_write(
            [_row(customer.pk, value_class="A", churn_risk="high")],
            refresh=None,
            currency="TRY",
        )
    services.scores_write([_row(other.pk, value_class="B")], refresh=None, currency="TRY")
    filters = {"value_class": "A", "churn_risk": "high"}
    due = datetime.date(2026, 12, 1)
    with django_capture_on_commit_callbacks(execute=True):
        job = services.call_tasks_request(
            actor=admin_user, filters=filters, subject="Win them back", due=due
        )
    job.refresh_from_db()
    assert job.result["planned"] == 4, job.error
    calls = Activity.objects.filter(kind="call", subject="Win them back")
    assert {(a.customer_id, a.owner_id) for a in calls} == {
        *((c.pk, owner.pk) for c in mine),
        (orphan.pk, admin_user.pk),
    }
    # Run again: every customer already has the open call.
    with django_capture_on_commit_callbacks(execute=True):
        again = services.call_tasks_request(
            actor=admin_user, filters=filters, subject="Win them back", due=due
        )
    again.refresh_from_db()
    assert again.result["planned"] == 0
    assert calls.count() == 4


@pytest.mark.parametrize(
    ("subject", "due", "field"),
    [("", datetime.date(2026, 1, 1), "subject"), ("x" * 201, datetime.date(2026, 1, 1), "subject")],
)
def test_call_tasks_request_refuses_bad_input(admin_user, subject, due, field):
    with pytest.raises(ValidationFailed) as caught:
        services.call_tasks_request(
            actor=admin_user, filters={"value_class": "A"}, subject=subject, due=due
        )
    assert field in caught.value.fields


def test_settings_reporting_currency_must_be_a_known_code(admin_user):
    assert services.settings_update(actor=admin_user, data={"reporting_currency": " eur "})
    assert AnalyticsSettings.current().reporting_currency == "EUR"
    for bad in ("XYZ", "€", "12", "<b>"):
        with pytest.raises(ValidationFailed) as caught:
            services.settings_update(actor=admin_user, data={"reporting_currency": bad})
        assert "reporting_currency" in caught.value.fields


def test_call_tasks_need_a_role_that_plans_activities(read_only):
    with pytest.raises(PermissionDenied):
        services.call_tasks_request(
            actor=read_only,
            filters={"value_class": "A"},
            subject="Call",
            due=datetime.date(2026, 12, 1),
        )


def test_an_arrow_table_and_rows_write_the_same_scores():
    """A refresh hands over an Arrow table (on PostgreSQL converted column by column and
    sent by COPY); the same values given as rows must give the same stored scores."""
    first, second = CustomerFactory(), CustomerFactory()
    hostile = '<script>x</script> =SUM(A1) \' OR 1=1 -- مشتری "quoted", comma\nline'

    def rows_for(pk: int) -> list[dict]:
        return [
            _row(
                pk,
                last_purchase_day=day_number(datetime.date(2026, 3, 1)),
                monetary=-123456,
                revenue=5,
                clv=None,
                p_alive=float("nan"),
                expected_purchases=1.25,
                share_of_wallet=float("inf"),
                rfm_segment="",
                declining=True,
                next_best=[3, 1],
                reasons=json.dumps({"note": hostile, "empty": None, "n": 2}),
            )
        ]

    services.scores_write(rows_for(first.pk), refresh=None, currency="TRY")
    services.scores_write(pa.Table.from_pylist(rows_for(second.pk)), refresh=None, currency="TRY")
    fields = [
        "last_purchase_on",
        "monetary",
        "revenue",
        "clv",
        "p_alive",
        "expected_purchases",
        "share_of_wallet",
        "rfm_segment",
        "declining",
        "next_best",
        "reasons",
        "currency",
        "value_class",
    ]
    a = CustomerScore.objects.filter(customer=first).values(*fields).get()
    b = CustomerScore.objects.filter(customer=second).values(*fields).get()
    assert a == b
    assert b["monetary"] == Decimal("-1234.56") and b["revenue"] == Decimal("0.05")
    assert b["p_alive"] is None and b["share_of_wallet"] is None
    assert b["reasons"] == {"note": hostile, "n": 2}
