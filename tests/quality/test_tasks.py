"""The nightly run (a job with a checkpoint), the daily snapshot, the periodic job, the
backfill command, and the issues the nightly run finds."""

from __future__ import annotations

import datetime
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from tests.customers.factories import make_customer, make_lead
from vefa.customers.models import Customer
from vefa.platform.models import Job
from vefa.platform.periodic import jobs
from vefa.quality.models import CustomerFinding, MatchKey, QualitySnapshot, RecordKind
from vefa.quality.selectors import quality_figures
from vefa.quality.tasks import JOB_KIND, nightly_run, nightly_start, quality_nightly

pytestmark = pytest.mark.django_db


class Reporter:
    def __init__(self) -> None:
        self.calls: list[tuple[int, int | None, dict | None]] = []

    def __call__(self, done, total=None, *, message=None, checkpoint=None):
        self.calls.append((done, total, checkpoint))


def test_the_periodic_job_is_registered():
    assert "quality.nightly" in jobs()
    assert jobs()["quality.nightly"].func is quality_nightly


def test_nightly_run_finds_issues_and_writes_the_snapshot(django_capture_on_commit_callbacks):
    bad_mail = make_customer(first_name="Ayşe", last_name="Yılmaz", primary_email="ayse@@x")
    bad_phone = make_customer(first_name="Milan", last_name="Jovanović", primary_phone="+9012")
    twin_a = make_customer(first_name="Zeynep", last_name="Demir", primary_email="z@example.com")
    twin_b = make_customer(first_name="Zeynep", last_name="Demir", primary_email="z@example.com")
    call_command("quality", "keys", stdout=StringIO())
    with django_capture_on_commit_callbacks(execute=True):
        job = nightly_start()
    assert job is not None
    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED, job.message
    assert job.result["checked"] == 4
    findings = {f.customer_id: f for f in CustomerFinding.objects.all()}
    assert findings[bad_mail.pk].invalid_email and not findings[bad_mail.pk].invalid_phone
    assert findings[bad_phone.pk].invalid_phone
    assert findings[twin_a.pk].duplicate_score == 100
    assert findings[twin_a.pk].duplicate_id == twin_b.pk
    assert findings[twin_b.pk].duplicate_id == twin_a.pk
    snapshot = QualitySnapshot.objects.get(day=timezone.localdate())
    assert snapshot.total == 4
    assert snapshot.invalid_email == 1
    assert snapshot.invalid_phone == 1
    assert snapshot.duplicate == 2
    assert snapshot.no_contact == 0
    assert snapshot.no_address == 4
    # Once a day: the next hourly slot starts nothing.
    with django_capture_on_commit_callbacks(execute=True):
        assert nightly_start() is None
    assert Job.objects.filter(kind=JOB_KIND).count() == 1


def test_nightly_run_resumes_after_its_checkpoint():
    first = make_customer(first_name="Ayşe", last_name="Yılmaz", primary_email="bad@@mail")
    second = make_customer(first_name="Hasan", last_name="Çelik", primary_email="bad2@@mail")
    job = Job.objects.create(
        kind=JOB_KIND, title="t", params={"day": "2026-03-01"}, checkpoint={"after": first.pk}
    )
    report = Reporter()
    result = nightly_run(job, report)
    assert set(CustomerFinding.objects.values_list("customer_id", flat=True)) == {second.pk}
    assert result["checked"] == 2  # the first counted as done before the interruption
    assert report.calls[-1][2] == {"after": second.pk, "flagged": 1}
    assert QualitySnapshot.objects.filter(day=datetime.date(2026, 3, 1)).exists()


def test_a_snapshot_is_rewritten_not_doubled():
    make_customer(first_name="Ayşe", last_name="Yılmaz")
    out = StringIO()
    call_command("quality", "snapshot", stdout=out)
    make_customer(first_name="Hasan", last_name="Çelik")
    call_command("quality", "snapshot", stdout=out)
    assert QualitySnapshot.objects.count() == 1
    assert QualitySnapshot.objects.get().total == 2


def test_backfill_command_writes_keys_of_customers_and_leads():
    customers = [make_customer(first_name=f"Kişi{i}", last_name="Yılmaz") for i in range(5)]
    lead = make_lead(first_name="Milan", last_name="Jovanović", email="milan@firma.rs")
    assert MatchKey.objects.count() == 0
    out = StringIO()
    call_command("quality", "keys", "--batch", "2", stdout=out)
    assert (
        MatchKey.objects.filter(kind=RecordKind.CUSTOMER).values("record_id").distinct().count()
        == 5
    )
    assert MatchKey.objects.filter(kind=RecordKind.LEAD, record_id=lead.pk).exists()
    assert f"last id {customers[-1].pk}" in out.getvalue()
    # Running it again writes the same keys, not twice as many.
    before = MatchKey.objects.count()
    call_command("quality", "keys", stdout=StringIO())
    assert MatchKey.objects.count() == before


def test_check_command_checks_and_records():
    make_customer(first_name="Ayşe", last_name="Yılmaz", primary_email="ayse@@x")
    out = StringIO()
    call_command("quality", "check", stdout=out)
    assert "1 customers with findings" in out.getvalue()
    assert QualitySnapshot.objects.get().invalid_email == 1


def test_stale_customers_have_no_contact_and_no_change_for_months():
    old = timezone.now() - datetime.timedelta(days=400)
    stale = make_customer(first_name="Ayşe", last_name="Yılmaz")
    contacted = make_customer(first_name="Hasan", last_name="Çelik")
    make_customer(first_name="Milan", last_name="Jovanović")  # changed just now
    Customer.objects.filter(pk__in=[stale.pk, contacted.pk]).update(updated_at=old)
    Customer.objects.filter(pk=contacted.pk).update(last_interaction_at=timezone.now())
    assert quality_figures(actor=None)["stale"] == 1


def test_figures_count_only_what_the_actor_sees(rep, team, rep_other_team, other_team):
    make_customer(first_name="Ayşe", last_name="Yılmaz", owner=rep, team=team)
    make_customer(first_name="Jovana", last_name="Petrović", owner=rep_other_team, team=other_team)
    assert quality_figures(actor=rep)["total"] == 1
    assert quality_figures(actor=None)["total"] == 2
