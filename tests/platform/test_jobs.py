"""Background jobs: progress, results, failures, idempotent re-runs and resuming."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from vefa.common.errors import NotFound, ValidationFailed
from vefa.platform import jobs
from vefa.platform.models import Job, Notification

pytestmark = pytest.mark.django_db

processed: list[int] = []


@pytest.fixture(autouse=True)
def _handlers(monkeypatch):
    """Test handlers, registered for the test only."""
    processed.clear()
    monkeypatch.setattr(jobs, "_handlers", dict(jobs._handlers))

    @jobs.job_handler("tests.count")
    def count(job, report):
        items = int(job.params.get("items", 5))
        start = int(job.checkpoint.get("next", 0))
        for index in range(start, items):
            processed.append(index)
            report(index + 1, items, checkpoint={"next": index + 1})
            if job.params.get("crash_at") == index and job.attempts == 1:
                raise KeyboardInterrupt  # the worker was killed here
        return {"counted": items}

    @jobs.job_handler("tests.fail")
    def fail(job, report):
        report(1, 3)
        raise RuntimeError("the file is broken")


def test_a_job_runs_to_the_end_with_progress_a_result_and_a_notice(rep, committed):
    with committed():
        job = jobs.job_start(actor=rep, kind="tests.count", title="Count", params={"items": 4})
    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED
    assert (job.progress, job.total, job.percent) == (4, 4, 100)
    assert job.result == {"counted": 4}
    assert job.attempts == 1
    assert job.task_id
    assert processed == [0, 1, 2, 3]
    notice = Notification.objects.get(recipient=rep)
    assert notice.verb == "job_succeeded"
    assert notice.url == f"/jobs/{job.pk}/"


def test_a_failing_job_records_the_error_and_tells_its_user(rep, committed):
    with committed():
        job = jobs.job_start(actor=rep, kind="tests.fail", title="Import", params={})
    job.refresh_from_db()
    assert job.status == Job.Status.FAILED
    assert "the file is broken" in job.message
    assert job.progress == 1
    assert job.finished_at is not None
    assert Notification.objects.get(recipient=rep).verb == "job_failed"


def test_a_job_is_queued_only_after_commit(rep, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        job = jobs.job_start(actor=rep, kind="tests.count", title="Later", params={})
    job.refresh_from_db()
    assert job.status == Job.Status.QUEUED
    assert len(callbacks) == 1


def test_running_a_finished_job_again_does_nothing(rep, committed):
    with committed():
        job = jobs.job_start(actor=rep, kind="tests.count", title="Once", params={"items": 2})
    assert jobs.job_run(job.pk) is None
    assert processed == [0, 1]
    assert Job.objects.get(pk=job.pk).attempts == 1


def test_an_interrupted_job_is_queued_again_and_resumes_from_its_checkpoint(rep):
    # Given a job whose worker was killed after item 2 (its heartbeat stopped long ago)
    job = Job.objects.create(kind="tests.count", title="Resume", user=rep, params={"items": 5})
    with pytest.raises(KeyboardInterrupt):
        job.params["crash_at"] = 2
        Job.objects.filter(pk=job.pk).update(params=job.params)
        jobs.job_run(job.pk)
    job.refresh_from_db()
    assert job.status == Job.Status.RUNNING
    assert job.checkpoint == {"next": 3}
    Job.objects.filter(pk=job.pk).update(
        heartbeat_at=timezone.now() - jobs.STALE_AFTER - datetime.timedelta(seconds=1)
    )
    # When the periodic check finds it
    requeued = jobs.jobs_requeue_interrupted()
    # Then it ran again from item 3, without doing 0-2 twice
    job.refresh_from_db()
    assert requeued == [job.pk]
    assert job.status == Job.Status.SUCCEEDED
    assert job.attempts == 2
    assert processed == [0, 1, 2, 3, 4]


def test_a_running_job_with_a_fresh_heartbeat_is_not_taken_twice(rep):
    job = Job.objects.create(
        kind="tests.count",
        title="Busy",
        user=rep,
        status=Job.Status.RUNNING,
        heartbeat_at=timezone.now(),
    )
    assert jobs.job_run(job.pk) is None
    assert jobs.jobs_requeue_interrupted() == []
    assert processed == []


def test_a_job_interrupted_too_often_is_given_up(rep):
    job = Job.objects.create(
        kind="tests.count",
        title="Hopeless",
        user=rep,
        status=Job.Status.RUNNING,
        attempts=jobs.MAX_ATTEMPTS,
        heartbeat_at=timezone.now() - datetime.timedelta(hours=1),
    )
    assert jobs.jobs_requeue_interrupted() == []
    job.refresh_from_db()
    assert job.status == Job.Status.FAILED
    assert processed == []


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"kind": "tests.nope", "title": "x", "params": {}}, "kind"),
        ({"kind": "tests.count", "title": "   ", "params": {}}, "title"),
        ({"kind": "tests.count", "title": "x" * 10_000, "params": {}}, "title"),
        ({"kind": "tests.count", "title": "x", "params": ["not", "a", "dict"]}, "params"),
        ({"kind": "tests.count", "title": "x", "params": {"blob": "y" * 100_000}}, "params"),
    ],
)
def test_bad_jobs_are_refused_and_nothing_is_created(rep, kwargs, field):
    with pytest.raises(ValidationFailed) as error:
        jobs.job_start(actor=rep, **kwargs)
    assert field in error.value.fields
    assert Job.objects.count() == 0


def test_only_the_jobs_user_or_an_administrator_may_read_it(rep, rep_same_team, admin_user):
    job = Job.objects.create(kind="tests.count", title="Private", user=rep)
    assert jobs.job_get(actor=rep, pk=job.pk) == job
    assert jobs.job_get(actor=admin_user, pk=job.pk) == job
    for pk in (job.pk, "abc", None, -1):
        with pytest.raises(NotFound):
            jobs.job_get(actor=rep_same_team, pk=pk)
    assert jobs.job_list(actor=rep_same_team) == []
    assert jobs.job_list(actor=rep) == [job]


def test_progress_is_written_at_a_bounded_rate(rep, django_assert_max_num_queries, monkeypatch):
    job = Job.objects.create(kind="tests.big", title="Big", user=rep, params={})

    @jobs.job_handler("tests.big")
    def big(job, report):
        for index in range(2000):
            report(index + 1, 2000)
        return {}

    # claim, run and finish take a handful of queries; 2000 progress reports do not add 2000
    with django_assert_max_num_queries(20):
        jobs.job_run(job.pk)
    job.refresh_from_db()
    assert (job.status, job.progress) == (Job.Status.SUCCEEDED, 2000)
