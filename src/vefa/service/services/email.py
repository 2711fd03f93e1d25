"""E-mail for the help desk: inbound messages become tickets or thread into one; public replies
go out by SMTP with threading headers; a mailbox is polled over IMAP.

Inbound (``inbound_receive``): a message seen before (same Message-ID) is ignored, and so is
automatic mail (auto-replies, bounces, lists) and mail from the help desk's own addresses (no
loops). Otherwise it threads into a ticket by In-Reply-To / References (matching a message's or
a ticket's Message-ID), else by a ticket reference ``[T-2026-000123]`` in the subject when the
sender belongs to that ticket (a stranger cannot write into someone else's ticket by quoting
its number), else it opens a new ticket in the queue whose address it was sent to. The sender
is matched to a customer by e-mail; a person who works at an organisation is the contact and
the organisation the customer. Attachments go through the upload rules; a refused one is
named in the message, which is stored all the same.

Batches (``inbound_process_batch``, used by the IMAP poll): several messages in one
transaction, a savepoint each, so a message that fails is reported and leaves nothing behind
while the others are stored; the commit, the search index and the per-run lookups (queue
addresses, custom-field definitions) are paid once per batch. The IMAP poll reads messages
without marking them and marks them seen only after their batch committed.

Outbound (``reply_enqueue`` → task → ``reply_send``): a new Message-ID on the help desk's
domain is stored on the reply, with In-Reply-To the customer's last message and References
the chain; the delivery status (queued, sent, failed with the error) is kept on the message.
"""

from __future__ import annotations

import contextlib
import datetime
import hashlib
import imaplib
import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from email.utils import make_msgid
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile, UploadedFile
from django.core.mail import EmailMessage
from django.db import connection, transaction
from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from django.utils.translation import gettext as _

from vefa.common.errors import ValidationFailed
from vefa.customers.choices import CustomerKind, RelationshipKind
from vefa.customers.models import Customer
from vefa.customers.normalize import normalize_email
from vefa.interactions.services.attachments import ALLOWED_TYPES, clean_file_name
from vefa.service.choices import DeliveryStatus, MessageKind, TicketChannel
from vefa.service.inbound import (
    MAX_ATTACHMENTS,
    InboundAttachment,
    ParsedEmail,
    clean_line,
    parse_message,
)
from vefa.service.models import MailboxState, Queue, Ticket, TicketMessage

logger = logging.getLogger(__name__)

# The part of a ticket number put in e-mail subjects: "[T-2026-000123]".
_REFERENCE = re.compile(r"\[(T-\d{4}-\d{6,})\]")
_REPLY_PREFIX = re.compile(r"^\s*((re|aw|sv|fw|fwd|ynt|ilt|odg|ПР|Отг|پاسخ)\s*:\s*)+", re.I)
# What the ticket services accept as a message (bytes of UTF-8), with room for notes.
MAX_STORED_BODY_BYTES = 90 * 1024
SYNTHETIC_ID_DOMAIN = "@no-message-id.invalid>"
# At most this many messages a poll; stored in transactions of at most this many messages
# and about this many bytes of raw mail.
IMAP_BATCH = 200
IMAP_COMMIT_MESSAGES = 50
IMAP_COMMIT_BYTES = 32 * 1024 * 1024
IMAP_TIMEOUT = 30
MAX_DELIVERY_ERROR = 500


@dataclass
class InboundResult:
    """What became of one inbound message."""

    # "created", "threaded", "duplicate" or "ignored"; in a batch also "refused" (the rules
    # refuse the message) or "failed" (an unexpected error; nothing of it was stored).
    status: str
    message: TicketMessage | None = None
    ticket: Ticket | None = None
    reason: str = ""
    error: BaseException | None = None

    @property
    def threaded(self) -> bool:
        return self.status == "threaded"


# --- customers and queues ---------------------------------------------------------------------


