"""Every write of the exports app: starting and running exports, deleting them, and the
scheduled exports (create, change, delete, run when due).

A small CSV export is streamed straight to the browser; a large one, and every XLSX
export, is written to a file in the private file storage by a background job (or right
away when the caller asks, e.g. a scheduled run inside the periodic job). The file is served
only through ``views.export_download`` after an access check.
"""

from __future__ import annotations

import datetime
import logging
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.files.storage import default_storage
from django.core.mail import EmailMessage
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from vefa.accounts.access import can, can_create
from vefa.common.errors import NotFound, ValidationFailed
from vefa.common.events import DomainEvent, emit
from vefa.exports.entities import ENTITIES, plan_for
from vefa.exports.models import Export, ExportFormat, ExportStatus, Frequency, ScheduledExport
from vefa.exports.writers import csv_chunks, write_csv, write_xlsx
from vefa.interactions.filters import user_zone
from vefa.platform.audit import log_change

if TYPE_CHECKING:
    from vefa.accounts.models import User

logger = logging.getLogger(__name__)

# Up to this many rows a CSV export is streamed while the person waits.
STREAM_LIMIT = 10_000
# Up to this many rows an XLSX export is written while the person waits.
INLINE_XLSX_LIMIT = 5_000
MAX_FILTERS_BYTES = 8_000
# A file larger than this is not attached to the scheduled e-mail; the e-mail links to it.
MAX_ATTACHMENT = 10 * 1024 * 1024
MAX_RECIPIENTS = 20
JOB_KIND = "exports.export"


def _invalid(field: str, message: str) -> ValidationFailed:
    return ValidationFailed(_("Please correct the errors below."), fields={field: [message]})


def _clean_filters(filters: Mapping[str, Any] | None) -> dict[str, Any]:
    import json

    cleaned: dict[str, Any] = {}
    for key, value in (filters or {}).items():
        if isinstance(value, (list, tuple)):
            cleaned[str(key)] = [str(v) for v in value]
        elif value is not None:
            cleaned[str(key)] = str(value)
    if len(json.dumps(cleaned)) > MAX_FILTERS_BYTES:
        raise _invalid("filters", _("The filters are too large."))
    return cleaned


def _clean_format(value: str) -> str:
    if value not in ExportFormat.values:
        raise _invalid("format", _("Choose CSV or XLSX."))
    return value


def _audit(actor: User | None, instance: Any, action: str, after: dict[str, Any] | None) -> None:
    log_change(actor=actor, instance=instance, action=action, before=None, after=after)


def _event(name: str, instance: Any, actor: User | None) -> None:
    emit(
        DomainEvent(
            name=name,
            model=instance._meta.label_lower,
            object_id=instance.pk,
            actor_id=actor.pk if actor is not None else None,
        )
    )


def file_name_for(export: Export) -> str:
    stamp = export.created_at.strftime("%Y%m%d-%H%M%S")
    return f"exports/{export.owner_id}/{export.entity}-{export.pk}-{stamp}.{export.format}"


def download_name(export: Export) -> str:
    stamp = export.created_at.strftime("%Y-%m-%d")
    return f"{export.entity}-{stamp}-{export.pk}.{export.format}"


# --- exports -------------------------------------------------------------------------------


