"""The entity adapter: what the import engine needs to know about one kind of record.

The engine (``vefa.imports.engine``) reads the file, maps columns to fields, parses each cell
by its ``Field`` spec and then hands the adapter *batches* of parsed rows. An adapter never
reads files and never commits; the engine owns the transaction per batch, the checkpoint,
the error report and the per-row records that make undo possible.

Interface (stable; adapters for products, orders, interactions and tickets build on it)
-----------------------------------------------------------------------------------------

``class MyAdapter(EntityAdapter)`` with the class attributes

* ``entity`` – the name used in URLs, the CLI and ``ImportRun.entity`` (``"customers"``);
* ``label`` – the translated name shown to people;
* ``model`` – the main model a row creates or updates (policy: ``can_create(actor, model)``);
* ``fields`` – a tuple of ``Field(name, label, kind=…, required=…, max_length=…,
  choices=…, aliases=(…))``; ``kind`` is one of ``FIELD_KINDS`` (text, email, phone, date,
  datetime, decimal, int, bool, choice, country, currency). Aliases are header texts in
  English, Turkish, Serbian and Persian; headers are matched folded
  (``vefa.common.text.fold``), so case, diacritics and spacing do not matter;
* ``match_keys`` – ``{key: field name}`` of the values that identify an existing record
  (``{"email": "email", "phone": "phone", "tax_number": "tax_number"}``);
  ``default_match_key`` – the key used when none is chosen (``""``: never match);
* ``owned_children`` – labels of records created together with the main record (contact
  points, lines …) that undo deletes along with it; any *other* related record that appeared
  since blocks undoing that row.

and the methods (override what differs; the defaults work for a flat model):

* ``clean(row, ctx)`` – cross-field checks on ``row.values`` (parsed, only non-empty cells);
  append ``RowError`` to ``row.errors``. Never writes. Called in preview and in the run.
* ``validate_create(row, ctx)`` – checks only a new record needs (a name …), called once
  the row is known not to match an existing record.
* ``match_value(row, key)`` – the normalised value of ``key`` for this row (``""`` = none).
* ``find_existing(key, values, ctx)`` – ``{match value: pk}`` for one batch, in ONE query,
  restricted to what the actor may change.
* ``create(rows, ctx)`` – create the records of these good rows (bulk); return one
  ``Outcome`` per row, in order (``action="created"`` with ``records`` naming every record
  written, or ``action="error"`` with ``errors``).
* ``update(rows, ctx)`` – update ``row.existing_id`` with ``row.values``; return one
  ``Outcome`` per row (``"updated"`` with ``records`` holding ``previous`` field values, or
  ``"unchanged"`` when nothing differed).
* ``undo_created(object_type, ids, ctx)`` – delete these created records (the engine has
  already left out the ones ``undo_blockers`` names); the default writes a change-log row
  per record, deletes them and takes them out of the search index; returns how many it
  deleted.
* ``undo_updated(object_type, pk, previous, ctx)`` – put back the ``previous`` field values
  of one updated record; the default refuses (returns the reason as text) when the record
  changed again after the import, returns ``False`` when it is gone and ``True`` when it
  restored it, with a change-log row.
* ``undo_blockers(object_type, ids)`` – ``{pk: reason}`` of created records that may not be
  deleted because other records now point at them.

``ImportContext`` carries the actor, the run (``None`` in a preview), ``dry_run`` (preview:
adapters must not write), ``match_key``, ``on_match``, ``now`` and the default phone region.
Register an adapter with ``register(MyAdapter)``; ``adapter_for("customers")`` finds it.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any, ClassVar

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext as _

from vefa.accounts.access import can_create, restrict
from vefa.common.text import fold

if TYPE_CHECKING:
    from django.utils.functional import Promise

    from vefa.accounts.models import User
    from vefa.imports.models import ImportRun

FIELD_KINDS = (
    "text",
    "email",
    "phone",
    "date",
    "datetime",
    "decimal",
    "int",
    "bool",
    "choice",
    "country",
    "currency",
)
MAX_CELL = 10_000


@dataclass(frozen=True)
class Field:
    """One importable field of an entity."""

    name: str
    label: str | Promise
    kind: str = "text"
    required: bool = False
    max_length: int | None = None
    # For kind "choice": (stored value, *words that mean it) per option.
    choices: tuple[tuple[str, ...], ...] = ()
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class RowError:
    """One problem of one row: its number in the file (the header is row 1), the column's
    header text (or the field name), the value and why."""

    row: int
    column: str
    value: str
    reason: str


@dataclass
class Row:
    """One data row on its way through the engine."""

    number: int
    # field name → cell text as in the file (mapped columns only; stripped)
    raw: dict[str, str]
    # field name → parsed value (non-empty cells only)
    values: dict[str, Any] = field(default_factory=dict)
    errors: list[RowError] = field(default_factory=list)
    # field name → header text of its column, for error messages
    columns: dict[str, str] = field(default_factory=dict)
    hash: str = ""
    match: str = ""
    existing_id: int | None = None

    def error(self, name: str, reason: str, value: str | None = None) -> None:
        column = self.columns.get(name, name)
        self.errors.append(
            RowError(
                self.number, column, self.raw.get(name, "") if value is None else value, reason
            )
        )


@dataclass
class Written:
    """A record a row created or updated; ``previous`` holds replaced field values."""

    object_type: str
    object_id: int
    action: str  # "created" | "updated"
    previous: dict[str, Any] = field(default_factory=dict)


@dataclass
class Outcome:
    """What writing one row did."""

    action: str  # "created" | "updated" | "unchanged" | "skipped" | "error"
    records: list[Written] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)


@dataclass
class ImportContext:
    actor: User
    run: ImportRun | None = None
    dry_run: bool = False
    match_key: str = ""
    on_match: str = "update"
    region: str = "TR"
    now: datetime.datetime = field(default_factory=timezone.now)
    # Adapters may keep per-import caches here (lookups of owners, products …).
    cache: dict[str, Any] = field(default_factory=dict)


# --- value parsing ---------------------------------------------------------------------------

_DMY = re.compile(r"^(\d{1,2})[./-](\d{1,2})[./-](\d{4})$")
_YMD = re.compile(r"^(\d{4})[./-](\d{1,2})[./-](\d{1,2})$")
_SERIAL = re.compile(r"^\d{1,6}(\.0+)?$")
EXCEL_EPOCH = datetime.date(1899, 12, 30)
_TRUE = {"1", "true", "yes", "y", "x", "evet", "e", "da", "d", "بله", "آری", "✓"}
_FALSE = {"0", "false", "no", "n", "hayir", "ne", "خیر", "نه"}


def parse_date(text: str) -> datetime.date:
    """dd.mm.yyyy, dd/mm/yyyy, yyyy-mm-dd, an ISO date-time's date, or an Excel serial.

    ``dd/mm/yyyy`` and ``mm/dd/yyyy`` look alike: a slash date whose both first parts are
    12 or less (and differ) is ambiguous and refused rather than guessed. Dotted and dashed
    dates are day first, as everywhere in Türkiye, Serbia and Iran.
    """
    value = text.strip().translate(_DIGITS)
    if not value:
        raise ValueError(_("Enter a date."))
    try:
        if "T" in value or " " in value:
            return datetime.datetime.fromisoformat(value.replace(" ", "T")).date()
        if found := _YMD.match(value):
            return datetime.date(int(found[1]), int(found[2]), int(found[3]))
        if found := _DMY.match(value):
            first, second = int(found[1]), int(found[2])
            if "/" in value and first <= 12 and second <= 12 and first != second:
                raise ValueError(
                    _("Ambiguous date (day/month or month/day?); write it as yyyy-mm-dd.")
                )
            return datetime.date(int(found[3]), second, first)
        if _SERIAL.match(value):
            serial = int(float(value))
            if 1 <= serial <= 2_958_465:
                return EXCEL_EPOCH + datetime.timedelta(days=serial)
    except ValueError as exc:
        if "Ambiguous" in str(exc) or _("Ambiguous") in str(exc):
            raise
        raise ValueError(_("Not a valid date.")) from None
    raise ValueError(_("Not a date; use dd.mm.yyyy or yyyy-mm-dd."))


def parse_datetime(text: str, tz: datetime.tzinfo | None = None) -> datetime.datetime:
    value = text.strip().translate(_DIGITS)
    try:
        moment = datetime.datetime.fromisoformat(value.replace(" ", "T", 1))
    except ValueError:
        moment = datetime.datetime.combine(parse_date(value), datetime.time(0))
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment, tz or timezone.get_current_timezone())
    return moment


# Persian and Arabic-Indic digits to ASCII.
_DIGITS = str.maketrans("۰۱۲۳۴۵۶۷۸۹٠١٢٣٤٥٦٧٨٩٫٬", "01234567890123456789.,")


def parse_decimal(text: str) -> Decimal:
    """``1234.5``, ``1.234,50``, ``1,234.50``, ``1 234,5``; no thousands guessing when unclear."""
    value = text.strip().translate(_DIGITS).replace(" ", "").replace("\u00a0", "")
    if "," in value and "." in value:
        if value.rfind(",") > value.rfind("."):
            value = value.replace(".", "").replace(",", ".")
        else:
            value = value.replace(",", "")
    elif "," in value:
        value = value.replace(",", ".")
    try:
        number = Decimal(value)
    except InvalidOperation:
        raise ValueError(_("Not a number.")) from None
    if not number.is_finite():
        raise ValueError(_("Not a number."))
    return number


def parse_int(text: str) -> int:
    number = parse_decimal(text)
    if number != number.to_integral_value():
        raise ValueError(_("Enter a whole number."))
    if abs(number) > 2**31:
        raise ValueError(_("The number is too large."))
    return int(number)


def parse_bool(text: str) -> bool:
    value = fold(text)
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ValueError(_("Enter yes or no."))


def parse_choice(text: str, spec: Field) -> str:
    value = fold(text)
    for option in spec.choices:
        if any(fold(word) == value for word in option):
            return option[0]
    raise ValueError(
        _("Not one of: %(options)s.") % {"options": ", ".join(o[0] for o in spec.choices)}
    )


def parse_value(spec: Field, text: str, ctx: ImportContext) -> Any:
    """The value of one non-empty cell for ``spec``; ``ValueError`` with a message if bad."""
    from vefa.customers.normalize import normalize_email, normalize_phone

    kind = spec.kind
    if kind == "text":
        if spec.max_length is not None and len(text) > spec.max_length:
            raise ValueError(_("At most %(n)d characters.") % {"n": spec.max_length})
        return text
    if kind == "email":
        return normalize_email(text)
    if kind == "phone":
        return normalize_phone(text, ctx.region).value
    if kind == "date":
        return parse_date(text)
    if kind == "datetime":
        return parse_datetime(text)
    if kind == "decimal":
        return parse_decimal(text)
    if kind == "int":
        return parse_int(text)
    if kind == "bool":
        return parse_bool(text)
    if kind == "choice":
        return parse_choice(text, spec)
    if kind == "country":
        from vefa.customers.services._common import country_codes

        code = text.strip().upper()
        if code not in country_codes():
            raise ValueError(_("Enter a two-letter country code, e.g. TR."))
        return code
    if kind == "currency":
        from vefa.customers.services._common import currency_codes

        code = text.strip().upper()
        if code not in currency_codes():
            raise ValueError(_("Enter a currency code, e.g. TRY."))
        return code
    raise ValueError(f"unknown field kind {kind}")


# --- the adapter --------------------------------------------------------------------------


class EntityAdapter:
    """Base of every entity's import; see the module docstring for the contract."""

    entity: ClassVar[str] = ""
    label: ClassVar[str | Promise] = ""
    model: ClassVar[type[models.Model]]
    fields: ClassVar[tuple[Field, ...]] = ()
    match_keys: ClassVar[dict[str, str]] = {}
    default_match_key: ClassVar[str] = ""
    owned_children: ClassVar[tuple[str, ...]] = ()

    # -- description ------------------------------------------------------------------------

    def field_map(self) -> dict[str, Field]:
        return {f.name: f for f in self.fields}

    def required_fields(self) -> list[str]:
        return [f.name for f in self.fields if f.required]

    def can_import(self, actor: User) -> bool:
        return can_create(actor, self.model)

    def object_type(self) -> str:
        return self.model._meta.label_lower

    # -- per row -------------------------------------------------------------------------------

    def parse(self, row: Row, ctx: ImportContext) -> None:
        """Parse each non-empty cell by its field's kind into ``row.values``."""
        specs = self.field_map()
        for name, text in row.raw.items():
            spec = specs.get(name)
            if spec is None:
                continue
            if len(text) > MAX_CELL:
                row.error(
                    name, _("At most %(n)d characters.") % {"n": MAX_CELL}, value=text[:50] + "…"
                )
                continue
            if "\x00" in text:
                row.error(
                    name, _("Null characters are not allowed."), value=text.replace("\x00", "")
                )
                continue
            if text == "":
                if spec.required:
                    row.error(name, _("This field is required."))
                continue
            try:
                row.values[name] = parse_value(spec, text, ctx)
            except ValueError as exc:
                row.error(name, str(exc))
        for name in self.required_fields():
            if name not in row.raw:
                row.error(name, _("This field is required."))

    def clean(self, row: Row, ctx: ImportContext) -> None:
        """Cross-field checks; the default has none."""

    def validate_create(self, row: Row, ctx: ImportContext) -> None:
        """Checks for a row that will create a record (not for one that updates); the
        default has none."""

    def match_value(self, row: Row, key: str) -> str:
        name = self.match_keys.get(key, "")
        value = row.values.get(name) if name else None
        return str(value) if value not in (None, "") else ""

    # -- per batch -------------------------------------------------------------------------------

    def match_queryset(self, ctx: ImportContext) -> models.QuerySet[Any]:
        return restrict(self.model._default_manager.all(), ctx.actor, "change")

    def find_existing(self, key: str, values: Sequence[str], ctx: ImportContext) -> dict[str, int]:
        name = self.match_keys.get(key, "")
        if not name or not values:
            return {}
        found: dict[str, int] = {}
        qs = self.match_queryset(ctx).filter(**{f"{name}__in": list(values)})
        for value, pk in qs.order_by("pk").values_list(name, "pk"):
            found.setdefault(str(value), pk)
        return found

    def create(self, rows: Sequence[Row], ctx: ImportContext) -> list[Outcome]:
        raise NotImplementedError

    def update(self, rows: Sequence[Row], ctx: ImportContext) -> list[Outcome]:
        raise NotImplementedError

    # -- undo --------------------------------------------------------------------------------

    def undo_created(self, object_type: str, ids: Sequence[int], ctx: ImportContext) -> int:
        """Delete the created records ``ids`` of ``object_type``; returns how many."""
        from django.apps import apps

        from vefa.imports.entities.customers import changelog_rows

        model = apps.get_model(object_type)
        objects = list(model._default_manager.filter(pk__in=list(ids)))
        if not objects:
            return 0
        changelog_rows(ctx, objects, "delete", [(None, None)] * len(objects))
        model._default_manager.filter(pk__in=[o.pk for o in objects]).delete()
        _unindex_soon(object_type, [o.pk for o in objects])
        return len(objects)

    def undo_updated(
        self, object_type: str, pk: int, previous: dict[str, Any], ctx: ImportContext
    ) -> bool | str:
        """Restore ``previous`` on record ``pk``: ``True`` restored, ``False`` gone, or the
        reason it is kept as it is."""
        from django.apps import apps

        from vefa.imports.entities.customers import changelog_rows, jsonable

        model = apps.get_model(object_type)
        obj = model._default_manager.filter(pk=pk).first()
        if obj is None:
            return False
        finished = (ctx.run.finished_at if ctx.run is not None else None) or timezone.now()
        changed_at = getattr(obj, "updated_at", None)
        if changed_at is not None and changed_at > finished:
            return _("Changed again after the import; not restored.")
        values = _restore_values(model, previous)
        after = {k: jsonable(getattr(obj, k, None)) for k in previous}
        model._default_manager.filter(pk=pk).update(**values)
        changelog_rows(ctx, [obj], "update", [(after, previous)])
        return True

    def undo_blockers(self, object_type: str, ids: Iterable[int]) -> dict[int, str]:
        """Created records that have since gained related records (other than the ones
        created with them) and so cannot be deleted: ``{pk: reason}``."""
        from django.apps import apps

        model = apps.get_model(object_type)
        ids = list(ids)
        owned = set(self.owned_children)
        blocked: dict[int, str] = {}
        for relation in model._meta.related_objects:
            related: Any = relation.related_model
            if related is None or related == "self" or related._meta.label_lower in owned:
                continue
            name = relation.field.name
            qs = related._default_manager.filter(**{f"{name}__in": ids})
            if related is model:
                qs = qs.exclude(pk__in=ids)
            for pk in qs.values_list(name, flat=True).distinct():
                if pk is not None and int(pk) not in blocked:
                    blocked[int(pk)] = _("It has %(what)s added since the import.") % {
                        "what": related._meta.verbose_name_plural
                    }
        return blocked


def _restore_values(model: Any, previous: dict[str, Any]) -> dict[str, Any]:
    """Field values from their JSON form (dates and decimals back to Python)."""
    from django.core.exceptions import FieldDoesNotExist

    values: dict[str, Any] = {}
    for name, raw in previous.items():
        try:
            model_field = model._meta.get_field(name.removesuffix("_id"))
        except FieldDoesNotExist:
            continue
        attname = model_field.attname if name.endswith("_id") else name
        values[attname] = raw if raw is None else model_field.to_python(raw)
    values["updated_at"] = timezone.now()
    return values


def _unindex_soon(label: str, ids: list[int]) -> None:
    """Take records out of the search index when the transaction commits."""
    from django.db import transaction

    from vefa.platform.search.indexer import index_records
    from vefa.platform.search.registry import labels

    if label in set(labels()):
        transaction.on_commit(lambda: index_records(label, ids))
