"""Writes of the privacy app: requests, exports, erasure and legal holds (administrators)."""

from __future__ import annotations

import datetime
import secrets
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.core.files.storage import default_storage
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from vefa.accounts.access import scope_for
from vefa.accounts.choices import Scope
from vefa.common.errors import NotFound, ValidationFailed
from vefa.common.events import DomainEvent, emit
from vefa.common.text import fold
from vefa.platform.models import Job
from vefa.privacy import discovery, scrub
from vefa.privacy.choices import RequestKind, RequestStatus, SubjectKind
from vefa.privacy.export import write_export
from vefa.privacy.models import DUE_DAYS, DeletionLog, ErasedAddress, LegalHold, PrivacyRequest
from vefa.privacy.subjects import (
    address_hash,
    identifiers_of,
    keyed_hash,
    name_terms,
    search_terms,
    subject_label,
    subject_row,
)

if TYPE_CHECKING:
    from vefa.accounts.models import User

POLICY = "privacy.request"
MAX_NOTE = 2000
EXPORT_DIR = "privacy/exports"
EXPORT_JOB = "privacy.export"
ERASE_JOB = "privacy.erase"


def _require_admin(actor: User | None) -> None:
    """Only administrators reach privacy requests; anyone else finds nothing (404)."""
    if scope_for(actor, POLICY, "change") != Scope.ALL:
        raise NotFound(_("Not found."))


def _locked_request(request_id: Any) -> PrivacyRequest:
    try:
        pk = int(request_id)
    except (TypeError, ValueError):
        raise NotFound(_("Not found.")) from None
    row = PrivacyRequest.objects.select_for_update().filter(pk=pk).first()
    if row is None:
        raise NotFound(_("Not found."))
    return row


def _event(name: str, row: PrivacyRequest | DeletionLog, actor: User | None) -> None:
    emit(
        DomainEvent(
            name=name,
            model=row._meta.label_lower,
            object_id=int(row.pk),
            actor_id=actor.pk if actor is not None else None,
        )
    )


# --- requests -------------------------------------------------------------------------------


def request_create(
    *,
    actor: User,
    kind: Any,
    subject_kind: Any,
    subject_id: Any,
    note: Any = "",
    received_at: datetime.datetime | None = None,
) -> PrivacyRequest:
    """Record a person's request; due 30 days after it was received."""
    _require_admin(actor)
    errors: dict[str, list[str]] = {}
    if kind not in RequestKind.values:
        errors["kind"] = [_("Choose export or erasure.")]
    if subject_kind not in SubjectKind.values:
        errors["subject_kind"] = [_("Choose a customer, a lead or a portal account.")]
    pk: int | None = None
    try:
        pk = int(subject_id)
        if pk <= 0 or pk > 2**62:
            raise ValueError
    except (TypeError, ValueError):
        errors["subject_id"] = [_("Enter the record's number.")]
    note_text = note if isinstance(note, str) else None
    if note_text is None:
        errors["note"] = [_("Expected text.")]
    elif len(note_text) > MAX_NOTE:
        errors["note"] = [_("At most %(n)d characters.") % {"n": MAX_NOTE}]
    if not errors and pk is not None:
        try:
            subject_row(str(subject_kind), pk)
        except NotFound:
            errors["subject_id"] = [_("No such record.")]
    if errors:
        raise ValidationFailed(_("Please correct the errors below."), fields=errors)
    assert pk is not None and note_text is not None
    received = received_at or timezone.now()
    with transaction.atomic():
        row = PrivacyRequest.objects.create(
            kind=kind,
            subject_kind=subject_kind,
            subject_id=pk,
            requested_by=actor,
            received_at=received,
            due_at=received + datetime.timedelta(days=DUE_DAYS),
            note=note_text.strip(),
        )
        _event("privacy.request.created", row, actor)
    return row


def request_reject(*, actor: User, request_id: Any, reason: Any) -> PrivacyRequest:
    """Close a request without doing it (the person could not be identified …)."""
    _require_admin(actor)
    text = reason.strip() if isinstance(reason, str) else ""
    if not text:
        raise ValidationFailed(
            _("Please correct the errors below."), fields={"reason": [_("Give a reason.")]}
        )
    with transaction.atomic():
        row = _locked_request(request_id)
        if row.status == RequestStatus.DONE:
            raise ValidationFailed(_("This request is already done."))
        row.status = RequestStatus.REJECTED
        row.completed_at = timezone.now()
        row.note = (row.note + "\n" + text).strip()[:MAX_NOTE]
        row.version += 1
        row.save(update_fields=["status", "completed_at", "note", "version", "updated_at"])
        _event("privacy.request.rejected", row, actor)
    return row


