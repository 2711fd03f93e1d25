"""``vefa webhooks_deliver``: send the webhook deliveries that are due now (what the worker's
periodic job does every minute), and print what happened."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser


class Command(BaseCommand):
    help = "Send the webhook deliveries that are due now."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--limit", type=int, default=500, help="at most this many")

    def handle(self, *args: Any, **options: Any) -> None:
        from vefa.integrations.services.delivery import deliver_due

        counts = deliver_due(limit=max(1, int(options["limit"])))
        if not counts:
            self.stdout.write("nothing due")
            return
        for outcome, number in sorted(counts.items()):
            self.stdout.write(f"{outcome}: {number}")
