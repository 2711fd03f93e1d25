"""Background jobs with a progress record that pages poll (imports, exports, bulk edits …).

An app declares what a kind of job does::

    @job_handler("customers.export")
    def export_customers(job: Job, report: Progress) -> dict[str, Any]:
        for done, row in enumerate(rows, start=1):
            ...
            report(done, total)
        return {"file": name}

and starts one with ``job_start(actor=…, kind="customers.export", title=…, params={…})``.
The job row is created in the caller's transaction and the task is queued after commit; the
worker (``vefa worker``) runs the handler, which reports progress through ``report`` and may
save a position with ``report(…, checkpoint={…})``. Handlers must be idempotent: a job that
was interrupted (the worker was killed) is found by its stale heartbeat and queued again, and
the handler resumes from ``job.checkpoint``.
"""

from __future__ import annotations

import datetime
import logging
import traceback
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from vefa.common.errors import NotFound, ValidationFailed
from vefa.platform.models import Job

if TYPE_CHECKING:
    from vefa.accounts.models import User

logger = logging.getLogger(__name__)

MAX_TITLE = 200
MAX_PARAMS_BYTES = 64_000
# A running job that has not reported for this long was interrupted.
STALE_AFTER = datetime.timedelta(minutes=10)
MAX_ATTEMPTS = 5
# Progress is written at most this often (plus always at the end), so a fast loop does not
# turn into a write per row.
HEARTBEAT_EVERY = datetime.timedelta(seconds=0.5)


class Progress(Protocol):
    def __call__(
        self,
        done: int,
        total: int | None = None,
        *,
        message: str | None = None,
        checkpoint: dict[str, Any] | None = None,
    ) -> None: ...


Handler = Callable[[Job, Progress], dict[str, Any] | None]
_handlers: dict[str, Handler] = {}


def job_handler(kind: str) -> Callable[[Handler], Handler]:
    """Register the function that runs jobs of ``kind``."""

    def decorator(func: Handler) -> Handler:
        _handlers[kind] = func
        return func

    return decorator


def handler_for(kind: str) -> Handler | None:
    return _handlers.get(kind)


def job_kinds() -> list[str]:
    return sorted(_handlers)


def _params_size(params: Any) -> int:
    import json

    return len(json.dumps(params, default=str))


def job_start(
    *, actor: User | None, kind: str, title: str, params: dict[str, Any] | None = None
) -> Job:
    """Create a queued job of ``kind`` for ``actor`` and queue it after commit."""
    errors: dict[str, list[str]] = {}
    title = " ".join((title or "").split())
    if kind not in _handlers:
        errors["kind"] = [_("Unknown kind of job.")]
    if not title:
        errors["title"] = [_("This field is required.")]
    elif len(title) > MAX_TITLE:
        errors["title"] = [_("At most %(n)d characters.") % {"n": MAX_TITLE}]
    params = params or {}
    if not isinstance(params, dict):
        errors["params"] = [_("Expected an object.")]
    elif _params_size(params) > MAX_PARAMS_BYTES:
        errors["params"] = [_("The parameters are too large.")]
    if errors:
        raise ValidationFailed(_("Please correct the errors below."), fields=errors)
    job = Job.objects.create(kind=kind, title=title, params=params, user=actor)
    transaction.on_commit(lambda: job_enqueue(job.pk))
    return job


def job_enqueue(job_id: int) -> None:
    """Hand the job to the task queue (with the test backend it runs right away)."""
    from vefa.platform.tasks import run_job

    result = run_job.enqueue(job_id=job_id)
    Job.objects.filter(pk=job_id).update(task_id=str(result.id)[:64])


def _claim(job_id: int) -> Job | None:
    """Mark the job running unless it is finished or already running elsewhere."""
    now = timezone.now()
    with transaction.atomic():
        stale = now - STALE_AFTER
        claimed = Job.objects.filter(pk=job_id).filter(
            Q(status=Job.Status.QUEUED)
            | Q(status=Job.Status.RUNNING, heartbeat_at__lt=stale)
            | Q(status=Job.Status.RUNNING, heartbeat_at__isnull=True)
        )
        updated = claimed.update(
            status=Job.Status.RUNNING, heartbeat_at=now, started_at=now, finished_at=None
        )
        if not updated:
            return None
        job = Job.objects.get(pk=job_id)
        Job.objects.filter(pk=job_id).update(attempts=job.attempts + 1)
        job.attempts += 1
    return job


