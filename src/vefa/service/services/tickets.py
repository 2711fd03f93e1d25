"""Tickets: create, update, messages, the status workflow, assignment and merge.

``actor=None`` is the system acting for a customer (inbound e-mail, the portal, the public
form): no access check, and the change log records "system". Every other write needs the
``change`` scope of ``POLICIES["service.ticket"]`` on the ticket; a ticket the actor may not
change is reported as not found.

Status workflow::

    new → open | waiting | resolved
    open → waiting | resolved
    waiting → open | resolved
    resolved → closed | open (reopen)
    closed → open (reopen)

The SLA clocks (``vefa.service.services.sla``) follow the workflow: started on create, first
response on the first public reply, paused while waiting on the customer, stopped on
resolution, restarted on reopen. Public replies are e-mailed (``services.email``) and a
resolution asks for a CSAT answer (``services.surveys``), both after commit.

Customer messages and public replies are also interactions in the customer's contact history
(related to ``service.ticket``); attachments are stored on that interaction under the upload
rules. Internal notes stay on the ticket.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from importlib import import_module
from typing import TYPE_CHECKING, Any, cast

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from vefa.accounts.access import can, can_create, restrict, scope_for
from vefa.accounts.choices import Scope
from vefa.common.errors import NotFound, PermissionDenied, ValidationFailed
from vefa.common.text import fold
from vefa.customers.services._common import as_text, invalid, not_found
from vefa.interactions.choices import Direction, InitiatedBy, InteractionChannel, InteractionKind
from vefa.platform.audit import log_change
from vefa.platform.models import ChangeLogEntry
from vefa.platform.records import record_create, record_update
from vefa.sales.numbering import next_number
from vefa.service.choices import (
    MessageKind,
    TicketChannel,
    TicketPriority,
    TicketStatus,
    TicketType,
)
from vefa.service.models import Category, Queue, Ticket, TicketMessage
from vefa.service.services.assignment import pick_owner, ticket_route, value_class_of

if TYPE_CHECKING:
    from vefa.accounts.models import User
    from vefa.customers.models import Customer
    from vefa.interactions.models import Interaction

logger = logging.getLogger(__name__)

# A message body or description larger than this is refused (UTF-8 bytes).
MAX_BODY_BYTES = 100 * 1024
MAX_ATTACHMENTS = 20
MAX_TAGS = 20
MAX_MERGE_DEPTH = 10
# How contact-history entries name a ticket (``related_model``).
TICKET_LABEL = "service.ticket"

TRANSITIONS: dict[str, frozenset[str]] = {
    TicketStatus.NEW: frozenset({TicketStatus.OPEN, TicketStatus.WAITING, TicketStatus.RESOLVED}),
    TicketStatus.OPEN: frozenset({TicketStatus.WAITING, TicketStatus.RESOLVED}),
    TicketStatus.WAITING: frozenset({TicketStatus.OPEN, TicketStatus.RESOLVED}),
    TicketStatus.RESOLVED: frozenset({TicketStatus.CLOSED, TicketStatus.OPEN}),
    TicketStatus.CLOSED: frozenset({TicketStatus.OPEN}),
}

CREATE_KEYS = frozenset(
    {
        "subject",
        "description",
        "customer",
        "contact",
        "requester_email",
        "requester_name",
        "type",
        "channel",
        "category",
        "priority",
        "queue",
        "owner",
        "order",
        "product",
        "custom_fields",
        "tags",
    }
)
# What ``ticket_update`` changes; status, owner and queue have their own services.
UPDATE_KEYS = CREATE_KEYS - {"description", "queue", "owner"}

# The fields the workflow changes on a ticket (compared before and after to log them).
TRACKED: tuple[str, ...] = (
    "status",
    "queue",
    "owner",
    "team",
    "merged_into",
    "first_responded_at",
    "resolved_at",
    "closed_at",
    "reopen_count",
    "reply_count",
    "last_customer_message_at",
    "last_reply_at",
    "sla_policy",
    "sla_state",
    "first_response_due_at",
    "resolution_due_at",
    "sla_paused_at",
    "first_response_left",
    "resolution_left",
    "first_response_breached",
    "resolution_breached",
    "sla_warned_at",
    "escalated_at",
    "first_response_warn_at",
    "resolution_warn_at",
)

# The contact-history kind and channel of a ticket's messages, by the ticket's channel.
INTERACTION_KIND = {
    TicketChannel.PHONE: InteractionKind.CALL,
    TicketChannel.EMAIL: InteractionKind.EMAIL,
    TicketChannel.WEB_FORM: InteractionKind.WEB,
    TicketChannel.PORTAL: InteractionKind.WEB,
    TicketChannel.SOCIAL: InteractionKind.SOCIAL,
    TicketChannel.WALK_IN: InteractionKind.VISIT,
    TicketChannel.CALL_CENTRE: InteractionKind.CALL,
}
INTERACTION_CHANNEL = {
    TicketChannel.PHONE: InteractionChannel.PHONE,
    TicketChannel.EMAIL: InteractionChannel.EMAIL,
    TicketChannel.WEB_FORM: InteractionChannel.WEB,
    TicketChannel.PORTAL: InteractionChannel.WEB,
    TicketChannel.SOCIAL: InteractionChannel.SOCIAL,
    TicketChannel.WALK_IN: InteractionChannel.FACE_TO_FACE,
    TicketChannel.CALL_CENTRE: InteractionChannel.CALL_CENTRE,
}


# --- helpers ----------------------------------------------------------------------------------


def ticket_reference(ticket: Ticket) -> str:
    """The reference put in e-mail subjects: ``[T-2026-000123]``."""
    return f"[{ticket.number}]"


def _sla() -> Any:
    """The SLA services, imported when used."""
    return import_module("vefa.service.services.sla")


def _choice(value: Any, choices: Any, field: str, default: str) -> str:
    if value is None or value == "":
        return default
    if not isinstance(value, str) or value not in choices.values:
        raise invalid({field: [_("Choose a valid value.")]})
    return value


def _id(value: Any, field: str) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise invalid({field: [_("Enter the id of a record.")]})
    text = str(value).strip()
    if not text.isdigit() or not 0 < int(text) < 2**63:
        raise invalid({field: [_("Enter the id of a record.")]})
    return int(text)


def _body(value: Any, field: str, *, required: bool) -> str:
    text = as_text(value, field=field)
    if required and not text:
        raise invalid({field: [_("This field is required.")]})
    if len(text.encode("utf-8")) > MAX_BODY_BYTES:
        raise invalid(
            {field: [_("The text is too long: at most %(n)d kB.") % {"n": MAX_BODY_BYTES // 1024}]}
        )
    return text


def _subject(value: Any) -> str:
    text = as_text(value, field="subject", max_length=300)
    if not text:
        raise invalid({"subject": [_("This field is required.")]})
    return text


def _tags(value: Any) -> list[str] | None:
    if value is None:
        return None
    if not isinstance(value, list | tuple) or not all(isinstance(t, str) for t in value):
        raise invalid({"tags": [_("Enter a list of tag names.")]})
    names = [t.strip() for t in value if t.strip()]
    if len(names) > MAX_TAGS or any(len(t) > 50 for t in names):
        raise invalid({"tags": [_("At most %(n)d tags of 50 characters.") % {"n": MAX_TAGS}]})
    return names


def _customer(actor: User | None, value: Any, field: str) -> Customer | None:
    from vefa.customers.models import Customer

    key = _id(value, field)
    if key is None:
        return None
    qs = Customer.objects.all() if actor is None else restrict(Customer.objects.all(), actor)
    customer = qs.filter(pk=key).first()
    if customer is None:
        raise invalid({field: [_("Choose an existing customer.")]})
    return customer


def _category(value: Any) -> Category | None:
    key = _id(value, "category")
    if key is None:
        return None
    category = Category.objects.filter(pk=key, is_active=True).first()
    if category is None:
        raise invalid({"category": [_("Choose an active category.")]})
    return category


def _queue(value: Any, field: str = "queue") -> Queue | None:
    key = _id(value, field)
    if key is None:
        return None
    queue = Queue.objects.filter(pk=key, is_active=True).first()
    if queue is None:
        raise invalid({field: [_("Choose an active queue.")]})
    return queue


def _order(actor: User | None, value: Any) -> Any:
    from vefa.sales.models import Order

    key = _id(value, "order")
    if key is None:
        return None
    qs = Order.objects.all() if actor is None else restrict(Order.objects.all(), actor)
    order = qs.filter(pk=key).first()
    if order is None:
        raise invalid({"order": [_("Choose an existing order.")]})
    return order


def _product(actor: User | None, value: Any) -> Any:
    from vefa.sales.models import Product

    key = _id(value, "product")
    if key is None:
        return None
    qs = Product.objects.all() if actor is None else restrict(Product.objects.all(), actor)
    product = qs.filter(pk=key).first()
    if product is None:
        raise invalid({"product": [_("Choose an existing product.")]})
    return product


def _owner(actor: User | None, value: Any, *, queue: Queue | None, field: str = "owner") -> Any:
    """An active user who works tickets and whom ``actor`` may give one to: anyone for an
    administrator, otherwise the actor's own team or the target queue's team."""
    from vefa.accounts.models import User

    key = _id(value, field)
    if key is None:
        return None
    owner = User.objects.filter(pk=key, is_active=True).first()
    if owner is None or scope_for(owner, "service.ticket", "change") == Scope.NONE:
        raise invalid({field: [_("Choose an active user who works on tickets.")]})
    if actor is not None and owner.pk != actor.pk:
        scope = scope_for(actor, "service.ticket", "change")
        teams = {t for t in (actor.team_id, queue.team_id if queue else None) if t is not None}
        if scope != Scope.ALL and owner.team_id not in teams:
            raise invalid({field: [_("You cannot give a ticket to this user.")]})
    return owner


def _mapping(data: Any) -> Mapping[str, Any]:
    if not isinstance(data, Mapping):
        raise invalid({"__all__": [_("Expected an object of field values.")]})
    return data


def _unknown(data: Mapping[str, Any], allowed: frozenset[str]) -> None:
    unknown = sorted(str(k) for k in data if k not in allowed)
    if unknown:
        raise invalid({key[:50]: [_("Unknown field.")] for key in unknown})


def _search_text(ticket: Ticket) -> str:
    parts = [
        ticket.number,
        ticket.subject,
        ticket.requester_email,
        ticket.requester_name,
        ticket.customer.display_name if ticket.customer_id and ticket.customer else "",
    ]
    return fold(" ".join(p for p in parts if p))[:2000]


def _ticket_key(value: Any) -> int:
    """A ticket id from an int or a string of ASCII digits; anything else is not found."""
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise not_found()
    text = str(value).strip()
    if not text.isascii() or not text.isdigit() or not 0 < int(text) < 2**63:
        raise not_found()
    return int(text)


def _lock(actor: User | None, ticket_id: Any, *, field: str | None = None) -> Ticket:
    """The ticket locked for a change; ``NotFound`` when the actor may not change it."""
    key = _ticket_key(ticket_id)
    qs = Ticket.objects.select_for_update(of=("self",))
    if actor is not None:
        qs = restrict(qs, actor, "change")
    ticket = qs.filter(pk=key).first()
    if ticket is None:
        if field is not None:
            raise invalid({field: [_("Choose a ticket you can work on.")]})
        raise not_found()
    return ticket


TRACKED = tuple(
    name for name in TRACKED if any(f.name == name for f in Ticket._meta.concrete_fields)
)


def _attname(name: str) -> str:
    field = Ticket._meta.get_field(name)
    return str(getattr(field, "attname", name))


def _tracked(ticket: Ticket) -> dict[str, Any]:
    return {name: getattr(ticket, _attname(name)) for name in TRACKED}


def _save(
    ticket: Ticket,
    before: dict[str, Any],
    *,
    actor: User | None,
    extra: dict[str, Any] | None = None,
    expected_version: int | None = None,
    tags: list[str] | None = None,
) -> Ticket:
    """Write the workflow fields changed since ``before`` (and ``extra``, and ``tags`` when
    given) through records.

    When only fields outside the change log changed (the times of the last customer message
    and reply) on a ticket the caller holds locked, they are written with one UPDATE: the
    record and its version stay as they are, as the change log would have them.
    """
    data: dict[str, Any] = dict(extra or {})
    for name, old in before.items():
        if getattr(ticket, _attname(name)) != old:
            data[name] = getattr(ticket, name)
    if not data and expected_version is None and tags is None:
        return ticket
    if expected_version is None and tags is None and set(data) <= _UNLOGGED:
        ticket.updated_at = timezone.now()
        Ticket.objects.filter(pk=ticket.pk).update(updated_at=ticket.updated_at, **data)
        return ticket
    return record_update(
        ticket, actor=actor, data=data, expected_version=expected_version, tags=tags
    )


# Tracked fields the change log leaves out (``Ticket.audit_exclude``).
_UNLOGGED = frozenset(TRACKED) & frozenset(Ticket.audit_exclude)


def _address_of(ticket: Ticket) -> str:
    """Where replies go: the requester's e-mail, else the contact's, else the customer's."""
    if ticket.requester_email:
        return ticket.requester_email
    for person in (ticket.contact, ticket.customer):
        if person is not None and person.primary_email:
            return str(person.primary_email)
    return ""


