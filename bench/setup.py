"""What every sales benchmark script does first: its own database, Django, the schema.

Each script names its PostgreSQL database (``vefa_bench_sales_<area>``) so the benchmarks
never touch each other's data or the main benchmark database.
"""

from __future__ import annotations

import os
from pathlib import Path

import django

from bench.run import percentile

__all__ = ["is_pg", "percentile", "setup"]


def is_pg() -> bool:
    return os.environ.get("DATABASE_URL", "").startswith("postgres")


def setup(pg_name: str, *, fresh: bool) -> None:
    """Point Django at the benchmark database; ``fresh`` empties it and migrates."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "vefa.config.settings")
    if is_pg():
        _pg_database(os.environ["DATABASE_URL"], pg_name, fresh)
    elif fresh:
        data = Path(os.environ.get("VEFA_DATA_DIR", "var"))
        data.mkdir(parents=True, exist_ok=True)
        for name in ("vefa.sqlite3", "vefa.sqlite3-wal", "vefa.sqlite3-shm"):
            (data / name).unlink(missing_ok=True)
    django.setup()
    from django.conf import settings

    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    if fresh:
        from django.core.management import call_command

        call_command("migrate", interactive=False, verbosity=0)
        # Pages link their static files through the manifest, as under ``vefa serve``.
        call_command("collectstatic", interactive=False, verbosity=0)


def _pg_database(url: str, pg_name: str, fresh: bool) -> None:
    import psycopg

    base, _, name = url.rpartition("/")
    if name != pg_name:
        raise SystemExit(f"use the database {pg_name} (got {name})")
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if exists and fresh:
            conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
            exists = None
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')
