"""Quotes: writing them, their lines and versions, sending, accepting and rejecting.

Rules decided here:

* A quote is numbered once (``Q-2026-000042``); a new version keeps the number and counts
  the revision up (``Q-2026-000042/2``), links to the version it replaces and marks that one
  superseded. Only the newest version of a sent, expired or rejected quote gets a new one.
* Only a draft is edited (header and lines). Once sent, a quote is what the customer holds;
  a change is a new version.
* A line's missing values come from its product: SKU, name as description, unit, tax rate
  and unit price. The price is the quote's own price list's (when one is chosen and has the
  product) or else ``vefa.sales.pricing.price_for`` for the customer's groups (tags); a
  product with no price in the quote's currency needs a price typed in. Nothing is
  converted behind the user's back.
* A sent quote whose "valid until" day has passed is expired. The stored status stays
  ``sent`` and the expiry is computed when the quote is read (``effective_status``), so no
  background job has to run at midnight for lists, filters and rules to be right.
* Accepting a sent, unexpired quote creates the order through ``order_create`` with the
  quote's lines and figures unchanged; the order records the purchase in the contact
  history. Rejecting needs a reason, which is recorded in the customer's contact history.
* Sending e-mails the PDF to the contact person (else the customer) and records an
  ``email`` interaction linked to the quote; a mail server that refuses leaves the quote as
  it was and says so.
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Iterable, Mapping
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any, TypedDict

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from vefa.accounts.access import can, can_create, restrict
from vefa.common.errors import ApplicationError, Conflict, PermissionDenied
from vefa.interactions.choices import (
    Direction,
    InitiatedBy,
    InteractionChannel,
    InteractionKind,
)
from vefa.interactions.services.interactions import interaction_insert
from vefa.platform.records import record_create, record_delete, record_update
from vefa.sales.choices import OrderSource, QuoteStatus, Unit
from vefa.sales.models import (
    Opportunity,
    PriceList,
    PriceListItem,
    Product,
    Quote,
    QuoteLine,
)
from vefa.sales.numbering import next_number
from vefa.sales.pricing import customer_tag_ids, price_for
from vefa.sales.services._common import (
    as_currency,
    as_date,
    as_money,
    as_percent,
    as_quantity,
    as_text,
    customer_visible,
    fill_line_amounts,
    get_for,
    invalid,
    not_found,
    resolve_owner,
    resolve_team,
    set_document_totals,
)

if TYPE_CHECKING:
    from vefa.accounts.models import Team, User
    from vefa.customers.models import Customer
    from vefa.platform.models import Tag
    from vefa.sales.models import Order

logger = logging.getLogger(__name__)

MAX_LINES = 500
MAX_LONG_TEXT = 20_000
DEFAULT_VALIDITY_DAYS = 30
MAX_VALIDITY_DAYS = 3 * 366
INTERACTION_MODEL = "sales.quote"

#: The languages a quote (its PDF and e-mail) can be written in.
QUOTE_LANGUAGES: tuple[str, ...] = ("en", "tr", "sr-latn", "fa")

LINE_KEYS = frozenset(
    {"product", "sku", "description", "quantity", "unit", "unit_price", "discount_percent",
     "tax_rate"}
)  # fmt: skip

#: Statuses from which a new version can be made (expired is a sent quote past its date).
VERSIONABLE = frozenset({QuoteStatus.SENT, QuoteStatus.REJECTED, QuoteStatus.EXPIRED})


class QuoteData(TypedDict, total=False):
    """The header fields of a draft quote that ``quote_update`` may change."""

    contact: int | None
    opportunity: int | None
    price_list: int | None
    currency: str
    language: str
    issued_on: datetime.date | str
    valid_until: datetime.date | str | None
    notes: str
    terms: str
    owner: int | None
    team: int | None
    custom_fields: dict[str, Any]


EDITABLE = frozenset(QuoteData.__annotations__)


class MailFailed(ApplicationError):
    """The mail server did not take the message; nothing was changed."""

    status_code = 502
    code = "mail_failed"


# --- reading the status ------------------------------------------------------------------------


def effective_status(quote: Quote, today: datetime.date | None = None) -> str:
    """The quote's status as people see it: a sent quote past its validity is expired."""
    today = today or timezone.localdate()
    if (
        quote.status == QuoteStatus.SENT
        and quote.valid_until is not None
        and quote.valid_until < today
    ):
        return QuoteStatus.EXPIRED
    return quote.status


def is_editable(quote: Quote) -> bool:
    return quote.status == QuoteStatus.DRAFT


# --- input ---------------------------------------------------------------------------------------


