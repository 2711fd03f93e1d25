"""Document numbers without gaps per kind and year: Q-2026-000042, O-2026-001337, C-2026-000007.

The counter row is locked for the rest of the transaction, so two concurrent writers get
consecutive numbers and a rolled-back document gives its number back.
"""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from vefa.sales.models import NumberSequence

PREFIXES = {"quote": "Q", "order": "O", "contract": "C", "ticket": "T", "return": "R"}


def next_number(kind: str, *, year: int | None = None) -> str:
    """The next number of ``kind`` (``quote``, ``order`` or ``contract``) for ``year``."""
    prefix = PREFIXES[kind]
    year = year or timezone.localdate().year
    with transaction.atomic():
        updated = NumberSequence.objects.filter(kind=kind, year=year).update(last=F("last") + 1)
        if not updated:
            try:
                with transaction.atomic():
                    NumberSequence.objects.create(kind=kind, year=year, last=1)
            except IntegrityError:
                # Another writer created the row first; take the next number after theirs.
                NumberSequence.objects.filter(kind=kind, year=year).update(last=F("last") + 1)
        last = NumberSequence.objects.get(kind=kind, year=year).last
    return f"{prefix}-{year}-{last:06d}"


def reserve_numbers(kind: str, count: int, *, year: int | None = None) -> list[str]:
    """``count`` consecutive numbers at once (bulk imports take one lock, not one per row)."""
    if count <= 0:
        return []
    prefix = PREFIXES[kind]
    year = year or timezone.localdate().year
    with transaction.atomic():
        updated = NumberSequence.objects.filter(kind=kind, year=year).update(last=F("last") + count)
        if not updated:
            try:
                with transaction.atomic():
                    NumberSequence.objects.create(kind=kind, year=year, last=count)
            except IntegrityError:
                NumberSequence.objects.filter(kind=kind, year=year).update(last=F("last") + count)
        last = NumberSequence.objects.get(kind=kind, year=year).last
    return [f"{prefix}-{year}-{n:06d}" for n in range(last - count + 1, last + 1)]
