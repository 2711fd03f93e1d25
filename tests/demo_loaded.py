"""The demo company loaded once for a test module, inside a transaction rolled back after it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from io import StringIO
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone


@contextmanager
def demo_loaded(django_db_blocker: Any) -> Iterator[dict[str, Any]]:
    """Load ``vefa demo``'s data; yields its output and the time the load started.

    The default pipelines a data migration creates are put back first: a browser test run
    earlier on the same worker ends by emptying every table, and this module-wide load runs
    before the per-test fixture that restores them.
    """
    from vefa.sales.defaults import create_default_pipelines
    from vefa.sales.models import Pipeline, Stage

    with django_db_blocker.unblock():
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            create_default_pipelines(Pipeline, Stage, settings.LANGUAGE_CODE)
            out = StringIO()
            started = timezone.now()
            call_command("demo_data", stdout=out)
            yield {"output": out.getvalue(), "started": started}
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)
