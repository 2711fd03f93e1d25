"""Importing contact history (interactions: calls, e-mails, visits, purchases …) from another
system, each row linked to a customer and matched on the other system's id.

A row names its customer by one of: the customer's e-mail, phone, tax number or Vefa id
(``customer_email`` / ``customer_phone`` / ``customer_tax_number`` / ``customer_id``); the
customer must exist and be visible to the person importing (otherwise the row is an error;
an import never creates customers on the side). The row's ``external_id`` is the match key:
the same history imported twice records nothing twice, and with "update" a changed row
changes the interaction it imported before.

Rows are written through the contact-history services (``interaction_insert`` /
``interaction_update``), so the change log, the domain events and the customer's
"last contact" time behave as for an interaction recorded by hand.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from vefa.accounts.access import can_create, restrict
from vefa.common.errors import ApplicationError
from vefa.customers.models import ContactPoint, Customer
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
from vefa.imports.entities.products import choice_options, errors_from_failure
from vefa.interactions.choices import (
    Direction,
    InitiatedBy,
    InteractionChannel,
    InteractionKind,
    InteractionStatus,
)
from vefa.interactions.models import Interaction

CUSTOMER_FIELDS = ("customer_id", "customer_email", "customer_phone", "customer_tax_number")
# Fields an update may change (the customer and the external id stay).
UPDATABLE = (
    "kind",
    "direction",
    "initiated_by",
    "channel",
    "occurred_at",
    "subject",
    "body",
    "outcome",
    "status",
    "duration_minutes",
    "amount",
    "currency",
)

KIND_WORDS: dict[str, tuple[str, ...]] = {
    "purchase": ("satın alma", "satış", "kupovina", "خرید"),
    "call": ("phone call", "arama", "telefon", "poziv", "تماس"),
    "email": ("mail", "e-posta", "eposta", "e-pošta", "ایمیل"),
    "sms": ("text", "mesaj", "poruka", "پیامک"),
    "letter": ("mektup", "pismo", "نامه"),
    "visit": ("ziyaret", "poseta", "بازدید"),
    "meeting": ("toplantı", "görüşme", "sastanak", "جلسه"),
    "comment": ("note", "not", "yorum", "komentar", "یادداشت"),
    "complaint": ("şikayet", "şikâyet", "žalba", "reklamacija", "شکایت"),
    "return": ("iade", "povraćaj", "مرجوعی"),
    "offer": ("teklif", "kampanya", "ponuda", "پیشنهاد"),
    "social": ("sosyal medya", "društvene mreže", "شبکه اجتماعی"),
    "web": ("web sitesi", "form", "sajt", "وب"),
    "fax": ("faks", "فکس"),
}
DIRECTION_WORDS: dict[str, tuple[str, ...]] = {
    "inbound": ("in", "gelen", "dolazni", "ورودی"),
    "outbound": ("out", "giden", "odlazni", "خروجی"),
    "internal": ("iç", "dahili", "interni", "داخلی"),
}
INITIATED_WORDS: dict[str, tuple[str, ...]] = {
    "customer": ("müşteri", "kupac", "مشتری"),
    "company": ("firma", "şirket", "we", "biz", "kompanija", "شرکت"),
}
STATUS_WORDS: dict[str, tuple[str, ...]] = {
    "open": ("açık", "otvoreno", "باز"),
    "in_progress": ("devam ediyor", "u toku", "در جریان"),
    "done": ("closed", "completed", "tamamlandı", "kapalı", "završeno", "انجام شده"),
}


@register
class InteractionAdapter(EntityAdapter):
    entity = "interactions"
    label = gettext_lazy("Interactions (contact history)")
    model = Interaction
    fields = (
        Field(
            "external_id",
            gettext_lazy("Id in the other system"),
            required=True,
            max_length=100,
            aliases=("id", "external id", "reference", "ref", "kayıt no", "referans", "شناسه"),
        ),
        Field("customer_id", gettext_lazy("Customer id"), kind="int", aliases=("müşteri no",)),
        Field(
            "customer_email",
            gettext_lazy("Customer e-mail"),
            kind="email",
            aliases=("email", "e-mail", "e-posta", "eposta", "e-pošta", "ایمیل"),
        ),
        Field(
            "customer_phone",
            gettext_lazy("Customer phone"),
            kind="phone",
            aliases=("phone", "telefon", "tel", "gsm", "تلفن"),
        ),
        Field(
            "customer_tax_number",
            gettext_lazy("Customer tax number"),
            max_length=40,
            aliases=("tax number", "vergi no", "vergi numarası", "pib", "کد اقتصادی"),
        ),
        Field(
            "kind",
            gettext_lazy("Kind"),
            kind="choice",
            required=True,
            choices=choice_options(InteractionKind, KIND_WORDS),
            aliases=("type", "tür", "tip", "vrsta", "نوع"),
        ),
        Field(
            "direction",
            gettext_lazy("Direction"),
            kind="choice",
            choices=choice_options(Direction, DIRECTION_WORDS),
            aliases=("yön", "smer", "جهت"),
        ),
        Field(
            "initiated_by",
            gettext_lazy("Initiated by"),
            kind="choice",
            choices=choice_options(InitiatedBy, INITIATED_WORDS),
            aliases=("başlatan", "inicirao", "آغازگر"),
        ),
        Field(
            "channel",
            gettext_lazy("Channel"),
            kind="choice",
            choices=choice_options(InteractionChannel),
            aliases=("kanal", "کانال"),
        ),
        Field(
            "occurred_at",
            gettext_lazy("Time"),
            kind="datetime",
            required=True,
            aliases=("date", "time", "tarih", "zaman", "datum", "vreme", "تاریخ", "زمان"),
        ),
        Field(
            "subject",
            gettext_lazy("Subject"),
            required=True,
            max_length=300,
            aliases=("title", "konu", "başlık", "tema", "naslov", "موضوع"),
        ),
        Field(
            "body",
            gettext_lazy("Details"),
            max_length=10_000,
            aliases=("notes", "description", "açıklama", "detay", "not", "opis", "توضیحات"),
        ),
        Field(
            "outcome",
            gettext_lazy("Outcome"),
            max_length=300,
            aliases=("result", "sonuç", "ishod", "نتیجه"),
        ),
        Field(
            "status",
            gettext_lazy("Status"),
            kind="choice",
            choices=choice_options(InteractionStatus, STATUS_WORDS),
            aliases=("durum", "وضعیت"),
        ),
        Field(
            "duration_minutes",
            gettext_lazy("Duration (minutes)"),
            kind="int",
            aliases=("duration", "süre", "trajanje", "مدت"),
        ),
        Field(
            "amount",
            gettext_lazy("Amount"),
            kind="decimal",
            aliases=("tutar", "iznos", "مبلغ"),
        ),
        Field(
            "currency",
            gettext_lazy("Currency"),
            kind="currency",
            aliases=("para birimi", "döviz", "valuta", "ارز"),
        ),
    )
    match_keys = {"external_id": "external_id"}
    default_match_key = "external_id"
    owned_children = ("interactions.attachment",)

    # -- checks ------------------------------------------------------------------------------

    def clean(self, row: Row, ctx: ImportContext) -> None:
        values = row.values
        if not any(values.get(name) not in (None, "") for name in CUSTOMER_FIELDS):
            row.error(
                "customer_email",
                _("Give the customer's e-mail, phone, tax number or id."),
                value="",
            )
        duration = values.get("duration_minutes")
        if duration is not None and not (0 <= duration <= 100_000):
            row.error("duration_minutes", _("Enter a number of minutes between 0 and 100000."))
        amount = values.get("amount")
        if amount is not None and abs(amount) >= Decimal("1e16"):
            row.error("amount", _("The amount is too large."))
        if amount is not None and amount != amount.quantize(Decimal("0.01")):
            row.error("amount", _("At most two decimals."))
        if not row.errors:
            self._resolve_customer(row, ctx)

    def _customer_cache(self, ctx: ImportContext) -> dict[tuple[str, str], int | None]:
        cache: dict[tuple[str, str], int | None] = ctx.cache.setdefault("interaction_customers", {})
        if len(cache) > 50_000:
            cache.clear()
        return cache

    def _resolve_customer(self, row: Row, ctx: ImportContext) -> None:
        """Find the row's customer among those the actor may see (one query per new key)."""
        cache = self._customer_cache(ctx)
        visible = restrict(Customer.objects.all(), ctx.actor, "view")
        lookups = {
            "customer_id": "pk",
            "customer_email": "primary_email",
            "customer_phone": "primary_phone",
            "customer_tax_number": "tax_number",
        }
        for name in CUSTOMER_FIELDS:
            value = row.values.get(name)
            if value in (None, ""):
                continue
            key = (name, str(value))
            if key not in cache:
                if name in ("customer_email", "customer_phone"):
                    # Any of the customer's e-mails or phones, as stored normalised.
                    points = ContactPoint.objects.filter(
                        normalized=value, customer__in=visible.filter(merged_into__isnull=True)
                    )
                    if name == "customer_email":
                        points = points.filter(kind="email")
                    found_pks = sorted(set(points.values_list("customer_id", flat=True)[:10]))
                    if not found_pks:
                        found_pks = list(
                            visible.filter(**{lookups[name]: value})
                            .order_by("pk")
                            .values_list("pk", flat=True)[:2]
                        )
                else:
                    found_pks = list(
                        visible.filter(**{lookups[name]: value})
                        .order_by("pk")
                        .values_list("pk", flat=True)[:2]
                    )
                cache[key] = found_pks[0] if len(found_pks) == 1 else (-1 if found_pks else None)
            found = cache[key]
            if found is None:
                row.error(name, _("No customer you can see has this value."))
            elif found == -1:
                row.error(name, _("More than one customer has this value; use the customer id."))
            else:
                row.values["_customer"] = found
            return

    # -- writes --------------------------------------------------------------------------------

    def _data(self, row: Row, names: Iterable[str]) -> dict[str, Any]:
        return {name: row.values[name] for name in names if name in row.values}

    def create(self, rows: Sequence[Row], ctx: ImportContext) -> list[Outcome]:
        from vefa.interactions.services.interactions import interaction_insert

        outcomes: list[Outcome] = []
        allowed = can_create(ctx.actor, Interaction)
        customers = Customer.objects.in_bulk(
            [row.values["_customer"] for row in rows if row.values.get("_customer")]
        )
        for row in rows:
            customer = customers.get(row.values.get("_customer", 0))
            if not allowed or customer is None:
                reason = (
                    _("Your role cannot record interactions.")
                    if not allowed
                    else _("No customer you can see has this value.")
                )
                outcomes.append(Outcome("error", errors=[RowError(row.number, "", "", reason)]))
                continue
            data = self._data(row, UPDATABLE)
            try:
                with transaction.atomic():
                    interaction = interaction_insert(
                        actor=ctx.actor,
                        customer=customer,
                        external_id=str(row.values["external_id"]),
                        **data,
                    )
            except ApplicationError as exc:
                outcomes.append(Outcome("error", errors=errors_from_failure(row, exc)))
                continue
            except IntegrityError:
                outcomes.append(
                    Outcome(
                        "error",
                        errors=[
                            RowError(
                                row.number,
                                row.columns.get("external_id", "external_id"),
                                row.raw.get("external_id", ""),
                                _("Another interaction has this id, one you may not change."),
                            )
                        ],
                    )
                )
                continue
            outcomes.append(
                Outcome("created", records=[Written(self.object_type(), interaction.pk, "created")])
            )
        return outcomes

    def update(self, rows: Sequence[Row], ctx: ImportContext) -> list[Outcome]:
        from vefa.interactions.services.interactions import interaction_update

        current = Interaction.objects.in_bulk([r.existing_id for r in rows if r.existing_id])
        outcomes: list[Outcome] = []
        for row in rows:
            interaction = current.get(row.existing_id or 0)
            if interaction is None:
                outcomes.append(
                    Outcome(
                        "error", errors=[RowError(row.number, "", "", _("The record is gone."))]
                    )
                )
                continue
            if row.values.get("_customer") not in (None, interaction.customer_id):
                outcomes.append(
                    Outcome(
                        "error",
                        errors=[
                            RowError(
                                row.number,
                                "",
                                "",
                                _("This id was imported for another customer."),
                            )
                        ],
                    )
                )
                continue
            data = self._data(row, UPDATABLE)
            changed = {k: v for k, v in data.items() if getattr(interaction, k) != v}
            if not changed:
                outcomes.append(Outcome("unchanged"))
                continue
            previous = {k: _json(getattr(interaction, k)) for k in changed}
            try:
                with transaction.atomic():
                    interaction_update(
                        actor=ctx.actor,
                        interaction_id=interaction.pk,
                        data=changed,  # type: ignore[arg-type]
                    )
            except ApplicationError as exc:
                outcomes.append(Outcome("error", errors=errors_from_failure(row, exc)))
                continue
            outcomes.append(
                Outcome(
                    "updated",
                    records=[Written(self.object_type(), interaction.pk, "updated", previous)],
                )
            )
        return outcomes


def _json(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value