def _language(value: Any, *, field: str = "language") -> str:
    text = as_text(value, field=field, max_length=10).lower().replace("_", "-")
    if text not in QUOTE_LANGUAGES:
        raise invalid({field: [_("Choose English, Turkish, Serbian (Latin) or Persian.")]})
    return text


def default_language(customer: Customer, actor: User) -> str:
    """The customer's language when a quote can be written in it, else the actor's, else en."""
    for candidate in (customer.language, getattr(actor, "language", ""), settings.LANGUAGE_CODE):
        code = (candidate or "").lower().replace("_", "-")
        if code in QUOTE_LANGUAGES:
            return code
        if code.split("-")[0] == "sr":
            return "sr-latn"
    return "en"


def _product(value: Any, *, field: str) -> Product | None:
    if value is None or value == "":
        return None
    if isinstance(value, Product):
        return value
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise invalid({field: [_("Choose an existing product.")]})
    try:
        key = int(value)
    except ValueError:
        raise invalid({field: [_("Choose an existing product.")]}) from None
    product = Product.objects.filter(pk=key).first() if 0 < key < 2**63 else None
    if product is None:
        raise invalid({field: [_("Choose an existing product.")]})
    return product


def _price_list(value: Any, currency: str, *, field: str = "price_list") -> PriceList | None:
    if value is None or value == "":
        return None
    if isinstance(value, PriceList):
        price_list: PriceList | None = value
    elif isinstance(value, int | str) and not isinstance(value, bool) and str(value).isdigit():
        key = int(value)
        price_list = PriceList.objects.filter(pk=key).first() if 0 < key < 2**63 else None
    else:
        price_list = None
    if price_list is None or not price_list.is_active:
        raise invalid({field: [_("Choose an active price list.")]})
    if price_list.currency != currency:
        raise invalid({field: [_("Choose a price list in the quote's currency.")]})
    return price_list


def _from_price_list(
    price_list: PriceList | None, product: Product, quantity: Decimal
) -> Decimal | None:
    if price_list is None:
        return None
    item = (
        PriceListItem.objects.filter(
            price_list=price_list, product=product, min_quantity__lte=quantity
        )
        .order_by("-min_quantity")
        .first()
    )
    return item.unit_price if item is not None else None


def build_line(
    raw: Any,
    *,
    index: int,
    currency: str,
    tag_ids: set[int] | frozenset[int] = frozenset(),
    price_list: PriceList | None = None,
    on: datetime.date | None = None,
) -> QuoteLine:
    """An unsaved quote line from a line dict, its missing values from the product and its
    amounts filled. Field errors are named ``lines.<index>.<field>``."""
    prefix = f"lines.{index}"
    if not isinstance(raw, Mapping):
        raise invalid({prefix: [_("Expected an object of line values.")]})
    unknown = sorted(str(k) for k in raw if k not in LINE_KEYS)
    if unknown:
        raise invalid({f"{prefix}.{k}": [_("Unknown field.")] for k in unknown})
    product = _product(raw.get("product"), field=f"{prefix}.product")
    quantity = as_quantity(
        raw.get("quantity") if raw.get("quantity") not in (None, "") else "1",
        field=f"{prefix}.quantity",
    )
    sku = as_text(raw.get("sku"), field=f"{prefix}.sku", max_length=64)
    description = as_text(raw.get("description"), field=f"{prefix}.description", max_length=300)
    unit = as_text(raw.get("unit"), field=f"{prefix}.unit", max_length=10)
    if unit and unit not in Unit.values:
        raise invalid({f"{prefix}.unit": [_("Choose a valid unit.")]})
    unit_price = as_money(raw.get("unit_price"), field=f"{prefix}.unit_price", required=False)
    discount = as_percent(raw.get("discount_percent"), field=f"{prefix}.discount_percent")
    tax_given = raw.get("tax_rate") not in (None, "")
    tax_rate = as_percent(raw.get("tax_rate"), field=f"{prefix}.tax_rate")
    if product is not None:
        sku = sku or product.sku
        description = description or product.name[:300]
        unit = unit or product.unit
        if not tax_given:
            tax_rate = product.tax_rate
        if unit_price is None:
            unit_price = _from_price_list(price_list, product, quantity)
        if unit_price is None:
            price = price_for(
                product, currency=currency, quantity=quantity, customer_tag_ids=tag_ids, on=on
            )
            if price is None:
                raise invalid(
                    {
                        f"{prefix}.unit_price": [
                            _("This product has no price in %(currency)s; enter a unit price.")
                            % {"currency": currency}
                        ]
                    }
                )
            unit_price = price.unit_price
    if not description:
        raise invalid({f"{prefix}.description": [_("Describe the line or choose a product.")]})
    if unit_price is None:
        raise invalid({f"{prefix}.unit_price": [_("This field is required.")]})
    line = QuoteLine(
        position=index,
        product=product,
        sku=sku,
        description=description,
        quantity=quantity,
        unit=unit or Unit.PIECE,
        unit_price=unit_price,
        discount_percent=discount,
        tax_rate=tax_rate,
    )
    fill_line_amounts(line, currency)
    return line