# What threading and the ticket services need of a matched customer (a narrow read).
def _customer_sql() -> tuple[str, str]:
    """The two reads of ``customer_for_address`` as SQL: each runs for every inbound message,
    and building them through the ORM cost more than running them. Names come from the
    models; each branch uses its own index (contact points by address, customers by primary
    e-mail, relationships by person)."""
    customer = Customer._meta.db_table
    point = Customer._meta.get_field("contact_points").related_model._meta.db_table  # type: ignore[union-attr]
    link = Customer._meta.get_field("relationships_to").related_model._meta.db_table  # type: ignore[union-attr]
    columns = ", ".join(f"c.{name}" for name in _CUSTOMER_COLUMNS)
    # Names from the models, every value a parameter.
    by_address = (
        f"SELECT {', '.join(_CUSTOMER_COLUMNS)} FROM ("  # noqa: S608
        f"SELECT {columns}, 0 AS found_by, "
        "CASE WHEN p.is_primary THEN 0 ELSE 1 END AS point_order "
        f"FROM {customer} c INNER JOIN {point} p ON p.customer_id = c.id "
        "WHERE p.kind = %s AND p.normalized = %s AND c.merged_into_id IS NULL "
        f"UNION ALL SELECT {columns}, 1 AS found_by, 0 AS point_order FROM {customer} c "
        "WHERE c.primary_email = %s AND c.merged_into_id IS NULL"
        ") found ORDER BY found_by, point_order, id LIMIT 1"
    )
    employer = (
        f"SELECT {columns} FROM {customer} c "  # noqa: S608
        f"INNER JOIN {link} r ON r.to_customer_id = c.id "
        "WHERE r.from_customer_id = %s AND r.kind = %s "
        "AND (r.end_date IS NULL OR r.end_date >= %s) AND c.merged_into_id IS NULL "
        "ORDER BY r.start_date DESC, c.id LIMIT 1"
    )
    return by_address, employer


_CUSTOMER_COLUMNS = ("id", "kind", "display_name", "primary_email", "owner_id", "team_id")
_CUSTOMER_SQL: tuple[str, str] | None = None


def customer_for_address(address: str) -> tuple[Customer | None, Customer | None]:
    """(customer, contact person) for an e-mail address; (None, None) when nobody has it.

    Contact points come first (any of a customer's addresses, the primary one first), then
    the primary e-mail column. A person who works at an organisation writes for it: the
    organisation is the customer and the person the contact.
    """
    global _CUSTOMER_SQL
    if not address:
        return None, None
    if _CUSTOMER_SQL is None:
        _CUSTOMER_SQL = _customer_sql()
    by_address, employer_sql = _CUSTOMER_SQL
    found = next(iter(Customer.objects.raw(by_address, ["email", address, address])), None)
    if found is None:
        return None, None
    if found.kind != CustomerKind.PERSON:
        return found, None
    today = connection.ops.adapt_datefield_value(timezone.localdate())
    employer = next(
        iter(Customer.objects.raw(employer_sql, [found.pk, RelationshipKind.WORKS_AT, today])),
        None,
    )
    if employer is not None:
        return employer, found
    return found, found


def _queue_addresses() -> list[tuple[int, str, bool]]:
    """(id, lower-cased address, active) of every queue with an address (a small table)."""
    return [
        (pk, address.lower(), active)
        for pk, address, active in Queue.objects.exclude(email_address="").values_list(
            "pk", "email_address", "is_active"
        )
    ]


def _own_addresses(queues: list[tuple[int, str, bool]] | None = None) -> set[str]:
    addresses = {address for _pk, address, _active in (queues or _queue_addresses())}
    default = str(getattr(settings, "DEFAULT_FROM_EMAIL", "") or "")
    match = re.search(r"[^<>\s]+@[^<>\s]+", default)
    if match:
        addresses.add(match.group(0).lower())
    return addresses


def _queue_id_for(
    recipients: Sequence[str], queues: list[tuple[int, str, bool]] | None = None
) -> int | None:
    """The id of the active queue whose address the message was sent to (the first listed
    wins); no query when ``queues`` is given."""
    wanted = [r.lower() for r in recipients if r]
    if not wanted:
        return None
    by_address = {address: pk for pk, address, active in (queues or _queue_addresses()) if active}
    for address in wanted:
        if address in by_address:
            return by_address[address]
    return None


def queue_for_recipients(
    recipients: Sequence[str], queues: list[tuple[int, str, bool]] | None = None
) -> Queue | None:
    """The active queue whose address the message was sent to (the first listed wins)."""
    pk = _queue_id_for(recipients, queues)
    return Queue.objects.filter(pk=pk).first() if pk is not None else None


# --- inbound --------------------------------------------------------------------------------


def _valid_email(address: str) -> str:
    """The address when Django's validator takes it (the model fields use it), else ""."""
    try:
        return normalize_email(address) if address else ""
    except ValueError:
        return ""