def _record_interaction(
    *,
    actor: User | None,
    ticket: Ticket,
    body: str,
    inbound: bool,
    first: bool = False,
) -> Interaction | None:
    """The message as a touch point in the customer's contact history (none without one)."""
    from vefa.interactions.services.interactions import interaction_insert

    if ticket.customer_id is None or ticket.customer is None:
        return None
    if first and ticket.type == TicketType.COMPLAINT:
        kind = InteractionKind.COMPLAINT
    else:
        kind = INTERACTION_KIND.get(ticket.channel, InteractionKind.NOTE)  # type: ignore[call-overload]
    subject = f"{ticket_reference(ticket)} {ticket.subject}"[:300]
    # ``interaction_insert`` records the actor as the interaction's user; ``None`` is the
    # system (no user), which the change log shows as "system".
    return interaction_insert(
        actor=cast("User", actor),
        customer=ticket.customer,
        kind=kind,
        subject=subject,
        direction=Direction.INBOUND if inbound else Direction.OUTBOUND,
        initiated_by=InitiatedBy.CUSTOMER if inbound else InitiatedBy.COMPANY,
        channel=INTERACTION_CHANNEL.get(ticket.channel, ""),  # type: ignore[call-overload]
        body=body,
        related_model="service.ticket",
        related_id=ticket.pk,
    )


