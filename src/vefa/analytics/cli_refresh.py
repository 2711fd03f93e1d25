"""``vefa analytics refresh``: run a refresh in this process and print its figures.

The nightly job and the page's button run the same ``refresh.run`` in the background worker;
this is for operators, first installs and benchmarks.
"""

from __future__ import annotations

import datetime
import json
from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError


def add_arguments(parser: ArgumentParser) -> None:
    parser.add_argument(
        "--full",
        action="store_true",
        help="extract everything again instead of the changes since the last run",
    )
    parser.add_argument(
        "--as-of",
        dest="as_of",
        default=None,
        help="the refresh day YYYY-MM-DD (default today): facts before it count",
    )
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")


def handle(command: BaseCommand, options: dict[str, Any]) -> None:
    from vefa.analytics.refresh import run_now

    as_of = None
    if options.get("as_of"):
        try:
            as_of = datetime.date.fromisoformat(options["as_of"])
        except ValueError:
            raise CommandError(
                f"--as-of: {options['as_of']!r} is not a date (use YYYY-MM-DD)"
            ) from None
    try:
        row = run_now(full=bool(options.get("full")), as_of=as_of)
    except Exception as exc:
        raise CommandError(f"the refresh failed: {type(exc).__name__}: {exc}") from exc
    figures = row.figures
    if options.get("json"):
        command.stdout.write(json.dumps(figures, sort_keys=True, default=str))
        return
    seconds = figures.get("seconds", {})
    command.stdout.write(
        f"Refresh {row.pk} as of {row.as_of}: {figures.get('customers_scored', 0):,} customers "
        f"scored, {figures.get('scores_changed', 0):,} changed, "
        f"{seconds.get('total', 0):.1f} s"
    )
    for step, value in seconds.items():
        if step != "total":
            command.stdout.write(f"  {step:<16} {value:8.2f} s")
    if figures.get("clv_skipped"):
        command.stdout.write(f"  lifetime value not computed: {figures['clv_skipped']}")