def build_lines(
    lines: Any,
    *,
    currency: str,
    customer_id: int,
    price_list: PriceList | None = None,
    on: datetime.date | None = None,
) -> list[QuoteLine]:
    """Unsaved lines from a list of line dicts (an empty list is a quote still being written)."""
    if lines is None:
        return []
    if not isinstance(lines, list | tuple):
        raise invalid({"lines": [_("Expected a list of lines.")]})
    if len(lines) > MAX_LINES:
        raise invalid({"lines": [_("At most %(n)d lines per quote.") % {"n": MAX_LINES}]})
    needs_price = any(
        isinstance(x, Mapping) and x.get("product") and x.get("unit_price") in (None, "")
        for x in lines
    )
    tags = customer_tag_ids(customer_id) if needs_price else set()
    return [
        build_line(raw, index=i, currency=currency, tag_ids=tags, price_list=price_list, on=on)
        for i, raw in enumerate(lines)
    ]


def _validity(issued_on: datetime.date, valid_until: datetime.date | None) -> None:
    if valid_until is None:
        return
    if valid_until < issued_on:
        raise invalid({"valid_until": [_("The quote must be valid at least on its own date.")]})
    if (valid_until - issued_on).days > MAX_VALIDITY_DAYS:
        raise invalid({"valid_until": [_("A quote is valid for at most three years.")]})


def _customer(actor: User, value: Any, field: str = "customer") -> Customer:
    """A customer the actor may see; anything that is no valid id reads as "not found"."""
    from vefa.customers.models import Customer

    key = value.pk if isinstance(value, Customer) else value
    if isinstance(key, bool) or not isinstance(key, int | str) or not str(key).isdigit():
        raise invalid({field: [_("Choose an existing customer.")]})
    if not 0 < int(key) < 2**63:
        raise invalid({field: [_("Choose an existing customer.")]})
    return customer_visible(actor=actor, customer_id=int(key), field=field)


def _contact(actor: User, value: Any) -> Customer | None:
    if value is None or value == "":
        return None
    return _customer(actor, value, field="contact")


def _opportunity(actor: User, value: Any, customer: Customer) -> Opportunity | None:
    if value is None or value == "":
        return None
    if isinstance(value, Opportunity):
        key: Any = value.pk
    elif isinstance(value, int | str) and not isinstance(value, bool) and str(value).isdigit():
        key = int(value)
    else:
        raise invalid({"opportunity": [_("Choose an existing opportunity.")]})
    if not 0 < key < 2**63:
        raise invalid({"opportunity": [_("Choose an existing opportunity.")]})
    opportunity = restrict(Opportunity.objects.all(), actor, "view").filter(pk=key).first()
    if opportunity is None:
        raise invalid({"opportunity": [_("Choose an existing opportunity.")]})
    if opportunity.customer_id != customer.pk:
        raise invalid({"opportunity": [_("Choose an opportunity of the same customer.")]})
    return opportunity


def _check_assignment(actor: User, quote: Quote) -> None:
    """The actor must be able to change the quote they assign (else it would vanish)."""
    if not can(actor, "change", quote):
        raise invalid({"owner": [_("You cannot assign quotes to this user or team.")]})


def _save_lines(quote: Quote, lines: list[QuoteLine], actor: User) -> None:
    for position, line in enumerate(lines):
        line.quote = quote
        line.position = position
        line.created_by = actor
        line.updated_by = actor
    QuoteLine.objects.bulk_create(lines)


def _line_dict(line: QuoteLine) -> dict[str, Any]:
    """A saved line as the line dict ``build_line`` reads (every value given, nothing looked up
    again, so a copy has exactly the same figures)."""
    return {
        "product": line.product_id,
        "sku": line.sku,
        "description": line.description,
        "quantity": line.quantity,
        "unit": line.unit,
        "unit_price": line.unit_price,
        "discount_percent": line.discount_percent,
        "tax_rate": line.tax_rate,
    }


# --- create and update ---------------------------------------------------------------------------