# --- the export -----------------------------------------------------------------------------


def subject_found(subject_kind: str, subject_id: int) -> tuple[discovery.Found, Any]:
    """Every row about the subject and the identifiers found on them."""
    row = subject_row(subject_kind, subject_id)
    found = discovery.walk(row._meta.label, int(row.pk))
    ids = identifiers_of(found)
    discovery.indirect_links(found, ids)
    return found, ids


def export_prepare(*, actor: User, request_id: Any) -> Job:
    """Start the background job that writes the request's ZIP."""
    from vefa.platform.jobs import job_start

    _require_admin(actor)
    with transaction.atomic():
        row = _locked_request(request_id)
        if row.kind != RequestKind.EXPORT:
            raise ValidationFailed(_("This is not an export request."))
        if row.status == RequestStatus.REJECTED:
            raise ValidationFailed(_("This request was rejected."))
        subject_row(row.subject_kind, row.subject_id)
        job = job_start(
            actor=actor,
            kind=EXPORT_JOB,
            title=_("Data-subject export for request #%(id)s") % {"id": row.pk},
            params={"request_id": row.pk},
        )
        row.export_job = job
        row.status = RequestStatus.IN_PROGRESS
        row.version += 1
        row.save(update_fields=["export_job", "status", "version", "updated_at"])
        _event("privacy.request.updated", row, actor)
    return job


def export_build(*, request_id: int, progress: Any = None) -> dict[str, Any]:
    """Write the ZIP of the request's subject (the job runs this; safe to run again)."""
    row = PrivacyRequest.objects.get(pk=request_id)
    found, _ids = subject_found(row.subject_kind, row.subject_id)
    name = f"{EXPORT_DIR}/request-{row.pk}-{secrets.token_hex(8)}.zip"
    path = Path(default_storage.path(name))
    path.parent.mkdir(parents=True, exist_ok=True)
    subject = {"kind": row.subject_kind, "id": row.subject_id, "request": row.pk}
    with open(path, "wb") as out:
        counts = write_export(out, found, subject=subject, progress=progress)
    with transaction.atomic():
        locked = _locked_request(row.pk)
        old = locked.export_file
        locked.export_file = name
        locked.export_size = path.stat().st_size
        locked.status = RequestStatus.DONE
        locked.completed_at = timezone.now()
        locked.version += 1
        locked.save(
            update_fields=[
                "export_file",
                "export_size",
                "status",
                "completed_at",
                "version",
                "updated_at",
            ]
        )
    if old and old != name:
        default_storage.delete(old)
    return {"rows": sum(counts.values()), "kinds": len(counts), "size": path.stat().st_size}


# --- erasure --------------------------------------------------------------------------------

# Rows that exist only to hold the person's data: removed, not redacted.
DELETED = (
    "customers.contactpoint",
    "customers.address",
    "customers.customerrelationship",
    "customers.consent",
    "customers.lead",
    "interactions.attachment",
    "interactions.activityattendee",
    "marketing.segmentmember",
    "marketing.journeyenrollment",
    "portal.portaltoken",
    "portal.portalaccount",
    "portal.webformlead",
    "analytics.customerscore",
    "platform.notification",
)
# Derived or bookkeeping rows the erasure handles itself rather than redacting by row.
SPECIAL = frozenset({"platform.searchentry", "marketing.suppression", "platform.changelogentry"})


def confirmation_phrase(row: PrivacyRequest) -> str:
    """What the administrator types to confirm an erasure (the same in every language)."""
    return f"ERASE {row.subject_id}"


def legal_hold_active(subject_kind: str, subject_id: int) -> LegalHold | None:
    return (
        LegalHold.objects.filter(
            subject_kind=subject_kind, subject_id=subject_id, released_at__isnull=True
        )
        .order_by("pk")
        .first()
    )


def legal_hold_place(*, actor: User, subject_kind: Any, subject_id: Any, reason: Any) -> LegalHold:
    """Forbid erasing the record until the hold is released."""
    _require_admin(actor)
    text = reason.strip() if isinstance(reason, str) else ""
    errors: dict[str, list[str]] = {}
    if not text:
        errors["reason"] = [_("Give a reason.")]
    elif len(text) > 300:
        errors["reason"] = [_("At most %(n)d characters.") % {"n": 300}]
    if errors:
        raise ValidationFailed(_("Please correct the errors below."), fields=errors)
    row = subject_row(str(subject_kind), subject_id)
    with transaction.atomic():
        hold = LegalHold.objects.create(
            subject_kind=subject_kind, subject_id=row.pk, reason=text, placed_by=actor
        )
        emit(DomainEvent("privacy.legal_hold.placed", "privacy.legalhold", hold.pk, actor.pk))
    return hold