def _lock_message_id(message_id: str) -> None:
    """Serialise deliveries of the same Message-ID (IMAP and the endpoint at once)."""
    if connection.vendor != "postgresql":
        return  # SQLite runs one writer at a time
    key = int.from_bytes(hashlib.sha256(message_id.encode()).digest()[:8], "big", signed=True)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [key])


def _known_ids(parsed: ParsedEmail) -> tuple[bool, int | None]:
    """Whether the message was seen before (its Message-ID is stored), and the id of the
    ticket it answers by In-Reply-To / References (the nearest known one): one query."""
    candidates: list[str] = []
    for mid in [parsed.in_reply_to, *reversed(parsed.references)]:
        if mid and mid not in candidates and not mid.endswith(SYNTHETIC_ID_DOMAIN):
            candidates.append(mid)
    wanted = [parsed.message_id, *candidates]
    marks = ", ".join(["%s"] * len(wanted))
    # One statement for both tables (each by its Message-ID index); a message's own row
    # first, the earliest message of a Message-ID wins, as a stored ticket's does.
    sql = (
        f"SELECT 0, message_id, ticket_id, id FROM {TicketMessage._meta.db_table} "  # noqa: S608
        f"WHERE message_id IN ({marks}) "
        f"UNION ALL SELECT 1, message_id, id, id FROM {Ticket._meta.db_table} "
        f"WHERE message_id IN ({marks})"
    )
    by_message: dict[str, int] = {}
    by_ticket: dict[str, int] = {}
    with connection.cursor() as cursor:
        cursor.execute(sql, [*wanted, *wanted])
        for source, mid, ticket_id, _id in sorted(cursor.fetchall(), key=lambda r: -r[3]):
            (by_message if source == 0 else by_ticket)[mid] = ticket_id
    if parsed.message_id in by_message or parsed.message_id in by_ticket:
        return True, None
    for mid in candidates:
        ticket_id = by_message.get(mid) or by_ticket.get(mid)
        if ticket_id is not None:
            return False, int(ticket_id)
    return False, None


def _thread_by_reference(
    parsed: ParsedEmail, customer: Customer | None, contact: Customer | None
) -> Ticket | None:
    match = _REFERENCE.search(parsed.subject)
    if match is None:
        return None
    ticket = Ticket.objects.filter(number=match.group(1)).first()
    if ticket is None:
        return None
    sender = parsed.from_email
    known = {c.pk for c in (customer, contact) if c is not None}
    if (
        (sender and ticket.requester_email.lower() == sender)
        or (ticket.customer_id is not None and ticket.customer_id in known)
        or (ticket.contact_id is not None and ticket.contact_id in known)
    ):
        return ticket
    logger.info("ignored the ticket reference %s from a stranger", match.group(1))
    return None


def _uploads(
    attachments: Sequence[InboundAttachment],
) -> tuple[list[UploadedFile], list[str]]:
    """The attachments the upload rules may take, and a note for each one refused here."""
    limit = int(settings.VEFA_ATTACHMENT_MAX_BYTES)
    accepted: list[UploadedFile] = []
    refused: list[str] = []
    for attachment in attachments:
        name = clean_file_name(attachment.name) or "attachment"
        extension = name.rpartition(".")[2].lower() if "." in name else ""
        if len(accepted) >= MAX_ATTACHMENTS:
            refused.append(f"{name}: " + _("too many files in one message."))
        elif extension not in ALLOWED_TYPES:
            refused.append(f"{name}: " + _("this type of file is not allowed."))
        elif not attachment.data:
            refused.append(f"{name}: " + _("the file is empty."))
        elif len(attachment.data) > limit:
            refused.append(
                f"{name}: "
                + _("the file is larger than %(limit)s.") % {"limit": filesizeformat(limit)}
            )
        else:
            accepted.append(
                SimpleUploadedFile(name, attachment.data, content_type=ALLOWED_TYPES[extension])
            )
    return accepted, refused


def _with_notes(body: str, refused: Sequence[str]) -> str:
    text = body
    if refused:
        lines = "\n".join(f"- {clean_line(note, 300)}" for note in refused)
        text = (text + "\n\n" if text else "") + _("Attachments not kept:") + "\n" + lines
    data = text.encode("utf-8")
    if len(data) > MAX_STORED_BODY_BYTES:
        cut = data[:MAX_STORED_BODY_BYTES].decode("utf-8", errors="ignore").rstrip()
        text = cut + "\n\n" + _("[The rest of this message was cut off.]")
    return text


