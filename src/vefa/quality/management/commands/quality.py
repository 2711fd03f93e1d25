"""``vefa quality keys|check|snapshot``: data-quality upkeep from the command line.

    vefa quality keys [--after ID] [--batch N]   rebuild the duplicate check's blocking keys
                                                 of every customer and lead (the backfill)
    vefa quality check [--after ID]              check every customer again (invalid e-mails
                                                 and phones, likely duplicates), then record
                                                 today's figures
    vefa quality snapshot                        record today's figures only

Each prints its progress and the last id done, so an interrupted run is resumed with
``--after``.
"""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand

from vefa.customers.models import Customer, Lead
from vefa.quality import services


class Command(BaseCommand):
    help = "Rebuild the duplicate check's keys, check every customer, record the figures."

    def add_arguments(self, parser: ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True, metavar="{keys,check,snapshot}")
        keys = sub.add_parser("keys", help="rebuild the blocking keys of customers and leads")
        keys.add_argument("--after", type=int, default=0, help="resume after this customer id")
        keys.add_argument("--batch", type=int, default=2000)
        check = sub.add_parser("check", help="check every customer, then record the figures")
        check.add_argument("--after", type=int, default=0, help="resume after this customer id")
        check.add_argument("--batch", type=int, default=500)
        sub.add_parser("snapshot", help="record today's figures")

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        if action == "snapshot":
            snapshot = services.snapshot_write()
            self.stdout.write(f"snapshot {snapshot.day}: {snapshot.total} customers")
            return
        batch = max(1, min(int(options["batch"]), 10_000))
        after = int(options["after"])
        if action == "keys":
            written = self._each(Customer, after, batch, services.customer_keys_rebuild)
            written += self._each(Lead, 0, batch, services.lead_keys_rebuild)
            self.stdout.write(f"{written} keys written")
            return
        flagged = self._each(Customer, after, batch, services.findings_refresh)
        snapshot = services.snapshot_write()
        self.stdout.write(f"{flagged} customers with findings; snapshot {snapshot.day}")

    def _each(self, model: Any, after: int, batch: int, work: Any) -> int:
        label = model._meta.verbose_name_plural
        total = 0
        done = 0
        while True:
            ids = list(
                model.objects.filter(pk__gt=after)
                .order_by("pk")
                .values_list("pk", flat=True)[:batch]
            )
            if not ids:
                return total
            total += work(ids)
            done += len(ids)
            after = ids[-1]
            self.stdout.write(f"{label}: {done} done, last id {after}")
