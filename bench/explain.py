"""Why a request is slow: its queries, the slowest ones timed again and their plans."""

from __future__ import annotations

import time
from typing import Any

from django.db import connection
from django.test.utils import CaptureQueriesContext


def _plan(sql: str) -> str:
    sqlite = connection.vendor == "sqlite"
    prefix = "EXPLAIN QUERY PLAN " if sqlite else "EXPLAIN (ANALYZE, BUFFERS) "
    with connection.cursor() as cursor:
        cursor.execute(prefix + sql)
        rows = cursor.fetchall()
    if connection.vendor == "sqlite":
        return "\n".join(f"    {r[-1]}" for r in rows)
    return "\n".join(f"    {r[0]}" for r in rows)


def explain_slowest(client: Any, call: Any, top: int = 3) -> None:
    """Print the ``top`` slowest queries of ``call`` with their plans."""
    with CaptureQueriesContext(connection) as captured:
        client.get(call.path, headers=call.headers)
    timed: list[tuple[float, str]] = []
    for query in captured.captured_queries:
        sql = query["sql"]
        if not sql.lstrip().upper().startswith("SELECT"):
            continue
        started = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute(sql)
            cursor.fetchall()
        timed.append(((time.perf_counter() - started) * 1000, sql))
    print(f"\n  {call.path} ({call.label}) as {call.user.email}: {len(captured)} queries")
    for elapsed, sql in sorted(timed, reverse=True)[:top]:
        print(f"  {elapsed:8.1f} ms  {sql[:400]}")
        print(_plan(sql))