def _refused_name(exc: ValidationFailed, files: Sequence[UploadedFile]) -> int | None:
    """Which of ``files`` the ticket services refused (by the name their message starts with)."""
    for message in exc.fields.get("attachments", []):
        for index, upload in enumerate(files):
            name = str(upload.name or "")[:100]
            if name and str(message).startswith(f"{name}: "):
                return index
    return None


def _store(deliver: Any, files: list[UploadedFile]) -> Any:
    """Call ``deliver(refused, files)``, with files in a savepoint: when the upload rules refuse
    a file, try again without it and with its name and reason in ``refused`` (the message is
    stored all the same). Call inside a transaction."""
    refused: list[str] = []
    remaining = list(files)
    if not remaining:
        # Nothing to try again without: the caller's transaction (or savepoint) is enough.
        return deliver(refused, remaining)
    while True:
        try:
            with transaction.atomic():
                return deliver(refused, remaining)
        except ValidationFailed as exc:
            if "attachments" not in exc.fields or not remaining:
                raise
            index = _refused_name(exc, remaining)
            if index is None:
                # Refused as a whole (e.g. no customer to keep files for): keep none.
                reason = "; ".join(str(m) for m in exc.fields["attachments"])[:200]
                refused.extend(f"{u.name}: {reason}" for u in remaining)
                remaining = []
            else:
                upload = remaining.pop(index)
                messages = [str(m) for m in exc.fields["attachments"]]
                refused.append(messages[0] if messages else f"{upload.name}")


# Other apps that want to see inbound messages (marketing: bounces of campaign mail and
# replies to it) register a function ``(raw, parsed) -> None`` with a quick test ``wants``
# (no queries: the help desk's cost per message is pinned); the function runs in a savepoint
# of the message's transaction, so what it records is stored exactly when the message is,
# and a failing observer is logged without costing the help desk the message.
InboundObserver = Callable[[bytes, ParsedEmail], None]
_observers: list[tuple[InboundObserver, Callable[[bytes, ParsedEmail], bool] | None]] = []


def register_inbound_observer(
    observer: InboundObserver, *, wants: Callable[[bytes, ParsedEmail], bool] | None = None
) -> InboundObserver:
    """Have ``observer`` see the inbound messages ``wants`` says yes to (idempotent)."""
    if all(known is not observer for known, _wants in _observers):
        _observers.append((observer, wants))
    return observer


def _observe(raw: bytes, parsed: ParsedEmail) -> None:
    for observer, wants in list(_observers):
        if wants is not None and not wants(raw, parsed):
            continue
        try:
            with transaction.atomic():
                observer(raw, parsed)
        except Exception:
            logger.exception("an inbound mail observer failed on %s", parsed.message_id)


def _parse(raw: bytes) -> ParsedEmail:
    trim = bool(getattr(settings, "VEFA_SERVICE_INBOUND_TRIM_QUOTES", True))
    return parse_message(raw, trim_quotes=trim)


def inbound_process(*, raw: bytes, mailbox: str = "") -> InboundResult:
    """Take in one raw message and say what became of it (see the module's description).
    Raises ``ValidationFailed`` (``MessageTooLarge``) for a message that cannot be taken."""
    return _deliver(_parse(raw), mailbox=mailbox, queues=None, raw=raw)


