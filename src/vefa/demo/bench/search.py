"""The search index entries of the generated records, written in bulk.

The entries must be exactly the rows ``search.rebuild()`` would write. The platform's own
``document_row`` (over the registered builders) is the reference, but at ~100 µs a document
it would dominate a million-customer load, so entries are made by ``FastDocuments``, which
computes the same documents from the generated values with the folded terms of repeating
parts (names, cities, labels) cached. ``verify`` compares the two on real rows before a load
uses the fast path; when they differ (a builder changed), the load falls back to
``document_row`` for everything and says so.

The entries go into the table through the platform's ``BulkLoader``, which builds the
full-text index once at the end. Interactions are indexed only on request: ten million
documents take the full-text index far longer to build than the rest of the load.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Sequence
from typing import Any

from django.db import connection

from vefa.customers.models import ContactPoint, Customer
from vefa.demo.bench.loaders import Loader, Prepared
from vefa.demo.bench.tables import TableSpec
from vefa.interactions.models import Interaction
from vefa.platform.search import backends, document_row, model_key
from vefa.platform.search.terms import (
    MAX_TERM_LENGTH,
    MAX_TERMS,
    TERM_CHARS,
    access_terms,
    fold_text,
)

CUSTOMER = "customers.customer"
CONTACT_POINT = "customers.contactpoint"
INTERACTION = "interactions.interaction"
KEYS = (model_key(CUSTOMER), model_key(CONTACT_POINT), model_key(INTERACTION))

_SPLIT = re.compile(r"[^\w@.+\-]+")
_PARTS = re.compile(r"[@.+\-_]+")


def _fold(text: str) -> str:
    # ``fold`` of pure ASCII text is its lower case with runs of spaces made single (no
    # Turkish I, no Cyrillic, no marks); e-mails and phone numbers, all unique, skip the work.
    if text.isascii():
        return " ".join(text.lower().split())
    return fold_text(text)


def _expand(text: str) -> tuple[str, ...]:
    """The terms ``index_terms`` makes of ``text`` alone, in order, before de-duplication."""
    out: list[str] = []
    for token in _SPLIT.split(_fold(text)):
        if not token:
            continue
        token = token[:MAX_TERM_LENGTH]
        out.append(token)
        if any(c in token for c in TERM_CHARS):
            out.extend(p for p in _PARTS.split(token) if p)
    return tuple(out)


# Names, cities and labels repeat across customers; e-mails and phones repeat within one
# customer's documents (its own, and its contact points' right after it).
_expand_cached = functools.lru_cache(maxsize=100_000)(_expand)


def _terms(parts: Sequence[str]) -> str:
    seen: dict[str, None] = {}
    for part in parts:
        if part:
            seen.update(dict.fromkeys(_expand_cached(part)))
    terms = list(seen)
    return " ".join(terms[:MAX_TERMS])


class FastDocuments:
    """Search entries (in ``backends.COLUMNS`` order) of generated customers and points."""

    def __init__(self, updated_at: str) -> None:
        self.updated_at = updated_at
        self.customer_key = model_key(CUSTOMER)
        self.point_key = model_key(CONTACT_POINT)

    def customer(self, c: dict[str, Any]) -> tuple[Any, ...]:
        place = ", ".join(p for p in (c["city"], c["country"]) if p)
        subtitle = " · ".join(p for p in (c["primary_email"], c["primary_phone"], place) if p)
        phone = c["primary_phone"]
        text = _terms(
            (c["display_name"], c["primary_email"], phone, c["city"], c["country"],
             c.get("first_name", ""), c.get("last_name", ""), c.get("legal_name", ""),
             c.get("trade_name", ""), c.get("tax_number", ""), c["primary_email"], phone,
             phone.lstrip("+"), c["city"])
        )  # fmt: skip
        return self._row(self.customer_key, c["id"], c["display_name"], subtitle, text, c)

    def point(self, p: dict[str, Any], customer: dict[str, Any]) -> tuple[Any, ...]:
        normalized = p["normalized"]
        text = _terms(
            (p["value"], customer["display_name"], normalized, normalized.lstrip("+"), p["label"])
        )
        return self._row(self.point_key, p["id"], p["value"], customer["display_name"], text,
                         customer)  # fmt: skip

    def _row(
        self, key: str, pk: int, title: str, subtitle: str, text: str, c: dict[str, Any]
    ) -> tuple[Any, ...]:
        owner, team = c["owner_id"], c["team_id"]
        access = " ".join(access_terms(key, [owner] if owner else [], [team] if team else []))
        values = {
            "model": key, "object_id": pk, "title": title[:300], "subtitle": subtitle[:300],
            "text": text, "access": access, "owner_id": owner, "team_id": team,
            "customer_id": c["id"], "updated_at": self.updated_at,
        }  # fmt: skip
        return tuple(values[column] for column in backends.COLUMNS)


class ReferenceDocuments:
    """The same entries made by ``document_row`` from in-memory model instances (slow)."""

    def __init__(self, specs: dict[str, TableSpec], updated_at: str) -> None:
        self.specs = specs
        self.updated_at = updated_at
        self.customer_fields = [f.attname for f in Customer._meta.concrete_fields]
        self.point_fields = [f.attname for f in ContactPoint._meta.concrete_fields]

    def rows(
        self, customers: list[dict[str, Any]], points: list[dict[str, Any]]
    ) -> list[tuple[Any, ...]]:
        made: dict[int, Customer] = {}
        out: list[tuple[Any, ...]] = []
        spec = self.specs["customers"]
        for values in customers:
            customer = Customer.from_db(connection.alias, self.customer_fields, spec.row(values))
            # The rows carry the JSON column as the text that is copied into the table.
            if isinstance(customer.custom_fields, str):
                customer.custom_fields = json.loads(customer.custom_fields)
            made[customer.pk] = customer
            out.extend(self._row(document_row(CUSTOMER, customer)))
        point_spec = self.specs["contact_points"]
        for values in points:
            point = ContactPoint.from_db(
                connection.alias, self.point_fields, point_spec.row(values)
            )
            point.customer = made[point.customer_id]
            out.extend(self._row(document_row(CONTACT_POINT, point)))
        return out

    def _row(self, row: dict[str, Any] | None) -> list[tuple[Any, ...]]:
        if row is None:
            return []
        row = {**row, "updated_at": self.updated_at}
        return [tuple(row[column] for column in backends.COLUMNS)]


def fast_rows(
    fast: FastDocuments, customers: list[dict[str, Any]], points: list[dict[str, Any]]
) -> list[tuple[Any, ...]]:
    by_id = {c["id"]: c for c in customers}
    rows = [fast.customer(c) for c in customers if c.get("merged_into_id") is None]
    rows.extend(fast.point(p, by_id[p["customer_id"]]) for p in points)
    return rows


def verify(
    fast: FastDocuments,
    reference: ReferenceDocuments,
    customers: list[dict[str, Any]],
    points: list[dict[str, Any]],
) -> bool:
    """Whether the fast path makes exactly the reference entries for these records."""
    return fast_rows(fast, customers, points) == reference.rows(customers, points)


class SearchWriter:
    """Opens the platform's bulk loader, takes entries chunk by chunk, builds the index."""

    def __init__(self, loader: Loader) -> None:
        self.loader = loader
        self.written = 0
        self._bulk = backends.BulkLoader(list(KEYS))
        self._bulk.__enter__()

    def write(self, rows: Prepared) -> None:
        if rows.count:
            self.written += self.loader.write_prepared(backends.TABLE, backends.COLUMNS, rows)

    def finish(self, *, interactions: bool) -> int:
        """Index the interactions too if asked, then build the full-text index."""
        if interactions:
            batch: list[dict[str, Any]] = []
            records = Interaction.objects.select_related("customer").order_by("pk")
            for record in records.iterator(chunk_size=5000):
                row = document_row(INTERACTION, record)
                if row is not None:
                    batch.append(row)
                if len(batch) >= 5000:
                    self._bulk.write(batch)
                    self.written += len(batch)
                    batch = []
            self._bulk.write(batch)
            self.written += len(batch)
        self._bulk.finish()
        return self.written
