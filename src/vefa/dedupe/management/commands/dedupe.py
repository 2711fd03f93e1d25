"""``vefa dedupe``: search all customers for duplicates now (or queue the search).

    vefa dedupe [--threshold 0.9] [--engine duckdb|spark] [--user EMAIL] [--background]

Prints the run's counts and timings; the clusters wait on the duplicate review page.
"""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from vefa.common.errors import ValidationFailed
from vefa.dedupe import linkage, services


class Command(BaseCommand):
    help = "Search all customers for duplicates (probabilistic record linkage)."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--threshold", type=float, default=None)
        parser.add_argument("--engine", choices=linkage.ENGINES, default=None)
        parser.add_argument("--user", default="", help="e-mail of the user the run is for")
        parser.add_argument(
            "--background", action="store_true", help="queue a job for the worker instead"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        from vefa.accounts.models import User

        actor = None
        if options["user"]:
            actor = User.objects.filter(email__iexact=options["user"], is_active=True).first()
            if actor is None:
                raise CommandError(f"No active user with the e-mail {options['user']!r}.")
        try:
            run = services.run_start(
                actor=actor,
                threshold=options["threshold"],
                engine=options["engine"],
                background=options["background"],
                operator=True,
            )
        except ValidationFailed as exc:
            details = "; ".join(f"{k}: {' '.join(v)}" for k, v in exc.fields.items())
            raise CommandError(f"{exc.message} {details}") from exc
        if options["background"]:
            self.stdout.write(f"Queued duplicate search {run.pk} (job {run.job_id}).")
            return
        self.stdout.write(
            f"Duplicate search {run.pk}: {run.status}; {run.customers_count} customers, "
            f"{run.pairs_count} pairs, {run.clusters_count} clusters "
            f"({run.duplicates_count} customers); timings {run.timings}"
        )
