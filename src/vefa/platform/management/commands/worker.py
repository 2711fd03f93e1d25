"""``vefa worker``: run background tasks and the periodic jobs declared in code.

The task loop is django-tasks-db's worker; next to it a scheduler thread claims the slots of
periodic jobs (see ``vefa.platform.scheduler``) and queues them. SIGTERM or SIGINT stops both
cleanly: the task that is running finishes first. ``--once`` queues what is due, runs every
pending task and exits (for tests and cron).
"""

from __future__ import annotations

import logging
import signal
import threading
from types import FrameType
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils.crypto import get_random_string
from django_tasks import DEFAULT_TASK_BACKEND_ALIAS, task_backends
from django_tasks_db.backend import DatabaseBackend
from django_tasks_db.management.commands.db_worker import Worker

from vefa.platform.scheduler import SchedulerThread, run_due

logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = "Run background tasks and periodic jobs until stopped (or once with --once)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--once",
            action="store_true",
            help="queue the periodic jobs that are due, run every pending task, then exit",
        )
        parser.add_argument(
            "--interval",
            type=float,
            default=1.0,
            help="seconds to wait when the queue is empty (default 1)",
        )
        parser.add_argument(
            "--queue-name",
            default="*",
            help="queues to process, comma-separated; '*' for all (default)",
        )
        parser.add_argument(
            "--no-scheduler",
            action="store_true",
            help="run tasks only; another worker schedules the periodic jobs",
        )
        parser.add_argument("--backend", default=DEFAULT_TASK_BACKEND_ALIAS)

    def handle(self, *args: Any, **options: Any) -> None:
        backend = task_backends[options["backend"]]
        uses_database = isinstance(backend, DatabaseBackend)
        worker = (
            Worker(
                queue_names=options["queue_name"].split(","),
                interval=max(0.0, options["interval"]),
                batch=options["once"],
                backend_name=options["backend"],
                startup_delay=not options["once"],
                max_tasks=None,
                worker_id=get_random_string(32),
                excluded_queue_names=[],
            )
            if uses_database
            else None
        )
        if options["once"]:
            claimed = run_due(enqueue=True)
            if worker is not None:
                worker.run()
            self.stdout.write(f"periodic jobs queued: {len(claimed)}")
            return
        if worker is None:
            self.stderr.write("The task backend is not the database backend: nothing to run.")
            return

        stop = threading.Event()
        scheduler = None if options["no_scheduler"] else SchedulerThread(stop=stop)

        def shutdown(signum: int, frame: FrameType | None) -> None:
            stop.set()
            worker.shutdown(signum, frame)

        signal.signal(signal.SIGTERM, shutdown)
        signal.signal(signal.SIGINT, shutdown)
        if scheduler is not None:
            scheduler.start()
        self.stdout.write("Vefa worker started (SIGTERM or Ctrl+C stops it).")
        self.stdout.flush()
        try:
            worker.run()
        except SystemExit as exc:
            # The worker exits this way on a signal while idle; that is a clean stop.
            if exc.code not in (0, None):
                raise
        finally:
            stop.set()
            if scheduler is not None:
                scheduler.join(timeout=10)
            self.stdout.write("Vefa worker stopped.")