def export_create(
    *,
    actor: User,
    entity: str,
    format: str = ExportFormat.CSV,
    filters: Mapping[str, Any] | None = None,
    schedule: ScheduledExport | None = None,
    background: bool | None = None,
) -> Export:
    """Record an export of ``entity`` filtered by ``filters`` for ``actor``.

    The filters are checked now (a bad one raises ``ValidationFailed``). A small CSV is left
    ``running`` with ``streamed`` set: the caller streams it with ``export_stream``. A large
    one (or ``background=True``) gets a job; ``background=False`` writes the file now.
    """
    if not can_create(actor, Export):
        raise NotFound(_("Not found."))
    format = _clean_format(str(format))
    cleaned = _clean_filters(filters)
    plan = plan_for(actor, entity, cleaned)  # validates the list and its filters
    limit = STREAM_LIMIT if format == ExportFormat.CSV else INLINE_XLSX_LIMIT
    # A count that stops at the limit: exact for small lists, cheap for big ones.
    small = plan.queryset.values("pk")[: limit + 1].count()
    with transaction.atomic():
        export = Export.objects.create(
            owner=actor,
            entity=entity,
            format=format,
            filters=cleaned,
            schedule=schedule,
            created_by=actor,
            updated_by=actor,
        )
        _audit(actor, export, "create", {"entity": entity, "format": format, "filters": cleaned})
        _event("exports.export.created", export, actor)
        run_later = background if background is not None else small > limit
        if background is None and format == ExportFormat.CSV and small <= limit:
            export.streamed = True
            export.status = ExportStatus.RUNNING
            export.rows = small
            export.save(update_fields=["streamed", "status", "rows"])
        elif run_later:
            from vefa.platform.jobs import job_start

            label = ENTITIES[entity].label
            job = job_start(
                actor=actor,
                kind=JOB_KIND,
                title=_("Export: %(list)s") % {"list": label},
                params={"export": export.pk},
            )
            export.job = job
            export.save(update_fields=["job"])
    if not export.streamed and not run_later:
        export_run(export.pk)
        export.refresh_from_db()
    return export


def export_stream(export: Export) -> Any:
    """The CSV bytes of a streamed export (an iterator for ``StreamingHttpResponse``); the
    export is marked done once the last chunk is sent."""
    actor = export.owner
    plan = plan_for(actor, export.entity, export.filters)
    counted = 0

    def rows() -> Any:
        nonlocal counted
        for row in plan.csv_rows(user_zone(actor)):
            counted += 1
            yield row

    def chunks() -> Any:
        try:
            yield from csv_chunks(plan.headers, rows(), ready=True)
        except Exception:
            Export.objects.filter(pk=export.pk).update(
                status=ExportStatus.FAILED, finished_at=timezone.now()
            )
            raise
        Export.objects.filter(pk=export.pk).update(
            status=ExportStatus.DONE, rows=counted, finished_at=timezone.now()
        )

    return chunks()


def export_run(export_id: int, report: Any = None) -> Export:
    """Write the export's file (the job handler and inline exports call this).

    Idempotent: a run that was interrupted starts the file again from the first row (a file
    is written under a temporary name and moved in place at the end).
    """
    export = Export.objects.select_related("owner").get(pk=export_id)
    if export.status == ExportStatus.DONE and export.file:
        return export
    Export.objects.filter(pk=export.pk).update(status=ExportStatus.RUNNING)
    actor = export.owner
    try:
        plan = plan_for(actor, export.entity, export.filters)
        name = file_name_for(export)
        path = default_storage.path(name)
        import os
        import tempfile

        os.makedirs(os.path.dirname(path), exist_ok=True)
        done = 0

        csv = export.format == ExportFormat.CSV
        source = plan.csv_rows if csv else plan.rows

        def rows() -> Any:
            nonlocal done
            for row in source(user_zone(actor)):
                done += 1
                if report is not None and done % 5000 == 0:
                    report(done, None)
                yield row

        handle, temp = tempfile.mkstemp(dir=os.path.dirname(path), suffix=".part")
        try:
            with os.fdopen(handle, "wb") as out:
                if export.format == ExportFormat.XLSX:
                    count = write_xlsx(
                        out, plan.headers, rows(), str(ENTITIES[export.entity].label)
                    )
                else:
                    count = write_csv(out, plan.headers, rows(), ready=True)
            os.chmod(temp, 0o600)
            os.replace(temp, path)
        except BaseException:
            if os.path.exists(temp):
                os.unlink(temp)
            raise
        size = os.path.getsize(path)
    except Exception as exc:
        logger.exception("export %s failed", export.pk)
        Export.objects.filter(pk=export.pk).update(
            status=ExportStatus.FAILED, message=str(exc)[:2000], finished_at=timezone.now()
        )
        raise
    Export.objects.filter(pk=export.pk).update(
        status=ExportStatus.DONE, rows=count, file=name, size=size, finished_at=timezone.now()
    )
    if report is not None:
        report(count, count)
    export.refresh_from_db()
    return export


