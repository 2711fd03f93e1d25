"""Importing help-desk tickets from another system, matched on that system's ticket id or on
the Vefa ticket number.

Each row opens one ticket through the help desk's own service (``ticket_create``): it gets a
number, is routed to a queue, starts its SLA clocks, and with a known customer its text
becomes the first customer message and a touch point in the contact history. The customer is
named like on the other imports (e-mail, phone, tax number or Vefa id) and must be visible to
the person importing; a ticket without a customer keeps the requester's e-mail and name.

Match keys:

* ``external_id`` – the other system's id. Tickets have no column of their own for it; the
  id is kept in the ticket's origin reference (the column that holds the Message-ID of a
  ticket opened by e-mail) as ``vefa-import:<id>``, which no e-mail Message-ID can equal
  (those always contain ``@``), so replies are never threaded onto an imported ticket by it.
* ``reference`` – the Vefa ticket number (``T-2026-000042``), to update tickets exported
  from Vefa and edited elsewhere. A row whose number is unknown opens a new ticket with a
  new number (numbers are given by Vefa, never taken from a file).

On a match with "update" the ticket's details (subject, type, channel, priority, requester)
change through ``ticket_update``; the status and the conversation are never imported.
Each created ticket records its first touch point too, so undo deletes the ticket, its first
message and the touch point; a ticket that has since gained visits, returns or other linked
records is kept and listed.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from vefa.common.errors import ApplicationError
from vefa.imports.entities import register
from vefa.imports.entities.base import (
    EntityAdapter,
    Field,
    ImportContext,
    Outcome,
    Row,
    RowError,
    Written,
)
from vefa.imports.entities.interactions import CUSTOMER_FIELDS, InteractionAdapter
from vefa.imports.entities.products import choice_options, errors_from_failure
from vefa.interactions.models import Interaction
from vefa.service.choices import TicketChannel, TicketPriority, TicketType
from vefa.service.models import Ticket

ORIGIN_PREFIX = "vefa-import:"
DETAILS = ("subject", "requester_email", "requester_name", "type", "channel", "priority")
# The service's field names back to the file's fields.
SERVICE_NAMES = {"customer": "customer_email", "contact": "customer_email"}

TYPE_WORDS: dict[str, tuple[str, ...]] = {
    "complaint": ("şikayet", "şikâyet", "žalba", "reklamacija", "شکایت"),
    "request": ("talep", "istek", "zahtev", "درخواست"),
    "question": ("soru", "pitanje", "سوال", "سؤال"),
    "return_request": ("return", "iade", "iade talebi", "povraćaj", "مرجوعی"),
    "praise": ("teşekkür", "övgü", "pohvala", "تشکر"),
}
PRIORITY_WORDS: dict[str, tuple[str, ...]] = {
    "low": ("düşük", "nizak", "کم"),
    "normal": ("orta", "medium", "normalan", "عادی"),
    "high": ("yüksek", "visok", "زیاد", "بالا"),
    "urgent": ("acil", "hitno", "فوری"),
}
CHANNEL_WORDS: dict[str, tuple[str, ...]] = {
    "phone": ("telefon", "tel", "تلفن"),
    "email": ("mail", "e-posta", "eposta", "e-pošta", "ایمیل"),
    "web_form": ("web", "form", "وب"),
    "portal": ("müşteri portalı", "portal", "پورتال"),
    "social": ("sosyal medya", "društvene mreže", "شبکه اجتماعی"),
    "walk_in": ("mağaza", "şube", "lično", "حضوری"),
    "call_centre": ("call center", "çağrı merkezi", "kol centar", "مرکز تماس"),
}


def origin_of(external_id: str) -> str:
    return f"{ORIGIN_PREFIX}{external_id}"


@register
class TicketAdapter(EntityAdapter):
    entity = "tickets"
    label = gettext_lazy("Tickets")
    model = Ticket
    fields = (
        Field(
            "external_id",
            gettext_lazy("Id in the other system"),
            max_length=250,
            aliases=("id", "external id", "ticket id", "kayıt no", "talep no", "شناسه"),
        ),
        Field(
            "reference",
            gettext_lazy("Ticket number"),
            max_length=20,
            aliases=("number", "ticket number", "referans", "broj", "شماره تیکت"),
        ),
        Field(
            "subject",
            gettext_lazy("Subject"),
            required=True,
            max_length=300,
            aliases=("title", "konu", "başlık", "naslov", "موضوع"),
        ),
        Field(
            "description",
            gettext_lazy("Description"),
            max_length=10_000,
            aliases=("text", "message", "açıklama", "mesaj", "opis", "poruka", "توضیحات"),
        ),
        *InteractionAdapter.fields[1:5],
        Field(
            "requester_email",
            gettext_lazy("Requester e-mail"),
            kind="email",
            aliases=("from", "gönderen", "pošiljalac", "فرستنده"),
        ),
        Field(
            "requester_name",
            gettext_lazy("Requester name"),
            max_length=200,
            aliases=("requester", "talep eden", "podnosilac", "درخواست‌کننده"),
        ),
        Field(
            "type",
            gettext_lazy("Type"),
            kind="choice",
            choices=choice_options(TicketType, TYPE_WORDS),
            aliases=("kind", "tür", "tip", "vrsta", "نوع"),
        ),
        Field(
            "channel",
            gettext_lazy("Channel"),
            kind="choice",
            choices=choice_options(TicketChannel, CHANNEL_WORDS),
            aliases=("kanal", "کانال"),
        ),
        Field(
            "priority",
            gettext_lazy("Priority"),
            kind="choice",
            choices=choice_options(TicketPriority, PRIORITY_WORDS),
            aliases=("öncelik", "prioritet", "اولویت"),
        ),
    )
    match_keys = {"external_id": "external_id", "reference": "reference"}
    default_match_key = "external_id"
    owned_children = ("service.ticketmessage",)

    # -- checks ------------------------------------------------------------------------------

    def clean(self, row: Row, ctx: ImportContext) -> None:
        values = row.values
        key_field = self.match_keys.get(ctx.match_key, "")
        # With the match key's column in the file, a row without a value there could never
        # be matched again: it is refused rather than opened as a ticket twice later.
        if key_field and key_field in row.raw and not values.get(key_field):
            row.error(key_field, _("This field is required."))
        ext = values.get("external_id")
        if isinstance(ext, str) and "@" in ext:
            row.error("external_id", _("An id cannot contain @."))
        if any(values.get(name) not in (None, "") for name in CUSTOMER_FIELDS):
            InteractionAdapter()._resolve_customer(row, ctx)

    # -- matching ------------------------------------------------------------------------------

    def find_existing(self, key: str, values: Sequence[str], ctx: ImportContext) -> dict[str, int]:
        if not values:
            return {}
        qs = self.match_queryset(ctx)
        if key == "external_id":
            origins = {origin_of(v): v for v in values}
            found = qs.filter(message_id__in=list(origins)).order_by("pk")
            result: dict[str, int] = {}
            for origin, pk in found.values_list("message_id", "pk"):
                result.setdefault(origins[origin], pk)
            return result
        if key == "reference":
            return dict(qs.filter(number__in=list(values)).values_list("number", "pk"))
        return {}

    # -- writes --------------------------------------------------------------------------------

    def _data(self, row: Row, names: Iterable[str]) -> dict[str, Any]:
        return {name: row.values[name] for name in names if name in row.values}

    def create(self, rows: Sequence[Row], ctx: ImportContext) -> list[Outcome]:
        from vefa.service.services.tickets import ticket_create

        outcomes: list[Outcome] = []
        for row in rows:
            data = self._data(row, (*DETAILS, "description"))
            customer = row.values.get("_customer")
            if customer:
                data["customer"] = customer
            external = str(row.values.get("external_id", ""))
            try:
                with transaction.atomic():
                    ticket = ticket_create(
                        actor=ctx.actor,
                        data=data,
                        message_id=origin_of(external) if external else "",
                    )
            except ApplicationError as exc:
                outcomes.append(
                    Outcome("error", errors=errors_from_failure(row, exc, SERVICE_NAMES))
                )
                continue
            records = [Written(self.object_type(), ticket.pk, "created")]
            records += [
                Written("interactions.interaction", pk, "created")
                for pk in Interaction.objects.filter(
                    related_model="service.ticket", related_id=ticket.pk
                ).values_list("pk", flat=True)
            ]
            outcomes.append(Outcome("created", records=records))
        return outcomes

    def update(self, rows: Sequence[Row], ctx: ImportContext) -> list[Outcome]:
        from vefa.service.services.tickets import ticket_update

        current = Ticket.objects.in_bulk([r.existing_id for r in rows if r.existing_id])
        outcomes: list[Outcome] = []
        for row in rows:
            ticket = current.get(row.existing_id or 0)
            if ticket is None:
                outcomes.append(
                    Outcome(
                        "error", errors=[RowError(row.number, "", "", _("The record is gone."))]
                    )
                )
                continue
            data = self._data(row, DETAILS)
            changed = {k: v for k, v in data.items() if getattr(ticket, k) != v}
            customer = row.values.get("_customer")
            if customer and customer != ticket.customer_id:
                changed["customer"] = customer
            if not changed:
                outcomes.append(Outcome("unchanged"))
                continue
            previous = {
                ("customer_id" if k == "customer" else k): (
                    ticket.customer_id if k == "customer" else getattr(ticket, k)
                )
                for k in changed
            }
            try:
                with transaction.atomic():
                    ticket_update(actor=ctx.actor, ticket_id=ticket.pk, data=changed)
            except ApplicationError as exc:
                outcomes.append(
                    Outcome("error", errors=errors_from_failure(row, exc, SERVICE_NAMES))
                )
                continue
            outcomes.append(
                Outcome(
                    "updated",
                    records=[Written(self.object_type(), ticket.pk, "updated", previous)],
                )
            )
        return outcomes
