"""Domain events: queued inside a transaction, dispatched only after it commits.

A service calls :func:`emit` while it writes. If the transaction rolls back the event is
never seen; if it commits, every subscriber runs once, in subscription order. Subscribers
must be quick (they usually create a timeline row or enqueue a background task) and may not
raise into the caller: a failing subscriber is logged and the others still run.

The events one transaction emits share its ``CommitRound`` (``event.commit``). They are all
dispatched after the commit, so each subscriber sees the final state already at the first of
them; a subscriber whose work depends only on that state (rebuild a record's duplicate keys,
index it for search) does it once per record and commit with ``event.commit.first(key)``
instead of once per event: creating a customer with an e-mail, a phone and an address is
one rebuild, not four.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from django.db import transaction

logger = logging.getLogger(__name__)


class CommitRound:
    """The events of one committed transaction, as their subscribers run."""

    __slots__ = ("_done", "started")

    def __init__(self) -> None:
        self._done: set[Any] = set()
        # Set when the first of its events is dispatched: an event emitted after that
        # (by a subscriber, or by a test that runs commit hooks by hand) opens a new round.
        self.started = False

    def first(self, key: Any) -> bool:
        """``True`` the first time ``key`` is asked for in this commit, ``False`` after."""
        if key in self._done:
            return False
        self._done.add(key)
        return True


@dataclass(frozen=True)
class DomainEvent:
    """Something that happened to a record, e.g. ``customer.created``."""

    name: str
    model: str  # "app_label.modelname"
    object_id: int
    actor_id: int | None = None
    payload: dict[str, Any] = field(default_factory=dict)
    # Set by ``emit``: shared by every event of the same transaction.
    commit: CommitRound | None = field(default=None, compare=False, repr=False)

    def first_in_commit(self, *key: Any) -> bool:
        """Whether work named ``key`` is still to do in this event's commit (always ``True``
        for an event dispatched on its own)."""
        return self.commit is None or self.commit.first(key)


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
    if event.commit is not None:
        event.commit.started = True
    for subscriber in [*_subscribers.get(event.name, []), *_subscribers.get("*", [])]:
        try:
            subscriber(event)
        except Exception:
            logger.exception("event subscriber %r failed for %s", subscriber, event.name)


def emit(event: DomainEvent) -> None:
    """Queue ``event`` to be dispatched after the current transaction commits."""
    queued = replace(event, commit=_commit_round())
    transaction.on_commit(lambda: dispatch(queued))


def _commit_round() -> CommitRound:
    """The round of the transaction now open. Django starts a new list of commit hooks at
    every commit and rollback (and when a savepoint rolls back), so a round lives as long as
    the list it was made with and until its first event is dispatched; outside a
    transaction every event is its own round."""
    connection = transaction.get_connection()
    if not connection.in_atomic_block:
        return CommitRound()
    hooks = connection.run_on_commit
    current = getattr(connection, "_vefa_commit_round", None)
    if current is None or current[0] is not hooks or current[1].started:
        current = (hooks, CommitRound())
        connection._vefa_commit_round = current
    return current[1]
