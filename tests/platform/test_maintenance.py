"""Planner statistics: the nightly job lets SQLite read filtered lists in sort order."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.utils import timezone

from vefa.customers.models import Customer
from vefa.platform.maintenance import database_analyze
from vefa.platform.periodic import jobs


def _plan(sql: str, params: list[object]) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN QUERY PLAN {sql}", params)
        return " | ".join(str(row[-1]) for row in cursor.fetchall())


def _customers(count: int) -> None:
    start = timezone.now() - datetime.timedelta(days=count)
    Customer.objects.bulk_create(
        Customer(
            kind="person",
            first_name=f"Ada{i}",
            display_name=f"Ada{i} Demir",
            name_key=f"ada{i} demir",
            # Nine customers in ten share one stage: the filter is not selective.
            lifecycle_stage="customer" if i % 10 else "lead",
            created_at=start + datetime.timedelta(days=i),
        )
        for i in range(count)
    )


def test_the_job_is_declared_daily():
    job = jobs()["platform.analyze_database"]
    assert job.every == datetime.timedelta(hours=24)


@pytest.mark.django_db(transaction=True)
def test_statistics_make_sqlite_read_a_common_filter_in_sort_order():
    _customers(3000)
    table = Customer._meta.db_table
    sql = (
        f'SELECT id FROM "{table}" WHERE lifecycle_stage = %s AND merged_into_id IS NULL '
        "ORDER BY created_at DESC, id DESC LIMIT 51"
    )
    if connection.vendor != "sqlite":
        # PostgreSQL keeps its own statistics (autovacuum); the job leaves it alone.
        assert database_analyze() == 0.0
        return
    before = _plan(sql, ["customer"])
    assert "TEMP B-TREE" in before  # the stage index, then a sort of every match
    seconds = database_analyze()
    assert seconds >= 0
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM sqlite_stat1 WHERE tbl = %s", [table])
        assert cursor.fetchone()[0] > 0
    after = _plan(sql, ["customer"])
    assert "TEMP B-TREE" not in after, after
