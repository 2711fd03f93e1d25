"""Importing customers (people and organisations) with their primary e-mail and phone.

A row is a person when it has a first, last or full name, an organisation when it names a
company (or says so in the "kind" column). Empty cells never blank a field on update. The
e-mail and phone become primary contact points; a different e-mail or phone on an update is
added as a further contact point. Written in bulk: one insert per table per batch, the search
index rows of the batch at once, one change-log row per record.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from vefa.accounts.access import can, restrict
from vefa.common.text import fold
from vefa.customers.choices import CustomerKind, Gender, LifecycleStage, Source
from vefa.customers.models import ContactPoint, Customer
from vefa.imports.bulk import maker
from vefa.imports.entities import register
from vefa.imports.entities.base import (
    EntityAdapter,
    Field,
    ImportContext,
    Outcome,
    Row,
    Written,
)

if TYPE_CHECKING:
    from vefa.accounts.models import User

CUSTOMER = "customers.customer"
CONTACT_POINT = "customers.contactpoint"

FIRST_NAME = ("first name", "ad", "adı", "isim", "ime", "نام", "given name", "forename")
LAST_NAME = ("last name", "soyad", "soyadı", "soyisim", "prezime", "نام خانوادگی", "surname")
FULL_NAME = (
    "name",
    "full name",
    "ad soyad",
    "adı soyadı",
    "isim soyisim",
    "müşteri adı",
    "ime i prezime",
    "име и презиме",
    "نام و نام خانوادگی",
    "contact name",
)
EMAIL = (
    "email",
    "e-mail",
    "mail",
    "e-posta",
    "eposta",
    "e-pošta",
    "imejl",
    "ایمیل",
    "پست الکترونیک",
)
PHONE = (
    "phone",
    "telephone",
    "tel",
    "telefon",
    "gsm",
    "cep",
    "cep telefonu",
    "mobile",
    "mobil",
    "mobilni",
    "broj telefona",
    "تلفن",
    "موبایل",
    "شماره تلفن",
    "تلفن همراه",
)
COMPANY = (
    "company",
    "company name",
    "organisation",
    "organization",
    "şirket",
    "firma",
    "unvan",
    "ticari unvan",
    "kurum",
    "naziv",
    "preduzeće",
    "kompanija",
    "شرکت",
    "نام شرکت",
)
OWNER = ("owner", "sorumlu", "temsilci", "satış temsilcisi", "vlasnik", "odgovorni", "مسئول")
NOTES = ("notes", "note", "not", "notlar", "açıklama", "napomena", "beleška", "یادداشت", "توضیحات")

KIND_CHOICES = (
    (
        "person",
        "person",
        "individual",
        "kişi",
        "bireysel",
        "şahıs",
        "osoba",
        "lice",
        "fizičko lice",
    ),
    (
        "organisation",
        "organization",
        "company",
        "şirket",
        "kurum",
        "kurumsal",
        "firma",
        "tüzel",
        "pravno lice",
        "preduzeće",
        "organizacija",
        "شرکت",
        "سازمان",
        "حقوقی",
    ),
)


def _choices(
    choices: Any, extra: dict[str, tuple[str, ...]] | None = None
) -> tuple[tuple[str, ...], ...]:
    """(value, label, *extra words) per option of a Django choices class."""
    extra = extra or {}
    return tuple((str(v), str(label), *extra.get(str(v), ())) for v, label in choices.choices)


def owner_field() -> Field:
    return Field("owner", gettext_lazy("owner (e-mail)"), kind="email", aliases=OWNER)


def resolve_owner(row: Row, ctx: ImportContext) -> None:
    """Turn the owner's e-mail into a user id (cached per import); unknown → row error."""
    email = row.values.get("owner")
    if not email:
        return
    from vefa.accounts.models import User

    users: dict[str, tuple[int, int | None] | None] = ctx.cache.setdefault("owners", {})
    if email not in users:
        user = User.objects.filter(email__iexact=email, is_active=True).first()
        users[email] = (user.pk, user.team_id) if user is not None else None
    found = users[email]
    if found is None:
        row.error("owner", _("No active user with this e-mail."))
        return
    row.values["owner_id"], row.values["team_id"] = found


