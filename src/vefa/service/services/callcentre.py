"""The call centre's one step: log the call in the contact history and, if asked, open a
ticket for it, in one transaction (both or nothing)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils.translation import gettext as _

from vefa.common.errors import ValidationFailed
from vefa.customers.services._common import MAX_LONG_TEXT, as_text, invalid
from vefa.interactions.choices import Direction, InitiatedBy, InteractionChannel, InteractionKind
from vefa.interactions.models import Interaction
from vefa.interactions.services import interaction_create
from vefa.interactions.services._common import as_int
from vefa.platform.records import record_update
from vefa.service.choices import TicketChannel

if TYPE_CHECKING:
    from vefa.accounts.models import User
    from vefa.service.models import Ticket

# The ticket fields the call-centre form may set (the channel is always the call centre).
TICKET_KEYS = frozenset(
    {"subject", "description", "type", "priority", "category", "requester_name", "requester_email"}
)
MAX_CALL_MINUTES = 24 * 60


@dataclass(frozen=True)
class CallResult:
    interaction: Interaction | None
    ticket: Ticket | None


def _customer_id(value: Any) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise invalid({"customer": [_("Choose an existing customer.")]})
    text = str(value).strip()
    if not text.isdigit() or len(text) > 18:
        raise invalid({"customer": [_("Choose an existing customer.")]})
    return int(text)


def call_log(
    *,
    actor: User,
    customer: Any = None,
    phone: str = "",
    notes: str = "",
    duration_minutes: Any = None,
    subject: str = "",
    ticket: Mapping[str, Any] | None = None,
) -> CallResult:
    """Log an inbound call of ``customer`` (an interaction of kind call, channel call centre)
    and, with ``ticket`` data, open a ticket (channel call centre) linked to it.

    Without a known customer nothing can enter a contact history: only a ticket is opened,
    with the caller's name and number (``requester_name`` or ``phone`` required). Any error
    in either part leaves nothing behind.
    """
    customer_id = _customer_id(customer)
    phone_text = as_text(phone, field="phone", max_length=64)
    notes_text = as_text(notes, field="notes", max_length=MAX_LONG_TEXT)
    subject_text = as_text(subject, field="subject", max_length=300)
    minutes = as_int(
        duration_minutes, field="duration_minutes", minimum=0, maximum=MAX_CALL_MINUTES
    )
    if ticket is not None and not isinstance(ticket, Mapping):
        raise invalid({"ticket": [_("Expected an object of field values.")]})
    if customer_id is None and ticket is None:
        raise invalid({"customer": [_("Choose the caller's customer record, or open a ticket.")]})
    if ticket is not None:
        unknown = sorted(str(k) for k in ticket if k not in TICKET_KEYS)
        if unknown:
            raise invalid({f"ticket.{k}": [_("Unknown field.")] for k in unknown})
    with transaction.atomic():
        interaction = None
        if customer_id is not None:
            interaction = interaction_create(
                actor=actor,
                customer_id=customer_id,
                kind=InteractionKind.CALL,
                subject=subject_text
                or (
                    _("Call from %(phone)s") % {"phone": phone_text}
                    if phone_text
                    else _("Incoming call")
                ),
                direction=Direction.INBOUND,
                initiated_by=InitiatedBy.CUSTOMER,
                channel=InteractionChannel.CALL_CENTRE,
                body=notes_text,
                duration_minutes=minutes,
            )
        opened = None
        if ticket is not None:
            opened = _open_ticket(
                actor,
                ticket,
                customer_id=customer_id,
                phone=phone_text,
                notes=notes_text,
                subject=subject_text,
            )
            if interaction is not None:
                interaction = record_update(
                    interaction,
                    actor=actor,
                    data={"related_model": "service.ticket", "related_id": opened.pk},
                )
    return CallResult(interaction=interaction, ticket=opened)


def _open_ticket(
    actor: User,
    data: Mapping[str, Any],
    *,
    customer_id: int | None,
    phone: str,
    notes: str,
    subject: str,
) -> Ticket:
    from vefa.service.services.tickets import ticket_create

    values: dict[str, Any] = {k: v for k, v in data.items() if v not in (None, "")}
    values["channel"] = TicketChannel.CALL_CENTRE
    values.setdefault("subject", subject)
    description = values.get("description") or notes
    if customer_id is not None:
        values["customer"] = customer_id
    else:
        name = values.get("requester_name")
        if not (isinstance(name, str) and name.strip()) and not phone:
            raise invalid({"ticket.requester_name": [_("Give the caller's name or number.")]})
        if phone:
            line = _("Caller's number: %(phone)s") % {"phone": phone}
            description = f"{line}\n\n{description}" if description else line
    if description:
        values["description"] = description
    try:
        return ticket_create(actor=actor, data=values)
    except ValidationFailed as exc:
        # The ticket's fields are named as the form names them.
        raise ValidationFailed(
            exc.message, fields={f"ticket.{k}": v for k, v in exc.fields.items()}
        ) from exc