def _attach(
    actor: User | None, interaction: Interaction | None, files: Sequence[UploadedFile]
) -> None:
    from vefa.interactions.services.attachments import attachment_add, clean_file_name

    if not files:
        return
    if len(files) > MAX_ATTACHMENTS:
        raise invalid({"attachments": [_("At most %(n)d files at once.") % {"n": MAX_ATTACHMENTS}]})
    if interaction is None:
        raise invalid(
            {"attachments": [_("Files can be attached only when the ticket has a customer.")]}
        )
    for upload in files:
        try:
            attachment_add(actor=actor, interaction_id=interaction.pk, file=upload)
        except ValidationFailed as exc:
            # The name as it would be stored: no directories, control or bidi characters.
            name = clean_file_name(str(getattr(upload, "name", "") or ""))[:100]
            messages = [f"{name}: {m}" for values in exc.fields.values() for m in values]
            raise invalid({"attachments": messages or [str(exc.message)]}) from None
        except NotFound:
            raise invalid({"attachments": [_("The files could not be stored.")]}) from None


def _message(
    *,
    actor: User | None,
    ticket: Ticket,
    kind: str,
    body: str,
    interaction: Interaction | None = None,
    author_contact: Customer | None = None,
    author_email: str = "",
    author_name: str = "",
    message_id: str = "",
    in_reply_to: str = "",
    references: str = "",
) -> TicketMessage:
    message = TicketMessage(
        ticket=ticket,
        kind=kind,
        body=body,
        author=actor,
        author_contact=author_contact,
        author_email=as_text(author_email, field="author_email", max_length=254),
        author_name=as_text(author_name, field="author_name", max_length=200),
        interaction=interaction,
        message_id=as_text(message_id, field="message_id", max_length=300),
        in_reply_to=as_text(in_reply_to, field="in_reply_to", max_length=300),
        references=as_text(references, field="references", max_length=20_000),
    )
    # A message may be only files (an e-mail with an attachment and no text).
    return record_create(message, actor=actor, clean_exclude=() if body else ("body",))