def _deliver(
    parsed: ParsedEmail,
    *,
    mailbox: str,
    queues: list[tuple[int, str, bool]] | None,
    raw: bytes = b"",
) -> InboundResult:
    """Store one parsed message in a transaction of its own (a savepoint inside a batch)."""
    from vefa.service.services.tickets import ticket_create_with_message, ticket_message_add

    if parsed.is_automatic:
        _observe(raw, parsed)  # a bounce of campaign mail, say
        return InboundResult(status="ignored", reason=parsed.auto_reason)
    if queues is None:
        queues = _queue_addresses()
    if parsed.from_email and parsed.from_email in _own_addresses(queues):
        return InboundResult(status="ignored", reason="own-address")
    with transaction.atomic():
        _lock_message_id(parsed.message_id)
        duplicate, ticket_id = _known_ids(parsed)
        if duplicate:
            return InboundResult(status="duplicate", reason="message-id")
        _observe(raw, parsed)
        sender = _valid_email(parsed.from_email)
        customer, contact = customer_for_address(sender)
        author_contact = contact or customer
        if ticket_id is None:
            by_reference = _thread_by_reference(parsed, customer, contact)
            ticket_id = by_reference.pk if by_reference is not None else None
        files, refused_here = _uploads(parsed.attachments)
        references = " ".join(parsed.references)
        author: dict[str, Any] = {
            "author_contact": author_contact,
            "author_email": sender,
            "author_name": parsed.from_name,
            "message_id": parsed.message_id,
            "in_reply_to": parsed.in_reply_to,
            "references": references,
        }
        if ticket_id is not None:
            target: int = ticket_id

            def add(refused: list[str], remaining: list[UploadedFile]) -> TicketMessage:
                body = _with_notes(parsed.body, [*refused_here, *refused])
                if not body and not remaining:
                    body = _("(The e-mail had no text.)")
                return ticket_message_add(
                    actor=None,
                    ticket_id=target,
                    kind=MessageKind.CUSTOMER,
                    body=body,
                    attachments=remaining,
                    **author,
                )

            message = _store(add, files)
            return InboundResult(status="threaded", message=message, ticket=message.ticket)

        recipients = list(parsed.recipients)
        if "@" in mailbox:
            recipients.append(mailbox.strip().lower())
        queue_id = _queue_id_for(recipients, queues)
        data: dict[str, Any] = {
            "subject": parsed.subject or _("(no subject)"),
            "channel": TicketChannel.EMAIL,
            "requester_email": _valid_email(parsed.sender),
            "requester_name": parsed.from_name,
        }
        if customer is not None:
            data["customer"] = customer.pk
        if contact is not None:
            data["contact"] = contact.pk
        if queue_id is not None:
            data["queue"] = queue_id

        def create(
            refused: list[str], remaining: list[UploadedFile]
        ) -> tuple[Ticket, TicketMessage | None]:
            description = _with_notes(parsed.body, [*refused_here, *refused])
            if not description:
                description = _("(The e-mail had no text.)")
            return ticket_create_with_message(
                actor=None,
                data={**data, "description": description},
                attachments=remaining,
                **author,
            )

        ticket, first = _store(create, files)
        return InboundResult(status="created", message=first, ticket=ticket)


class BatchAborted(Exception):
    """The batch's transaction can no longer commit (the database failed under a message);
    nothing of the batch was stored."""


def inbound_process_batch(raws: Sequence[bytes], *, mailbox: str = "") -> list[InboundResult]:
    """Take in several raw messages in one transaction, each in a savepoint of its own; one
    result per message, in order.

    A message that cannot be taken is reported in its result and the others are stored:
    ``refused`` for a message the rules refuse (too large …, it will never be taken) and
    ``failed`` for an unexpected error (logged; taking it again may work). Nothing of a failed
    message is left half-written. Everything that runs after a commit (the search index,
    notifications by e-mail) runs once for the batch, and per-run lookups (the queues'
    addresses, custom-field definitions) are read once. The messages are durable when this
    returns; if the transaction itself fails (``BatchAborted`` or a database error is
    raised), none of them is stored.

    Inside a transaction of the caller's, the batch is part of it (and so is its commit).
    """
    from vefa.platform.custom_fields import definitions_cached
    from vefa.platform.search.indexer import deferred

    items: list[tuple[bytes, ParsedEmail] | InboundResult] = []
    for raw in raws:  # outside the transaction: reading takes time and needs no lock
        try:
            items.append((raw, _parse(raw)))
        except ValidationFailed as exc:
            items.append(InboundResult(status="refused", reason=str(exc.message), error=exc))
        except Exception as exc:
            logger.exception("could not read an inbound message")
            items.append(InboundResult(status="failed", reason=_failure(exc), error=exc))
    results: list[InboundResult] = []
    with deferred(), definitions_cached(), transaction.atomic():
        queues = _queue_addresses()
        for item in items:
            if isinstance(item, InboundResult):
                results.append(item)
                continue
            raw, parsed = item
            try:
                results.append(_deliver(parsed, mailbox=mailbox, queues=queues, raw=raw))
            except ValidationFailed as exc:
                results.append(InboundResult(status="refused", reason=str(exc.message), error=exc))
            except Exception as exc:
                logger.exception("could not store the inbound message %s", parsed.message_id)
                results.append(InboundResult(status="failed", reason=_failure(exc), error=exc))
            if transaction.get_rollback():
                # The savepoint could not be rolled back: the transaction is lost as a whole.
                raise BatchAborted(results[-1].reason)
    return results