def export_delete(*, actor: User, pk: Any) -> None:
    """Delete an export and its file (``NotFound`` when the actor may not reach it)."""
    from vefa.exports.selectors import export_get

    export = export_get(actor=actor, pk=pk)
    if not can(actor, "delete", export):
        raise NotFound(_("Not found."))
    with transaction.atomic():
        name = export.file
        _audit(actor, export, "delete", None)
        _event("exports.export.deleted", export, actor)
        export.delete()
        if name:
            transaction.on_commit(lambda: default_storage.delete(name))


# --- scheduled exports ---------------------------------------------------------------------


def next_run(frequency: str, after: datetime.datetime) -> datetime.datetime:
    """The next run of a schedule after ``after``: a day, a week or a calendar month later."""
    if frequency == Frequency.DAILY:
        return after + datetime.timedelta(days=1)
    if frequency == Frequency.WEEKLY:
        return after + datetime.timedelta(days=7)
    month = after.month + 1
    year = after.year + (month - 1) // 12
    month = (month - 1) % 12 + 1
    import calendar

    day = min(after.day, calendar.monthrange(year, month)[1])
    return after.replace(year=year, month=month, day=day)


def _clean_schedule(actor: User, data: Mapping[str, Any]) -> dict[str, Any]:
    errors: dict[str, list[str]] = {}
    name = " ".join(str(data.get("name") or "").split())
    if not name:
        errors["name"] = [_("This field is required.")]
    elif len(name) > 120:
        errors["name"] = [_("At most %(n)d characters.") % {"n": 120}]
    entity = str(data.get("entity") or "")
    if entity not in ENTITIES:
        errors["entity"] = [_("Unknown list.")]
    format = str(data.get("format") or ExportFormat.CSV)
    if format not in ExportFormat.values:
        errors["format"] = [_("Choose CSV or XLSX.")]
    frequency = str(data.get("frequency") or Frequency.WEEKLY)
    if frequency not in Frequency.values:
        errors["frequency"] = [_("Choose daily, weekly or monthly.")]
    raw = data.get("recipients") or ""
    if isinstance(raw, (list, tuple)):
        raw = "\n".join(str(r) for r in raw)
    recipients = [r.strip() for r in re.split(r"[\s,;]+", str(raw)) if r.strip()]
    bad = []
    for address in recipients:
        try:
            validate_email(address)
        except DjangoValidationError:
            bad.append(address)
    if bad:
        errors["recipients"] = [
            _("Not an e-mail address: %(list)s") % {"list": ", ".join(bad[:5])[:300]}
        ]
    elif len(recipients) > MAX_RECIPIENTS:
        errors["recipients"] = [_("At most %(n)d recipients.") % {"n": MAX_RECIPIENTS}]
    try:
        filters = _clean_filters(data.get("filters") or {})
    except ValidationFailed as exc:
        errors.update(exc.fields)
        filters = {}
    if not errors:
        try:
            plan_for(actor, entity, filters)
        except ValidationFailed as exc:
            errors.update({f"filters.{k}": v for k, v in exc.fields.items()} or exc.fields)
    if errors:
        raise ValidationFailed(_("Please correct the errors below."), fields=errors)
    return {
        "name": name,
        "entity": entity,
        "format": format,
        "frequency": frequency,
        "recipients": "\n".join(dict.fromkeys(recipients)),
        "filters": filters,
        "is_active": bool(data.get("is_active", True)),
    }


def schedule_create(*, actor: User, data: Mapping[str, Any]) -> ScheduledExport:
    """A new scheduled export; its first run is one period from now."""
    if not can_create(actor, ScheduledExport):
        raise NotFound(_("Not found."))
    values = _clean_schedule(actor, data)
    now = timezone.now()
    with transaction.atomic():
        schedule = ScheduledExport.objects.create(
            owner=actor,
            next_run_at=next_run(values["frequency"], now),
            created_by=actor,
            updated_by=actor,
            **values,
        )
        _audit(actor, schedule, "create", dict(values))
        _event("exports.scheduledexport.created", schedule, actor)
    return schedule