def legal_hold_release(*, actor: User, hold_id: Any) -> LegalHold:
    _require_admin(actor)
    with transaction.atomic():
        hold = LegalHold.objects.select_for_update().filter(pk=hold_id).first()
        if hold is None:
            raise NotFound(_("Not found."))
        if hold.released_at is None:
            hold.released_at = timezone.now()
            hold.save(update_fields=["released_at"])
            emit(DomainEvent("privacy.legal_hold.released", "privacy.legalhold", hold.pk, actor.pk))
    return hold


def erasure_start(*, actor: User, request_id: Any, confirmation: Any) -> Job:
    """Check the typed confirmation and start the background erasure."""
    from vefa.platform.jobs import job_start

    _require_admin(actor)
    with transaction.atomic():
        row = _locked_request(request_id)
        if row.kind != RequestKind.ERASURE:
            raise ValidationFailed(_("This is not an erasure request."))
        if row.status in (RequestStatus.DONE, RequestStatus.REJECTED):
            raise ValidationFailed(_("This request is closed."))
        if not isinstance(confirmation, str) or confirmation.strip() != confirmation_phrase(row):
            raise ValidationFailed(
                _("Please correct the errors below."),
                fields={
                    "confirmation": [
                        _("Type %(phrase)s to confirm.") % {"phrase": confirmation_phrase(row)}
                    ]
                },
            )
        _refuse_if_held(row.subject_kind, row.subject_id)
        job = job_start(
            actor=actor,
            kind=ERASE_JOB,
            title=_("Erasure for request #%(id)s") % {"id": row.pk},
            params={"request_id": row.pk},
        )
        row.erase_job = job
        row.status = RequestStatus.IN_PROGRESS
        row.version += 1
        row.save(update_fields=["erase_job", "status", "version", "updated_at"])
        _event("privacy.request.updated", row, actor)
    return job


def _refuse_if_held(subject_kind: str, subject_id: int) -> None:
    hold = legal_hold_active(subject_kind, subject_id)
    if hold is not None:
        raise ValidationFailed(
            _("This record is under a legal hold and cannot be erased: %(reason)s")
            % {"reason": hold.reason},
            fields={"subject_id": [_("Under legal hold.")]},
        )


def _owned_q(model: type[Any], found: discovery.Found) -> Q | None:
    """Rows of ``model`` that point straight at the person (their customer, lead or portal
    account rows); ``None`` when the model has no such column (an attachment, a token)."""
    q: Q | None = None
    if model._meta.label_lower in OWNER_LABELS:
        q = Q(pk__in=sorted(found.ids(model._meta.label_lower)))
    for f in model._meta.concrete_fields:
        if not f.is_relation or f.related_model is None:
            continue
        target = f.related_model._meta.label_lower
        if target in OWNER_LABELS:
            part = Q(**{f"{f.attname}__in": sorted(found.ids(target))})
            q = part if q is None else q | part
    return q


OWNER_LABELS = ("customers.customer", "customers.lead", "portal.portalaccount")


def _anonymise_customer(customer: Any) -> dict[str, Any]:
    """The values that leave a customer row without anything identifying."""
    model = type(customer)
    label = _("Erased customer #%(id)s") % {"id": customer.pk}
    keep = {"kind", "lifecycle_stage", "currency", "language", "country"}
    changes: dict[str, Any] = {}
    for f in model._meta.concrete_fields:
        if f.primary_key or f.is_relation or f.name in keep:
            continue
        value = getattr(customer, f.attname)
        if f.name == "custom_fields":
            changes[f.attname] = {}
        elif isinstance(f, scrub.TEXT_TYPES) and not isinstance(f, scrub.models.JSONField):
            if value and (f.blank or f.null) and not (f.choices and not f.blank):
                changes[f.attname] = None if f.null and not f.blank else ""
        elif f.null and value is not None and not isinstance(f, scrub.models.DateTimeField):
            changes[f.attname] = None
    changes["display_name"] = label
    changes["name_key"] = fold(label)
    return changes


