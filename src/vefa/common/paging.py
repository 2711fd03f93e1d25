"""Keyset pagination: constant time on any page of a million-row list, no COUNT(*).

A page is read with ``keyset_page(queryset, ordering, cursor, size)``. ``ordering`` is a
single field name (optionally prefixed with ``-``) whose values are never NULL; the primary
key breaks ties. The opaque cursor encodes the last row's sort value and id and the
direction, so "next" and "previous" are both one indexed range scan.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Generic, TypeVar

from django.db.models import Model, Q, QuerySet

M = TypeVar("M", bound=Model)


@dataclass
class Page(Generic[M]):
    items: list[M]
    next_cursor: str | None
    previous_cursor: str | None
    size: int

    @property
    def has_next(self) -> bool:
        return self.next_cursor is not None

    @property
    def has_previous(self) -> bool:
        return self.previous_cursor is not None


def _encode_value(value: Any) -> Any:
    if isinstance(value, datetime.datetime):
        return {"dt": value.isoformat()}
    if isinstance(value, datetime.date):
        return {"d": value.isoformat()}
    if isinstance(value, Decimal):
        return {"dec": str(value)}
    return value


def _decode_value(value: Any) -> Any:
    if isinstance(value, dict):
        if "dt" in value:
            return datetime.datetime.fromisoformat(value["dt"])
        if "d" in value:
            return datetime.date.fromisoformat(value["d"])
        if "dec" in value:
            return Decimal(value["dec"])
        raise ValueError("bad cursor value")
    return value


def encode_cursor(value: Any, pk: int, backwards: bool) -> str:
    raw = json.dumps([_encode_value(value), pk, 1 if backwards else 0], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[Any, int, bool] | None:
    """Return (value, pk, backwards) or ``None`` for a malformed cursor (treated as page 1)."""
    if not cursor or len(cursor) > 512:
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        value, pk, backwards = json.loads(base64.urlsafe_b64decode(padded.encode()))
        if not isinstance(pk, int):
            return None
        return _decode_value(value), pk, bool(backwards)
    except (ValueError, TypeError, binascii.Error, json.JSONDecodeError):
        return None


def keyset_page(
    queryset: QuerySet[M],
    *,
    ordering: str,
    cursor: str | None,
    size: int,
    any_of: list[Q] | None = None,
    branch_base: QuerySet[M] | None = None,
) -> Page[M]:
    """Read one page of ``queryset`` ordered by ``ordering`` then ``pk``.

    ``any_of`` lists conditions of which ``queryset`` already requires one (a text search
    over a name *or* an e-mail). A database cannot read an OR of two ranges in the order of
    a third index, so with several such conditions each is read as its own ordered, limited
    range and the page is merged from their first rows: one small query per condition and
    one for the page, instead of a walk over the whole sort index.

    ``branch_base`` is the same list without the conditions the branches stand for (an
    access scope's OR): the branches are read from it, so the database plans each range
    without an OR it would misjudge, while the page itself is read from ``queryset``.
    """
    descending = ordering.startswith("-")
    field = ordering.lstrip("-")
    decoded = decode_cursor(cursor) if cursor else None
    backwards = bool(decoded and decoded[2])

    # Reading backwards flips the order; the rows are reversed again after fetching.
    scan_desc = descending != backwards
    order = [f"-{field}", "-pk"] if scan_desc else [field, "pk"]

    def after_cursor(qs: QuerySet[M]) -> QuerySet[M]:
        qs = qs.order_by(*order)
        if decoded is None:
            return qs
        value, pk, _ = decoded
        if field == "pk" or field == "id":
            return qs.filter(pk__lt=pk) if scan_desc else qs.filter(pk__gt=pk)
        # The redundant range bound lets the database start the index scan at the cursor;
        # with the OR alone PostgreSQL walks the index from the start (seconds on deep pages).
        if scan_desc:
            qs = qs.filter(Q(**{f"{field}__lt": value}) | Q(**{field: value, "pk__lt": pk}))
            return qs.filter(**{f"{field}__lte": value})
        qs = qs.filter(Q(**{f"{field}__gt": value}) | Q(**{field: value, "pk__gt": pk}))
        return qs.filter(**{f"{field}__gte": value})

    qs = after_cursor(queryset)
    if any_of and len(any_of) > 1:
        base = after_cursor(branch_base) if branch_base is not None else qs
        rows = _merged(qs, base, any_of, field=field, descending=scan_desc, limit=size + 1)
    else:
        rows = list(qs[: size + 1])
    more = len(rows) > size
    rows = rows[:size]
    if backwards:
        rows.reverse()

    def cursor_for(row: M, back: bool) -> str:
        return encode_cursor(getattr(row, field if field != "id" else "pk"), row.pk, back)

    next_cursor = previous_cursor = None
    if rows:
        if backwards:
            next_cursor = cursor_for(rows[-1], False)
            previous_cursor = cursor_for(rows[0], True) if more else None
        else:
            next_cursor = cursor_for(rows[-1], False) if more else None
            previous_cursor = cursor_for(rows[0], True) if decoded is not None else None
    return Page(items=rows, next_cursor=next_cursor, previous_cursor=previous_cursor, size=size)


def _merged(
    qs: QuerySet[M],
    base: QuerySet[M],
    branches: list[Q],
    *,
    field: str,
    descending: bool,
    limit: int,
) -> list[M]:
    """The first ``limit`` rows of ``qs`` (already ordered and past the cursor), found as
    the union of each branch's first ``limit`` rows of ``base``; the rows themselves are
    read from ``qs``, so nothing outside it is ever returned."""
    column = "pk" if field in ("pk", "id") else field
    keys: dict[int, Any] = {}
    for branch in branches:
        for value, pk in base.filter(branch).values_list(column, "pk")[:limit]:
            keys[pk] = value
    chosen = sorted(keys.items(), key=lambda item: (item[1], item[0]), reverse=descending)
    ids = [pk for pk, _ in chosen[:limit]]
    if not ids:
        return []
    by_pk = {row.pk: row for row in qs.filter(pk__in=ids)}
    return [by_pk[pk] for pk in ids if pk in by_pk]


def either_of(*alternatives: list[Q]) -> list[Q]:
    """The branches for ``keyset_page(any_of=…)`` when a query requires one condition of
    each list: every combination, one condition from each (lists left empty are ignored)."""
    branches: list[Q] = [Q()]
    for options in alternatives:
        if options:
            branches = [b & o for b in branches for o in options]
    return branches if len(branches) > 1 else []