def split_full_name(full: str) -> tuple[str, str]:
    parts = full.split()
    if len(parts) <= 1:
        return full.strip(), ""
    return " ".join(parts[:-1]), parts[-1]


def changelog_rows(
    ctx: ImportContext, objects: Sequence[models.Model], action: str, changes: Sequence[Any]
) -> None:
    """One change-log row per written record (bulk); ``changes`` are (before, after) pairs."""
    from vefa.common.context import current_request_id
    from vefa.imports.bulk import db_datetime, db_json, insert_rows
    from vefa.platform.audit import customer_id_of
    from vefa.platform.models import ChangeLogEntry

    actor = ctx.actor
    request_id = current_request_id() or ""
    now = db_datetime(timezone.now())
    as_json = db_json(ChangeLogEntry, "before")
    name = str(actor)[:200]
    rows = [
        (
            now,
            action,
            obj._meta.label_lower,
            obj.pk,
            str(obj)[:200],
            customer_id_of(obj),
            actor.pk,
            name,
            request_id,
            as_json(before),
            as_json(after),
        )
        for obj, (before, after) in zip(objects, changes, strict=True)
    ]
    insert_rows(
        ChangeLogEntry,
        (
            "time",
            "action",
            "model",
            "object_id",
            "object_repr",
            "customer_id",
            "actor_id",
            "actor_name",
            "request_id",
            "before",
            "after",
        ),
        rows,
    )


def index_now(label: str, objects: Sequence[models.Model]) -> None:
    """Write the search index rows of freshly written records, in this transaction."""
    from vefa.platform.search import backends
    from vefa.platform.search.registry import document_row

    rows = [row for row in (document_row(label, obj) for obj in objects) if row is not None]
    backends.upsert(rows)


def quality_keys(label: str, ids: Sequence[int]) -> None:
    """Write the duplicate check's blocking keys of customers or leads written in bulk."""
    if not ids:
        return
    from vefa.quality.services import customer_keys_rebuild, lead_keys_rebuild

    if label == CUSTOMER:
        customer_keys_rebuild(ids)
    else:
        lead_keys_rebuild(ids)


class DuplicateKeysFollowUndo(EntityAdapter):
    """Undo keeps the duplicate check's keys of the adapter's main records true: the keys of
    a deleted record go with it, a restored record's are written again (the bulk writes of
    an import send no events the quality app could follow)."""

    def undo_created(self, object_type: str, ids: Sequence[int], ctx: ImportContext) -> int:
        gone = super().undo_created(object_type, ids, ctx)
        if object_type == self.object_type():
            from vefa.quality.models import RecordKind
            from vefa.quality.services import keys_forget_many

            kind = RecordKind.CUSTOMER if object_type == CUSTOMER else RecordKind.LEAD
            keys_forget_many(kind, ids)
        return gone

    def undo_updated(
        self, object_type: str, pk: int, previous: dict[str, Any], ctx: ImportContext
    ) -> bool | str:
        undone = super().undo_updated(object_type, pk, previous, ctx)
        if undone is True and object_type == self.object_type():
            quality_keys(object_type, [pk])
        return undone


def jsonable(value: Any) -> Any:
    if isinstance(value, datetime.date | datetime.datetime | datetime.time):
        return value.isoformat()
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def index_soon(ctx: ImportContext, label: str, ids: Sequence[int]) -> None:
    """Index these records when the batch commits (one bulk pass per label and batch)."""
    from django.db import transaction

    from vefa.platform.search.indexer import index_records

    if ids:
        transaction.on_commit(lambda: index_records(label, list(ids)))


