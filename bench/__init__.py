"""Server-time benchmarks of the pages and API on a large database (not part of the tests).

    VEFA_DATA_DIR=/tmp/vefa-bench vefa bench-data --customers 1000000
    VEFA_DATA_DIR=/tmp/vefa-bench python -m bench.run
    DATABASE_URL=postgres://… python -m bench.run

Each scenario is requested through Django's test client in this process, so the time is the
server's (URL routing, middleware, view, queries, template), not the network's. The table of
p50/p95/max per scenario is printed and written to ``bench/results/<date>-<db>.md``.
"""