def erase_subject(*, actor: User | None, subject_kind: str, subject_id: Any) -> DeletionLog:
    """Erase everything about the subject; idempotent (a second run returns the first log).

    Customers stay as "Erased customer #id" (orders and invoices are kept for the legal
    retention period and point at it); leads and portal accounts are deleted. Every text
    and JSON column of every table and every file in the data directory is then swept for
    the person's e-mail addresses, phone numbers and names.
    """
    if actor is not None:
        _require_admin(actor)
    if subject_kind not in SubjectKind.values:
        raise NotFound(_("Not found."))
    try:
        subject_id = int(subject_id)
        if not 0 < subject_id < 2**62:
            raise ValueError
    except (TypeError, ValueError):
        raise NotFound(_("Not found.")) from None
    with transaction.atomic():
        done = DeletionLog.objects.filter(subject_kind=subject_kind, subject_id=subject_id).first()
        if done is not None:
            return done
        subject = subject_row(subject_kind, subject_id, lock=True)
        # A concurrent erasure of the same subject waited on the lock: it is done now.
        done = DeletionLog.objects.filter(subject_kind=subject_kind, subject_id=subject.pk).first()
        if done is not None:
            return done
        _refuse_if_held(subject_kind, int(subject.pk))
        if connection.vendor == "sqlite":
            # Overwrite deleted content in the database file instead of leaving it in free pages.
            with connection.cursor() as cursor:
                cursor.execute("PRAGMA secure_delete = ON")
        log = _erase(actor, subject_kind, subject)
    return log