def _notify_owner(ticket: Ticket, actor: User | None) -> None:
    """Tell the ticket's new owner it is theirs now (not when they took it themselves)."""
    from django.conf import settings
    from django.utils import translation

    from vefa.platform.notifications import notification_send

    owner = ticket.owner
    if owner is None or not owner.is_active or (actor is not None and owner.pk == actor.pk):
        return
    with translation.override(owner.language or settings.LANGUAGE_CODE):
        text = _("Ticket %(number)s is yours: %(subject)s") % {
            "number": ticket.number,
            "subject": ticket.subject,
        }
    notification_send(
        recipient=owner,
        verb="service.ticket.assigned",
        text=text[:500],
        url=ticket.get_absolute_url(),
        model="service.ticket",
        object_id=ticket.pk,
        dedupe_key=f"ticket-assigned:{ticket.pk}:{owner.pk}:{ticket.version}",
    )


def _on_resolved(ticket_id: int) -> None:
    def request() -> None:
        try:
            from vefa.service.services.surveys import csat_request
        except ImportError:
            logger.warning("surveys are not installed; no CSAT request for ticket %s", ticket_id)
            return
        try:
            csat_request(ticket_id=ticket_id)
        except Exception:
            logger.exception("CSAT request failed for ticket %s", ticket_id)

    transaction.on_commit(request)


def _enqueue_reply(message: TicketMessage) -> None:
    try:
        from vefa.service.services.email import reply_enqueue
    except ImportError:
        logger.warning("e-mail is not installed; reply %s is not sent", message.pk)
        return
    reply_enqueue(message)


# --- create -------------------------------------------------------------------------------------


def ticket_create(
    *,
    actor: User | None,
    data: Mapping[str, Any],
    attachments: Sequence[UploadedFile] = (),
    author_contact: Customer | None = None,
    author_email: str = "",
    author_name: str = "",
    message_id: str = "",
    in_reply_to: str = "",
    references: str = "",
) -> Ticket:
    """Open a ticket: number, routing (queue, owner, team), SLA clocks, the description as the
    first customer message and, with a known customer, a touch point in the contact history.
    """
    return ticket_create_with_message(
        actor=actor,
        data=data,
        attachments=attachments,
        author_contact=author_contact,
        author_email=author_email,
        author_name=author_name,
        message_id=message_id,
        in_reply_to=in_reply_to,
        references=references,
    )[0]


