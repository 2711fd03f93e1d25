"""Periodic jobs declared in code and run by ``vefa worker``.

    @periodic("interactions.send_due_reminders", every=timedelta(minutes=1))
    def send_due_reminders() -> None: ...

The worker's scheduler enqueues each job once per slot (``every`` aligned to the epoch);
the slot is claimed with a conditional update on ``PeriodicRun`` so two workers never run
the same slot twice.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass

PeriodicFunc = Callable[[], None]


@dataclass(frozen=True)
class PeriodicJob:
    name: str
    every: datetime.timedelta
    func: PeriodicFunc


_jobs: dict[str, PeriodicJob] = {}


def periodic(name: str, *, every: datetime.timedelta) -> Callable[[PeriodicFunc], PeriodicFunc]:
    def decorator(func: PeriodicFunc) -> PeriodicFunc:
        _jobs[name] = PeriodicJob(name=name, every=every, func=func)
        return func

    return decorator


def jobs() -> dict[str, PeriodicJob]:
    return dict(_jobs)