def quote_create(
    *,
    actor: User,
    customer: Customer | int,
    lines: list[dict[str, Any]] | None = None,
    currency: str | None = None,
    contact: Customer | int | None = None,
    opportunity: Opportunity | int | None = None,
    price_list: PriceList | int | None = None,
    language: str | None = None,
    issued_on: datetime.date | str | None = None,
    valid_until: datetime.date | str | None = None,
    notes: str = "",
    terms: str = "",
    owner: User | int | None = None,
    team: Team | int | None = None,
    custom_fields: dict[str, Any] | None = None,
    tags: Iterable[Tag | str] | None = None,
) -> Quote:
    """Write a draft quote with its lines (numbered, revision 1).

    ``currency`` defaults to the customer's, ``language`` to the customer's (else the
    actor's), ``valid_until`` to 30 days after ``issued_on`` (default today), ``owner`` to
    the actor and ``team`` to the owner's team.
    """

    if not can_create(actor, Quote):
        raise PermissionDenied(_("Your role cannot write quotes."))
    customer_obj = _customer(actor, customer)
    code = as_currency(currency if currency not in (None, "") else customer_obj.currency)
    lang = (
        _language(language) if language not in (None, "") else default_language(customer_obj, actor)
    )
    day = as_date(issued_on, field="issued_on") or timezone.localdate()
    until = as_date(valid_until, field="valid_until")
    if until is None:
        until = day + datetime.timedelta(days=DEFAULT_VALIDITY_DAYS)
    _validity(day, until)
    owner_user = resolve_owner(owner) if owner not in (None, "") else actor
    team_obj = resolve_team(team) if team not in (None, "") else None
    if team_obj is None and owner_user is not None:
        team_obj = owner_user.team
    chosen_list = _price_list(price_list, code)
    quote = Quote(
        revision=1,
        customer=customer_obj,
        contact=_contact(actor, contact),
        opportunity=_opportunity(actor, opportunity, customer_obj),
        price_list=chosen_list,
        owner=owner_user,
        team=team_obj,
        status=QuoteStatus.DRAFT,
        currency=code,
        language=lang,
        issued_on=day,
        valid_until=until,
        notes=as_text(notes, field="notes", max_length=MAX_LONG_TEXT),
        terms=as_text(terms, field="terms", max_length=MAX_LONG_TEXT),
        custom_fields=custom_fields or {},
    )
    _check_assignment(actor, quote)
    built = build_lines(
        lines, currency=code, customer_id=customer_obj.pk, price_list=chosen_list, on=day
    )
    set_document_totals(quote, built)  # type: ignore[arg-type]
    with transaction.atomic():
        quote.number = next_number("quote")
        record_create(quote, actor=actor, tags=tags, clean_exclude=("number",))
        _save_lines(quote, built, actor)
    return quote


def _draft_for_change(actor: User, quote_id: Any) -> Quote:
    quote = get_for(Quote.objects.all(), actor=actor, pk=quote_id, action="change")
    if not is_editable(quote):
        raise invalid(
            {"status": [_("Only a draft can be changed; make a new version of a sent quote.")]}
        )
    return quote