def _failure(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:MAX_DELIVERY_ERROR]


def inbound_receive(*, raw: bytes, mailbox: str = "") -> TicketMessage | None:
    """Take in one raw RFC 5322 message: the stored customer message, or ``None`` when it was
    a duplicate or ignored (automatic mail, our own mail)."""
    return inbound_process(raw=raw, mailbox=mailbox).message


# --- outbound ---------------------------------------------------------------------------------


def _domain_of(ticket: Ticket) -> str:
    for address in (
        ticket.queue.email_address if ticket.queue is not None else "",
        str(getattr(settings, "DEFAULT_FROM_EMAIL", "") or ""),
    ):
        match = re.search(r"@([A-Za-z0-9.\-]+)", address or "")
        if match:
            return match.group(1).lower()
    return "vefa.invalid"


def _real_id(mid: str) -> bool:
    return bool(mid) and not mid.endswith(SYNTHETIC_ID_DOMAIN)


def reply_enqueue(message: TicketMessage) -> None:
    """Give a public reply its threading headers and queue it; it is sent after commit by a
    background task. Call inside the transaction that stored the reply."""
    ticket = Ticket.objects.select_related("queue").get(pk=message.ticket_id)
    earlier = list(
        TicketMessage.objects.filter(ticket_id=ticket.pk, id__lt=message.pk)
        .exclude(message_id="")
        .order_by("id")
        .values_list("kind", "message_id")
    )
    chain: list[str] = []
    for mid in [ticket.message_id, *(m for _k, m in earlier)]:
        if _real_id(mid) and mid not in chain:
            chain.append(mid)
    if len(chain) > 20:
        chain = [chain[0], *chain[-19:]]
    last_customer = next(
        (m for k, m in reversed(earlier) if k == MessageKind.CUSTOMER and _real_id(m)), ""
    )
    values = {
        "message_id": message.message_id or make_msgid(f"t{ticket.pk}", domain=_domain_of(ticket)),
        "in_reply_to": last_customer,
        "references": " ".join(chain),
        "delivery": DeliveryStatus.QUEUED,
        "delivery_error": "",
    }
    TicketMessage.objects.filter(pk=message.pk).update(**values)
    for key, value in values.items():
        setattr(message, key, value)
    message_pk = message.pk
    transaction.on_commit(lambda: reply_schedule(message_pk))


def reply_schedule(
    message_id: int, attempt: int = 1, delay: datetime.timedelta | None = None
) -> None:
    from vefa.service.tasks_email import send_ticket_reply

    task = send_ticket_reply
    try:
        if delay is not None:
            if not task.get_backend().supports_defer:
                return
            task = task.using(run_after=timezone.now() + delay)
        task.enqueue(message_id=message_id, attempt=attempt)
    except Exception:
        logger.warning("could not queue the e-mail of reply %s", message_id, exc_info=True)


def reply_subject(ticket: Ticket) -> str:
    """ "Re: <subject> [T-…]" without repeated "Re:" prefixes or references."""
    subject = _REFERENCE.sub("", ticket.subject)
    subject = _REPLY_PREFIX.sub("", subject)
    subject = clean_line(subject, 250)
    reference = f"[{ticket.number}]"
    return f"Re: {subject} {reference}" if subject else f"Re: {reference}"


def reply_address(ticket: Ticket) -> str:
    """Where replies go: the requester's e-mail, else the contact's, else the customer's."""
    if ticket.requester_email:
        return str(ticket.requester_email)
    for person in (ticket.contact, ticket.customer):
        if person is not None and person.primary_email:
            return str(person.primary_email)
    return ""


def _set_delivery(message_id: int, status: str, error: str = "") -> None:
    values: dict[str, Any] = {"delivery": status, "delivery_error": error[:MAX_DELIVERY_ERROR]}
    if status == DeliveryStatus.SENT:
        values["sent_at"] = timezone.now()
    TicketMessage.objects.filter(pk=message_id).update(**values)


