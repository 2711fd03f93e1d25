"""Exit 0 when the PostgreSQL server in argv[1] answers, 77 (skip) when not on a user's
machine, and 1 when not in CI (CI=true), where no test may be skipped."""

import os
import sys

import psycopg

url = sys.argv[1]
try:
    with psycopg.connect(url, connect_timeout=5) as conn:
        conn.execute("select 1")
except psycopg.Error as exc:
    print(f"PostgreSQL at {url} is not reachable: {exc}".strip(), file=sys.stderr)
    if os.environ.get("CI", "").lower() == "true":
        print("CI=true: the PostgreSQL run may not be skipped.", file=sys.stderr)
        sys.exit(1)
    print("Skipping the PostgreSQL run. Start PostgreSQL or set PG_URL to run it.", file=sys.stderr)
    sys.exit(77)