def quote_update(
    *,
    actor: User,
    quote_id: int,
    data: QuoteData | Mapping[str, Any],
    expected_version: int | None = None,
    lines: list[dict[str, Any]] | None = None,
    tags: Iterable[Tag | str] | None = None,
) -> Quote:
    """Change a draft's header and, when ``lines`` is given, replace all its lines.

    The currency changes only together with new lines (prices in the old currency would be
    wrong). Totals are recomputed from the lines.
    """
    if not isinstance(data, Mapping):
        raise invalid({"__all__": [_("Expected an object of field values.")]})
    data = dict(data)
    unknown = sorted(str(k) for k in data if k not in EDITABLE)
    if unknown:
        raise invalid({key: [_("This field cannot be changed.")] for key in unknown})
    with transaction.atomic():
        current = _draft_for_change(actor, quote_id)
        if expected_version is not None and current.version != expected_version:
            raise Conflict(
                _("This record was changed by someone else. Reload it and try again."),
                current_version=int(current.version),
            )
        values: dict[str, Any] = {}
        code = current.currency
        if "currency" in data:
            code = as_currency(data["currency"])
            if code != current.currency and lines is None and current.lines.exists():
                raise invalid(
                    {"currency": [_("Change the currency together with the lines' prices.")]}
                )
            values["currency"] = code
        if "language" in data:
            values["language"] = _language(data["language"])
        if "contact" in data:
            values["contact"] = _contact(actor, data["contact"])
        if "opportunity" in data:
            values["opportunity"] = _opportunity(actor, data["opportunity"], current.customer)
        price_list = current.price_list
        if "price_list" in data:
            price_list = _price_list(data["price_list"], code)
            values["price_list"] = price_list
        elif price_list is not None and price_list.currency != code:
            values["price_list"] = price_list = None
        day = current.issued_on
        if "issued_on" in data:
            day = as_date(data["issued_on"], field="issued_on", required=True) or day
            values["issued_on"] = day
        until = current.valid_until
        if "valid_until" in data:
            until = as_date(data["valid_until"], field="valid_until")
            values["valid_until"] = until
        _validity(day, until)
        for name in ("notes", "terms"):
            if name in data:
                values[name] = as_text(data[name], field=name, max_length=MAX_LONG_TEXT)
        if "custom_fields" in data:
            values["custom_fields"] = data["custom_fields"]
        if "owner" in data:
            owner_user = resolve_owner(data["owner"])
            values["owner"] = owner_user
            if "team" not in data:
                values["team"] = owner_user.team if owner_user is not None else None
        if "team" in data:
            values["team"] = resolve_team(data["team"])
        if "owner" in values or "team" in values:
            probe = Quote(
                owner=values.get("owner", current.owner),
                team=values.get("team", current.team),
            )
            _check_assignment(actor, probe)
        if lines is not None:
            built = build_lines(
                lines,
                currency=code,
                customer_id=current.customer_id,
                price_list=price_list,
                on=day,
            )
            probe_doc = Quote(currency=code)
            set_document_totals(probe_doc, built)  # type: ignore[arg-type]
            values.update(
                subtotal=probe_doc.subtotal,
                discount_total=probe_doc.discount_total,
                tax_total=probe_doc.tax_total,
                total=probe_doc.total,
            )
        updated = record_update(
            current, actor=actor, data=values, expected_version=expected_version, tags=tags
        )
        if lines is not None:
            changed = _replace_lines(updated, built, actor)
            if changed and updated.version == current.version:
                # The figures stayed the same but the lines changed: still a new version.
                updated = _touch(updated, actor)
    return updated


def _replace_lines(quote: Quote, built: list[QuoteLine], actor: User) -> bool:
    old = [_line_dict(x) for x in quote.lines.all().order_by("position", "id")]
    new = [_line_dict(x) for x in built]
    if _same_lines(old, new):
        return False
    quote.lines.all().delete()
    _save_lines(quote, built, actor)
    return True


def _same_lines(a: list[dict[str, Any]], b: list[dict[str, Any]]) -> bool:
    if len(a) != len(b):
        return False
    for x, y in zip(a, b, strict=True):
        for key in LINE_KEYS:
            left, right = x[key], y[key]
            if isinstance(left, Decimal) or isinstance(right, Decimal):
                if Decimal(left) != Decimal(right):
                    return False
            elif left != right:
                return False
    return True


def _touch(quote: Quote, actor: User) -> Quote:
    """Count the version up when only the lines changed (so a stale editor gets a 412)."""
    from vefa.platform.audit import log_change
    from vefa.platform.models import ChangeLogEntry

    before = {"version": quote.version}
    Quote.objects.filter(pk=quote.pk).update(
        version=quote.version + 1, updated_by=actor, updated_at=timezone.now()
    )
    quote.version += 1
    log_change(
        actor=actor,
        instance=quote,
        action=ChangeLogEntry.Action.UPDATE,
        before=before,
        after={"version": quote.version, "lines": "changed"},
    )
    return quote


def _refresh_totals(quote: Quote, actor: User) -> Quote:
    lines = list(quote.lines.all())
    probe = Quote(currency=quote.currency)
    set_document_totals(probe, lines)  # type: ignore[arg-type]
    values = {
        "subtotal": probe.subtotal,
        "discount_total": probe.discount_total,
        "tax_total": probe.tax_total,
        "total": probe.total,
    }
    updated = record_update(quote, actor=actor, data=values)
    if updated.version == quote.version:
        updated = _touch(updated, actor)
    return updated


def quote_line_add(
    *,
    actor: User,
    quote_id: int,
    line: dict[str, Any],
    expected_version: int | None = None,
) -> QuoteLine:
    """Add one line at the end of a draft; the quote's totals follow."""
    with transaction.atomic():
        quote = _draft_for_change(actor, quote_id)
        _check_version(quote, expected_version)
        count = quote.lines.count()
        if count >= MAX_LINES:
            raise invalid({"lines": [_("At most %(n)d lines per quote.") % {"n": MAX_LINES}]})
        needs_tags = isinstance(line, Mapping) and line.get("unit_price") in (None, "")
        built = build_line(
            line,
            index=count,
            currency=quote.currency,
            tag_ids=customer_tag_ids(quote.customer_id) if needs_tags else set(),
            price_list=quote.price_list,
            on=quote.issued_on,
        )
        last = quote.lines.order_by("-position").values_list("position", flat=True).first()
        built.quote = quote
        built.position = 0 if last is None else last + 1
        built.created_by = actor
        built.updated_by = actor
        built.save()
        _refresh_totals(quote, actor)
    return QuoteLine.objects.get(pk=built.pk)


