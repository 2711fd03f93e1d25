"""vCard export and import of customers.

Export reads through the customer selectors with the actor: one customer, or every customer
of a customer-list filter (at most ``MAX_EXPORT``), written as vCard 4.0.

Import runs as a background job (the file is stored, the job reads it card by card and
records a checkpoint after each card, so a restarted job goes on where it stopped). Each card
is matched by its e-mail addresses, then its phone numbers, among the customers the person
importing may change; a match gets the addresses and numbers it lacks (names and notes
already there are kept), otherwise a person is created through the customer services. ORG
links the person to an organisation of that exact name when the importer may see one; else
ORG and TITLE are kept in the notes. A card that cannot be read or saved is reported with its
number and line and the others go on.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Prefetch
from django.utils import timezone
from django.utils.translation import gettext as _

from vefa.accounts.access import can, can_create
from vefa.common.errors import ApplicationError, PermissionDenied
from vefa.integrations import vcard
from vefa.integrations.services._common import invalid
from vefa.platform.jobs import Progress, job_handler, job_start

if TYPE_CHECKING:
    from vefa.accounts.models import User
    from vefa.customers.models import Customer
    from vefa.platform.models import Job

MAX_EXPORT = 10_000
MAX_FILE_BYTES = 20 * 1024 * 1024
MAX_ERRORS = 200
JOB_KIND = "integrations.vcard_import"
FOLDER = "integrations/vcard"
UID_NAMESPACE = uuid.UUID("6f1c2a52-3b0e-4d47-9a53-2f5f0b7c1e11")

TEL_TYPES = {"mobile": "cell", "phone": "voice", "fax": "fax"}
ADR_TYPES = {"home": "home", "office": "work", "billing": "billing", "shipping": "shipping"}


# --- export -------------------------------------------------------------------------------


def customer_uid(customer_id: int) -> str:
    return f"urn:uuid:{uuid.uuid5(UID_NAMESPACE, f'customer:{customer_id}')}"


def _rev(customer: Customer) -> str:
    when = customer.updated_at or timezone.now()
    return when.astimezone(datetime_utc()).strftime("%Y%m%dT%H%M%SZ")


def datetime_utc() -> Any:
    import datetime

    return datetime.UTC


def card_for(customer: Customer, *, employer: tuple[str, str] | None = None) -> str:
    """The vCard 4.0 of one customer (contact points and addresses prefetched)."""
    P = vcard.Property
    props: list[vcard.Property] = []
    if customer.kind == "organisation":
        props.append(P("KIND", "org"))
    props.append(P("FN", vcard.escape(customer.display_name)))
    if customer.kind == "person":
        props.append(P("N", vcard.structured(customer.last_name, customer.first_name, "", "", "")))
    else:
        props.append(P("ORG", vcard.escape(customer.legal_name or customer.display_name)))
    if employer is not None:
        props.append(P("ORG", vcard.escape(employer[0])))
        if employer[1]:
            props.append(P("TITLE", vcard.escape(employer[1])))
    for point in customer.contact_points.all():
        params: dict[str, str] = {}
        if point.is_primary:
            params["PREF"] = "1"
        if point.kind == "email":
            props.append(P("EMAIL", vcard.escape(point.value), params))
        elif point.kind in TEL_TYPES:
            number = point.normalized or point.value
            params = {"VALUE": "uri", "TYPE": TEL_TYPES[point.kind], **params}
            props.append(
                P(
                    "TEL",
                    f"tel:{number}" if number.startswith("+") else vcard.escape(number),
                    params,
                )
            )
    for address in customer.addresses.all():
        params = {"TYPE": ADR_TYPES.get(address.kind, "work")}
        if address.is_primary:
            params["PREF"] = "1"
        street = "\n".join(p for p in (address.line1, address.line2) if p)
        props.append(
            P(
                "ADR",
                vcard.structured(
                    "",
                    address.district,
                    street,
                    address.city,
                    address.region,
                    address.postal_code,
                    address.country,
                ),
                params,
            )
        )
    if customer.notes:
        props.append(P("NOTE", vcard.escape(customer.notes)))
    props.append(P("UID", customer_uid(customer.pk)))
    props.append(P("REV", _rev(customer)))
    return vcard.card(props)


def _with_children(queryset: Any) -> Any:
    from vefa.customers.models import Address, ContactPoint

    return queryset.prefetch_related(
        Prefetch(
            "contact_points",
            queryset=ContactPoint.objects.filter(kind__in=["email", *TEL_TYPES]).order_by(
                "-is_primary", "id"
            ),
        ),
        Prefetch("addresses", queryset=Address.objects.order_by("-is_primary", "id")),
    )


def _employers(actor: User, ids: list[int]) -> dict[int, tuple[str, str]]:
    """Person id → (organisation name, job title) of a current "works at" the actor may see."""
    from vefa.customers.models import CustomerRelationship
    from vefa.customers.selectors import visible_customers

    rows = (
        CustomerRelationship.objects.filter(
            from_customer_id__in=ids,
            kind="works_at",
            end_date__isnull=True,
            to_customer__in=visible_customers(actor),
        )
        .order_by("id")
        .values_list("from_customer_id", "to_customer__display_name", "job_title")
    )
    found: dict[int, tuple[str, str]] = {}
    for person, org, title in rows:
        found.setdefault(person, (org, title))
    return found


def vcard_export_one(*, actor: User, customer_id: Any) -> tuple[str, str]:
    """(file name, vCard text) of one customer the actor may see."""
    from vefa.customers.selectors import customer_get

    customer = customer_get(actor=actor, pk=customer_id)
    customer = _with_children(type(customer).objects.filter(pk=customer.pk)).get()
    employer = _employers(actor, [customer.pk]).get(customer.pk)
    return f"customer-{customer.pk}.vcf", card_for(customer, employer=employer)


def vcard_export_many(
    *, actor: User, filters: Mapping[str, Any] | None = None, limit: int = MAX_EXPORT
) -> Iterator[str]:
    """The vCards of the customers of a customer-list filter, in name order, chunk by chunk."""
    from vefa.customers.filters import CustomerFilterForm, clean_filters
    from vefa.customers.selectors import visible_customers

    form = clean_filters(CustomerFilterForm, dict(filters or {}), actor=actor)
    queryset = form.apply(visible_customers(actor)).order_by("name_key", "id")
    limit = max(1, min(int(limit), MAX_EXPORT))
    last: tuple[str, int] | None = None
    sent = 0
    while sent < limit:
        chunk_qs = queryset
        if last is not None:
            from django.db.models import Q

            chunk_qs = chunk_qs.filter(
                Q(name_key__gt=last[0]) | Q(name_key=last[0], id__gt=last[1])
            )
        chunk = list(_with_children(chunk_qs)[: min(500, limit - sent)])
        if not chunk:
            return
        employers = _employers(actor, [c.pk for c in chunk])
        for customer in chunk:
            yield card_for(customer, employer=employers.get(customer.pk))
        sent += len(chunk)
        last = (chunk[-1].name_key, chunk[-1].pk)


# --- import -------------------------------------------------------------------------------


@dataclass
class ImportCounts:
    created: int = 0
    matched: int = 0
    failed: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)

    def error(self, index: int, line: int, message: str) -> None:
        self.failed += 1
        if len(self.errors) < MAX_ERRORS:
            self.errors.append({"card": index, "line": line, "message": message[:500]})

    def as_dict(self) -> dict[str, Any]:
        return {
            "created": self.created,
            "matched": self.matched,
            "failed": self.failed,
            "errors": self.errors,
        }


def decode(raw: bytes) -> str:
    if len(raw) > MAX_FILE_BYTES:
        raise invalid({"file": [_("The file is larger than 20 MB.")]})
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise invalid(
            {"file": [_("The file is not UTF-8 text; export it as vCard 4.0.")]}
        ) from None


def vcard_import_start(*, actor: User, name: str, raw: bytes) -> Job:
    """Store the file and start the import job (checked enough to fail fast)."""
    from django.core.files.base import ContentFile

    from vefa.customers.models import Customer

    if not can_create(actor, Customer):
        raise PermissionDenied(_("You may not create customers."))
    text = decode(raw)
    if "BEGIN:VCARD" not in text.upper():
        raise invalid({"file": [_("The file holds no vCard (no BEGIN:VCARD).")]})
    path = default_storage.save(f"{FOLDER}/{uuid.uuid4().hex}.vcf", ContentFile(raw))
    title = _("vCard import: %(name)s") % {"name": (name or "contacts.vcf")[:150]}
    return job_start(actor=actor, kind=JOB_KIND, title=title, params={"path": path})


@dataclass
class _CardData:
    first_name: str
    last_name: str
    emails: list[str]
    phones: list[str]
    addresses: list[dict[str, str]]
    org: str
    title: str
    note: str


def _card_data(card: vcard.Card) -> _CardData:
    from vefa.customers.normalize import normalize_email, normalize_phone

    first = last = ""
    n = card.first("N")
    if n is not None:
        parts = [*n.components(), "", ""]
        last, first = parts[0].strip(), parts[1].strip()
    if not first and not last:
        fn = card.first("FN")
        full = fn.text().strip() if fn is not None else ""
        first, _sp, last = full.rpartition(" ")
        if not first:
            first, last = "", full
    emails: list[str] = []
    for prop in sorted(card.all("EMAIL"), key=lambda p: not p.preferred):
        try:
            value = normalize_email(prop.text())
        except ValueError:
            raise ValueError(_("E-mail “%(v)s” is not valid.") % {"v": prop.text()[:100]}) from None
        if value not in emails:
            emails.append(value)
    phones: list[str] = []
    for prop in sorted(card.all("TEL"), key=lambda p: not p.preferred):
        text = prop.text().strip()
        if text.lower().startswith("tel:"):
            text = text[4:].split(";", 1)[0]
        try:
            value = normalize_phone(text).value
        except ValueError:
            raise ValueError(_("Phone “%(v)s” is not valid.") % {"v": text[:100]}) from None
        if value not in phones:
            phones.append(value)
    addresses: list[dict[str, str]] = []
    for prop in card.all("ADR"):
        parts = (prop.components() + [""] * 7)[:7]
        _box, district, street, city, region, postal, country = (p.strip() for p in parts)
        lines = [s.strip() for s in street.split("\n") if s.strip()]
        types = prop.types()
        kind = next((k for k, t in ADR_TYPES.items() if t in types), "home")
        addresses.append(
            {
                "kind": kind,
                "line1": (lines[0] if lines else "")[:200],
                "line2": " ".join(lines[1:])[:200],
                "district": district[:100],
                "city": city[:100],
                "region": region[:100],
                "postal_code": postal[:20],
                "country": country.upper()[:10],
            }
        )
    org = card.first("ORG")
    title = card.first("TITLE")
    note = card.first("NOTE")
    return _CardData(
        first_name=first[:100],
        last_name=last[:100],
        emails=emails,
        phones=phones,
        addresses=addresses,
        org=(org.components()[0].strip() if org is not None else "")[:200],
        title=(title.text().strip() if title is not None else "")[:100],
        note=(note.text().strip() if note is not None else ""),
    )


def _match(actor: User, data: _CardData) -> Customer | None:
    from vefa.customers.models import ContactPoint
    from vefa.customers.selectors import visible_customers

    visible = visible_customers(actor).filter(kind="person")
    for kinds, values in ((("email",), data.emails), (("phone", "mobile", "fax"), data.phones)):
        if not values:
            continue
        ids = ContactPoint.objects.filter(kind__in=kinds, normalized__in=values).values(
            "customer_id"
        )
        found = visible.filter(pk__in=ids).order_by("id").first()
        if found is not None:
            return found
    return None


def _organisation(actor: User, name: str) -> Customer | None:
    from vefa.common.text import fold
    from vefa.customers.selectors import visible_customers

    if not name:
        return None
    return (
        visible_customers(actor)
        .filter(kind="organisation", name_key=fold(name)[:300])
        .order_by("id")
        .first()
    )


def _save_card(actor: User, data: _CardData) -> bool:
    """Create or complete one customer; ``True`` when created."""
    from vefa.customers.models import ContactPoint
    from vefa.customers.services.contact_points import address_create, contact_point_create
    from vefa.customers.services.customers import customer_create
    from vefa.customers.services.relationships import relationship_create

    with transaction.atomic():
        customer = _match(actor, data)
        created = customer is None
        organisation = _organisation(actor, data.org)
        note = data.note
        if data.org and organisation is None:
            extra = _("Organisation: %(org)s") % {"org": data.org}
            if data.title:
                extra += " · " + _("Title: %(title)s") % {"title": data.title}
            note = f"{note}\n{extra}".strip()
        if customer is None:
            if not data.first_name and not data.last_name:
                raise invalid({"FN": [_("The card has no name.")]})
            customer = customer_create(
                actor=actor,
                data={
                    "kind": "person",
                    "first_name": data.first_name,
                    "last_name": data.last_name,
                    "notes": note[:20_000],
                    "source": "import",
                },
                email=data.emails[0] if data.emails else "",
                phone=data.phones[0] if data.phones else "",
            )
        elif not can(actor, "change", customer):
            raise PermissionDenied(
                _("A customer with this e-mail or phone exists and you may not change it.")
            )
        have = set(
            ContactPoint.objects.filter(customer=customer).values_list("normalized", flat=True)
        )
        for kind, values in (("email", data.emails), ("mobile", data.phones)):
            for value in values:
                if value in have:
                    continue
                contact_point_create(
                    actor=actor, customer_id=customer.pk, data={"kind": kind, "value": value}
                )
                have.add(value)
        if created:
            for address in data.addresses:
                if address["line1"] and address["city"] and address["country"]:
                    address_create(actor=actor, customer_id=customer.pk, data=address)
            if organisation is not None:
                relationship_create(
                    actor=actor,
                    from_customer_id=customer.pk,
                    to_customer_id=organisation.pk,
                    data={"kind": "works_at", "job_title": data.title},
                )
    return created


def _message(exc: ApplicationError) -> str:
    if exc.fields:
        return "; ".join(f"{k}: {' '.join(v)}" for k, v in exc.fields.items())
    return str(exc.message)


def vcard_import_text(
    *,
    actor: User,
    text: str,
    start: int = 0,
    on_card: Any = None,
) -> ImportCounts:
    """Import every card of ``text`` (from card number ``start`` on); ``on_card(index,
    counts)`` runs after each card (the job reports progress and its checkpoint there)."""
    counts = ImportCounts()
    for item in vcard.parse(text):
        index = item.index
        if start and index <= start:
            continue
        if isinstance(item, vcard.CardError):
            counts.error(item.index, item.line, item.message)
        else:
            try:
                created = _save_card(actor, _card_data(item))
            except ValueError as exc:
                counts.error(item.index, item.line, str(exc))
            except ApplicationError as exc:
                counts.error(item.index, item.line, _message(exc))
            else:
                if created:
                    counts.created += 1
                else:
                    counts.matched += 1
        if on_card is not None:
            on_card(index, counts)
    return counts


def count_cards(text: str) -> int:
    return sum(1 for line in text.splitlines() if line.strip().upper() == "BEGIN:VCARD")


@job_handler(JOB_KIND)
def vcard_import_job(job: Job, report: Progress) -> dict[str, Any]:
    actor = job.user
    if actor is None:
        raise PermissionDenied(_("The job has no user."))
    path = str(job.params.get("path", ""))
    with default_storage.open(path, "rb") as handle:
        text = decode(handle.read())
    total = count_cards(text)
    checkpoint = job.checkpoint or {}
    start = int(checkpoint.get("done", 0))
    before = dict(checkpoint.get("counts", {}))

    def on_card(index: int, counts: ImportCounts) -> None:
        merged = _merge(before, counts)
        report(index, total, checkpoint={"done": index, "counts": merged})

    counts = vcard_import_text(actor=actor, text=text, start=start, on_card=on_card)
    result = _merge(before, counts)
    with contextlib.suppress(OSError):
        default_storage.delete(path)
    return result


def _merge(before: Mapping[str, Any], counts: ImportCounts) -> dict[str, Any]:
    errors = list(before.get("errors", [])) + counts.errors
    return {
        "created": int(before.get("created", 0)) + counts.created,
        "matched": int(before.get("matched", 0)) + counts.matched,
        "failed": int(before.get("failed", 0)) + counts.failed,
        "errors": errors[:MAX_ERRORS],
    }