def schedule_update(*, actor: User, pk: Any, data: Mapping[str, Any]) -> ScheduledExport:
    from vefa.exports.selectors import schedule_get

    schedule = schedule_get(actor=actor, pk=pk)
    if not can(actor, "change", schedule):
        raise NotFound(_("Not found."))
    values = _clean_schedule(schedule.owner, data)
    with transaction.atomic():
        locked = ScheduledExport.objects.select_for_update().get(pk=schedule.pk)
        before = {k: getattr(locked, k) for k in values}
        if values["frequency"] != locked.frequency:
            locked.next_run_at = next_run(values["frequency"], timezone.now())
        for key, value in values.items():
            setattr(locked, key, value)
        locked.updated_by = actor
        locked.version += 1
        locked.save()
        log_change(actor=actor, instance=locked, action="update", before=before, after=values)
        _event("exports.scheduledexport.updated", locked, actor)
    return locked


def schedule_delete(*, actor: User, pk: Any) -> None:
    from vefa.exports.selectors import schedule_get

    schedule = schedule_get(actor=actor, pk=pk)
    if not can(actor, "delete", schedule):
        raise NotFound(_("Not found."))
    with transaction.atomic():
        _audit(actor, schedule, "delete", None)
        _event("exports.scheduledexport.deleted", schedule, actor)
        schedule.delete()


def schedule_run(schedule: ScheduledExport, *, now: datetime.datetime | None = None) -> Export:
    """Run one scheduled export now, as its owner (the owner's access limits the rows), send
    it to the recipients, and move the next run on."""
    now = now or timezone.now()
    owner = schedule.owner
    try:
        export = export_create(
            actor=owner,
            entity=schedule.entity,
            format=schedule.format,
            filters=schedule.filters,
            schedule=schedule,
            background=False,
        )
    finally:
        upcoming = next_run(schedule.frequency, schedule.next_run_at)
        while upcoming <= now:
            upcoming = next_run(schedule.frequency, upcoming)
        ScheduledExport.objects.filter(pk=schedule.pk).update(last_run_at=now, next_run_at=upcoming)
    if schedule.recipient_list and export.status == ExportStatus.DONE:
        _send(schedule, export)
    return export


def _send(schedule: ScheduledExport, export: Export) -> None:
    from django.conf import settings
    from django.urls import reverse

    link = getattr(settings, "VEFA_BASE_URL", "").rstrip("/") + reverse(
        "exports:export_download", args=[export.pk]
    )
    body = _("%(name)s: %(rows)d rows.") % {"name": schedule.name, "rows": export.rows}
    message = EmailMessage(
        subject=_("Scheduled export: %(name)s") % {"name": schedule.name},
        body=body,
        to=schedule.recipient_list,
    )
    if export.size <= MAX_ATTACHMENT:
        content_type = (
            "text/csv"
            if export.format == ExportFormat.CSV
            else "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        )
        with default_storage.open(export.file, "rb") as handle:
            message.attach(download_name(export), handle.read(), content_type)
    else:
        message.body = body + "\n\n" + _("Download: %(url)s") % {"url": link}
    message.send(fail_silently=False)


def schedules_run_due(*, now: datetime.datetime | None = None) -> list[int]:
    """Run every active schedule whose time has come; the exports made."""
    now = now or timezone.now()
    made: list[int] = []
    due = (
        ScheduledExport.objects.filter(is_active=True, next_run_at__lte=now)
        .select_related("owner")
        .order_by("next_run_at", "id")[:100]
    )
    for schedule in due:
        if not schedule.owner.is_active:
            continue
        try:
            made.append(schedule_run(schedule, now=now).pk)
        except Exception:
            logger.exception("scheduled export %s failed", schedule.pk)
    return made