class _Reporter:
    def __init__(self, job: Job) -> None:
        self.job = job
        self.last_write = timezone.now() - HEARTBEAT_EVERY

    def __call__(
        self,
        done: int,
        total: int | None = None,
        *,
        message: str | None = None,
        checkpoint: dict[str, Any] | None = None,
    ) -> None:
        job = self.job
        job.progress = max(0, int(done))
        if total is not None:
            job.total = max(0, int(total))
        if message is not None:
            job.message = str(message)[:2000]
        if checkpoint is not None:
            job.checkpoint = checkpoint
        now = timezone.now()
        # A checkpoint is always written: it is the point a resumed run starts from.
        if checkpoint is None and now - self.last_write < HEARTBEAT_EVERY:
            return
        self.flush(now)

    def flush(self, now: datetime.datetime | None = None) -> None:
        job = self.job
        now = now or timezone.now()
        job.heartbeat_at = now
        self.last_write = now
        Job.objects.filter(pk=job.pk, status=Job.Status.RUNNING).update(
            progress=job.progress,
            total=job.total,
            message=job.message,
            checkpoint=job.checkpoint,
            heartbeat_at=now,
        )


def job_run(job_id: int) -> Job | None:
    """Run a queued (or interrupted) job to its end; the task calls this.

    Returns ``None`` when the job does not exist or is finished or running elsewhere, so a
    task delivered twice does the work once.
    """
    job = _claim(job_id)
    if job is None:
        return None
    handler = handler_for(job.kind)
    reporter = _Reporter(job)
    try:
        if handler is None:
            raise LookupError(f"no handler for job kind {job.kind!r}")
        result = handler(job, reporter) or {}
    except Exception as exc:
        logger.exception("job %s (%s) failed", job.pk, job.kind)
        reporter.flush()
        detail = "".join(traceback.format_exception_only(type(exc), exc)).strip()
        Job.objects.filter(pk=job.pk).update(
            status=Job.Status.FAILED,
            message=(_("The job failed: %(error)s") % {"error": detail})[:2000],
            finished_at=timezone.now(),
        )
    else:
        if job.total and job.progress < job.total:
            job.progress = job.total
        reporter.flush()
        Job.objects.filter(pk=job.pk).update(
            status=Job.Status.SUCCEEDED,
            progress=job.progress,
            result=result,
            finished_at=timezone.now(),
        )
    _notify_finished(job.pk)
    return Job.objects.get(pk=job.pk)


def _notify_finished(job_id: int) -> None:
    from vefa.platform.notifications import notification_send

    job = Job.objects.select_related("user").get(pk=job_id)
    if job.user is None:
        return
    if job.status == Job.Status.SUCCEEDED:
        text = _("Finished: %(title)s") % {"title": job.title}
    else:
        text = _("Failed: %(title)s") % {"title": job.title}
    from django.urls import reverse

    notification_send(
        recipient=job.user,
        verb=f"job_{job.status}",
        text=text,
        url=reverse("platform:job_detail", args=[job.pk]),
        model="platform.job",
        object_id=job.pk,
        dedupe_key=f"job:{job.pk}:{job.attempts}:{job.status}",
    )


def jobs_requeue_interrupted(*, now: datetime.datetime | None = None) -> list[int]:
    """Queue again every job whose worker stopped reporting (crash, kill -9, restart).

    Jobs that were never picked up are queued again too when they are old; a job that has
    failed ``MAX_ATTEMPTS`` times is marked failed instead of looping forever.
    """
    now = now or timezone.now()
    stale = now - STALE_AFTER
    candidates = Job.objects.filter(
        Q(status=Job.Status.RUNNING, heartbeat_at__lt=stale)
        | Q(status=Job.Status.QUEUED, created_at__lt=stale)
    ).values_list("pk", "attempts")
    requeued: list[int] = []
    for pk, attempts in candidates[:500]:
        if attempts >= MAX_ATTEMPTS:
            Job.objects.filter(pk=pk).update(
                status=Job.Status.FAILED,
                message=_("The job was interrupted too often and was given up."),
                finished_at=now,
            )
            continue
        job_enqueue(pk)
        requeued.append(pk)
    return requeued


# --- reads --------------------------------------------------------------------------------


def job_get(*, actor: User, pk: Any) -> Job:
    """The job if the actor started it or is an administrator; otherwise not found."""
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        raise NotFound(_("Not found.")) from None
    qs = Job.objects.select_related("user").filter(pk=pk)
    if not getattr(actor, "is_admin", False):
        qs = qs.filter(user=actor)
    job = qs.first()
    if job is None or not actor.is_active:
        raise NotFound(_("Not found."))
    return job


def job_list(*, actor: User, limit: int = 20) -> list[Job]:
    """The actor's most recent jobs."""
    return list(Job.objects.filter(user=actor).order_by("-created_at", "-pk")[: max(1, limit)])