def ticket_create_with_message(
    *,
    actor: User | None,
    data: Mapping[str, Any],
    attachments: Sequence[UploadedFile] = (),
    author_contact: Customer | None = None,
    author_email: str = "",
    author_name: str = "",
    message_id: str = "",
    in_reply_to: str = "",
    references: str = "",
) -> tuple[Ticket, TicketMessage | None]:
    """``ticket_create``, and the first message it stored (``None`` without text or files)."""
    data = _mapping(data)
    _unknown(data, CREATE_KEYS)
    if actor is not None and not can_create(actor, Ticket):
        raise PermissionDenied(_("Your role cannot open tickets."))
    subject = _subject(data.get("subject"))
    description = _body(data.get("description"), "description", required=False)
    customer = _customer(actor, data.get("customer"), "customer")
    contact: Customer | None
    if customer is not None and _id(data.get("contact"), "contact") == customer.pk:
        contact = customer  # a person writing for themselves: read once
    else:
        contact = _customer(actor, data.get("contact"), "contact")
    if contact is None and author_contact is not None:
        contact = author_contact
    if customer is None:
        customer = contact
    queue = _queue(data.get("queue"))
    owner = _owner(actor, data.get("owner"), queue=queue)
    custom_fields = data.get("custom_fields")
    custom_fields = {} if custom_fields is None else custom_fields
    if not isinstance(custom_fields, dict):
        raise invalid({"custom_fields": [_("Expected an object of field values.")]})
    tags = _tags(data.get("tags"))
    ticket = Ticket(
        subject=subject,
        description=description,
        customer=customer,
        contact=contact,
        requester_email=as_text(
            data.get("requester_email") or author_email, field="requester_email", max_length=254
        ),
        requester_name=as_text(
            data.get("requester_name") or author_name, field="requester_name", max_length=200
        ),
        type=_choice(data.get("type"), TicketType, "type", TicketType.REQUEST),
        channel=_choice(data.get("channel"), TicketChannel, "channel", TicketChannel.PHONE),
        category=_category(data.get("category")),
        priority=_choice(data.get("priority"), TicketPriority, "priority", TicketPriority.NORMAL),
        queue=queue,
        owner=owner,
        order=_order(actor, data.get("order")),
        product=_product(actor, data.get("product")),
        custom_fields=custom_fields,
        value_class=value_class_of(customer.pk if customer else None),
        message_id=as_text(message_id, field="message_id", max_length=300),
        status=TicketStatus.NEW,
    )
    files = list(attachments)
    with transaction.atomic():
        ticket.number = next_number("ticket")
        ticket_route(ticket)
        now = timezone.now()
        if description or files:
            ticket.last_customer_message_at = now
        _sla().sla_start(ticket, now=now)
        ticket.search_text = _search_text(ticket)
        # The number comes from the locked counter (and the column is unique in the database).
        record_create(ticket, actor=actor, tags=tags, clean_exclude=("number",))
        message: TicketMessage | None = None
        if description or files:
            interaction = _record_interaction(
                actor=actor, ticket=ticket, body=description, inbound=True, first=True
            )
            _attach(actor, interaction, files)
            message = _message(
                actor=actor,
                ticket=ticket,
                kind=MessageKind.CUSTOMER,
                body=description,
                interaction=interaction,
                author_contact=author_contact,
                author_email=author_email,
                author_name=author_name,
                message_id=message_id,
                in_reply_to=in_reply_to,
                references=references,
            )
        elif ticket.customer_id is not None:
            _record_interaction(actor=actor, ticket=ticket, body="", inbound=True, first=True)
        _notify_owner(ticket, actor)
    return ticket, message


# --- update ------------------------------------------------------------------------------------


def ticket_update(
    *,
    actor: User,
    ticket_id: int,
    data: Mapping[str, Any],
    expected_version: int | None = None,
) -> Ticket:
    """Change a ticket's details (not its status, queue or owner: see the dedicated services).
    A stale ``expected_version`` raises ``Conflict`` (HTTP 412)."""
    data = _mapping(data)
    _unknown(data, UPDATE_KEYS)
    with transaction.atomic():
        ticket = _lock(actor, ticket_id)
        changes: dict[str, Any] = {}
        if "subject" in data:
            changes["subject"] = _subject(data["subject"])
        if "customer" in data:
            changes["customer"] = _customer(actor, data["customer"], "customer")
        if "contact" in data:
            changes["contact"] = _customer(actor, data["contact"], "contact")
        if "requester_email" in data:
            changes["requester_email"] = as_text(
                data["requester_email"], field="requester_email", max_length=254
            )
        if "requester_name" in data:
            changes["requester_name"] = as_text(
                data["requester_name"], field="requester_name", max_length=200
            )
        for name, choices, default in (
            ("type", TicketType, TicketType.REQUEST),
            ("channel", TicketChannel, TicketChannel.PHONE),
            ("priority", TicketPriority, TicketPriority.NORMAL),
        ):
            if name in data:
                changes[name] = _choice(data[name], choices, name, default)
        if "category" in data:
            changes["category"] = _category(data["category"])
        if "order" in data:
            changes["order"] = _order(actor, data["order"])
        if "product" in data:
            changes["product"] = _product(actor, data["product"])
        if "custom_fields" in data:
            if not isinstance(data["custom_fields"], dict):
                raise invalid({"custom_fields": [_("Expected an object of field values.")]})
            changes["custom_fields"] = data["custom_fields"]
        tags = _tags(data.get("tags")) if "tags" in data else None
        old_priority, old_class = ticket.priority, ticket.value_class
        before = _tracked(ticket)
        for key, value in changes.items():
            setattr(ticket, key, value)
        if "customer" in changes:
            changes["value_class"] = ticket.value_class = value_class_of(ticket.customer_id)
        if (ticket.priority, ticket.value_class) != (old_priority, old_class):
            _retarget(ticket)
            for name, old in before.items():
                if getattr(ticket, _attname(name)) != old:
                    changes[name] = getattr(ticket, name)
        changes["search_text"] = _search_text(ticket)
        return record_update(
            ticket, actor=actor, data=changes, expected_version=expected_version, tags=tags
        )


def _retarget(ticket: Ticket) -> None:
    """A new priority or customer class may call for another SLA policy: until the first
    response (new or open, never reopened), the clocks restart from the moment the ticket was
    opened under the policy that fits now. After the first response the targets stay."""
    if (
        ticket.status in (TicketStatus.NEW, TicketStatus.OPEN)
        and ticket.first_responded_at is None
        and ticket.sla_paused_at is None
        and ticket.reopen_count == 0
        and ticket.merged_into_id is None
    ):
        _sla().sla_start(ticket, now=ticket.created_at)


