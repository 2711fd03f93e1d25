"""``vefa bench-data --customers N``: large, repeatable data for benchmarks.

Writes N customers (with contact points, addresses, consent, tags, relationships and
activities), N × ``--interactions-per-customer`` interactions, the teams and users they are
spread over (every role; password ``vefa-bench-password``), and their search index entries,
printing the time of each phase. The database must have no customers yet (``--replace``
empties the customer tables of a database made for benchmarks). See ``vefa.demo.bench``.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from vefa.demo.bench import BenchDataError, run


class Command(BaseCommand):
    help = "Generate large benchmark data (customers, interactions, users, search index)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--customers", type=int, required=True, help="number of customers")
        parser.add_argument(
            "--interactions-per-customer",
            type=int,
            default=10,
            help="average interactions per customer (the total is exact; default 10)",
        )
        parser.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
        parser.add_argument(
            "--replace",
            action="store_true",
            help="empty the customer tables (and what refers to them) first; only on a "
            "database made for benchmarks",
        )
        parser.add_argument(
            "--today",
            type=datetime.date.fromisoformat,
            default=None,
            help="the day the generated history ends (YYYY-MM-DD; default today)",
        )
        parser.add_argument(
            "--search-interactions",
            action="store_true",
            help="also put every interaction into the search index (slow at millions)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            run(
                customers=options["customers"],
                interactions_per_customer=options["interactions_per_customer"],
                seed=options["seed"],
                replace=options["replace"],
                today=options["today"],
                search_interactions=options["search_interactions"],
                report=lambda line: self.stdout.write(line),
            )
        except BenchDataError as exc:
            raise CommandError(str(exc)) from exc
