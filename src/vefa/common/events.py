"""Domain events: queued inside a transaction, dispatched only after it commits.

A service calls :func:`emit` while it writes. If the transaction rolls back the event is
never seen; if it commits, every subscriber runs once, in subscription order. Subscribers
must be quick (they usually create a timeline row or enqueue a background task) and may not
raise into the caller: a failing subscriber is logged and the others still run.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class DomainEvent:
    """Something that happened to a record, e.g. ``customer.created``."""

    name: str
    model: str  # "app_label.modelname"
    object_id: int
    actor_id: int | None = None
    payload: dict[str, Any] = field(default_factory=dict)


Subscriber = Callable[[DomainEvent], None]
_subscribers: dict[str, list[Subscriber]] = defaultdict(list)


def subscribe(*names: str) -> Callable[[Subscriber], Subscriber]:
    """Register a subscriber for event names; ``"*"`` receives every event."""

    def decorator(func: Subscriber) -> Subscriber:
        for name in names:
            if func not in _subscribers[name]:
                _subscribers[name].append(func)
        return func

    return decorator


def dispatch(event: DomainEvent) -> None:
    for subscriber in [*_subscribers.get(event.name, []), *_subscribers.get("*", [])]:
        try:
            subscriber(event)
        except Exception:
            logger.exception("event subscriber %r failed for %s", subscriber, event.name)


def emit(event: DomainEvent) -> None:
    """Queue ``event`` to be dispatched after the current transaction commits."""
    transaction.on_commit(lambda: dispatch(event))