def quote_line_update(
    *,
    actor: User,
    quote_id: int,
    line_id: int,
    data: dict[str, Any],
    expected_version: int | None = None,
) -> QuoteLine:
    """Change one line of a draft (the given keys; the rest stay as they are)."""
    if not isinstance(data, Mapping):
        raise invalid({"__all__": [_("Expected an object of field values.")]})
    with transaction.atomic():
        quote = _draft_for_change(actor, quote_id)
        _check_version(quote, expected_version)
        current = _line_of(quote, line_id)
        merged = {**_line_dict(current), **data}
        if "product" in data and data["product"] != current.product_id:
            # A different product brings its own description, price and tax unless given.
            for key in ("sku", "description", "unit", "unit_price", "tax_rate"):
                if key not in data:
                    merged.pop(key, None)
        needs_tags = merged.get("unit_price") in (None, "")
        built = build_line(
            merged,
            index=current.position,
            currency=quote.currency,
            tag_ids=customer_tag_ids(quote.customer_id) if needs_tags else set(),
            price_list=quote.price_list,
            on=quote.issued_on,
        )
        for field in (*LINE_KEYS, "gross", "discount", "net", "tax", "total"):
            setattr(current, field, getattr(built, field))
        current.updated_by = actor
        current.version += 1
        current.save()
        _refresh_totals(quote, actor)
    return QuoteLine.objects.get(pk=current.pk)


def quote_line_delete(
    *, actor: User, quote_id: int, line_id: int, expected_version: int | None = None
) -> Quote:
    """Remove one line of a draft; the quote's totals follow."""
    with transaction.atomic():
        quote = _draft_for_change(actor, quote_id)
        _check_version(quote, expected_version)
        _line_of(quote, line_id).delete()
        return _refresh_totals(quote, actor)


def _line_of(quote: Quote, line_id: Any) -> QuoteLine:
    try:
        key = int(line_id)
    except (TypeError, ValueError):
        raise not_found() from None
    line = quote.lines.filter(pk=key).first() if 0 < key < 2**63 else None
    if line is None:
        raise not_found()
    return line


def _check_version(quote: Quote, expected_version: int | None) -> None:
    if expected_version is not None and quote.version != expected_version:
        raise Conflict(
            _("This record was changed by someone else. Reload it and try again."),
            current_version=int(quote.version),
        )


def quote_delete(*, actor: User, quote_id: int) -> None:
    """Delete a draft. Deleting a new version gives the one it replaced its status back."""
    with transaction.atomic():
        quote = get_for(Quote.objects.all(), actor=actor, pk=quote_id, action="delete")
        if not is_editable(quote):
            raise invalid({"status": [_("Only a draft can be deleted.")]})
        previous = quote.previous
        record_delete(quote, actor=actor)
        if previous is not None and previous.status == QuoteStatus.SUPERSEDED:
            status = QuoteStatus.REJECTED if previous.decided_at else QuoteStatus.SENT
            record_update(previous, actor=actor, data={"status": status})


# --- versions ------------------------------------------------------------------------------------


def quote_new_version(*, actor: User, quote_id: int, expected_version: int | None = None) -> Quote:
    """Copy a sent, expired or rejected quote to a new draft version (same number,
    revision + 1, dated today with the same validity length); the old one is superseded."""
    with transaction.atomic():
        old = get_for(Quote.objects.all(), actor=actor, pk=quote_id, action="change")
        _check_version(old, expected_version)
        if effective_status(old) not in VERSIONABLE:
            raise invalid(
                {"status": [_("Only a sent, expired or rejected quote gets a new version.")]}
            )
        if Quote.objects.filter(previous=old).exists():
            raise invalid({"status": [_("This quote already has a newer version.")]})
        today = timezone.localdate()
        until = None
        if old.valid_until is not None:
            days = max((old.valid_until - old.issued_on).days, 1)
            until = today + datetime.timedelta(days=days)
        lines = list(old.lines.all().order_by("position", "id"))
        copies = [
            QuoteLine(
                position=i,
                product_id=x.product_id,
                sku=x.sku,
                description=x.description,
                quantity=x.quantity,
                unit=x.unit,
                unit_price=x.unit_price,
                discount_percent=x.discount_percent,
                tax_rate=x.tax_rate,
                gross=x.gross,
                discount=x.discount,
                net=x.net,
                tax=x.tax,
                total=x.total,
            )
            for i, x in enumerate(lines)
        ]
        new = Quote(
            number=old.number,
            revision=old.revision + 1,
            previous=old,
            customer_id=old.customer_id,
            contact_id=old.contact_id,
            opportunity_id=old.opportunity_id,
            price_list_id=old.price_list_id,
            owner_id=old.owner_id,
            team_id=old.team_id,
            status=QuoteStatus.DRAFT,
            currency=old.currency,
            language=old.language,
            issued_on=today,
            valid_until=until,
            subtotal=old.subtotal,
            discount_total=old.discount_total,
            tax_total=old.tax_total,
            total=old.total,
            notes=old.notes,
            terms=old.terms,
            custom_fields=dict(old.custom_fields or {}),
        )
        try:
            with transaction.atomic():
                record_create(new, actor=actor, tags=list(old.tags.all()))
        except IntegrityError:
            raise Conflict(
                _("Someone else made a new version of this quote first. Reload it."),
                current_version=int(old.version),
            ) from None
        _save_lines(new, copies, actor)
        record_update(old, actor=actor, data={"status": QuoteStatus.SUPERSEDED})
    return new