STAGE_WORDS: dict[str, tuple[str, ...]] = {
    "lead": ("aday", "potencijalni klijent", "سرنخ"),
    "prospect": ("potansiyel", "potencijalni", "بالقوه"),
    "customer": ("müşteri", "kupac", "klijent", "مشتری"),
    "inactive": ("pasif", "neaktivan", "غیرفعال"),
    "lost": ("kayıp", "kaybedildi", "izgubljen", "از دست رفته"),
}
SOURCE_WORDS: dict[str, tuple[str, ...]] = {
    "web": ("web sitesi", "internet", "sajt", "وب سایت"),
    "referral": ("referans", "tavsiye", "preporuka", "معرفی"),
    "campaign": ("kampanya", "kampanja", "کمپین"),
    "event": ("fuar", "etkinlik", "sajam", "događaj", "نمایشگاه"),
    "cold_call": ("soğuk arama", "hladan poziv", "تماس سرد"),
    "social": ("sosyal medya", "društvene mreže", "شبکه اجتماعی"),
    "partner": ("iş ortağı", "bayi", "شریک"),
    "walk_in": ("mağaza", "prodavnica", "حضوری"),
    "import": ("içe aktarma", "uvoz", "ورود"),
    "other": ("diğer", "ostalo", "سایر"),
}

# Customer fields an import may set directly (the rest are derived or relations).
PERSON_ONLY = ("first_name", "last_name", "birth_date", "gender")
ORGANISATION_ONLY = ("legal_name", "trade_name", "tax_number")
DIRECT = (
    *PERSON_ONLY,
    *ORGANISATION_ONLY,
    "lifecycle_stage",
    "source",
    "language",
    "currency",
    "notes",
    "country",
    "city",
)


