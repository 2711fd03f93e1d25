"""Reading the customers to compare out of the operational database, as Arrow.

One raw query (customers that are not merged away, with their primary address) streamed in
batches through ``vefa.analytics.extract.batches`` — ``COPY … TO STDOUT`` parsed by Arrow on
PostgreSQL, ``fetchmany`` on SQLite — so a million customers are never a million model
instances. Each batch is turned into the comparison columns (``features.prepare``).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pyarrow as pa
from django.apps import apps
from django.db import connection

from vefa.analytics.extract import STR, Query, batches
from vefa.dedupe import features

I64 = pa.int64()
RAW = (
    ("id", I64),
    ("kind", STR),
    ("first_name", STR),
    ("last_name", STR),
    ("display_name", STR),
    ("email", STR),
    ("phone", STR),
    ("tax_number", STR),
    ("birth_date", STR),
    ("customer_city", STR),
    ("address_city", STR),
    ("postcode", STR),
    ("country", STR),
)


def _table(label: str) -> str:
    return connection.ops.quote_name(apps.get_model(label)._meta.db_table)


def query() -> Query:
    sql = (
        "SELECT c.id, c.kind, c.first_name, c.last_name, c.display_name, c.primary_email, "  # noqa: S608 (no user text)
        "c.primary_phone, c.tax_number, CAST(c.birth_date AS TEXT), c.city, a.city, "
        "a.postal_code, c.country "
        f"FROM {_table('customers.Customer')} c "
        f"LEFT JOIN {_table('customers.Address')} a "
        "ON a.customer_id = c.id AND a.is_primary = %s "
        "WHERE c.merged_into_id IS NULL ORDER BY c.id"
    )
    return Query(sql, [True])


def rows(batch_rows: int = 50_000) -> Iterator[dict[str, Any]]:
    """The customers as the rows ``features.prepare`` reads."""
    for batch in batches(query(), RAW, batch_rows=batch_rows):
        for row in batch.to_pylist():
            row["city"] = row.pop("address_city") or row.pop("customer_city")
            row.pop("customer_city", None)
            yield row


def customers_table(batch_rows: int = 50_000) -> pa.Table:
    """The comparison columns of every customer (``features.COLUMNS``)."""
    columns = features.prepare_columns(rows(batch_rows))
    return table_of(columns)


def table_of(columns: dict[str, list[Any]]) -> pa.Table:
    schema = pa.schema(
        [pa.field(name, I64 if name == "unique_id" else STR) for name in features.COLUMNS]
    )
    return pa.table(columns, schema=schema)
