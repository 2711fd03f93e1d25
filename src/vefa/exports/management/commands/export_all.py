"""``vefa export-all --out F.jsonl``: every row of every Vefa model as JSON Lines."""

from __future__ import annotations

import sys
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from vefa.exports.jsonl import export_all


class Command(BaseCommand):
    help = "Write every row of every Vefa model as JSON Lines (a lossless export for moving)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--out", default="-", help="the file to write (default: stdout)")

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.monotonic()
        out_name = options["out"]
        report = self.stderr if out_name == "-" else self.stdout

        def progress(label: str, count: int) -> None:
            if options["verbosity"] > 1:
                report.write(f"{label}: {count}")

        if out_name == "-":
            rows = export_all(sys.stdout, progress=progress)
        else:
            with open(out_name, "w", encoding="utf-8", newline="\n") as out:
                rows = export_all(out, progress=progress)
        report.write(f"{rows} rows in {time.monotonic() - started:.1f} s")