# --- messages -----------------------------------------------------------------------------------


def ticket_message_add(
    *,
    actor: User | None,
    ticket_id: int,
    kind: str,
    body: str,
    attachments: Sequence[UploadedFile] = (),
    author_contact: Customer | None = None,
    author_email: str = "",
    author_name: str = "",
    message_id: str = "",
    in_reply_to: str = "",
    references: str = "",
    send_email: bool = True,
) -> TicketMessage:
    """Add a message: a customer's message, a public reply or an internal note.

    A reply stamps the first response and opens a new ticket, and is e-mailed after commit
    when the ticket has an address. A customer's message resumes a waiting ticket and reopens
    a resolved or closed one. A message on a merged ticket goes to the ticket it was merged
    into.
    """
    if kind not in (MessageKind.CUSTOMER, MessageKind.REPLY, MessageKind.NOTE):
        raise invalid({"kind": [_("Choose a customer message, a reply or a note.")]})
    if actor is None and kind != MessageKind.CUSTOMER:
        raise invalid({"kind": [_("Only a customer's message can come without a user.")]})
    text = _body(body, "body", required=not attachments)
    files = list(attachments)
    with transaction.atomic():
        ticket = _lock(actor, ticket_id)
        depth = 0
        while ticket.merged_into_id is not None and depth < MAX_MERGE_DEPTH:
            ticket = _lock(actor, ticket.merged_into_id)
            depth += 1
        before = _tracked(ticket)
        now = timezone.now()
        sla = _sla()
        interaction: Interaction | None = None
        if kind == MessageKind.REPLY:
            if ticket.first_responded_at is None:
                sla.sla_first_response(ticket, now=now)
                if ticket.first_responded_at is None:
                    ticket.first_responded_at = now
            if ticket.status == TicketStatus.NEW:
                ticket.status = TicketStatus.OPEN
            if ticket.resolved_at is None and ticket.reopen_count == 0:
                ticket.reply_count += 1
            ticket.last_reply_at = now
            interaction = _record_interaction(actor=actor, ticket=ticket, body=text, inbound=False)
        elif kind == MessageKind.CUSTOMER:
            if ticket.status == TicketStatus.WAITING:
                sla.sla_resume(ticket, now=now)
                ticket.status = TicketStatus.OPEN
            elif ticket.status in (TicketStatus.RESOLVED, TicketStatus.CLOSED):
                _reopen(ticket, now)
            ticket.last_customer_message_at = now
            interaction = _record_interaction(actor=actor, ticket=ticket, body=text, inbound=True)
        elif files:
            raise invalid({"attachments": [_("Internal notes cannot carry files.")]})
        _attach(actor, interaction, files)
        message = _message(
            actor=actor,
            ticket=ticket,
            kind=kind,
            body=text,
            interaction=interaction,
            author_contact=author_contact,
            author_email=author_email,
            author_name=author_name,
            message_id=message_id,
            in_reply_to=in_reply_to,
            references=references,
        )
        _save(ticket, before, actor=actor)
        if kind == MessageKind.REPLY and send_email and _address_of(ticket):
            TicketMessage.objects.filter(pk=message.pk).update(delivery="queued")
            message.delivery = "queued"
            _enqueue_reply(message)
    return message


# --- status -------------------------------------------------------------------------------------


def _reopen(ticket: Ticket, now: Any) -> None:
    ticket.status = TicketStatus.OPEN
    ticket.reopen_count += 1
    ticket.resolved_at = None
    ticket.closed_at = None
    _sla().sla_reopen(ticket, now=now)


def _check_transition(ticket: Ticket, status: Any) -> str:
    if not isinstance(status, str) or status not in TicketStatus.values:
        raise invalid({"status": [_("Choose a valid status.")]})
    if status not in TRANSITIONS.get(ticket.status, frozenset()):
        raise invalid(
            {
                "status": [
                    _("A ticket cannot go from %(old)s to %(new)s.")
                    % {
                        "old": TicketStatus(ticket.status).label,
                        "new": TicketStatus(status).label,
                    }
                ]
            }
        )
    return status


def ticket_set_status(
    *,
    actor: User | None,
    ticket_id: int,
    status: str,
    expected_version: int | None = None,
) -> Ticket:
    """Move a ticket along the workflow; anything else is refused on "status"."""
    with transaction.atomic():
        ticket = _lock(actor, ticket_id)
        new = _check_transition(ticket, status)
        if ticket.merged_into_id is not None:
            raise invalid({"status": [_("A merged ticket stays closed.")]})
        before = _tracked(ticket)
        old = ticket.status
        now = timezone.now()
        sla = _sla()
        if new == TicketStatus.WAITING:
            sla.sla_pause(ticket, now=now)
            ticket.status = new
        elif new == TicketStatus.RESOLVED:
            if old == TicketStatus.WAITING:
                sla.sla_resume(ticket, now=now)
            sla.sla_stop(ticket, now=now)
            ticket.status = new
            ticket.resolved_at = now
        elif new == TicketStatus.CLOSED:
            ticket.status = new
            ticket.closed_at = now
        elif old in (TicketStatus.RESOLVED, TicketStatus.CLOSED):
            _reopen(ticket, now)
        else:
            if old == TicketStatus.WAITING:
                sla.sla_resume(ticket, now=now)
            ticket.status = new
        saved = _save(ticket, before, actor=actor, expected_version=expected_version)
        if new == TicketStatus.RESOLVED:
            _on_resolved(saved.pk)
    return saved