# --- sending -------------------------------------------------------------------------------------


def recipient_of(quote: Quote) -> str:
    """The address a quote goes to: its contact person's, else the customer's."""
    for person in (quote.contact, quote.customer):
        if person is not None and person.primary_email:
            return str(person.primary_email)
    return ""


def _address(value: Any) -> str:
    address = as_text(value, field="to", max_length=254)
    try:
        validate_email(address)
    except ValidationError:
        raise invalid({"to": [_("Enter a valid e-mail address.")]}) from None
    return address


def _check_sendable(quote: Quote) -> None:
    status = effective_status(quote)
    if status == QuoteStatus.EXPIRED:
        raise invalid({"status": [_("This quote has expired; make a new version to send.")]})
    if status not in (QuoteStatus.DRAFT, QuoteStatus.SENT):
        raise invalid({"status": [_("Only a draft or a sent quote can be sent.")]})
    if not quote.lines.exists():
        raise invalid({"lines": [_("Add at least one line before sending.")]})
    if quote.valid_until is not None and quote.valid_until < timezone.localdate():
        raise invalid({"valid_until": [_("The validity date has passed; change it first.")]})


def _mark_sent(quote: Quote, actor: User, expected_version: int | None) -> Quote:
    return record_update(
        quote,
        actor=actor,
        data={"status": QuoteStatus.SENT, "sent_at": timezone.now()},
        expected_version=expected_version,
    )


def quote_mark_sent(*, actor: User, quote_id: int, expected_version: int | None = None) -> Quote:
    """Record that a draft was handed over some other way (printed, another mail program)."""
    with transaction.atomic():
        quote = get_for(Quote.objects.all(), actor=actor, pk=quote_id, action="change")
        _check_version(quote, expected_version)
        if quote.status != QuoteStatus.DRAFT:
            raise invalid({"status": [_("Only a draft can be marked as sent.")]})
        _check_sendable(quote)
        return _mark_sent(quote, actor, expected_version)


def quote_send(
    *,
    actor: User,
    quote_id: int,
    to: str | None = None,
    message: str = "",
    expected_version: int | None = None,
) -> Quote:
    """E-mail the quote's PDF to ``to`` (default: the contact's, else the customer's
    address), mark it sent and record the e-mail in the customer's contact history."""
    from vefa.sales.services.quotes_pdf import pdf_filename, render_quote_pdf

    text = as_text(message, field="message", max_length=5_000)
    with transaction.atomic():
        quote = get_for(
            Quote.objects.select_related("customer", "contact"),
            actor=actor,
            pk=quote_id,
            action="change",
        )
        _check_version(quote, expected_version)
        _check_sendable(quote)
        address = _address(to) if to not in (None, "") else recipient_of(quote)
        if not address:
            raise invalid(
                {"to": [_("Neither the contact nor the customer has an e-mail address.")]}
            )
        pdf = render_quote_pdf(quote)
        company = company_name()
        with translation.override(quote.language):
            subject = _("Quote %(number)s from %(company)s") % {
                "number": f"{quote.number}/{quote.revision}",
                "company": company,
            }
            greeting = _("Please find our quote %(number)s attached.") % {
                "number": f"{quote.number}/{quote.revision}"
            }
        body = "\n\n".join(p for p in (text, greeting, company) if p)
        email = EmailMessage(
            subject=" ".join(subject.split()),
            body=body,
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=[address],
            reply_to=[actor.email] if getattr(actor, "email", "") else None,
        )
        email.attach(pdf_filename(quote), pdf, "application/pdf")
        updated = _mark_sent(quote, actor, expected_version)
        interaction_insert(
            actor=actor,
            customer=quote.customer,
            kind=InteractionKind.EMAIL,
            channel=InteractionChannel.EMAIL,
            direction=Direction.OUTBOUND,
            initiated_by=InitiatedBy.COMPANY,
            subject=subject[:300],
            body="\n\n".join(p for p in (_("To: %(address)s") % {"address": address}, text) if p),
            amount=interaction_amount(quote),
            currency=quote.currency,
            related_model=INTERACTION_MODEL,
            related_id=quote.pk,
        )
        try:
            email.send(fail_silently=False)
        except Exception as exc:
            # Raised inside the transaction: the status and the interaction roll back.
            logger.warning("could not e-mail quote %s", quote.pk, exc_info=True)
            raise MailFailed(
                _("The mail server did not accept the message; the quote was not sent.")
            ) from exc
    return updated


