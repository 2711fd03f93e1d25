"""``vefa import``: import customers, contact people, leads … from a CSV or XLSX file.

    vefa import --entity customers --file people.csv [--mapping mapping.json]
                [--source "Fair 2026"] [--match email] [--on-match update|skip] [--dry-run]
                [--user admin@example.com] [--batch-size 5000]
    vefa import --resume RUN_ID

The run is recorded like one started on the page (undo works the same); it runs in this
process, batch by batch, and can be resumed with ``--resume`` after it was interrupted.
"""

from __future__ import annotations

import os
from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from vefa.common.errors import ApplicationError
from vefa.imports import engine as eng


class Command(BaseCommand):
    help = "Import records from a CSV or XLSX file (customers, contacts, leads, …)."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--entity", help="customers, contacts, leads, …")
        parser.add_argument("--file", help="the .csv or .xlsx file")
        parser.add_argument("--mapping", help='JSON {"column": "field"} or a JSON file')
        parser.add_argument("--source", default="", help="remember the mapping for this source")
        parser.add_argument("--match", default=None, help="match key (email, phone, …); '' = none")
        parser.add_argument("--on-match", default="update", choices=["update", "skip"])
        parser.add_argument("--dry-run", action="store_true", help="validate only, write nothing")
        parser.add_argument("--user", default="", help="e-mail of the user importing")
        parser.add_argument("--batch-size", type=int, default=eng.BATCH_ROWS)
        parser.add_argument("--resume", type=int, default=None, help="resume an interrupted run")

    def _actor(self, email: str) -> Any:
        from vefa.accounts.choices import Role
        from vefa.accounts.models import User

        if email:
            user = User.objects.filter(email__iexact=email, is_active=True).first()
            if user is None:
                raise CommandError(f"No active user {email}.")
            return user
        user = User.objects.filter(role=Role.ADMIN, is_active=True).order_by("pk").first()
        if user is None:
            raise CommandError("No active administrator; give --user.")
        return user

    def handle(self, *args: Any, **options: Any) -> None:
        from vefa.imports import services

        try:
            if options["resume"] is not None:
                run = services.execute_run(options["resume"], batch_rows=options["batch_size"])
                self._report(run)
                return
            if not options["entity"] or not options["file"]:
                raise CommandError("Give --entity and --file (or --resume RUN_ID).")
            path = options["file"]
            if not os.path.isfile(path):
                raise CommandError(f"No such file: {path}")
            actor = self._actor(options["user"])
            columns = services.load_json_mapping(options["mapping"]) if options["mapping"] else None
            name = os.path.basename(path)
            with open(path, "rb") as stream:
                if options["dry_run"]:
                    result = services.dry_run(
                        actor=actor,
                        entity=options["entity"],
                        name=name,
                        stream=stream,
                        columns=columns,
                        match_key=options["match"],
                        on_match=options["on_match"],
                    )
                    self.stdout.write(f"encoding {result.encoding} delimiter {result.delimiter!r}")
                    self.stdout.write(f"mapping {result.columns}")
                    counts = " ".join(f"{k}={v}" for k, v in sorted(result.counts.items()))
                    self.stdout.write(f"dry run: {counts}")
                    for error in result.errors[:100]:
                        self.stdout.write(
                            f"row {error.row} [{error.column}] {error.value[:80]!r}: {error.reason}"
                        )
                    return
                run = services.upload(
                    actor=actor,
                    entity=options["entity"],
                    name=name,
                    stream=stream,
                    source=options["source"],
                )
            services.start_import(
                actor=actor,
                run_id=run.pk,
                columns=columns,
                match_key=options["match"],
                on_match=options["on_match"],
                background=False,
            )
            self.stdout.write(f"import run {run.pk} started")
            self.stdout.flush()
            run = services.execute_run(run.pk, batch_rows=max(1, options["batch_size"]))
            self._report(run)
        except ApplicationError as exc:
            detail = "; ".join(f"{k}: {' '.join(v)}" for k, v in exc.fields.items())
            raise CommandError(f"{exc.message} {detail}".strip()) from None

    def _report(self, run: Any) -> None:
        from vefa.imports import services

        self.stdout.write(f"import run {run.pk}: {run.status}. {services.summary(run)}")
        if run.errors_file:
            from django.core.files.storage import default_storage

            self.stdout.write(f"errors: {default_storage.path(run.errors_file)}")
