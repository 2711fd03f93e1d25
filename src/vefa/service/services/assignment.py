"""Where a new ticket goes and who owns it: assignment rules, queues and their methods.

Routing (``ticket_route``), in order:

1. the first active assignment rule (by position) whose conditions all match: category (the
   ticket's category or one of its ancestors), ticket type and the customer's value class —
   a blank condition matches anything. The rule gives the queue and, optionally, the agent;
2. otherwise the queue of the ticket's category (or of its nearest ancestor that has one);
3. otherwise the default queue.

A queue preset by the caller is kept (rules then only decide nothing). The owner, when not
given by a rule or the caller, is picked by the queue's method among the active service
agents of the queue's team:

- round robin: the agent after ``Queue.last_assigned`` in id order, under a row lock on the
  queue, so two tickets created at the same time go to two different agents;
- fewest open tickets: the agent with the fewest new/open/waiting tickets (ties by id), also
  under the queue's lock;
- manual: nobody; the ticket waits in the team's unassigned list.

The customer's value class (A, B, C) comes from a registered source, so the service app never
imports the analytical CRM: ``register_value_class_source`` is called by analytics on start.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from django.db.models import Count, Q

from vefa.accounts.choices import Role
from vefa.service.choices import OPEN_STATUSES, AssignmentMethod
from vefa.service.models import AssignmentRule, Category, Queue

if TYPE_CHECKING:
    from vefa.accounts.models import User
    from vefa.service.models import Ticket

logger = logging.getLogger(__name__)

VALUE_CLASSES = frozenset({"A", "B", "C"})
# A category tree deeper than this is treated as ending there (guards against a cycle).
MAX_DEPTH = 20

_value_class_source: Callable[[int], str] | None = None


def register_value_class_source(func: Callable[[int], str]) -> None:
    """Set the function that gives a customer's value class ("A", "B", "C" or "")."""
    global _value_class_source
    _value_class_source = func


def value_class_of(customer_id: int | None) -> str:
    """The customer's value class from the registered source; "" when unknown.

    A failing source never stops a ticket from being created: it is logged and treated as
    unknown.
    """
    if customer_id is None or _value_class_source is None:
        return ""
    try:
        value = _value_class_source(int(customer_id))
    except Exception:
        logger.exception("value class source failed for customer %s", customer_id)
        return ""
    value = str(value or "").strip().upper()
    return value if value in VALUE_CLASSES else ""


def category_lineage(category_id: int | None) -> list[Category]:
    """The category and its ancestors, nearest first."""
    lineage: list[Category] = []
    seen: set[int] = set()
    current_id = category_id
    while current_id is not None and current_id not in seen and len(lineage) < MAX_DEPTH:
        seen.add(current_id)
        category = Category.objects.select_related("queue").filter(pk=current_id).first()
        if category is None:
            break
        lineage.append(category)
        current_id = category.parent_id
    return lineage


def matching_rule(ticket: Ticket, lineage: list[Category] | None = None) -> AssignmentRule | None:
    """The first active rule (by position) whose every condition matches ``ticket``."""
    if lineage is None:
        lineage = category_lineage(ticket.category_id)
    category_ids = [c.pk for c in lineage]
    rules = (
        AssignmentRule.objects.filter(is_active=True, queue__is_active=True)
        .filter(Q(category__isnull=True) | Q(category_id__in=category_ids))
        .filter(Q(ticket_type="") | Q(ticket_type=ticket.type))
        .filter(Q(value_class="") | Q(value_class=ticket.value_class or "-"))
        .select_related("queue", "assignee")
        .order_by("position", "id")
    )
    return rules.first()


def default_queue() -> Queue | None:
    return Queue.objects.filter(is_default=True, is_active=True).order_by("id").first()


def queue_agents(queue: Queue) -> list[User]:
    """The active service agents of the queue's team, in id order."""
    from vefa.accounts.models import User

    if queue.team_id is None:
        return []
    return list(
        User.objects.filter(
            team_id=queue.team_id, is_active=True, role=Role.SERVICE_AGENT
        ).order_by("pk")
    )


def pick_owner(queue: Queue) -> User | None:
    """The agent the queue's method gives the next ticket to; ``None`` for manual queues or a
    team without agents. Locks the queue row for the rest of the transaction."""
    if queue.assignment == AssignmentMethod.MANUAL:
        return None
    locked = Queue.objects.select_for_update().filter(pk=queue.pk).first()
    if locked is None:
        return None
    agents = queue_agents(locked)
    if not agents:
        return None
    if locked.assignment == AssignmentMethod.LEAST_OPEN:
        from vefa.accounts.models import User

        counts = dict(
            User.objects.filter(pk__in=[a.pk for a in agents])
            .annotate(
                open_count=Count(
                    "service_tickets", filter=Q(service_tickets__status__in=OPEN_STATUSES)
                )
            )
            .values_list("pk", "open_count")
        )
        chosen = min(agents, key=lambda agent: (counts.get(agent.pk, 0), agent.pk))
    else:
        last = locked.last_assigned_id
        later = [agent for agent in agents if last is not None and agent.pk > last]
        chosen = later[0] if later else agents[0]
    # Derived bookkeeping of the queue, not an edit of its setup: written directly.
    Queue.objects.filter(pk=locked.pk).update(last_assigned=chosen)
    queue.last_assigned = chosen
    return chosen


def ticket_route(ticket: Ticket) -> None:
    """Give an unsaved or saved ticket its queue, owner and team (in memory; the caller saves).

    Call inside the transaction that saves the ticket (the queue's row lock lasts until then).
    """
    lineage = category_lineage(ticket.category_id)
    queue: Queue | None = ticket.queue if ticket.queue_id is not None else None
    if queue is None:
        rule = matching_rule(ticket, lineage)
        if rule is not None:
            queue = rule.queue
            assignee = rule.assignee
            if ticket.owner_id is None and assignee is not None and assignee.is_active:
                ticket.owner = assignee
        if queue is None:
            queue = next(
                (c.queue for c in lineage if c.queue is not None and c.queue.is_active), None
            )
        if queue is None:
            queue = default_queue()
        ticket.queue = queue
    if ticket.owner_id is None and queue is not None:
        ticket.owner = pick_owner(queue)
    if queue is not None and queue.team_id is not None:
        ticket.team_id = queue.team_id
    elif ticket.owner is not None:
        ticket.team_id = ticket.owner.team_id