def reply_send(*, message_id: int) -> bool:
    """E-mail one queued (or failed) public reply over SMTP; ``True`` when the server took it.

    A failure is kept on the message (``failed`` with the error); nothing is raised.
    """
    message = (
        TicketMessage.objects.select_related(
            "ticket", "ticket__queue", "ticket__contact", "ticket__customer"
        )
        .filter(pk=message_id, kind=MessageKind.REPLY)
        .first()
    )
    if message is None or message.delivery not in (DeliveryStatus.QUEUED, DeliveryStatus.FAILED):
        return False
    ticket = message.ticket
    to = reply_address(ticket)
    if not to:
        _set_delivery(message.pk, DeliveryStatus.FAILED, _("The ticket has no e-mail address."))
        return False
    queue_address = ticket.queue.email_address if ticket.queue is not None else ""
    headers = {"Message-ID": message.message_id}
    if message.in_reply_to:
        headers["In-Reply-To"] = message.in_reply_to
    if message.references:
        headers["References"] = message.references
    email = EmailMessage(
        subject=reply_subject(ticket),
        body=message.body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[to],
        reply_to=[queue_address] if queue_address else None,
        headers=headers,
    )
    try:
        if message.interaction_id is not None:
            from vefa.interactions.models import Attachment
            from vefa.interactions.services.attachments import attachment_open

            for attachment in Attachment.objects.filter(interaction_id=message.interaction_id):
                with attachment_open(attachment) as stream:
                    email.attach(attachment.original_name, stream.read(), attachment.content_type)
        email.send(fail_silently=False)
    except Exception as exc:
        logger.warning("could not e-mail reply %s: %s", message.pk, exc)
        _set_delivery(message.pk, DeliveryStatus.FAILED, f"{type(exc).__name__}: {exc}")
        return False
    _set_delivery(message.pk, DeliveryStatus.SENT)
    return True


# --- IMAP -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ImapSettings:
    host: str
    port: int
    user: str
    password: str
    ssl: bool
    mailbox: str

    @property
    def key(self) -> str:
        return f"{self.user}@{self.host}:{self.port}/{self.mailbox}"[:300]


def imap_settings() -> ImapSettings | None:
    host = str(getattr(settings, "VEFA_SERVICE_IMAP_HOST", "") or "")
    if not host:
        return None
    use_ssl = bool(getattr(settings, "VEFA_SERVICE_IMAP_SSL", True))
    return ImapSettings(
        host=host,
        port=int(getattr(settings, "VEFA_SERVICE_IMAP_PORT", 0) or (993 if use_ssl else 143)),
        user=str(getattr(settings, "VEFA_SERVICE_IMAP_USER", "") or ""),
        password=str(getattr(settings, "VEFA_SERVICE_IMAP_PASSWORD", "") or ""),
        ssl=use_ssl,
        mailbox=str(getattr(settings, "VEFA_SERVICE_IMAP_MAILBOX", "") or "INBOX"),
    )


def _check(result: tuple[str, Any], what: str) -> Any:
    status, data = result
    if status != "OK":
        raise imaplib.IMAP4.error(f"{what}: {status} {data!r}")
    return data


_FETCHED_UID = re.compile(rb"\bUID (\d+)")


def _fetched(data: Any) -> dict[int, bytes]:
    """The raw messages of a ``UID FETCH`` answer, by UID."""
    found: dict[int, bytes] = {}
    for item in data or []:
        if isinstance(item, tuple) and len(item) >= 2 and isinstance(item[1], bytes):
            match = _FETCHED_UID.search(item[0] if isinstance(item[0], bytes) else b"")
            if match:
                found[int(match.group(1))] = item[1]
    return found


def _sizes(data: Any) -> dict[int, int]:
    """``UID FETCH (UID RFC822.SIZE)`` answers, by UID."""
    sizes: dict[int, int] = {}
    for item in data or []:
        line = item[0] if isinstance(item, tuple) else item
        if isinstance(line, bytes):
            uid, size = _FETCHED_UID.search(line), re.search(rb"RFC822\.SIZE (\d+)", line)
            if uid and size:
                sizes[int(uid.group(1))] = int(size.group(1))
    return sizes


def _batches(uids: list[int], sizes: dict[int, int]) -> list[list[int]]:
    """UIDs in batches of at most ``IMAP_COMMIT_MESSAGES`` messages and about
    ``IMAP_COMMIT_BYTES`` (a larger message is a batch of its own)."""
    batches: list[list[int]] = []
    current: list[int] = []
    size = 0
    for uid in uids:
        add = sizes.get(uid, 0)
        if current and (len(current) >= IMAP_COMMIT_MESSAGES or size + add > IMAP_COMMIT_BYTES):
            batches.append(current)
            current, size = [], 0
        current.append(uid)
        size += add
    if current:
        batches.append(current)
    return batches