# --- assignment ---------------------------------------------------------------------------------


def ticket_assign(
    *,
    actor: User,
    ticket_id: int,
    owner_id: int | None,
    queue_id: int | None = None,
    expected_version: int | None = None,
) -> Ticket:
    """Give the ticket to ``owner_id``, optionally moving it to ``queue_id``.

    Without an owner the (new) queue's method picks one, as for a new ticket (nobody for a
    manual queue). The ticket's team follows its queue's team (else the owner's).
    """
    with transaction.atomic():
        ticket = _lock(actor, ticket_id)
        before = _tracked(ticket)
        queue = _queue(queue_id, "queue_id") if queue_id is not None else None
        if queue is not None:
            ticket.queue = queue
        current_queue = ticket.queue
        owner = _owner(actor, owner_id, queue=current_queue, field="owner_id")
        if owner is None:
            ticket.owner = pick_owner(current_queue) if current_queue is not None else None
        else:
            ticket.owner = owner
        if current_queue is not None and current_queue.team_id is not None:
            ticket.team_id = current_queue.team_id
        elif ticket.owner is not None:
            ticket.team_id = ticket.owner.team_id
        saved = _save(ticket, before, actor=actor, expected_version=expected_version)
        if saved.owner_id is not None and saved.owner_id != before["owner"]:
            _notify_owner(saved, actor)
        return saved


# --- merge --------------------------------------------------------------------------------------

# The details a survivor without them takes from its duplicate.
MERGE_FILL = ("customer", "contact", "order", "product")


def _merge_customers(actor: User, source: Ticket, target: Ticket) -> None:
    """Both tickets' customers and contact people are visible to the actor, and the two
    customers are the same one or related (a contact person of an organisation): a merge never
    moves one customer's conversation to a customer the actor cannot see or who has nothing
    to do with it (the survivor's customer reads its public messages in the portal)."""
    from django.db.models import Q

    from vefa.customers.models import Customer, CustomerRelationship

    ids = {
        pk
        for pk in (source.customer_id, source.contact_id, target.customer_id, target.contact_id)
        if pk is not None
    }
    if ids:
        visible = set(
            restrict(Customer.objects.filter(pk__in=ids), actor, "view").values_list(
                "pk", flat=True
            )
        )
        if ids - visible:
            raise invalid({"target": [_("You cannot merge tickets of a customer you cannot see.")]})
    a, b = source.customer_id, target.customer_id
    if a is None or b is None or a == b:
        return
    related = CustomerRelationship.objects.filter(
        Q(from_customer_id=a, to_customer_id=b) | Q(from_customer_id=b, to_customer_id=a)
    ).exists()
    if not related:
        raise invalid(
            {
                "target": [
                    _(
                        "The tickets are about different customers: only tickets of the same "
                        "customer or of related customers can be merged."
                    )
                ]
            }
        )


def _merge_move(source: Ticket, target: Ticket, now: Any) -> dict[str, list[int]]:
    """Point everything that refers to ``source`` at ``target``; the ids moved, by kind.

    Attachments hang on the contact-history entries of the messages and move with them. The
    CSAT invitation moves only when the target has none (one per ticket): otherwise it stays
    on the duplicate (``surveys_kept``), where the survivor's selectors still read it.
    """
    from django.db import IntegrityError
    from django.db.models import F

    from vefa.interactions.models import Attachment, Interaction
    from vefa.service.models import ReturnRequest, ServiceVisit, SurveyInvitation

    def ids(qs: Any) -> list[int]:
        return sorted(qs.values_list("pk", flat=True))

    bump = {"updated_at": now, "version": F("version") + 1}
    moved: dict[str, list[int]] = {}
    messages = TicketMessage.objects.filter(ticket=source)
    message_interactions = set(
        messages.filter(interaction__isnull=False).values_list("interaction_id", flat=True)
    )
    moved["messages"] = ids(messages)
    messages.update(ticket=target, **bump)
    linked = Interaction.objects.filter(related_model=TICKET_LABEL, related_id=source.pk)
    moved["interactions"] = ids(linked)
    linked.update(related_id=target.pk, **bump)
    moved["attachments"] = ids(
        Attachment.objects.filter(
            interaction_id__in=sorted(message_interactions | set(moved["interactions"]))
        )
    )
    visits = ServiceVisit.objects.filter(ticket=source)
    moved["visits"] = ids(visits)
    visits.update(ticket=target, **bump)
    returns = ReturnRequest.objects.filter(ticket=source)
    moved["returns"] = ids(returns)
    returns.update(ticket=target, **bump)
    surveys = SurveyInvitation.objects.filter(ticket=source)
    found = ids(surveys)
    moved["surveys"], moved["surveys_kept"] = [], found
    if found and not SurveyInvitation.objects.filter(ticket=target).exists():
        try:
            with transaction.atomic():
                surveys.update(ticket=target, **bump)
        except IntegrityError:
            pass  # the target's own invitation was written meanwhile: the rule holds
        else:
            moved["surveys"], moved["surveys_kept"] = found, []
    earlier = Ticket.objects.filter(merged_into=source)
    moved["merged_tickets"] = ids(earlier)
    earlier.update(merged_into=target, updated_at=now)
    return moved


