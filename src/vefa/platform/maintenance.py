"""Keeping the database's query planner informed.

PostgreSQL's autovacuum keeps table statistics current. SQLite has no such daemon: without
statistics its planner prefers any equality filter's index over the index that serves the
sort order, and a list page filtered by a common value ("every customer in stage
*customer*, newest first") sorts hundreds of thousands of rows instead of reading 51 in
order. ``database_analyze`` gathers the statistics; the worker runs it nightly
(``platform.analyze_database``) and benchmark loads run it once at the end.
"""

from __future__ import annotations

import logging
import time

from django.db import connection

logger = logging.getLogger(__name__)


def database_analyze() -> float:
    """Refresh the planner's statistics on SQLite (PostgreSQL does it itself); seconds taken."""
    if connection.vendor != "sqlite":
        return 0.0
    started = time.monotonic()
    with connection.cursor() as cursor:
        # A full ANALYZE: sampled statistics (analysis_limit) can make an index look
        # selective when its first rows happen to share one value.
        cursor.execute("ANALYZE")
        cursor.execute("PRAGMA optimize")
    seconds = time.monotonic() - started
    logger.info("database statistics refreshed in %.1f s", seconds)
    return seconds