def _uid_set(uids: Sequence[int]) -> str:
    return ",".join(str(uid) for uid in uids)


def imap_poll(*, now: datetime.datetime | None = None) -> int:
    """Take in the mailbox's new messages (UIDs above the last one taken); returns how many
    were taken in. Nothing configured: nothing to do (0).

    Messages are read without marking them (``BODY.PEEK[]``) and stored in batches, one
    transaction each (``inbound_process_batch``); only after a batch committed are its
    messages marked seen on the server and the last UID taken moved on. A process stopped
    half way therefore loses nothing: the uncommitted batch is fetched again next time, and a
    message fetched twice is recognised by its Message-ID. A message the rules refuse (too
    large …) is logged, marked seen and skipped. A message that fails unexpectedly is logged
    and left unseen; the last UID stays before it, so the next run takes it again, and this
    run stops after its batch (the other messages of the batch are stored).
    """
    config = imap_settings()
    if config is None:
        return 0
    now = now or timezone.now()
    state, _created = MailboxState.objects.get_or_create(name=config.key)
    client: imaplib.IMAP4 | None = None
    taken = 0
    error = ""
    try:
        if config.ssl:
            client = imaplib.IMAP4_SSL(config.host, config.port, timeout=IMAP_TIMEOUT)
        else:
            client = imaplib.IMAP4(config.host, config.port, timeout=IMAP_TIMEOUT)
        _check(client.login(config.user, config.password), "LOGIN")
        _check(client.select(f'"{config.mailbox}"'), "SELECT")
        _name, validity_data = client.response("UIDVALIDITY")
        validity = int(validity_data[0]) if validity_data and validity_data[0] else 0
        if validity != state.uid_validity:
            state.uid_validity = validity
            state.last_uid = 0
        data = _check(client.uid("SEARCH", f"UID {state.last_uid + 1}:*"), "UID SEARCH")
        uids = sorted(
            int(u) for u in (data[0] or b"").split() if u.isdigit() and int(u) > state.last_uid
        )[:IMAP_BATCH]
        mailbox = config.user if "@" in config.user else ""
        sizes: dict[int, int] = {}
        if uids:
            sizes = _sizes(
                _check(client.uid("FETCH", _uid_set(uids), "(UID RFC822.SIZE)"), "UID FETCH")
            )
        for batch in _batches(uids, sizes):
            fetched = _fetched(
                _check(client.uid("FETCH", _uid_set(batch), "(UID BODY.PEEK[])"), "UID FETCH")
            )
            present = [uid for uid in batch if uid in fetched]
            results = dict(
                zip(
                    present,
                    inbound_process_batch([fetched[uid] for uid in present], mailbox=mailbox),
                    strict=True,
                )
            )
            # Committed: a message gone from the server meanwhile counts as taken.
            failed = [uid for uid in present if results[uid].status == "failed"]
            for uid in present:
                if results[uid].status == "refused":
                    logger.warning("inbound message UID %s refused: %s", uid, results[uid].reason)
            seen = [uid for uid in present if uid not in failed]
            if seen:
                _check(client.uid("STORE", _uid_set(seen), "+FLAGS", "(\\Seen)"), "UID STORE")
            done = [uid for uid in batch if not failed or uid < failed[0]]
            taken += len(done)
            if done:
                state.last_uid = max(done)
                MailboxState.objects.filter(pk=state.pk).update(
                    uid_validity=state.uid_validity, last_uid=state.last_uid
                )
            if failed:
                error = f"UID {failed[0]}: {results[failed[0]].reason}"[:MAX_DELIVERY_ERROR]
                break
    except Exception as exc:
        error = f"{type(exc).__name__}: {exc}"[:MAX_DELIVERY_ERROR]
        logger.warning("IMAP poll of %s failed: %s", config.key, error)
    finally:
        if client is not None:
            with contextlib.suppress(Exception):
                client.logout()
    MailboxState.objects.filter(pk=state.pk).update(
        uid_validity=state.uid_validity, last_uid=state.last_uid, polled_at=now, last_error=error
    )
    return taken


__all__ = [
    "InboundResult",
    "customer_for_address",
    "imap_poll",
    "inbound_process",
    "inbound_process_batch",
    "inbound_receive",
    "queue_for_recipients",
    "reply_address",
    "reply_enqueue",
    "reply_send",
    "reply_subject",
]