def _erase(actor: User | None, subject_kind: str, subject: Any) -> DeletionLog:
    from vefa.platform.search import backends, indexer, registry

    found = discovery.walk(subject._meta.label, int(subject.pk))
    ids = identifiers_of(found)
    discovery.indirect_links(found, ids)
    terms = search_terms(ids)
    names = sorted(name_terms(ids), key=len, reverse=True)
    addresses = [t for t in terms if t not in set(names)]
    redactor = scrub.Redactor(terms)
    counts: dict[str, int] = {}

    def count(label: str, n: int) -> None:
        if n:
            counts[label] = counts.get(label, 0) + n

    # The search entries of the reached records, rebuilt (or dropped) at the end.
    search_keys: dict[str, set[int]] = {}
    for label in found.labels():
        if label in registry.registered():
            search_keys.setdefault(label, set()).update(found.ids(label))

    # Files attached to reached rows and earlier exports of this subject.
    files: list[Path] = []
    for label in found.labels():
        model = discovery.model_of(label)
        for f in model._meta.concrete_fields:
            if isinstance(f, scrub.models.FileField):
                for name in (
                    found.queryset(label)
                    .exclude(**{f.attname: ""})
                    .values_list(f.attname, flat=True)
                ):
                    if name:
                        files.append(Path(default_storage.path(name)))
    for name in (
        PrivacyRequest.objects.filter(subject_kind=subject_kind, subject_id=subject.pk)
        .exclude(export_file="")
        .values_list("export_file", flat=True)
    ):
        files.append(Path(default_storage.path(name)))
    PrivacyRequest.objects.filter(subject_kind=subject_kind, subject_id=subject.pk).update(
        export_file="", export_size=0
    )

    # 1. Suppressions keep only a keyed hash, so the address is still recognised.
    if found.ids("marketing.suppression"):
        model = discovery.model_of("marketing.suppression")
        for pk, address, note in model._base_manager.filter(
            pk__in=found.ids("marketing.suppression")
        ).values_list("pk", "address", "note"):
            hashed = "erased:" + address_hash(address)[:40]
            scrub.plain_update(
                model, pk, {"address": hashed, "customer_id": None, "note": redactor.text(note)}
            )
            count("marketing.suppression", 1)

    # 2. Rows that exist for the person only are deleted (files first).
    for label in DELETED:
        pks = found.ids(label)
        if not pks:
            continue
        model = discovery.model_of(label)
        qs = model._base_manager.filter(pk__in=sorted(pks))
        owner_q = _owned_q(model, found)
        if owner_q is not None:
            # Another attendee of the person's meeting keeps their attendance.
            qs = qs.filter(owner_q)
        _deleted, per_model = qs.delete()
        for key, n in per_model.items():
            count(key.lower(), n)

    # 3. The customer rows become "Erased customer #id".
    customer_model = discovery.model_of("customers.customer")
    for customer in customer_model._base_manager.filter(pk__in=found.ids("customers.customer")):
        scrub.plain_update(customer_model, customer.pk, _anonymise_customer(customer))
        count("customers.customer", 1)

    # 4. Every other reached row is redacted (contact columns emptied).
    for label in found.labels():
        if label in DELETED or label in SPECIAL or label == "customers.customer":
            continue
        model = discovery.model_of(label)
        reached = model._base_manager.filter(pk__in=sorted(found.ids(label)))
        owner_q = _owned_q(model, found)
        existing = set(reached.values_list("pk", flat=True))
        owned = set(reached.filter(owner_q).values_list("pk", flat=True)) if owner_q else set()
        if owner_q is None:
            owned = existing
        # Rows of the person lose their contact columns; rows of others (a colleague's
        # message on the same ticket) only lose the mentions of the person.
        count(label, scrub.scrub_rows(model, owned, redactor, personal=True))
        count(label, scrub.scrub_rows(model, existing - owned, redactor, personal=False))

    # 5. The change log: snapshots of reached records lose their contact fields.
    if found.ids("platform.changelogentry"):
        from vefa.platform.models import ChangeLogEntry

        entries: scrub.models.QuerySet[ChangeLogEntry] = scrub.models.QuerySet(model=ChangeLogEntry)
        for entry in entries.filter(pk__in=sorted(found.ids("platform.changelogentry"))):
            changes = {
                "before": redactor.json(entry.before, personal=True),
                "after": redactor.json(entry.after, personal=True),
                "object_repr": redactor.text(entry.object_repr)[:200],
            }
            changes = {k: v for k, v in changes.items() if v != getattr(entry, k)}
            scrub.plain_update(ChangeLogEntry, entry.pk, changes)
            count("platform.changelogentry", 1 if changes else 0)

    # 6. The sweep: anything left anywhere else.
    result = scrub.sweep(addresses, names, redactor, skip={"marketing.suppression"})
    for label, n in result.counts.items():
        count(label, n)

    # 7. The search index: entries of reached records and those the sweep met are rebuilt
    #    from the clean records; whatever still mentions the person is removed.
    from vefa.platform.models import SearchEntry

    customer_ids = found.ids("customers.customer")
    for key, object_id in SearchEntry.objects.filter(
        scrub.Q(pk__in=sorted(result.search_entries)) | scrub.Q(customer_id__in=customer_ids)
    ).values_list("model", "object_id"):
        indexed = registry.label_for_key(key)
        if indexed is not None:
            search_keys.setdefault(indexed, set()).add(object_id)
    for label, pks in search_keys.items():
        indexer.index_records(label, pks)
        count(SearchEntry._meta.label_lower, len(pks))
    leftover = set()
    for f in scrub.text_fields(SearchEntry):
        leftover.update(scrub.matching_pks(SearchEntry, f, terms))
    if leftover:
        for key, object_id in SearchEntry.objects.filter(pk__in=leftover).values_list(
            "model", "object_id"
        ):
            backends.delete(key, [object_id])

    # 8. Files in the data directory.
    files_removed = scrub.sweep_files(terms, redactor, remove=files)

    identifiers = sorted(ids.emails | ids.phones | {n.casefold() for n in ids.names})
    log = DeletionLog.objects.create(
        actor=actor,
        actor_name=(str(actor) if actor is not None else "system")[:200],
        subject_kind=subject_kind,
        subject_id=subject.pk,
        identifiers_hash=keyed_hash("\n".join(identifiers)),
        identifier_hashes=sorted(address_hash(a) for a in ids.addresses()),
        counts=counts,
        files_removed=files_removed,
    )
    ErasedAddress.objects.bulk_create(
        [ErasedAddress(digest=d, deletion_log=log) for d in log.identifier_hashes],
        ignore_conflicts=True,
    )
    PrivacyRequest.objects.filter(
        subject_kind=subject_kind, subject_id=subject.pk, kind=RequestKind.ERASURE
    ).exclude(status=RequestStatus.REJECTED).update(
        status=RequestStatus.DONE, completed_at=timezone.now(), deletion_log=log
    )
    _event("privacy.erasure.completed", log, actor)
    return log


def erasure_run(*, request_id: int) -> dict[str, Any]:
    """The erasure job: erase the request's subject as the administrator who started it."""
    row = PrivacyRequest.objects.select_related("erase_job__user").get(pk=request_id)
    actor = row.erase_job.user if row.erase_job is not None else None
    log = erase_subject(actor=actor, subject_kind=row.subject_kind, subject_id=row.subject_id)
    PrivacyRequest.objects.filter(pk=row.pk).update(
        status=RequestStatus.DONE, completed_at=timezone.now(), deletion_log=log
    )
    return {"deletion_log": log.pk, "rows": log.total, "files": log.files_removed}


def export_file_path(row: PrivacyRequest) -> Path | None:
    if not row.export_file:
        return None
    path = Path(default_storage.path(row.export_file))
    return path if path.exists() else None


def describe_subject(row: PrivacyRequest) -> str:
    return subject_label(row.subject_kind, row.subject_id)


__all__ = [
    "confirmation_phrase",
    "erase_subject",
    "erasure_start",
    "export_build",
    "export_prepare",
    "legal_hold_place",
    "legal_hold_release",
    "request_create",
    "request_reject",
]
