"""``vefa import-all F.jsonl [--flush]``: load an ``export-all`` file into an empty database."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from vefa.exports.jsonl import ImportError_, import_all


class Command(BaseCommand):
    help = "Load a file written by export-all into an empty database (in one transaction)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="the JSON Lines file")
        parser.add_argument(
            "--flush",
            action="store_true",
            help="empty every Vefa table first (e.g. of the rows the migrations create)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.monotonic()

        def progress(label: str, count: int) -> None:
            if options["verbosity"] > 1:
                self.stdout.write(f"{label}: {count}")

        try:
            with open(options["file"], encoding="utf-8") as lines:
                rows = import_all(lines, flush=options["flush"], progress=progress)
        except OSError as exc:
            raise CommandError(f"Cannot read {options['file']}: {exc.strerror}") from exc
        except ImportError_ as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"{rows} rows imported in {time.monotonic() - started:.1f} s")