def interaction_amount(quote: Quote) -> Decimal:
    """The quote's total as the contact history stores amounts (two decimals)."""
    return Decimal(quote.total).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def company_name() -> str:
    """The sender's name printed on quotes (``VEFA_COMPANY_NAME``, default "Vefa")."""
    return str(getattr(settings, "VEFA_COMPANY_NAME", "") or "Vefa")


# --- decisions -----------------------------------------------------------------------------------


def _decidable(quote: Quote) -> None:
    status = effective_status(quote)
    if status == QuoteStatus.EXPIRED:
        raise invalid({"status": [_("This quote has expired; make a new version.")]})
    if status != QuoteStatus.SENT:
        raise invalid({"status": [_("Only a sent quote can be accepted or rejected.")]})


def quote_accept(*, actor: User, quote_id: int, expected_version: int | None = None) -> Order:
    """Mark a sent quote accepted and create its order with the same lines and figures."""
    from vefa.sales.services.orders import order_create

    with transaction.atomic():
        quote = get_for(
            Quote.objects.select_related("customer"), actor=actor, pk=quote_id, action="change"
        )
        _check_version(quote, expected_version)
        _decidable(quote)
        lines = [_line_dict(x) for x in quote.lines.all().order_by("position", "id")]
        if not lines:
            raise invalid({"lines": [_("A quote without lines cannot become an order.")]})
        record_update(
            quote,
            actor=actor,
            data={"status": QuoteStatus.ACCEPTED, "decided_at": timezone.now()},
        )
        order = order_create(
            actor=actor,
            customer=quote.customer,
            lines=lines,
            currency=quote.currency,
            source=OrderSource.QUOTE,
            quote=quote,
            opportunity=quote.opportunity,
            owner=quote.owner,
            team=quote.team,
            notes=quote.notes,
        )
    return order


def quote_reject(
    *, actor: User, quote_id: int, reason: str, expected_version: int | None = None
) -> Quote:
    """Mark a sent quote rejected; the reason goes into the customer's contact history."""
    text = as_text(reason, field="reason", max_length=2_000)
    if not text:
        raise invalid({"reason": [_("Say why the customer rejected the quote.")]})
    with transaction.atomic():
        quote = get_for(
            Quote.objects.select_related("customer"), actor=actor, pk=quote_id, action="change"
        )
        _check_version(quote, expected_version)
        _decidable(quote)
        updated = record_update(
            quote,
            actor=actor,
            data={"status": QuoteStatus.REJECTED, "decided_at": timezone.now()},
        )
        interaction_insert(
            actor=actor,
            customer=quote.customer,
            kind=InteractionKind.OFFER,
            direction=Direction.INBOUND,
            initiated_by=InitiatedBy.CUSTOMER,
            subject=(_("Quote %(number)s rejected") % {"number": str(quote)})[:300],
            body=text,
            outcome=_("Rejected"),
            amount=interaction_amount(quote),
            currency=quote.currency,
            related_model=INTERACTION_MODEL,
            related_id=quote.pk,
        )
    return updated


def rejection_reason(quote: Quote) -> str:
    """The reason recorded when the quote was rejected (empty when it was not)."""
    from vefa.interactions.models import Interaction

    if quote.status != QuoteStatus.REJECTED:
        return ""
    row = (
        Interaction.objects.filter(
            related_model=INTERACTION_MODEL,
            related_id=quote.pk,
            direction=Direction.INBOUND,
            kind=InteractionKind.OFFER,
        )
        .order_by("-occurred_at", "-id")
        .values_list("body", flat=True)
        .first()
    )
    return row or ""
