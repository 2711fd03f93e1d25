"""Writes of data quality: blocking keys, the nightly findings and the daily snapshot.

These tables are derived from the customers and leads (never edited by a person), so the
writes are not change-logged; each runs in a transaction and is idempotent.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Sequence

from django.db import connection, transaction
from django.utils import timezone

from vefa.common.events import DomainEvent, emit
from vefa.customers.models import Customer, Lead
from vefa.customers.normalize import normalize_email, normalize_phone
from vefa.quality.matching import blocking_keys
from vefa.quality.models import CustomerFinding, MatchKey, QualitySnapshot, RecordKind
from vefa.quality.profiles import customer_profile, customer_profiles, lead_profiles

BATCH = 1000


def _replace_keys(kind: str, ids: Sequence[int], rows: list[MatchKey]) -> int:
    with transaction.atomic():
        MatchKey.objects.filter(kind=kind, record_id__in=list(ids)).delete()
        MatchKey.objects.bulk_create(rows, batch_size=BATCH)
    return len(rows)


def customer_keys_rebuild(customer_ids: Iterable[int]) -> int:
    """Write the blocking keys of these customers again (none for a merged or deleted one)."""
    ids = list(customer_ids)
    written = 0
    for start in range(0, len(ids), BATCH):
        chunk = ids[start : start + BATCH]
        profiles = customer_profiles(
            Customer.objects.filter(pk__in=chunk, merged_into__isnull=True)
        )
        rows = [
            MatchKey(kind=RecordKind.CUSTOMER, record_id=pk, key=key)
            for pk, (_customer, profile) in profiles.items()
            for key in blocking_keys(profile)
        ]
        written += _replace_keys(RecordKind.CUSTOMER, chunk, rows)
    return written


def new_customer_keys(customers: Iterable[Customer]) -> int:
    """Write the keys of customers just created in bulk, computed from the objects in hand:
    a new customer's only contact points are its primary e-mail and phone and it has no
    address yet, so this gives what ``customer_keys_rebuild`` would, without reading the
    customers back (an import's batches)."""
    rows = [
        (RecordKind.CUSTOMER.value, int(c.pk), key)
        for c in customers
        if c.merged_into_id is None
        for key in blocking_keys(customer_profile(c))
    ]
    if rows:
        table = connection.ops.quote_name(MatchKey._meta.db_table)
        with connection.cursor() as cursor:
            # The table name is the model's; every value is a parameter.
            cursor.executemany(
                f"INSERT INTO {table} (kind, record_id, {connection.ops.quote_name('key')}) "  # noqa: S608
                "VALUES (%s, %s, %s)",
                rows,
            )
    return len(rows)


def lead_keys_rebuild(lead_ids: Iterable[int]) -> int:
    """Write the blocking keys of these leads again (none for a converted or deleted one)."""
    from vefa.customers.choices import LeadStatus

    ids = list(lead_ids)
    written = 0
    for start in range(0, len(ids), BATCH):
        chunk = ids[start : start + BATCH]
        profiles = lead_profiles(
            Lead.objects.filter(pk__in=chunk).exclude(status=LeadStatus.CONVERTED)
        )
        rows = [
            MatchKey(kind=RecordKind.LEAD, record_id=pk, key=key)
            for pk, (_lead, profile) in profiles.items()
            for key in blocking_keys(profile)
        ]
        written += _replace_keys(RecordKind.LEAD, chunk, rows)
    return written


def keys_forget(kind: str, record_id: int) -> None:
    MatchKey.objects.filter(kind=kind, record_id=record_id).delete()


def keys_forget_many(kind: str, record_ids: Iterable[int]) -> None:
    """Drop the keys of records deleted in bulk (an import undone)."""
    ids = list(record_ids)
    for start in range(0, len(ids), BATCH):
        MatchKey.objects.filter(kind=kind, record_id__in=ids[start : start + BATCH]).delete()


def _invalid_email(value: str) -> bool:
    if not value:
        return False
    try:
        normalize_email(value)
    except ValueError:
        return True
    return False


def _invalid_phone(value: str, region: str | None) -> bool:
    if not value:
        return False
    try:
        normalize_phone(value, region or None)
    except ValueError:
        return True
    return False


def findings_refresh(customer_ids: Sequence[int]) -> int:
    """Check these customers again: invalid e-mail or phone, and the best duplicate score
    against every other record (the instant check without access limits). Returns how many
    have a finding."""
    from vefa.quality.selectors import best_matches

    ids = list(customer_ids)
    findings: list[CustomerFinding] = []
    now = timezone.now()
    profiles = customer_profiles(Customer.objects.filter(pk__in=ids, merged_into__isnull=True))
    # The whole batch's candidates are read and scored together (a few queries per batch).
    matches = best_matches({pk: profile for pk, (_c, profile) in profiles.items()})
    for pk, (customer, _profile) in profiles.items():
        best = matches[pk]
        finding = CustomerFinding(
            customer_id=pk,
            invalid_email=_invalid_email(customer.primary_email),
            invalid_phone=_invalid_phone(customer.primary_phone, customer.country),
            duplicate_score=best.score if best else 0,
            duplicate_kind=(
                ""
                if best is None
                else (RecordKind.CUSTOMER if best.kind == "customer" else RecordKind.LEAD)
            ),
            duplicate_id=best.id if best else None,
            checked_at=now,
        )
        if finding.invalid_email or finding.invalid_phone or finding.duplicate_score:
            findings.append(finding)
    with transaction.atomic():
        CustomerFinding.objects.filter(customer_id__in=ids).delete()
        CustomerFinding.objects.bulk_create(findings, batch_size=BATCH)
    return len(findings)


def snapshot_write(*, day: datetime.date | None = None) -> QualitySnapshot:
    """Record today's figures over all customers (once per day; a second run updates it)."""
    from vefa.quality.selectors import quality_figures

    day = day or timezone.localdate()
    figures = quality_figures(actor=None)
    with transaction.atomic():
        snapshot, _created = QualitySnapshot.objects.update_or_create(
            day=day, defaults={**figures, "created_at": timezone.now()}
        )
        emit(
            DomainEvent(
                name="quality.qualitysnapshot.created",
                model="quality.qualitysnapshot",
                object_id=int(snapshot.pk),
                payload={"day": day.isoformat(), **figures},
            )
        )
    return snapshot
