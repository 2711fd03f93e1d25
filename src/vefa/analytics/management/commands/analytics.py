"""``vefa analytics <subcommand>``: the analytical CRM from the command line.

    vefa analytics clv --transactions FILE.csv ...   customer lifetime value from a CSV file
    vefa analytics refresh [--full] [--as-of DAY]    extract, every metric, write-back

Each subcommand is one entry of ``SUBCOMMANDS``: its help text, a function that adds its
arguments to its own parser and a function that runs it with the parsed options. A new
subcommand is a new entry; this module stays a dispatcher, the work lives in the
subcommand's own module (``vefa.analytics.cli_clv`` for ``clv``).
"""

from __future__ import annotations

from argparse import ArgumentParser
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.core.management.base import BaseCommand
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from vefa.analytics import cli_clv, cli_refresh


@dataclass(frozen=True)
class Subcommand:
    """One ``vefa analytics`` subcommand."""

    help: str | Promise
    add_arguments: Callable[[ArgumentParser], None]
    # Called with the running command (for its stdout/stderr) and the parsed options; raises
    # ``CommandError`` for anything the operator must fix.
    handle: Callable[[BaseCommand, dict[str, Any]], None]


SUBCOMMANDS: dict[str, Subcommand] = {
    "clv": Subcommand(
        help=_("fit the customer lifetime value models to a CSV file of transactions"),
        add_arguments=cli_clv.add_arguments,
        handle=cli_clv.handle,
    ),
    "refresh": Subcommand(
        help=_("refresh the analytics now: extract, every metric, write-back"),
        add_arguments=cli_refresh.add_arguments,
        handle=cli_refresh.handle,
    ),
}


class Command(BaseCommand):
    help = "Analytics: " + ", ".join(SUBCOMMANDS) + "."

    def add_arguments(self, parser: ArgumentParser) -> None:
        sub = parser.add_subparsers(
            dest="subcommand", required=True, metavar="{" + ",".join(SUBCOMMANDS) + "}"
        )
        for name, subcommand in SUBCOMMANDS.items():
            subcommand.add_arguments(sub.add_parser(name, help=str(subcommand.help)))

    def handle(self, *args: Any, **options: Any) -> None:
        SUBCOMMANDS[options["subcommand"]].handle(self, options)
