"""Database expressions of the customers app.

``last_contact_key()`` is the customer list's "last contact" sort key: the last interaction
time, or the epoch for a customer never contacted (keyset paging needs a key that is never
NULL). The epoch is written as a literal, not a query parameter, so the query's expression
is textually the index's and both SQLite and PostgreSQL use the expression index.
"""

from __future__ import annotations

from typing import Any

from django.db.models import DateTimeField, Expression
from django.db.models.functions import Coalesce


class NeverContacted(Expression):
    """The epoch as a literal timestamp of the database's own kind."""

    output_field = DateTimeField()

    def as_sql(self, compiler: Any, connection: Any, **extra: Any) -> tuple[str, list[Any]]:
        if connection.vendor == "postgresql":
            return "'1970-01-01 00:00:00+00'::timestamptz", []
        # SQLite (and others) store UTC times as ISO text.
        return "'1970-01-01 00:00:00'", []

    def __eq__(self, other: object) -> bool:
        return isinstance(other, NeverContacted)

    def __hash__(self) -> int:
        return hash(NeverContacted)


def last_contact_key() -> Coalesce:
    return Coalesce("last_interaction_at", NeverContacted(), output_field=DateTimeField())