def ticket_merge(*, actor: User, source_id: int, target_id: int) -> Ticket:
    """Merge the duplicate ``source`` into ``target`` and return the target.

    Everything that refers to the duplicate moves to the target: messages (with their
    attachments), contact-history entries, service visits, returns, tickets merged into the
    duplicate before, and its tags; its CSAT invitation too unless the target has its own (one
    per ticket; then it stays on the duplicate and is listed with the target). A target
    without a customer, contact person or product takes the duplicate's, and its order when
    both are about the same customer. The duplicate is closed with ``merged_into``, both get
    a system message, and the change log of both records the merge with the ids of what
    moved.

    Refused on "target": merging a ticket into itself, a ticket already merged, into a
    merged ticket, into a ticket the actor may not work on, and tickets of a customer the
    actor cannot see or of two unrelated customers.

    Locks: the tickets merged into the duplicate (a message to one of them follows the chain
    to the duplicate while holding it), then the pair in id order, so two merges of the same
    pair, in either direction, run one after the other and the second sees the first's result.
    """
    source_key, target_key = _ticket_key(source_id), _ticket_key(target_id)
    if source_key == target_key:
        raise invalid({"target": [_("A ticket cannot be merged into itself.")]})
    with transaction.atomic():
        earlier = Ticket.objects.filter(merged_into_id=source_key).order_by("pk")
        list(earlier.select_for_update().values_list("pk", flat=True))
        locked: dict[int, Ticket] = {}
        for key in sorted((source_key, target_key)):
            locked[key] = _lock(actor, key, field="target" if key == target_key else None)
        source, target = locked[source_key], locked[target_key]
        if source.merged_into_id is not None:
            raise invalid({"target": [_("This ticket was already merged.")]})
        if target.merged_into_id is not None:
            raise invalid({"target": [_("That ticket was merged into another one.")]})
        _merge_customers(actor, source, target)
        now = timezone.now()
        moved = _merge_move(source, target, now)
        source_tags = sorted(source.tags.values_list("name", flat=True))

        before = _tracked(source)
        if source.status in (TicketStatus.NEW, TicketStatus.OPEN, TicketStatus.WAITING):
            if source.status == TicketStatus.WAITING:
                _sla().sla_resume(source, now=now)
            _sla().sla_stop(source, now=now)
        source.status = TicketStatus.CLOSED
        source.closed_at = source.closed_at or now
        source.merged_into = target
        _save(source, before, actor=actor)

        before = _tracked(target)
        fill: dict[str, Any] = {}
        for name in MERGE_FILL:
            if name == "order" and target.customer_id != source.customer_id:
                continue  # an order of another (related) customer stays with its ticket
            if getattr(target, f"{name}_id") is None and getattr(source, f"{name}_id") is not None:
                fill[name] = getattr(source, name)
                setattr(target, name, fill[name])
        if "customer" in fill:
            fill["value_class"] = target.value_class = value_class_of(target.customer_id)
            fill["search_text"] = _search_text(target)
            _retarget(target)
        if source.last_customer_message_at is not None and (
            target.last_customer_message_at is None
            or source.last_customer_message_at > target.last_customer_message_at
        ):
            target.last_customer_message_at = source.last_customer_message_at
        target_tags = sorted(target.tags.values_list("name", flat=True))
        tags = sorted(set(target_tags) | set(source_tags))
        _save(target, before, actor=actor, extra=fill, tags=tags if tags != target_tags else None)

        _message(
            actor=actor,
            ticket=source,
            kind=MessageKind.SYSTEM,
            body=_("Merged into %(number)s.") % {"number": target.number},
        )
        _message(
            actor=actor,
            ticket=target,
            kind=MessageKind.SYSTEM,
            body=_("%(number)s was merged into this ticket (%(count)d messages moved).")
            % {"number": source.number, "count": len(moved["messages"])},
        )
        summary = {**moved, "tags_added": sorted(set(source_tags) - set(target_tags))}
        log_change(
            actor=actor,
            instance=target,
            action=ChangeLogEntry.Action.UPDATE,
            before={"merged_from": []},
            after={"merged_from": [source.number], "moved": summary},
        )
        log_change(
            actor=actor,
            instance=source,
            action=ChangeLogEntry.Action.UPDATE,
            before={"merged_into": None},
            after={"merged_into": target.number, "moved": summary},
        )
    target.refresh_from_db()
    return target


def ticket_can_change(actor: User, ticket: Ticket) -> bool:
    """Whether ``actor`` may work on ``ticket`` (reply, note, status, assign, merge)."""
    return can(actor, "change", ticket)
