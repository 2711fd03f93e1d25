"""``vefa restore F [--force] [--verify]``: restore a ``vefa backup`` archive into the
configured database; ``--verify`` checks integrity, row counts and content hashes per table
against the manifest and exits non-zero on any difference."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from vefa.platform.backup import BackupError, restore


class Command(BaseCommand):
    help = "Restore a backup archive into the configured database (and verify it)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="the archive written by `vefa backup`")
        parser.add_argument(
            "--force", action="store_true", help="replace a database that holds data"
        )
        parser.add_argument(
            "--verify",
            action="store_true",
            help="check integrity, row counts and content hashes against the manifest",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            result = restore(
                Path(options["file"]),
                force=options["force"],
                verify=options["verify"],
                report=lambda line: self.stdout.write(line),
            )
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        if result is None:
            return
        self.stdout.write(result.table())
        if not result.ok:
            bad = [c.table for c in result.checks if not c.ok]
            raise CommandError(
                "Verification failed: "
                + (
                    f"{len(bad)} table(s) differ from the manifest ({', '.join(bad[:10])})"
                    if bad
                    else ""
                )
                + ("" if result.integrity == "ok" else f"; integrity: {result.integrity}")
            )
        self.stdout.write("verified: every table matches the manifest")
