"""SLA clocks of tickets (ADR 0010): policy choice, the clock changes of the workflow, and
the periodic evaluation that marks warnings and breaches and escalates.

The clock functions (``sla_start`` … ``sla_reopen``) change the ticket in memory; the ticket
service saves it in its own write, so the change log shows the new due times and states. The
two warning instants (``first_response_warn_at``, ``resolution_warn_at``) are bookkeeping of
the evaluation only: when the ticket already exists they are also written straight to its row
inside the caller's transaction, because the ticket service saves only the workflow fields.

Clocks:

- *First response* runs from the start until the first public reply.
- *Resolution* runs from the start until the ticket is resolved.
- While the ticket waits on the customer both stop: the business minutes each had left are
  kept in ``first_response_left`` / ``resolution_left`` and the due times are cleared; on
  resume the due times are computed again from those minutes.
- Resolving stops the clocks: the state becomes ``met`` or ``breached`` (either target
  missed), the due times stay for reporting and the minutes left are kept.
- Reopening continues the clocks with the minutes they had left when the ticket was resolved
  (a resolve-reopen is treated like a pause): a reopened ticket does not get a fresh budget
  that would hide a first resolution that did not hold, and a target already missed stays
  missed. A ticket resolved before this was recorded gets the full resolution target.

Warnings fire when the policy's ``warn_at_percent`` of a target has elapsed (in business
minutes), breaches when the due time has passed. ``sla_evaluate`` finds them with range
scans on the ticket's partial indexes of the clocks still watched (``due_breaches``,
``due_warnings``, ``awaiting_reassignment``; a ticket it marks leaves those indexes) and sets
both in bulk: one set-based UPDATE per chunk of tickets, and the state on the ticket rows
(the warning instant cleared, ``sla_warned_at``, the breach flags, ``escalated_at``) is what
makes each ticket and event notify exactly once: a ticket is only notified in the
transaction that sets its flag, so a job run twice, or a worker that crashed half way, never
notifies twice.

Digests: per run, recipient and event (first-response or resolution warning or breach,
escalation, reassignment), a recipient told about at most ``DIGEST_AFTER`` (5) tickets gets
one notice per ticket (keyed ``service.sla:<ticket>:<event>``); above that, ONE digest
notice ("12 tickets breached their resolution target") linking to the ticket list filtered
by SLA state (``?status=active&sla=breached&owner=mine``, ``sla=warning`` for warnings), so
a run after downtime does not bury people under thousands of notices. The tickets in a
digest are marked like the others, so none is announced again in a later run. All marks
and notices of a pass (breaches with their escalations, warnings, the reassignment batch)
commit in one transaction; the notices are written in one multi-row insert and their
e-mails queued after commit, ``EMAILS_PER_TASK`` to a background task.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Case, QuerySet, Value, When
from django.urls import NoReverseMatch, reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from vefa.accounts.models import User
from vefa.common.errors import ValidationFailed
from vefa.platform.models import Notification
from vefa.platform.notifications import MAX_TEXT, email_configured
from vefa.service.choices import EscalationAction, SlaState, TicketStatus
from vefa.service.models import (
    AWAITING_ESCALATION,
    SLA_ACTIVE_STATES,
    WATCHED_FIRST_RESPONSE,
    WATCHED_RESOLUTION,
    SlaPolicy,
    Ticket,
)
from vefa.service.sla import BusinessClock, clock_for

logger = logging.getLogger(__name__)

# States in which at least one clock may still be running.
ACTIVE_STATES = SLA_ACTIVE_STATES
CHUNK = 500
# Reassignments on breach a run makes at most (each is a full record update); the rest wait
# for the next run, a minute later.
REASSIGN_PER_RUN = 100
# ... and none once the run has lasted this long (a catch-up after downtime spends its time
# marking), so that a run stays within its budget; the next runs go on.
REASSIGN_AFTER_SECONDS = 5.0
# Up to this many tickets of one event a recipient is told about one by one in a run; above,
# one digest linking to the filtered ticket list.
DIGEST_AFTER = 5
# Notice e-mails one background task sends.
EMAILS_PER_TASK = 100

FIRST_RESPONSE_WARNING = "first_response_warning"
RESOLUTION_WARNING = "resolution_warning"
FIRST_RESPONSE_BREACH = "first_response_breach"
RESOLUTION_BREACH = "resolution_breach"
ESCALATION = "escalation"


# --- policy ---------------------------------------------------------------------------------


def _specificity(policy: SlaPolicy) -> tuple[int, int, int, int]:
    both = bool(policy.priority) and bool(policy.value_class)
    return (int(both), int(bool(policy.priority)), int(bool(policy.value_class)), -policy.pk)


def policy_for(ticket: Ticket) -> SlaPolicy | None:
    """The most specific active policy for the ticket's priority and value class.

    A policy naming both the priority and the class beats one naming the priority only,
    which beats one naming the class only, which beats the catch-all; among equals the
    oldest wins.
    """
    candidates = list(
        SlaPolicy.objects.filter(
            is_active=True,
            priority__in=[ticket.priority or "", ""],
            value_class__in=[ticket.value_class or "", ""],
        )
    )
    if not candidates:
        return None
    return max(candidates, key=_specificity)


# --- the clocks -----------------------------------------------------------------------------


def _now(now: dt.datetime | None) -> dt.datetime:
    return now if now is not None else timezone.now()


def _policy(ticket: Ticket) -> SlaPolicy | None:
    if ticket.sla_policy_id is None:
        return None
    return ticket.sla_policy


def _warn_at(
    clock: BusinessClock, now: dt.datetime, *, left: int, target: int, percent: int
) -> dt.datetime:
    """When a clock with ``left`` business minutes of ``target`` reaches ``percent`` used."""
    reserve = target * (100 - percent) // 100
    return clock.add(now, max(0, left - reserve))


def _first_response_running(ticket: Ticket) -> bool:
    return ticket.first_responded_at is None and ticket.first_response_due_at is not None


def _state(ticket: Ticket) -> str:
    """The state the flags and clocks of an unresolved ticket describe."""
    if ticket.sla_policy_id is None:
        return SlaState.NONE
    if ticket.first_response_breached or ticket.resolution_breached:
        return SlaState.BREACHED
    if ticket.sla_paused_at is not None:
        return SlaState.PAUSED
    warned = (_first_response_running(ticket) and ticket.first_response_warn_at is None) or (
        ticket.resolution_due_at is not None and ticket.resolution_warn_at is None
    )
    return SlaState.WARNING if warned else SlaState.RUNNING


def _persist_warnings(ticket: Ticket) -> None:
    if ticket.pk is not None:
        Ticket.objects.filter(pk=ticket.pk).update(
            first_response_warn_at=ticket.first_response_warn_at,
            resolution_warn_at=ticket.resolution_warn_at,
        )


def _run(
    ticket: Ticket,
    policy: SlaPolicy,
    now: dt.datetime,
    *,
    first_response_left: int | None,
    resolution_left: int | None,
) -> None:
    """Set due times and warning instants of the clocks that run from ``now``."""
    clock = clock_for(ticket)
    if first_response_left is not None and ticket.first_responded_at is None:
        ticket.first_response_due_at = clock.add(now, max(0, first_response_left))
        ticket.first_response_warn_at = (
            None
            if ticket.first_response_breached
            else _warn_at(
                clock,
                now,
                left=first_response_left,
                target=policy.first_response_minutes,
                percent=policy.warn_at_percent,
            )
        )
    else:
        ticket.first_response_warn_at = None
    if resolution_left is not None:
        ticket.resolution_due_at = clock.add(now, max(0, resolution_left))
        ticket.resolution_warn_at = (
            None
            if ticket.resolution_breached
            else _warn_at(
                clock,
                now,
                left=resolution_left,
                target=policy.resolution_minutes,
                percent=policy.warn_at_percent,
            )
        )
    else:
        ticket.resolution_warn_at = None
    ticket.sla_paused_at = None
    ticket.first_response_left = None
    ticket.resolution_left = None
    ticket.sla_state = _state(ticket)
    _persist_warnings(ticket)


def sla_start(ticket: Ticket, *, now: dt.datetime | None = None) -> None:
    """Choose the policy and start both clocks (none without a matching policy)."""
    now = _now(now)
    policy = policy_for(ticket)
    ticket.sla_policy = policy
    ticket.first_response_breached = False
    ticket.resolution_breached = False
    ticket.sla_warned_at = None
    ticket.escalated_at = None
    ticket.sla_paused_at = None
    ticket.first_response_left = None
    ticket.resolution_left = None
    if policy is None:
        ticket.sla_state = SlaState.NONE
        ticket.first_response_due_at = None
        ticket.resolution_due_at = None
        ticket.first_response_warn_at = None
        ticket.resolution_warn_at = None
        _persist_warnings(ticket)
        return
    if ticket.first_responded_at is None:
        first: int | None = policy.first_response_minutes
    else:
        first = None
        ticket.first_response_due_at = None
    _run(
        ticket,
        policy,
        now,
        first_response_left=first,
        resolution_left=policy.resolution_minutes,
    )
    if ticket.status == TicketStatus.WAITING:
        sla_pause(ticket, now=now)


def sla_first_response(ticket: Ticket, *, now: dt.datetime | None = None) -> None:
    """Stamp the first response and settle the first-response clock (met or breached)."""
    if ticket.first_responded_at is not None:
        return
    now = _now(now)
    running = _first_response_running(ticket)
    due = ticket.first_response_due_at
    ticket.first_responded_at = now
    if running and due is not None and now > due:
        ticket.first_response_breached = True
    ticket.first_response_left = None
    ticket.first_response_warn_at = None
    if ticket.sla_state in (*ACTIVE_STATES, SlaState.PAUSED):
        ticket.sla_state = _state(ticket)
    _persist_warnings(ticket)


def sla_pause(ticket: Ticket, *, now: dt.datetime | None = None) -> None:
    """Waiting on the customer: keep the business minutes left, clear the due times."""
    if ticket.sla_paused_at is not None or ticket.sla_state not in ACTIVE_STATES:
        return
    now = _now(now)
    clock = clock_for(ticket)
    if _first_response_running(ticket):
        assert ticket.first_response_due_at is not None
        ticket.first_response_left = max(
            0, clock.minutes_between(now, ticket.first_response_due_at)
        )
        ticket.first_response_due_at = None
    if ticket.resolution_due_at is not None:
        ticket.resolution_left = max(0, clock.minutes_between(now, ticket.resolution_due_at))
        ticket.resolution_due_at = None
    ticket.first_response_warn_at = None
    ticket.resolution_warn_at = None
    ticket.sla_paused_at = now
    ticket.sla_state = _state(ticket)
    _persist_warnings(ticket)


def sla_resume(ticket: Ticket, *, now: dt.datetime | None = None) -> None:
    """The customer answered: the clocks run again with the minutes they had left."""
    if ticket.sla_paused_at is None:
        return
    policy = _policy(ticket)
    if policy is None:
        ticket.sla_paused_at = None
        ticket.sla_state = SlaState.NONE
        return
    _run(
        ticket,
        policy,
        _now(now),
        first_response_left=ticket.first_response_left,
        resolution_left=ticket.resolution_left,
    )


def sla_stop(ticket: Ticket, *, now: dt.datetime | None = None) -> None:
    """Resolved: the clocks stop, the state becomes met or breached."""
    if _policy(ticket) is None or ticket.sla_state in (SlaState.MET, SlaState.NONE):
        return
    now = _now(now)
    if ticket.sla_paused_at is None:
        clock = clock_for(ticket)
        if _first_response_running(ticket):
            assert ticket.first_response_due_at is not None
            if now > ticket.first_response_due_at:
                ticket.first_response_breached = True
            ticket.first_response_left = max(
                0, clock.minutes_between(now, ticket.first_response_due_at)
            )
        if ticket.resolution_due_at is not None:
            if now > ticket.resolution_due_at:
                ticket.resolution_breached = True
            ticket.resolution_left = max(0, clock.minutes_between(now, ticket.resolution_due_at))
    ticket.sla_paused_at = None
    ticket.first_response_warn_at = None
    ticket.resolution_warn_at = None
    breached = ticket.first_response_breached or ticket.resolution_breached
    ticket.sla_state = SlaState.BREACHED if breached else SlaState.MET
    _persist_warnings(ticket)


def sla_reopen(ticket: Ticket, *, now: dt.datetime | None = None) -> None:
    """Reopened: the clocks continue with the minutes they had left when resolved."""
    policy = _policy(ticket)
    if policy is None:
        return
    resolution_left = ticket.resolution_left
    if resolution_left is None:
        resolution_left = policy.resolution_minutes
    first = ticket.first_response_left if ticket.first_responded_at is None else None
    _run(
        ticket,
        policy,
        _now(now),
        first_response_left=first,
        resolution_left=resolution_left,
    )


# --- the periodic evaluation ----------------------------------------------------------------


def _chunks(ids: Sequence[Any], size: int = CHUNK) -> Iterable[Sequence[Any]]:
    for i in range(0, len(ids), size):
        yield ids[i : i + size]


class _Urls:
    """Links of the notices, resolved once per run (empty while the ticket pages do not exist)."""

    def __init__(self) -> None:
        try:
            self.pattern = reverse("service:ticket_detail", args=[987654321])
            self.list = reverse("service:ticket_list")
        except NoReverseMatch:
            self.pattern = self.list = ""

    def of(self, pk: int) -> str:
        return self.pattern.replace("987654321", str(pk)) if self.pattern else ""

    def listing(self, **params: str) -> str:
        """The ticket list filtered as a digest describes it."""
        return f"{self.list}?{urlencode(params)}" if self.list else ""


def _local(when: dt.datetime | None, user: User) -> str:
    if when is None:
        return ""
    try:
        zone = ZoneInfo(user.time_zone or "UTC")
    except (ValueError, KeyError):
        zone = ZoneInfo("UTC")
    return when.astimezone(zone).strftime("%Y-%m-%d %H:%M")


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= MAX_TEXT else text[: MAX_TEXT - 1] + "…"


def _text(event: str, row: dict[str, Any], user: User) -> str:
    values = {"number": row["number"], "subject": row["subject"]}
    if event == FIRST_RESPONSE_WARNING:
        values["due"] = _local(row["first_response_due_at"], user)
        text = _("%(number)s %(subject)s: the first response is due at %(due)s.") % values
    elif event == RESOLUTION_WARNING:
        values["due"] = _local(row["resolution_due_at"], user)
        text = _("%(number)s %(subject)s: the resolution is due at %(due)s.") % values
    elif event == FIRST_RESPONSE_BREACH:
        values["due"] = _local(row["first_response_due_at"], user)
        text = _("%(number)s %(subject)s missed its first-response target (%(due)s).") % values
    elif event == RESOLUTION_BREACH:
        values["due"] = _local(row["resolution_due_at"], user)
        text = _("%(number)s %(subject)s missed its resolution target (%(due)s).") % values
    elif row.get("reassigned"):
        text = _("%(number)s %(subject)s missed its SLA and was reassigned to you.") % values
    else:
        text = _("%(number)s %(subject)s missed its SLA and is escalated to you.") % values
    return _short(text)


def _digest_text(event: str, count: int, *, reassigned: bool) -> str:
    values = {"count": count}
    if event == FIRST_RESPONSE_WARNING:
        text = ngettext(
            "%(count)d ticket will miss its first-response target soon.",
            "%(count)d tickets will miss their first-response target soon.",
            count,
        )
    elif event == RESOLUTION_WARNING:
        text = ngettext(
            "%(count)d ticket will miss its resolution target soon.",
            "%(count)d tickets will miss their resolution target soon.",
            count,
        )
    elif event == FIRST_RESPONSE_BREACH:
        text = ngettext(
            "%(count)d ticket missed its first-response target.",
            "%(count)d tickets missed their first-response target.",
            count,
        )
    elif event == RESOLUTION_BREACH:
        text = ngettext(
            "%(count)d ticket breached its resolution target.",
            "%(count)d tickets breached their resolution target.",
            count,
        )
    elif reassigned:
        text = ngettext(
            "%(count)d ticket missed its SLA and was reassigned to you.",
            "%(count)d tickets missed their SLA and were reassigned to you.",
            count,
        )
    else:
        text = ngettext(
            "%(count)d ticket missed its SLA and is escalated to you.",
            "%(count)d tickets missed their SLA and are escalated to you.",
            count,
        )
    return _short(text % values)


VERBS = {
    FIRST_RESPONSE_WARNING: "sla_warning",
    RESOLUTION_WARNING: "sla_warning",
    FIRST_RESPONSE_BREACH: "sla_breach",
    RESOLUTION_BREACH: "sla_breach",
    ESCALATION: "sla_escalation",
}


class _Notifier:
    """Collects the notices of a pass and writes them at once, each (recipient, key) once.

    Per recipient and event: one notice per ticket up to ``DIGEST_AFTER`` tickets, one digest
    above (see the module docstring). The same rules as ``notification_send``: one notice per
    recipient and ``dedupe_key`` (checked here, and by the table's unique constraint), written
    in the recipient's language, e-mailed after commit when an e-mail server is configured.
    """

    def __init__(self, now: dt.datetime) -> None:
        self.users: dict[int, User | None] = {}
        self.urls = _Urls()
        self.now = now
        self.created = timezone.now()
        self.pending: dict[tuple[int, str], _NoticeRow] = {}
        self.sent = 0
        self.digests = 0

    def load(self, ids: Iterable[int | None]) -> None:
        missing = {i for i in ids if i is not None and i not in self.users}
        if missing:
            found = User.objects.in_bulk(missing)
            for pk in missing:
                self.users[pk] = found.get(pk)

    def user(self, user_id: int | None) -> User | None:
        user = self.users.get(user_id) if user_id is not None else None
        return user if user is not None and user.is_active else None

    def notify(
        self,
        event: str,
        by_recipient: dict[int, list[dict[str, Any]]],
        *,
        key: Callable[[dict[str, Any]], str],
        reassigned: bool = False,
        digest_filters: dict[str, str] | None = None,
    ) -> None:
        """Queue the notices of ``event`` about the tickets (rows) of each recipient."""
        self.load(by_recipient)
        for user_id, rows in by_recipient.items():
            user = self.user(user_id)
            if user is None or not rows:
                continue
            with translation.override(user.language or settings.LANGUAGE_CODE):
                if len(rows) > DIGEST_AFTER:
                    self._digest(user, event, rows, reassigned, digest_filters)
                else:
                    for row in rows:
                        self._single(user, event, {**row, "reassigned": reassigned}, key(row))

    def _single(self, user: User, event: str, row: dict[str, Any], key: str) -> None:
        dedupe_key = f"service.sla:{row['pk']}:{key}"
        if (user.pk, dedupe_key) in self.pending:
            return
        self.pending[(user.pk, dedupe_key)] = _NoticeRow(
            user=user,
            values=(
                user.pk,
                VERBS[event],
                _text(event, row, user),
                self.urls.of(row["pk"]),
                "service.ticket",
                row["pk"],
                dedupe_key,
                self.created,
            ),
        )

    def _digest(
        self,
        user: User,
        event: str,
        rows: list[dict[str, Any]],
        reassigned: bool,
        filters: dict[str, str] | None,
    ) -> None:
        # Unique per run, recipient and event; the tickets' flags keep it to one a run.
        first = min(row["pk"] for row in rows)
        dedupe_key = f"service.sla:digest:{event}:{self.now:%Y%m%dT%H%M%S.%f}:{first}"
        if filters is None:
            state = (
                "warning" if event in (FIRST_RESPONSE_WARNING, RESOLUTION_WARNING) else "breached"
            )
            filters = {"status": "active", "sla": state, "owner": "mine"}
        self.pending[(user.pk, dedupe_key)] = _NoticeRow(
            user=user,
            values=(
                user.pk,
                VERBS[event],
                _digest_text(event, len(rows), reassigned=reassigned),
                self.urls.listing(**filters),
                "service.ticket",
                None,
                dedupe_key,
                self.created,
            ),
        )

    def flush(self) -> None:
        """Write the collected notices (inside the pass's transaction)."""
        if not self.pending:
            return
        pending, self.pending = self.pending, {}
        existing: set[tuple[int, str]] = set()
        pairs = list(pending)
        for part in _chunks(pairs):
            # The exclude repeats the unique index's condition so that SQLite uses it.
            existing.update(
                Notification.objects.exclude(dedupe_key="")
                .filter(
                    recipient_id__in={user for user, _key in part},
                    dedupe_key__in={key for _user, key in part},
                )
                .values_list("recipient_id", "dedupe_key")
            )
        new = {pair: notice for pair, notice in pending.items() if pair not in existing}
        if not new:
            return
        _insert_notices([notice.values for notice in new.values()])
        self.sent += len(new)
        self.digests += sum(1 for notice in new.values() if notice.values[5] is None)
        if email_configured():
            wanted = [pair for pair, notice in new.items() if notice.user.email]
            ids: list[int] = []
            for part in _chunks(wanted):
                keys = set(part)
                ids.extend(
                    pk
                    for pk, user, key in Notification.objects.exclude(dedupe_key="")
                    .filter(
                        recipient_id__in={user for user, _key in part},
                        dedupe_key__in={key for _user, key in part},
                        emailed_at__isnull=True,
                    )
                    .values_list("pk", "recipient_id", "dedupe_key")
                    if (user, key) in keys
                )
            if ids:
                transaction.on_commit(lambda: _enqueue_emails(ids))


@dataclass(frozen=True)
class _NoticeRow:
    user: User
    values: tuple[Any, ...]


NOTICE_COLUMNS = (
    "recipient_id",
    "verb",
    "text",
    "url",
    "model",
    "object_id",
    "dedupe_key",
    "created_at",
)


def _insert_notices(rows: list[tuple[Any, ...]]) -> None:
    """Multi-row inserts that skip a (recipient, key) already there (a concurrent run).

    Written without model instances: a catch-up after downtime can still write thousands of
    notices (owners with a few events each), and an ORM statement per value dominated.
    """
    vendor = connection.vendor
    if vendor not in ("sqlite", "postgresql"):  # pragma: no cover - the two supported engines
        Notification.objects.bulk_create(
            [Notification(**dict(zip(NOTICE_COLUMNS, row, strict=True))) for row in rows],
            ignore_conflicts=True,
        )
        return
    quote = connection.ops.quote_name
    columns = ", ".join(quote(c) for c in NOTICE_COLUMNS)
    marks = ", ".join(["%s"] * len(NOTICE_COLUMNS))
    table = quote(Notification._meta.db_table)
    if vendor == "sqlite":
        sql = f"INSERT OR IGNORE INTO {table} ({columns}) VALUES ({marks})"  # noqa: S608
    else:
        sql = f"INSERT INTO {table} ({columns}) VALUES ({marks}) ON CONFLICT DO NOTHING"  # noqa: S608
    adapt = connection.ops.adapt_datetimefield_value
    with connection.cursor() as cursor:
        cursor.executemany(sql, [(*row[:-1], adapt(row[-1])) for row in rows])


def _enqueue_emails(ids: list[int]) -> None:
    """Queue the e-mails of the notices, ``EMAILS_PER_TASK`` to a background task."""
    from vefa.service.tasks import send_notification_emails

    for part in _chunks(ids, EMAILS_PER_TASK):
        try:
            send_notification_emails.enqueue(notification_ids=list(part))
        except Exception:
            logger.warning("could not queue e-mails of notifications %s", part, exc_info=True)


ROW_FIELDS = (
    "pk",
    "number",
    "subject",
    "owner_id",
    "status",
    "reopen_count",
    "escalated_at",
    "first_response_due_at",
    "resolution_due_at",
    "sla_policy__escalation",
    "sla_policy__escalate_to_id",
)


def _mark(due: QuerySet[Ticket], update: dict[str, Any]) -> list[dict[str, Any]]:
    """Lock the tickets that still qualify, apply ``update`` to them, chunk by chunk.

    Called inside the pass's transaction; returns the rows as they were before the update.
    """
    ids = list(due.values_list("pk", flat=True))
    rows: list[dict[str, Any]] = []
    for chunk in _chunks(ids):
        locked = list(due.filter(pk__in=chunk).select_for_update(of=("self",)).values(*ROW_FIELDS))
        if locked:
            Ticket.objects.filter(pk__in=[r["pk"] for r in locked]).update(**update)
            rows.extend(locked)
    return rows


def _once(event: str) -> Callable[[dict[str, Any]], str]:
    """The notice key of an event a ticket has once."""
    return lambda row: event


def _per_reopen(event: str) -> Callable[[dict[str, Any]], str]:
    """The notice key of an event a ticket has once per reopening (the warnings)."""
    return lambda row: f"{event}:{row['reopen_count']}"


def _by(rows: Iterable[dict[str, Any]], field: str) -> dict[int, list[dict[str, Any]]]:
    groups: dict[int, list[dict[str, Any]]] = {}
    for row in rows:
        if row[field] is not None:
            groups.setdefault(row[field], []).append(row)
    return groups


# --- what falls due: each a range scan on one of the ticket's partial indexes (the queries
# repeat the indexes' conditions, see ``Ticket.Meta.indexes``) ---------------------------------


def due_breaches(now: dt.datetime) -> tuple[QuerySet[Ticket], QuerySet[Ticket]]:
    """The tickets whose first-response, and whose resolution, target has passed unmarked."""
    return (
        Ticket.objects.filter(WATCHED_FIRST_RESPONSE, first_response_due_at__lt=now),
        Ticket.objects.filter(WATCHED_RESOLUTION, resolution_due_at__lt=now),
    )


def due_warnings(now: dt.datetime, *, first: bool) -> QuerySet[Ticket]:
    """The tickets whose first-response (or resolution) clock reached its warning share."""
    if first:
        return Ticket.objects.filter(
            first_response_warn_at__lte=now,
            sla_state__in=ACTIVE_STATES,
            first_responded_at__isnull=True,
        )
    return Ticket.objects.filter(resolution_warn_at__lte=now, sla_state__in=ACTIVE_STATES)


def awaiting_reassignment() -> QuerySet[Ticket]:
    """Open breached tickets whose policy reassigns them and that are not escalated yet."""
    return Ticket.objects.filter(
        AWAITING_ESCALATION, sla_policy__escalation=EscalationAction.REASSIGN
    ).order_by("pk")


def _warnings(now: dt.datetime, notifier: _Notifier, counts: dict[str, int]) -> None:
    """Mark the due warnings of both clocks and tell the owners, in one transaction."""
    with transaction.atomic():
        for first in (True, False):
            field = "first_response_warn_at" if first else "resolution_warn_at"
            event = FIRST_RESPONSE_WARNING if first else RESOLUTION_WARNING
            due = due_warnings(now, first=first)
            rows = _mark(
                due,
                {
                    field: None,
                    "sla_warned_at": now,
                    "sla_state": Case(
                        When(sla_state=SlaState.BREACHED, then=Value(SlaState.BREACHED)),
                        default=Value(SlaState.WARNING),
                    ),
                },
            )
            notifier.notify(
                event,
                _by(rows, "owner_id"),
                key=_per_reopen(event),
            )
            counts[event + "s"] += len(rows)
        notifier.flush()


BREACH_FIELDS = (
    *ROW_FIELDS,
    "first_responded_at",
    "first_response_breached",
    "resolution_breached",
)


def _breaches(now: dt.datetime, notifier: _Notifier, counts: dict[str, int]) -> None:
    """Mark the breaches of both clocks, tell the owners and escalate, in one transaction.

    Each ticket is written once however many of its events fall due (a first-response and
    a resolution breach, the escalation by notice): on PostgreSQL every row version costs
    an entry in each of the ticket table's indexes, which is most of a catch-up's time.
    """
    first, resolution = due_breaches(now)
    # Two range scans, each on its own index, joined here.
    ids = sorted(
        set(first.values_list("pk", flat=True)) | set(resolution.values_list("pk", flat=True))
    )
    if not ids:
        return
    due = first | resolution
    with transaction.atomic():
        first_rows: list[dict[str, Any]] = []
        resolution_rows: list[dict[str, Any]] = []
        escalated: list[dict[str, Any]] = []
        for chunk in _chunks(ids):
            rows = list(
                due.filter(pk__in=chunk).select_for_update(of=("self",)).values(*BREACH_FIELDS)
            )
            notifier.load(r["sla_policy__escalate_to_id"] for r in rows)
            variants: dict[tuple[bool, bool, bool], list[int]] = {}
            for row in rows:
                frd = row["first_response_due_at"]
                rd = row["resolution_due_at"]
                fr = (
                    row["first_responded_at"] is None
                    and not row["first_response_breached"]
                    and frd is not None
                    and frd < now
                )
                res = not row["resolution_breached"] and rd is not None and rd < now
                # ``notify`` (and ``reassign`` without an active contact other than the
                # owner) escalates here; reassignments are left to ``_reassign_pending``.
                esc = row["escalated_at"] is None and not _wants_reassign(row, notifier)
                variants.setdefault((fr, res, esc), []).append(row["pk"])
                if fr:
                    first_rows.append(row)
                if res:
                    resolution_rows.append(row)
                if esc:
                    escalated.append(row)
            for (fr, res, esc), pks in variants.items():
                update: dict[str, Any] = {"sla_state": SlaState.BREACHED}
                if fr:
                    update.update(first_response_breached=True, first_response_warn_at=None)
                if res:
                    update.update(resolution_breached=True, resolution_warn_at=None)
                if esc:
                    update["escalated_at"] = now
                Ticket.objects.filter(pk__in=pks).update(**update)
        notifier.notify(
            FIRST_RESPONSE_BREACH, _by(first_rows, "owner_id"), key=_once(FIRST_RESPONSE_BREACH)
        )
        notifier.notify(
            RESOLUTION_BREACH, _by(resolution_rows, "owner_id"), key=_once(RESOLUTION_BREACH)
        )
        told = [
            r
            for r in escalated
            if r["sla_policy__escalate_to_id"] is not None
            and r["sla_policy__escalate_to_id"] != r["owner_id"]
        ]
        notifier.notify(
            ESCALATION,
            _by(told, "sla_policy__escalate_to_id"),
            key=_once(ESCALATION),
            digest_filters={"status": "active", "sla": "breached"},
        )
        counts[FIRST_RESPONSE_BREACH + "es"] += len(first_rows)
        counts[RESOLUTION_BREACH + "es"] += len(resolution_rows)
        counts["escalations"] += len(escalated)
        notifier.flush()


def _wants_reassign(row: dict[str, Any], notifier: _Notifier) -> bool:
    target = notifier.user(row["sla_policy__escalate_to_id"])
    return (
        row["sla_policy__escalation"] == EscalationAction.REASSIGN
        and target is not None
        and target.pk != row["owner_id"]
    )


def _reassign_pending(
    now: dt.datetime, notifier: _Notifier, *, limit: int, deadline: float | None = None
) -> int:
    """Hand breached tickets to their policy's escalation contact, at most ``limit`` a run.

    Each goes through the records service (change log "system", an updated event, search
    index), a few queries per ticket, so a run after long downtime is bounded and the rest
    follow one run later each; ``escalated_at`` marks the ones done. None are started after
    ``deadline`` (a ``time.monotonic()`` instant). The batch is one
    transaction, so the new owners' notices (a digest above ``DIGEST_AFTER``) commit with it.
    """
    from vefa.platform.records import record_update

    pending = list(awaiting_reassignment().values(*ROW_FIELDS)[:limit])
    if not pending:
        return 0
    notifier.load(r["sla_policy__escalate_to_id"] for r in pending)
    done = 0
    moved_to: dict[int, list[dict[str, Any]]] = {}
    told: dict[int, list[dict[str, Any]]] = {}
    with transaction.atomic():
        for row in pending:
            if deadline is not None and time.monotonic() >= deadline:
                break
            target = notifier.user(row["sla_policy__escalate_to_id"])
            locked = (
                Ticket.objects.select_for_update()
                .filter(pk=row["pk"], escalated_at__isnull=True)
                .values("owner_id")
                .first()
            )
            if locked is None:
                continue
            owner = locked["owner_id"]
            moved = False
            if target is not None and target.pk != owner:
                try:
                    with transaction.atomic():
                        record_update(
                            Ticket(pk=row["pk"]),
                            actor=None,
                            data={"owner": target, "escalated_at": now},
                        )
                    moved = True
                except ValidationFailed:
                    logger.warning("SLA escalation could not reassign ticket %s", row["pk"])
            if not moved:
                Ticket.objects.filter(pk=row["pk"]).update(escalated_at=now)
            if target is not None and moved:
                moved_to.setdefault(target.pk, []).append(row)
            elif target is not None and target.pk != owner:
                told.setdefault(target.pk, []).append(row)
            done += 1
        notifier.notify(
            ESCALATION,
            moved_to,
            key=_once(ESCALATION),
            reassigned=True,
            digest_filters={"status": "active", "sla": "breached", "owner": "mine"},
        )
        notifier.notify(
            ESCALATION,
            told,
            key=_once(ESCALATION),
            digest_filters={"status": "active", "sla": "breached"},
        )
        notifier.flush()
    return done


def sla_evaluate(*, now: dt.datetime | None = None) -> dict[str, int]:
    """Mark due warnings and breaches, notify once per ticket and event, escalate.

    Each step is a range scan over the indexed due or warning instants followed by one
    UPDATE per chunk of tickets and one bulk insert of the notices; a pass's flags,
    escalations and notices commit together, so a crash leaves nothing half done and the
    next run finishes the job. ``notifications`` counts the notices actually written,
    ``digests`` how many of them are digests.
    """
    started = time.monotonic()
    now = _now(now)
    counts = {
        FIRST_RESPONSE_BREACH + "es": 0,
        RESOLUTION_BREACH + "es": 0,
        FIRST_RESPONSE_WARNING + "s": 0,
        RESOLUTION_WARNING + "s": 0,
        "escalations": 0,
        "notifications": 0,
        "digests": 0,
    }
    notifier = _Notifier(now)
    _breaches(now, notifier, counts)
    _warnings(now, notifier, counts)
    counts["escalations"] += _reassign_pending(
        now, notifier, limit=REASSIGN_PER_RUN, deadline=started + REASSIGN_AFTER_SECONDS
    )
    counts["notifications"] = notifier.sent
    counts["digests"] = notifier.digests
    return counts
