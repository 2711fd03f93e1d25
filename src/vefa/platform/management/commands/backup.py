"""``vefa backup [--out F]``: a consistent backup of the database with a manifest of row
counts and content hashes per table (see ``vefa.platform.backup``)."""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from vefa.platform.backup import BackupError, backup


class Command(BaseCommand):
    help = "Back the database up (SQLite online backup or pg_dump) with a manifest."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--out",
            default=None,
            help="the archive to write (default: backups/vefa-<time>.tar in the data directory)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        out = options["out"]
        if not out:
            stamp = datetime.datetime.now(datetime.UTC).strftime("%Y%m%d-%H%M%S")
            out = Path(settings.DATA_DIR) / "backups" / f"vefa-{stamp}.tar"
        try:
            manifest = backup(Path(out), report=lambda line: self.stdout.write(line))
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"backup written to {out} ({manifest.vendor})")
