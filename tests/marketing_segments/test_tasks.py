"""Daily sizes and call lists: idempotent, resumable, bounded by what the person may do."""

from __future__ import annotations

import datetime

import pytest

from tests.factories import UserFactory
from vefa.accounts.choices import Role
from vefa.common.errors import ValidationFailed
from vefa.interactions.models import Activity
from vefa.marketing.models import Segment, SegmentSize
from vefa.marketing.services.segments import (
    call_tasks_batch,
    segment_call_tasks_start,
    segment_create,
)
from vefa.marketing.tasks_segments import CALL_TASKS_KIND, segment_sizes
from vefa.platform.models import Job
from vefa.platform.periodic import jobs


def _ankara(actor):
    return segment_create(
        actor=actor, name="Ankara", kind="dynamic", rules=[{"param": "city", "value": "Ankara"}]
    )


def test_daily_sizes_are_written_once_per_day(marketer, ankara, hidden):
    assert "marketing.segment_sizes" in jobs()
    segment = _ankara(marketer)
    archived = segment_create(actor=marketer, name="Old", kind="static")
    Segment.objects.filter(pk=archived.pk).update(is_archived=True)
    segment_sizes()
    segment_sizes()
    rows = list(SegmentSize.objects.filter(segment=segment))
    assert [(r.count) for r in rows] == [2]
    assert not SegmentSize.objects.filter(segment=archived).exists()
    segment.refresh_from_db()
    assert segment.last_count == 2 and segment.last_counted_at is not None


def test_calls_for_the_owners_once_per_day(
    manager, rep, team, ankara, izmir, hidden, django_capture_on_commit_callbacks
):
    segment = segment_create(
        actor=manager, name="Ankara", kind="dynamic", rules=[{"param": "city", "value": "Ankara"}]
    )
    with django_capture_on_commit_callbacks(execute=True):
        job = segment_call_tasks_start(actor=manager, segment_id=segment.pk)
    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED, job.message
    calls = Activity.objects.filter(kind="call")
    # The manager may assign to their team: the Ankara customer of rep's team gets a call
    # on rep's list; the other team's customer is left out and counted.
    assert list(calls.values_list("customer_id", "owner_id")) == [(ankara.pk, rep.pk)]
    assert job.result["created"] == 1 and job.result["not_assignable"] == 1
    with pytest.raises(ValidationFailed):
        segment_call_tasks_start(actor=manager, segment_id=segment.pk)
    assert calls.count() == 1


def test_a_resumed_job_creates_no_second_call(
    manager, rep, ankara, django_capture_on_commit_callbacks
):
    segment = segment_create(
        actor=manager, name="Ankara", kind="dynamic", rules=[{"param": "city", "value": "Ankara"}]
    )
    with django_capture_on_commit_callbacks(execute=True):
        job = segment_call_tasks_start(actor=manager, segment_id=segment.pk)
    job.refresh_from_db()
    # The worker died after writing the calls and before saving its position.
    Job.objects.filter(pk=job.pk).update(checkpoint={})
    job.refresh_from_db()
    result = call_tasks_batch(job=job, report=lambda *a, **k: None)
    assert result["created"] == 0 and result["skipped"] == 1
    assert Activity.objects.filter(kind="call").count() == 1


def test_calls_refused_for_roles_without_activities_and_empty_segments(db, marketer, team):
    nobody = segment_create(
        actor=marketer, name="Nobody", kind="dynamic", rules=[{"param": "city", "value": "Nowhere"}]
    )
    with pytest.raises(ValidationFailed):
        segment_call_tasks_start(actor=marketer, segment_id=nobody.pk)
    with pytest.raises(ValidationFailed):
        segment_call_tasks_start(
            actor=marketer,
            segment_id=nobody.pk,
            due_on=datetime.date.today() - datetime.timedelta(days=3),
        )
    reader = UserFactory(role=Role.READ_ONLY, team=team)
    from vefa.common.errors import PermissionDenied

    with pytest.raises(PermissionDenied):
        segment_call_tasks_start(actor=reader, segment_id=nobody.pk)
    assert not Job.objects.filter(kind=CALL_TASKS_KIND).exists()