class CustomerAdapter(DuplicateKeysFollowUndo):
    entity = "customers"
    label = gettext_lazy("Customers")
    model = Customer
    fields: ClassVar[tuple[Field, ...]] = (
        Field("id", gettext_lazy("Vefa id"), kind="int", aliases=("vefa id", "customer id")),
        Field("kind", gettext_lazy("kind"), kind="choice", choices=KIND_CHOICES,
              aliases=("type", "tür", "tip", "müşteri tipi", "vrsta", "tip kupca", "نوع")),
        Field("full_name", gettext_lazy("full name"), max_length=201, aliases=FULL_NAME),
        Field("first_name", gettext_lazy("first name"), max_length=100, aliases=FIRST_NAME),
        Field("last_name", gettext_lazy("last name"), max_length=100, aliases=LAST_NAME),
        Field("legal_name", gettext_lazy("legal name"), max_length=200, aliases=COMPANY),
        Field("trade_name", gettext_lazy("trade name"), max_length=200,
              aliases=("brand", "marka", "kısa ad", "trgovački naziv", "نام تجاری")),
        Field("email", gettext_lazy("e-mail"), kind="email", aliases=EMAIL),
        Field("phone", gettext_lazy("phone"), kind="phone", aliases=PHONE),
        Field("tax_number", gettext_lazy("tax number"), max_length=40,
              aliases=("vergi no", "vergi numarası", "vkn", "tckn", "vat", "vat number", "pib",
                       "poreski broj", "پیب", "کد اقتصادی", "شناسه ملی")),
        Field("birth_date", gettext_lazy("birth date"), kind="date",
              aliases=("doğum tarihi", "date of birth", "datum rođenja", "تاریخ تولد")),
        Field("gender", gettext_lazy("gender"), kind="choice",
              choices=_choices(Gender, {"female": ("f", "k", "kadın", "ž", "žensko", "زن"),
                                        "male": ("m", "e", "erkek", "muško", "مرد")}),
              aliases=("cinsiyet", "pol", "جنسیت")),
        Field("lifecycle_stage", gettext_lazy("lifecycle stage"), kind="choice",
              choices=_choices(LifecycleStage, STAGE_WORDS),
              aliases=("stage", "aşama", "faza", "مرحله")),
        Field("source", gettext_lazy("source"), kind="choice",
              choices=_choices(Source, SOURCE_WORDS),
              aliases=("kaynak", "izvor", "منبع")),
        Field("language", gettext_lazy("language"), max_length=10,
              aliases=("dil", "jezik", "زبان")),
        Field("currency", gettext_lazy("currency"), kind="currency",
              aliases=("para birimi", "döviz", "valuta", "ارز")),
        Field("city", gettext_lazy("city"), max_length=100,
              aliases=("şehir", "il", "grad", "град", "شهر")),
        Field("country", gettext_lazy("country"), kind="country",
              aliases=("ülke", "zemlja", "država", "کشور")),
        Field("notes", gettext_lazy("notes"), aliases=NOTES),
        owner_field(),
    )  # fmt: skip
    match_keys = {"email": "email", "phone": "phone", "tax_number": "tax_number", "id": "id"}
    default_match_key = "email"
    owned_children: ClassVar[tuple[str, ...]] = (
        CONTACT_POINT,
        "customers.address",
        "customers.consent",
    )

    # -- rows --------------------------------------------------------------------------------

    def clean(self, row: Row, ctx: ImportContext) -> None:
        from vefa.customers.services._common import check_language

        values = row.values
        full = values.pop("full_name", "")
        if full and not values.get("first_name") and not values.get("last_name"):
            values["first_name"], values["last_name"] = split_full_name(full)
        kind = values.get("kind")
        if not kind:
            person = any(values.get(k) for k in ("first_name", "last_name"))
            kind = CustomerKind.PERSON if person or not values.get("legal_name") else "organisation"
            values["kind"] = str(kind)
        if kind == CustomerKind.PERSON:
            for name in ORGANISATION_ONLY:
                if name in values and name != "tax_number":
                    row.error(name, _("Only for organisations."))
            born = values.get("birth_date")
            if born is not None and (born > ctx.now.date() or born < datetime.date(1900, 1, 1)):
                row.error("birth_date", _("Enter a birth date in the past."))
        else:
            for name in PERSON_ONLY:
                if name in values:
                    row.error(name, _("Only for persons."))
        errors: dict[str, list[str]] = {}
        check_language(values.get("language") or "", errors)
        for name in errors:
            row.error(name, " ".join(errors[name]))
        resolve_owner(row, ctx)

    def validate_create(self, row: Row, ctx: ImportContext) -> None:
        values = row.values
        if "id" in values:
            row.error("id", _("No customer with this id that you may change."))
        elif values.get("kind") == CustomerKind.PERSON:
            if not values.get("first_name") and not values.get("last_name"):
                row.error("first_name", _("Enter a first or a last name."))
        elif not values.get("legal_name") and not values.get("trade_name"):
            row.error("legal_name", _("Enter a legal or a trade name."))

    # -- matching ----------------------------------------------------------------------------

    def find_existing(self, key: str, values: Sequence[str], ctx: ImportContext) -> dict[str, int]:
        if not values:
            return {}
        customers = restrict(Customer.objects.filter(merged_into__isnull=True), ctx.actor, "change")
        found: dict[str, int] = {}
        if key in ("email", "phone"):
            kinds = ("email",) if key == "email" else ("phone", "mobile")
            points = ContactPoint.objects.filter(
                kind__in=kinds, normalized__in=list(values), customer__in=customers
            ).order_by("-is_primary", "customer_id")
            for value, pk in points.values_list("normalized", "customer_id"):
                found.setdefault(value, pk)
            return found
        if key == "tax_number":
            qs = customers.filter(tax_number__in=list(values)).order_by("pk")
            for value, pk in qs.values_list("tax_number", "pk"):
                found.setdefault(value, pk)
            return found
        if key == "id":
            ids = [int(v) for v in values if v.isdigit()]
            return {str(pk): pk for pk in customers.filter(pk__in=ids).values_list("pk", flat=True)}
        return {}

    # -- writing -----------------------------------------------------------------------------

    def _new(self, row: Row, ctx: ImportContext) -> Customer:
        from vefa.customers.services.customers import derive_display_name

        values = row.values
        kind = values["kind"]
        fields = {k: values[k] for k in DIRECT if k in values}
        fields.setdefault("lifecycle_stage", LifecycleStage.PROSPECT)
        fields.setdefault("source", Source.IMPORT)
        fields.setdefault("currency", "TRY")
        if kind == CustomerKind.PERSON:
            for name in ("legal_name", "trade_name"):
                fields.pop(name, None)
        owner_id = values.get("owner_id", ctx.actor.pk)
        team_id = (
            values.get("team_id", ctx.actor.team_id) if "owner_id" in values else ctx.actor.team_id
        )
        display = derive_display_name(kind, fields)[:300]
        customer: Customer = maker(Customer).new(
            kind=kind,
            display_name=display,
            name_key=fold(display)[:300],
            owner_id=owner_id,
            team_id=team_id,
            created_by_id=ctx.actor.pk,
            updated_by_id=ctx.actor.pk,
            primary_email=values.get("email", ""),
            primary_phone=values.get("phone", ""),
            stage_changed_at=ctx.now,
            **fields,
        )
        if customer.lifecycle_stage == LifecycleStage.CUSTOMER:
            customer.became_customer_at = ctx.now
        elif customer.lifecycle_stage == LifecycleStage.LOST:
            customer.lost_at = ctx.now
        return customer

    def create(self, rows: Sequence[Row], ctx: ImportContext) -> list[Outcome]:
        from vefa.imports.bulk import insert_objects

        outcomes: list[Outcome] = []
        customers: list[Customer] = []
        keep: list[Row] = []
        for row in rows:
            customer = self._new(row, ctx)
            if not can(ctx.actor, "change", customer):
                row.error("owner", _("You may not create a customer for this owner or team."))
                outcomes.append(Outcome("error", errors=list(row.errors)))
                continue
            customers.append(customer)
            keep.append(row)
            outcomes.append(Outcome("created"))
        insert_objects(Customer, customers)
        points: list[ContactPoint] = []
        written = iter(zip(keep, customers, strict=True))
        for outcome in outcomes:
            if outcome.action != "created":
                continue
            row, customer = next(written)
            outcome.records.append(Written(CUSTOMER, customer.pk, "created"))
            points.extend(self._points(row, customer, primary=True))
        by_id = {c.pk: c for c in customers}
        for point in points:
            point._state.fields_cache["customer"] = by_id[point.customer_id]
        insert_objects(ContactPoint, points)
        by_customer: dict[int, list[int]] = {}
        for point in points:
            by_customer.setdefault(point.customer_id, []).append(point.pk)
        for outcome in outcomes:
            if outcome.action == "created":
                pk = outcome.records[0].object_id
                outcome.records.extend(
                    Written(CONTACT_POINT, p, "created") for p in by_customer.get(pk, [])
                )
        changelog_rows(
            ctx,
            customers,
            "create",
            [(None, self._snapshot(c)) for c in customers],
        )
        index_now(CUSTOMER, customers)
        index_now(CONTACT_POINT, points)
        # Bulk writes send no events: the duplicate check's keys are written here.
        from vefa.quality.services import new_customer_keys

        new_customer_keys(customers)
        return outcomes

    @staticmethod
    def _snapshot(customer: Customer) -> dict[str, Any]:
        return {
            k: jsonable(getattr(customer, k))
            for k in ("kind", "display_name", "primary_email", "primary_phone", *DIRECT)
            if getattr(customer, k) not in ("", None)
        }

    @staticmethod
    def _points(
        row: Row, customer: Customer, *, primary: bool, have: set[tuple[str, str]] | None = None
    ) -> list[ContactPoint]:
        points = []
        phone_kind = "mobile" if customer.kind == CustomerKind.PERSON else "phone"
        for kind, name in (("email", "email"), (phone_kind, "phone")):
            value = row.values.get(name)
            if not value:
                continue
            group = "email" if kind == "email" else "phone"
            if have is not None and (group, value) in have:
                continue
            points.append(
                maker(ContactPoint).new(
                    customer_id=customer.pk,
                    kind=kind,
                    value=row.raw.get(name, value)[:254],
                    normalized=value,
                    is_primary=primary if have is None else (group, "") not in have,
                    created_by_id=customer.updated_by_id,
                    updated_by_id=customer.updated_by_id,
                )
            )
        return points

    def update(self, rows: Sequence[Row], ctx: ImportContext) -> list[Outcome]:
        from django.db.models import F
        from django.utils import timezone

        from vefa.customers.services.customers import derive_display_name

        ids = [r.existing_id for r in rows if r.existing_id is not None]
        current = Customer.objects.in_bulk(ids)
        have: dict[int, set[tuple[str, str]]] = {}
        for cid, kind, value in ContactPoint.objects.filter(customer_id__in=ids).values_list(
            "customer_id", "kind", "normalized"
        ):
            group = "email" if kind == "email" else "phone"
            have.setdefault(cid, set()).update({(group, value), (group, "")})
        outcomes: list[Outcome] = []
        changed_objects: list[Customer] = []
        changes: list[tuple[dict[str, Any], dict[str, Any]]] = []
        points: list[tuple[Outcome, ContactPoint]] = []
        now = timezone.now()
        for row in rows:
            customer = current.get(row.existing_id or 0)
            if customer is None:
                row.error("", _("The matching record is gone."))
                outcomes.append(Outcome("error", errors=list(row.errors)))
                continue
            values = dict(row.values)
            if values.get("kind") and values["kind"] != customer.kind:
                row.error("kind", _("The existing record is of another kind."))
                outcomes.append(Outcome("error", errors=list(row.errors)))
                continue
            allowed = PERSON_ONLY if customer.kind == CustomerKind.PERSON else ORGANISATION_ONLY
            new = {
                k: values[k]
                for k in DIRECT
                if k in values and (k in allowed or k not in (*PERSON_ONLY, *ORGANISATION_ONLY))
            }
            if "owner_id" in values:
                new["owner_id"] = values["owner_id"]
                new["team_id"] = values["team_id"]
            before = {k: getattr(customer, k) for k in new}
            diff = {k: v for k, v in new.items() if before[k] != v}
            outcome = Outcome("unchanged")
            if diff:
                if "lifecycle_stage" in diff:
                    diff["stage_changed_at"] = now
                    before["stage_changed_at"] = customer.stage_changed_at
                for key, value in diff.items():
                    setattr(customer, key, value)
                if not can(ctx.actor, "change", customer):
                    row.error("owner", _("You may not give the customer to this owner or team."))
                    outcomes.append(Outcome("error", errors=list(row.errors)))
                    continue
                name = derive_display_name(customer.kind, customer.__dict__)[:300]
                if name and name != customer.display_name:
                    before["display_name"] = customer.display_name
                    before["name_key"] = customer.name_key
                    diff["display_name"] = customer.display_name = name
                    diff["name_key"] = customer.name_key = fold(name)[:300]
                previous = {k: jsonable(before[k]) for k in diff}
                diff["updated_at"] = now
                diff["updated_by_id"] = ctx.actor.pk
                Customer.objects.filter(pk=customer.pk).update(version=F("version") + 1, **diff)
                outcome = Outcome(
                    "updated", records=[Written(CUSTOMER, customer.pk, "updated", previous)]
                )
                changed_objects.append(customer)
                changes.append((previous, {k: jsonable(diff[k]) for k in previous}))
            for point in self._points(
                row, customer, primary=False, have=have.get(customer.pk, set())
            ):
                points.append((outcome, point))
            outcomes.append(outcome)
        if points:
            ContactPoint.objects.bulk_create([p for _o, p in points], batch_size=500)
            touched: set[int] = set()
            for outcome, point in points:
                outcome.records.append(Written(CONTACT_POINT, point.pk, "created"))
                if outcome.action == "unchanged":
                    outcome.action = "updated"
                touched.add(point.customer_id)
            for customer_id in touched:
                self._refresh_summary(customer_id, ctx.actor)
            index_soon(ctx, CONTACT_POINT, [p.pk for _o, p in points])
        if changed_objects:
            changelog_rows(ctx, changed_objects, "update", changes)
            index_soon(ctx, CUSTOMER, [c.pk for c in changed_objects])
        quality_keys(
            CUSTOMER, sorted({c.pk for c in changed_objects} | {p.customer_id for _o, p in points})
        )
        return outcomes

    # -- undo: the duplicate check's keys follow ---------------------------------------------

    def undo_created(self, object_type: str, ids: Sequence[int], ctx: ImportContext) -> int:
        owners: list[int] = []
        if object_type == CONTACT_POINT:
            owners = sorted(
                set(
                    ContactPoint.objects.filter(pk__in=list(ids)).values_list(
                        "customer_id", flat=True
                    )
                )
            )
        gone = super().undo_created(object_type, ids, ctx)
        # A customer that keeps its record loses the keys of the e-mail or phone removed.
        quality_keys(CUSTOMER, owners)
        return gone

    @staticmethod
    def _refresh_summary(customer_id: int, actor: User) -> None:
        from vefa.customers.services.customers import customer_refresh_contact_summary

        customer_refresh_contact_summary(customer_id=customer_id, actor=actor)


register(CustomerAdapter)
