"""Reading the operational database into Arrow batches for the analytical store.

``vefa.analytics.store`` decides *what* to read (everything, or what changed since the
watermark of each table) and where the batches go; this module knows *how*: one raw SQL
query per source table, streamed in batches (``fetchmany`` of ``BATCH_ROWS`` rows on
SQLite, ``COPY (SELECT …) TO STDOUT`` parsed by Arrow's CSV reader on PostgreSQL), and the
vectorised transforms that turn the raw columns into the store's columns.

Why raw SQL and Arrow rather than the ORM: the store is rebuilt from millions of orders and
lines; model instances (or even ``values_list`` tuples kept in lists) would cost far more
memory and time than the work itself. Each query returns only integers, floats and text,
so both databases give the same raw batch; dates, money and codes are computed afterwards
on whole columns.

The transforms, once for both databases:

- **Times** arrive as UTC text (``YYYY-MM-DD HH:MM:SS[.ffffff]``, the way Django stores
  them on SQLite; PostgreSQL formats them the same way with ``to_char``). The business day
  is the date in ``settings.TIME_ZONE``: ``day`` = days since 1970-01-01 and ``month`` =
  ``year * 12 + month - 1``, the numbers ``vefa.analytics.engine.day_number`` and
  ``month_number`` give for that date.
- **Money** arrives as the stored number: exact decimal text from PostgreSQL, SQLite's REAL
  (rounded back to the stored four places, which recovers the stored decimal exactly). An
  amount already in the reporting currency is rounded half away from zero to that
  currency's minor unit (what ``RateTable.convert`` does with the rate 1) on the whole
  column; an amount in another currency goes through ``RateTable.convert`` one by one (the
  rate of the day, the rounding). The result is stored as ``int64`` hundredths of the
  reporting currency ("cents"). An amount whose currency has no rate at all becomes null
  and its currency is reported as missing, as the sales reports do.
"""

from __future__ import annotations

import datetime
import io
import json
import os
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
from django.db import connection
from django.utils.dateparse import parse_datetime

from vefa.analytics.engine import day_from_number
from vefa.sales.money import RateTable, minor_digits

BATCH_ROWS = 50_000
UTC_TS = pa.timestamp("us", tz="UTC")
_CENT = Decimal(1)
_HUNDRED = pa.scalar(Decimal(100), pa.decimal128(3, 0))
# The largest amount whose cents fit an int64 (with room): larger ones count as unknown.
_LARGEST_AMOUNT = Decimal(9 * 10**16)
_LARGEST = pa.scalar(_LARGEST_AMOUNT, pa.decimal128(18, 0))
# Storage shapes of the money and quantity columns (``vefa.sales.models``); the product of
# the two still fits a 128-bit decimal (14 + 20 + 1 digits).
AMOUNT = pa.decimal128(20, 4)
QUANTITY = pa.decimal128(14, 3)
_FIELD_KEY = re.compile(r"^[A-Za-z0-9_-]{1,50}$")


# --- context -----------------------------------------------------------------------------------


@dataclass
class Context:
    """What every transform of one run needs: the reporting currency, rates and the zone."""

    target: str
    rates: RateTable
    zone: str
    missing: set[str] = field(default_factory=set)
    _days: dict[int, datetime.date] = field(default_factory=dict)

    @property
    def minor(self) -> int:
        return minor_digits(self.target)

    def date(self, number: int) -> datetime.date:
        day = self._days.get(number)
        if day is None:
            day = self._days[number] = day_from_number(number)
        return day


# --- column transforms -------------------------------------------------------------------------


def _parse_text_time(value: str | None) -> datetime.datetime | None:
    if value is None:
        return None
    parsed = parse_datetime(value)
    if parsed is None:
        raise ValueError(f"not a date and time: {value!r}")
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(datetime.UTC).replace(tzinfo=None)
    return parsed


def utc_times(texts: pa.Array) -> pa.Array:
    """UTC text times as ``timestamp[us, UTC]`` (Arrow's parser, Django's for odd shapes);
    integers are microseconds since 1970 (``Dialect.moment`` on PostgreSQL)."""
    if pa.types.is_integer(texts.type):
        return pc.cast(pc.cast(texts, pa.int64()), UTC_TS)
    try:
        naive = pc.cast(texts, pa.timestamp("us"))
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        naive = pa.array([_parse_text_time(v) for v in texts.to_pylist()], pa.timestamp("us"))
    # A naive timestamp cast to a zoned one keeps its value: the text was UTC already.
    return pc.cast(naive, UTC_TS)


def local_days(times: pa.Array, zone: str) -> tuple[pa.Array, pa.Array]:
    """``(day, month)`` numbers (``int32``) of UTC ``times`` in the business time ``zone``."""
    local = pc.local_timestamp(pc.cast(times, pa.timestamp("us", tz=zone)))
    days = pc.cast(pc.cast(local, pa.date32()), pa.int32())
    months = pc.add(
        pc.multiply(pc.cast(pc.year(local), pa.int32()), pa.scalar(12, pa.int32())),
        pc.subtract(pc.cast(pc.month(local), pa.int32()), pa.scalar(1, pa.int32())),
    )
    return days, months


def decimals(values: pa.Array, kind: pa.Decimal128Type = AMOUNT) -> pa.Array:
    """Stored amounts or quantities as Arrow decimals of the stored shape.

    Numbers (SQLite's REAL storage) are rounded to the stored places, which recovers the
    stored decimal exactly, then converted. Text is parsed in one go; text Arrow refuses
    (more places than stored, a value wider than the column) is parsed one by one, rounded
    half up, and left empty when it still does not fit.
    """
    if pa.types.is_floating(values.type) or pa.types.is_integer(values.type):
        limit = float(10 ** (kind.precision - kind.scale))
        rounded = pc.round(
            pc.cast(values, F64), ndigits=kind.scale, round_mode="half_towards_infinity"
        )
        fits = pc.less(pc.abs(rounded), pa.scalar(limit))
        rounded = pc.if_else(fits, rounded, pa.scalar(None, F64))
        return pc.cast(rounded, kind, safe=False)
    try:
        return pc.cast(values, kind)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        exponent = Decimal(1).scaleb(-kind.scale)
        limit_text = Decimal(10) ** (kind.precision - kind.scale)
        parsed: list[Decimal | None] = []
        for text in values.to_pylist():
            try:
                value = None if text is None else Decimal(text).quantize(exponent, ROUND_HALF_UP)
            except InvalidOperation:
                value = None
            parsed.append(value if value is not None and abs(value) < limit_text else None)
        return pa.array(parsed, kind)


def _cents_of(amount: Decimal) -> int:
    return int((amount * 100).quantize(_CENT, rounding=ROUND_HALF_UP))


def to_cents(amounts: pa.Array, currencies: pa.Array, days: pa.Array, context: Context) -> pa.Array:
    """``amounts`` (decimals in ``currencies``, on business ``days``) as reporting cents.

    Amounts in the reporting currency are rounded on the whole column; the others go one
    by one through ``RateTable.convert``. Null amounts, null currencies and currencies
    without any rate give null (the currency is added to ``context.missing``).
    """
    if len(amounts) == 0:
        return pa.array([], pa.int64())
    amounts = pc.if_else(
        pc.greater(pc.abs(amounts), _LARGEST), pa.scalar(None, amounts.type), amounts
    )
    # Widen to 34 digits (values are far smaller): rounding may add a digit, and Arrow's
    # round gives 0 instead of an error when the result does not fit the type; the
    # multiplication by 100 then still fits 38 digits.
    amounts = pc.cast(amounts, pa.decimal128(34, amounts.type.scale))
    rounded = pc.round(amounts, ndigits=context.minor, round_mode="half_towards_infinity")
    cents = pc.cast(
        pc.round(pc.multiply(rounded, _HUNDRED), ndigits=0, round_mode="half_towards_infinity"),
        pa.int64(),
    )
    same = pc.fill_null(pc.equal(currencies, context.target), False)
    cents = pc.if_else(same, cents, pa.scalar(None, pa.int64()))
    foreign = pc.and_(pc.invert(same), pc.is_valid(amounts))
    if not pc.any(foreign).as_py():
        return cents
    picked = pc.indices_nonzero(foreign)
    converted: list[int | None] = []
    for amount, currency, day in zip(
        pc.take(amounts, picked).to_pylist(),
        pc.take(currencies, picked).to_pylist(),
        pc.take(days, picked).to_pylist(),
        strict=True,
    ):
        value = None
        if currency is not None and day is not None:
            value = context.rates.convert(amount, currency, context.date(day))
        if value is None:
            context.missing.add(str(currency))
            converted.append(None)
        elif abs(value) > _LARGEST_AMOUNT:
            converted.append(None)
        else:
            converted.append(_cents_of(value))
    return pc.replace_with_mask(cents, foreign, pa.array(converted, pa.int64()))


# NACE Rev. 2 divisions (the first two digits of a code) by section letter.
_NACE_SECTIONS: tuple[tuple[str, int, int], ...] = (
    ("A", 1, 3),
    ("B", 5, 9),
    ("C", 10, 33),
    ("D", 35, 35),
    ("E", 36, 39),
    ("F", 41, 43),
    ("G", 45, 47),
    ("H", 49, 53),
    ("I", 55, 56),
    ("J", 58, 63),
    ("K", 64, 66),
    ("L", 68, 68),
    ("M", 69, 75),
    ("N", 77, 82),
    ("O", 84, 84),
    ("P", 85, 85),
    ("Q", 86, 88),
    ("R", 90, 93),
    ("S", 94, 96),
    ("T", 97, 98),
    ("U", 99, 99),
)
_DIVISION_SECTION = {d: s for s, lo, hi in _NACE_SECTIONS for d in range(lo, hi + 1)}
_NACE_CODE = re.compile(r"^([A-U])?(\d{2})(?:\.|$)")


def nace_section(code: str | None) -> str:
    """The NACE section letter of a code ("47.11" → "G", "C10.1" → "C"), or ""."""
    match = _NACE_CODE.match((code or "").strip().upper())
    if match is None:
        return ""
    section = _DIVISION_SECTION.get(int(match.group(2)), "")
    return section if match.group(1) in (None, section) else ""


def size_band(employees: int | None) -> str:
    """Employee count → "micro" (<10), "small" (<50), "medium" (<250), "large", or ""."""
    if employees is None:
        return ""
    if employees < 10:
        return "micro"
    if employees < 50:
        return "small"
    if employees < 250:
        return "medium"
    return "large"


def _wallet_cents(texts: pa.Array, currencies: pa.Array, days: pa.Array, ctx: Context) -> pa.Array:
    """The declared wallet custom field (an amount in the customer's currency) as cents.

    A custom field holds whatever was typed; values that are not numbers are left empty.
    """
    amounts: list[Decimal | None] = []
    for text in texts.to_pylist():
        try:
            value = None if text in (None, "") else Decimal(str(text).strip().replace(",", "."))
        except InvalidOperation:
            value = None
        if value is not None and (not value.is_finite() or abs(value) >= Decimal(10) ** 15):
            value = None
        amounts.append(None if value is None else value.quantize(Decimal("0.0001")))
    return to_cents(pa.array(amounts, AMOUNT), currencies, days, ctx)


_DIRECTIONS = {"inbound": "in", "outbound": "out"}
_KINDS = {"organisation": "organization"}


def _mapped(values: pa.Array, mapping: dict[str, str], default: str | None = None) -> pa.Array:
    return pa.array(
        [mapping.get(v, v if default is None else default) for v in values.to_pylist()],
        pa.string(),
    )


def _text(values: pa.Array) -> pa.Array:
    return pc.fill_null(values, "")


# --- source tables -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Mark:
    """One watermark of a table: the largest (time, id) read from two raw columns."""

    name: str
    time_column: str
    id_column: str


@dataclass(frozen=True)
class Source:
    """A table of the store read from one query.

    ``key`` identifies a row; ``group`` is the unit a newer part replaces (the row itself,
    or for order lines the whole order: an order read again brings all its current lines).
    ``deletes`` maps a change-log model label to the column its deleted ids remove.
    """

    name: str
    key: str
    group: str
    raw: tuple[tuple[str, pa.DataType], ...]
    schema: pa.Schema
    marks: tuple[Mark, ...]
    deletes: tuple[tuple[str, str], ...]
    query: Callable[[Dialect, Plan], Query]
    transform: Callable[[pa.RecordBatch, Context], pa.RecordBatch]

    @property
    def columns(self) -> list[str]:
        return [name for name, _ in self.raw]


@dataclass(frozen=True)
class Query:
    sql: str
    params: list[Any]


I64, I32, F64, STR = pa.int64(), pa.int32(), pa.float64(), pa.string()
# A money or quantity column of a query (``Dialect.number``): float64 from SQLite's REAL or
# INTEGER storage, text from PostgreSQL's numeric.
NUM = pa.null()
# A timestamp column of a query (``Dialect.moment``): int64 microseconds since 1970 (UTC)
# from PostgreSQL, UTC text from SQLite; ``utc_times`` reads both. (A type no source column
# has otherwise, standing for "either".)
MOMENT = pa.time64("us")


class Dialect:
    """The few SQL spellings that differ between SQLite and PostgreSQL."""

    def __init__(self, vendor: str) -> None:
        self.pg = vendor == "postgresql"

    def time(self, column: str) -> str:
        """A timestamp as UTC text in the shape Django stores on SQLite."""
        if self.pg:
            return f"to_char({column} AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US')"
        return f"CAST({column} AS TEXT)"

    def moment(self, column: str) -> str:
        """A timestamp of a source table's row (a ``MOMENT`` column): on PostgreSQL the
        microseconds since 1970 as an integer, which the server writes and Arrow reads far
        faster than formatted text (``to_char`` was a third of the lines' query); on SQLite
        the stored text, as ``time``."""
        if self.pg:
            return f"CAST(ROUND(EXTRACT(EPOCH FROM {column}) * 1000000) AS BIGINT)"
        return self.time(column)

    def text(self, column: str) -> str:
        return f"CAST({column} AS TEXT)"

    def number(self, column: str) -> str:
        """A money or quantity column: exact text on PostgreSQL; on SQLite the stored
        number itself (SQLite keeps these columns as REAL or INTEGER, and formatting them
        as text costs more than Arrow's exact rounding of the double to the stored places)."""
        return f"CAST({column} AS TEXT)" if self.pg else column

    def json_text(self, column: str) -> str:
        if self.pg:
            return f"({column} ->> %s)"
        return f"CAST(json_extract({column}, %s) AS TEXT)"

    def json_key(self, key: str) -> str:
        return key if self.pg else f'$."{key}"'

    def param_time(self, value: datetime.datetime) -> Any:
        """A UTC time as a query parameter compared with stored timestamps."""
        return connection.ops.adapt_datetimefield_value(value)


def mark_time(text: str) -> datetime.datetime:
    """A watermark's time (naive UTC ISO text in the manifest) as an aware UTC datetime."""
    return datetime.datetime.fromisoformat(text).replace(tzinfo=datetime.UTC)


def _since(
    dialect: Dialect,
    mark: dict[str, Any] | None,
    time_column: str,
    id_column: str,
    overlap: datetime.timedelta,
) -> tuple[str, list[Any]]:
    """``(time, id) > watermark - overlap`` as SQL, or always-true for a first read."""
    if not mark:
        return "1 = 1", []
    cutoff = dialect.param_time(mark_time(mark["time"]) - overlap)
    return (
        f"({time_column} > %s OR ({time_column} = %s AND {id_column} > %s))",
        [cutoff, cutoff, int(mark["id"])],
    )


def _table(label: str) -> str:
    from django.apps import apps

    return connection.ops.quote_name(apps.get_model(label)._meta.db_table)


@dataclass
class Plan:
    """What one run reads of a table: everything (``marks`` None) or changes since."""

    marks: dict[str, Any] | None
    overlap: datetime.timedelta
    # Money depends on exchange rates: rows dated from this UTC time on are read again
    # because a rate they were converted with changed.
    rates_since: datetime.datetime | None = None


def _orders_query(dialect: Dialect, plan: Plan) -> Query:
    d = dialect
    where, params = _since(d, (plan.marks or {}).get("row"), "o.updated_at", "o.id", plan.overlap)
    if plan.marks is not None and plan.rates_since is not None:
        where = f"({where} OR o.ordered_at >= %s)"
        params.append(d.param_time(plan.rates_since))
    sql = (
        f"SELECT o.id, o.customer_id, o.status, {d.moment('o.ordered_at')}, o.currency, "  # noqa: S608 (no user text)
        f"{d.number('o.subtotal')}, {d.number('o.discount_total')}, o.source, o.owner_id, "
        f"o.team_id, o.number, {d.moment('o.updated_at')} "
        f"FROM {_table('sales.Order')} o WHERE {where}"
    )
    return Query(sql, params)


def _orders_transform(batch: pa.RecordBatch, ctx: Context) -> pa.RecordBatch:
    ordered = utc_times(batch.column("ordered_at"))
    days, months = local_days(ordered, ctx.zone)
    net = pc.subtract(decimals(batch.column("subtotal")), decimals(batch.column("discount_total")))
    net = pc.cast(net, pa.decimal128(21, 4))
    revenue = to_cents(net, batch.column("currency"), days, ctx)
    return pa.RecordBatch.from_arrays(
        [
            batch.column("order_id"),
            batch.column("customer_id"),
            days,
            months,
            batch.column("status"),
            revenue,
            batch.column("currency"),
            pc.cast(net, STR),
            batch.column("source"),
            batch.column("owner_id"),
            batch.column("team_id"),
            batch.column("number"),
            ordered,
            utc_times(batch.column("updated_at")),
        ],
        schema=ORDERS.schema,
    )


def _lines_query(dialect: Dialect, plan: Plan) -> Query:
    d = dialect
    select = (
        f"SELECT l.id, l.order_id, o.customer_id, {d.moment('o.ordered_at')}, o.currency, "  # noqa: S608 (no user text)
        f"l.product_id, {d.number('l.quantity')}, {d.number('l.net')}, "
        f"{d.number('COALESCE(l.unit_cost, p.unit_cost)')}, "
        "CASE WHEN l.unit_cost IS NOT NULL THEN o.currency ELSE p.currency END, "
        f"{d.moment('l.created_at')}, "
        f"{d.moment('o.updated_at')} "
        f"FROM {_table('sales.OrderLine')} l "
        f"JOIN {_table('sales.Order')} o ON o.id = l.order_id "
        f"LEFT JOIN {_table('sales.Product')} p ON p.id = l.product_id"
    )
    if plan.marks is None:
        return Query(select, [])
    # Lines are never changed in place: an order's lines are replaced as a whole. New lines
    # are found by their (indexed) creation time, changed orders by the order's update time;
    # either way every current line of the order is read again.
    orders, order_params = _since(d, plan.marks.get("order"), "updated_at", "id", plan.overlap)
    lines, line_params = _since(d, plan.marks.get("line"), "created_at", "id", plan.overlap)
    parts = [
        f"SELECT id FROM {_table('sales.Order')} WHERE {orders}",  # noqa: S608 (no user text)
        f"SELECT order_id FROM {_table('sales.OrderLine')} WHERE {lines}",  # noqa: S608
    ]
    params = [*order_params, *line_params]
    if plan.rates_since is not None:
        parts.append(f"SELECT id FROM {_table('sales.Order')} WHERE ordered_at >= %s")  # noqa: S608
        params.append(d.param_time(plan.rates_since))
    sql = f"{select} WHERE l.order_id IN ({' UNION '.join(parts)})"
    return Query(sql, params)


def _lines_transform(batch: pa.RecordBatch, ctx: Context) -> pa.RecordBatch:
    ordered = utc_times(batch.column("ordered_at"))
    days, months = local_days(ordered, ctx.zone)
    quantity = decimals(batch.column("quantity"), QUANTITY)
    revenue = to_cents(decimals(batch.column("net")), batch.column("currency"), days, ctx)
    cost_amount = pc.multiply(quantity, decimals(batch.column("unit_cost")))
    cost = to_cents(cost_amount, batch.column("cost_currency"), days, ctx)
    return pa.RecordBatch.from_arrays(
        [
            batch.column("line_id"),
            batch.column("order_id"),
            batch.column("customer_id"),
            batch.column("product_id"),
            days,
            months,
            pc.cast(quantity, F64),
            revenue,
            cost,
        ],
        schema=LINES.schema,
    )


def _customers_query(dialect: Dialect, plan: Plan) -> Query:
    d = dialect
    key = wallet_field()
    where, params = _since(d, (plan.marks or {}).get("row"), "c.updated_at", "c.id", plan.overlap)
    if plan.marks is not None and plan.rates_since is not None:
        where = f"({where} OR c.updated_at >= %s)"
        params.append(d.param_time(plan.rates_since))
    sql = (
        f"SELECT c.id, c.kind, {d.moment('c.created_at')}, c.nace_code, c.employee_count, "  # noqa: S608 (no user text)
        f"c.owner_id, c.team_id, {d.json_text('c.custom_fields')}, c.currency, "
        f"c.display_name, c.lifecycle_stage, c.country, c.city, {d.moment('c.updated_at')} "
        f"FROM {_table('customers.Customer')} c WHERE {where}"
    )
    return Query(sql, [d.json_key(key), *params])


def _customers_transform(batch: pa.RecordBatch, ctx: Context) -> pa.RecordBatch:
    created_days, _ = local_days(utc_times(batch.column("created_at")), ctx.zone)
    updated = utc_times(batch.column("updated_at"))
    updated_days, _ = local_days(updated, ctx.zone)
    wallet = _wallet_cents(batch.column("wallet"), batch.column("currency"), updated_days, ctx)
    return pa.RecordBatch.from_arrays(
        [
            batch.column("customer_id"),
            _mapped(batch.column("kind"), _KINDS),
            created_days,
            pa.array([nace_section(v) for v in batch.column("nace_code").to_pylist()], STR),
            pa.array([size_band(v) for v in batch.column("employee_count").to_pylist()], STR),
            batch.column("owner_id"),
            batch.column("team_id"),
            wallet,
            _text(batch.column("display_name")),
            _text(batch.column("lifecycle_stage")),
            _text(batch.column("country")),
            _text(batch.column("city")),
            updated,
        ],
        schema=CUSTOMERS.schema,
    )


def _products_query(dialect: Dialect, plan: Plan) -> Query:
    d = dialect
    where, params = _since(d, (plan.marks or {}).get("row"), "p.updated_at", "p.id", plan.overlap)
    if plan.marks is not None and plan.rates_since is not None:
        where = f"({where} OR p.updated_at >= %s)"
        params.append(d.param_time(plan.rates_since))
    sql = (
        f"SELECT p.id, p.category_id, {d.number('p.unit_cost')}, p.currency, p.sku, p.name, "  # noqa: S608 (no user text)
        f"CASE WHEN p.is_active THEN 1 ELSE 0 END, {d.moment('p.updated_at')} "
        f"FROM {_table('sales.Product')} p WHERE {where}"
    )
    return Query(sql, params)


def _products_transform(batch: pa.RecordBatch, ctx: Context) -> pa.RecordBatch:
    updated = utc_times(batch.column("updated_at"))
    days, _ = local_days(updated, ctx.zone)
    cost = to_cents(decimals(batch.column("unit_cost")), batch.column("currency"), days, ctx)
    return pa.RecordBatch.from_arrays(
        [
            batch.column("product_id"),
            batch.column("category_id"),
            cost,
            _text(batch.column("sku")),
            _text(batch.column("name")),
            pc.cast(batch.column("is_active"), pa.bool_()),
            updated,
        ],
        schema=PRODUCTS.schema,
    )


def _categories_query(dialect: Dialect, plan: Plan) -> Query:
    d = dialect
    where, params = _since(d, (plan.marks or {}).get("row"), "c.updated_at", "c.id", plan.overlap)
    sql = (
        f"SELECT c.id, c.name, c.parent_id, {d.moment('c.updated_at')} "  # noqa: S608 (no user text)
        f"FROM {_table('sales.ProductCategory')} c WHERE {where}"
    )
    return Query(sql, params)


def _categories_transform(batch: pa.RecordBatch, ctx: Context) -> pa.RecordBatch:
    return pa.RecordBatch.from_arrays(
        [
            batch.column("category_id"),
            _text(batch.column("name")),
            batch.column("parent_id"),
            utc_times(batch.column("updated_at")),
        ],
        schema=CATEGORIES.schema,
    )


def _interactions_query(dialect: Dialect, plan: Plan) -> Query:
    d = dialect
    where, params = _since(d, (plan.marks or {}).get("row"), "i.updated_at", "i.id", plan.overlap)
    sql = (
        f"SELECT i.id, i.customer_id, {d.moment('i.occurred_at')}, i.kind, i.channel, "  # noqa: S608 (no user text)
        "i.direction, CASE WHEN i.related_model = 'service.ticket' THEN 1 ELSE 0 END, "
        f"{d.moment('i.updated_at')} "
        f"FROM {_table('interactions.Interaction')} i WHERE {where}"
    )
    return Query(sql, params)


def _interactions_transform(batch: pa.RecordBatch, ctx: Context) -> pa.RecordBatch:
    days, _ = local_days(utc_times(batch.column("occurred_at")), ctx.zone)
    return pa.RecordBatch.from_arrays(
        [
            batch.column("interaction_id"),
            batch.column("customer_id"),
            days,
            _text(batch.column("kind")),
            _text(batch.column("channel")),
            _mapped(_text(batch.column("direction")), _DIRECTIONS, default=""),
            pc.cast(batch.column("from_ticket"), pa.bool_()),
            utc_times(batch.column("updated_at")),
        ],
        schema=INTERACTIONS.schema,
    )


def _activities_query(dialect: Dialect, plan: Plan) -> Query:
    d = dialect
    where, params = _since(d, (plan.marks or {}).get("row"), "a.updated_at", "a.id", plan.overlap)
    # The day of an activity: when it was done, else when it is planned, else its creation.
    moment = d.moment("COALESCE(a.completed_at, a.scheduled_at, a.created_at)")
    sql = (
        f"SELECT a.id, a.customer_id, {moment}, a.kind, a.status, {d.moment('a.updated_at')} "  # noqa: S608 (no user text)
        f"FROM {_table('interactions.Activity')} a WHERE {where}"
    )
    return Query(sql, params)


def _activities_transform(batch: pa.RecordBatch, ctx: Context) -> pa.RecordBatch:
    days, _ = local_days(utc_times(batch.column("moment")), ctx.zone)
    return pa.RecordBatch.from_arrays(
        [
            batch.column("activity_id"),
            batch.column("customer_id"),
            days,
            _text(batch.column("kind")),
            _text(batch.column("status")),
            utc_times(batch.column("updated_at")),
        ],
        schema=ACTIVITIES.schema,
    )


def _schema(*columns: tuple[str, pa.DataType]) -> pa.Schema:
    return pa.schema([pa.field(name, kind) for name, kind in columns])


def _row_marks(key: str) -> tuple[Mark, ...]:
    return (Mark("row", "updated_at", key),)


def setting(name: str, default: Any = None) -> Any:
    """A store setting: from Django's settings when defined there, else the environment."""
    from django.conf import settings

    value = getattr(settings, name, None)
    if value in (None, ""):
        value = os.environ.get(name) or None
    return default if value is None else value


def wallet_field() -> str:
    """The customer custom field holding the declared wallet (``VEFA_ANALYTICS_WALLET_FIELD``,
    default ``declared_wallet``): an amount in the customer's currency."""
    key = str(setting("VEFA_ANALYTICS_WALLET_FIELD", "declared_wallet"))
    if not _FIELD_KEY.match(key):
        raise ValueError(f"VEFA_ANALYTICS_WALLET_FIELD is not a custom field key: {key!r}")
    return key


ORDERS = Source(
    name="orders",
    key="order_id",
    group="order_id",
    raw=(
        ("order_id", I64),
        ("customer_id", I64),
        ("status", STR),
        ("ordered_at", MOMENT),
        ("currency", STR),
        ("subtotal", NUM),
        ("discount_total", NUM),
        ("source", STR),
        ("owner_id", I64),
        ("team_id", I64),
        ("number", STR),
        ("updated_at", MOMENT),
    ),
    schema=_schema(
        ("order_id", I64),
        ("customer_id", I64),
        ("day", I32),
        ("month", I32),
        ("status", STR),
        ("revenue", I64),
        ("currency", STR),
        ("net", STR),
        ("source", STR),
        ("owner_id", I64),
        ("team_id", I64),
        ("number", STR),
        ("ordered_at", UTC_TS),
        ("updated_at", UTC_TS),
    ),
    marks=_row_marks("order_id"),
    deletes=(("sales.order", "order_id"),),
    query=_orders_query,
    transform=_orders_transform,
)

LINES = Source(
    name="lines",
    key="line_id",
    group="order_id",
    raw=(
        ("line_id", I64),
        ("order_id", I64),
        ("customer_id", I64),
        ("ordered_at", MOMENT),
        ("currency", STR),
        ("product_id", I64),
        ("quantity", NUM),
        ("net", NUM),
        ("unit_cost", NUM),
        ("cost_currency", STR),
        ("created_at", MOMENT),
        ("order_updated_at", MOMENT),
    ),
    schema=_schema(
        ("line_id", I64),
        ("order_id", I64),
        ("customer_id", I64),
        ("product_id", I64),
        ("day", I32),
        ("month", I32),
        ("quantity", F64),
        ("revenue", I64),
        ("cost", I64),
    ),
    marks=(Mark("line", "created_at", "line_id"), Mark("order", "order_updated_at", "order_id")),
    deletes=(("sales.order", "order_id"),),
    query=_lines_query,
    transform=_lines_transform,
)

CUSTOMERS = Source(
    name="customers",
    key="customer_id",
    group="customer_id",
    raw=(
        ("customer_id", I64),
        ("kind", STR),
        ("created_at", MOMENT),
        ("nace_code", STR),
        ("employee_count", I64),
        ("owner_id", I64),
        ("team_id", I64),
        ("wallet", STR),
        ("currency", STR),
        ("display_name", STR),
        ("lifecycle_stage", STR),
        ("country", STR),
        ("city", STR),
        ("updated_at", MOMENT),
    ),
    schema=_schema(
        ("customer_id", I64),
        ("kind", STR),
        ("created_day", I32),
        ("industry", STR),
        ("size_band", STR),
        ("owner_id", I64),
        ("team_id", I64),
        ("declared_wallet", I64),
        ("customer_name", STR),
        ("lifecycle_stage", STR),
        ("country", STR),
        ("city", STR),
        ("updated_at", UTC_TS),
    ),
    marks=_row_marks("customer_id"),
    deletes=(("customers.customer", "customer_id"),),
    query=_customers_query,
    transform=_customers_transform,
)

PRODUCTS = Source(
    name="products",
    key="product_id",
    group="product_id",
    raw=(
        ("product_id", I64),
        ("category_id", I64),
        ("unit_cost", NUM),
        ("currency", STR),
        ("sku", STR),
        ("name", STR),
        ("is_active", I64),
        ("updated_at", MOMENT),
    ),
    schema=_schema(
        ("product_id", I64),
        ("category_id", I64),
        ("unit_cost", I64),
        ("sku", STR),
        ("product_name", STR),
        ("is_active", pa.bool_()),
        ("updated_at", UTC_TS),
    ),
    marks=_row_marks("product_id"),
    deletes=(("sales.product", "product_id"),),
    query=_products_query,
    transform=_products_transform,
)

CATEGORIES = Source(
    name="categories",
    key="category_id",
    group="category_id",
    raw=(
        ("category_id", I64),
        ("name", STR),
        ("parent_id", I64),
        ("updated_at", MOMENT),
    ),
    schema=_schema(
        ("category_id", I64),
        ("category_name", STR),
        ("parent_id", I64),
        ("updated_at", UTC_TS),
    ),
    marks=_row_marks("category_id"),
    deletes=(("sales.productcategory", "category_id"),),
    query=_categories_query,
    transform=_categories_transform,
)

INTERACTIONS = Source(
    name="interactions",
    key="interaction_id",
    group="interaction_id",
    raw=(
        ("interaction_id", I64),
        ("customer_id", I64),
        ("occurred_at", MOMENT),
        ("kind", STR),
        ("channel", STR),
        ("direction", STR),
        ("from_ticket", I64),
        ("updated_at", MOMENT),
    ),
    schema=_schema(
        ("interaction_id", I64),
        ("customer_id", I64),
        ("day", I32),
        ("kind", STR),
        ("channel", STR),
        ("direction", STR),
        ("from_ticket", pa.bool_()),
        ("updated_at", UTC_TS),
    ),
    marks=_row_marks("interaction_id"),
    # A deleted customer takes its contact history with it (the foreign key cascades
    # without a change-log row per interaction).
    deletes=(("interactions.interaction", "interaction_id"), ("customers.customer", "customer_id")),
    query=_interactions_query,
    transform=_interactions_transform,
)

ACTIVITIES = Source(
    name="activities",
    key="activity_id",
    group="activity_id",
    raw=(
        ("activity_id", I64),
        ("customer_id", I64),
        ("moment", MOMENT),
        ("kind", STR),
        ("status", STR),
        ("updated_at", MOMENT),
    ),
    schema=_schema(
        ("activity_id", I64),
        ("customer_id", I64),
        ("day", I32),
        ("kind", STR),
        ("status", STR),
        ("updated_at", UTC_TS),
    ),
    marks=_row_marks("activity_id"),
    deletes=(("interactions.activity", "activity_id"), ("customers.customer", "customer_id")),
    query=_activities_query,
    transform=_activities_transform,
)

# --- service: tickets, returns, survey answers --------------------------------------------------


def _minutes_between(start: pa.Array, end: pa.Array) -> pa.Array:
    """Whole minutes from ``start`` to ``end`` (UTC timestamps), null when ``end`` is; a
    negative span (an end stored before its start) counts as 0."""
    span = pc.divide(
        pc.cast(pc.subtract(pc.cast(end, pa.int64()), pc.cast(start, pa.int64())), pa.int64()),
        pa.scalar(60_000_000, pa.int64()),
    )
    return pc.cast(
        pc.max_element_wise(span, pa.scalar(0, pa.int64()), skip_nulls=False), pa.int64()
    )


def _days_or_null(times: pa.Array, zone: str) -> pa.Array:
    days, _ = local_days(times, zone)
    return days


def _tickets_query(dialect: Dialect, plan: Plan) -> Query:
    d = dialect
    where, params = _since(d, (plan.marks or {}).get("row"), "t.updated_at", "t.id", plan.overlap)
    sql = (
        f"SELECT t.id, t.number, t.customer_id, {d.moment('t.created_at')}, t.type, t.channel, "  # noqa: S608 (no user text)
        "t.category_id, c.path, t.priority, t.status, t.value_class, t.queue_id, t.owner_id, "
        "t.team_id, t.order_id, t.product_id, t.merged_into_id, "
        f"{d.moment('t.first_responded_at')}, {d.moment('t.resolved_at')}, "
        f"{d.moment('t.closed_at')}, t.reopen_count, t.reply_count, "
        f"{d.moment('t.first_response_due_at')}, {d.moment('t.resolution_due_at')}, "
        "CASE WHEN t.first_response_breached THEN 1 ELSE 0 END, "
        "CASE WHEN t.resolution_breached THEN 1 ELSE 0 END, "
        f"{d.moment('t.updated_at')} "
        f"FROM {_table('service.Ticket')} t "
        f"LEFT JOIN {_table('service.Category')} c ON c.id = t.category_id WHERE {where}"
    )
    return Query(sql, params)


def _breached(flag: pa.Array, done: pa.Array, due: pa.Array) -> pa.Array:
    """The stored breach flag, or a clock stopped after its due time (the flag of a ticket
    that breached while nobody touched it is written without a change of the ticket)."""
    late = pc.fill_null(pc.greater(done, due), False)
    return pc.or_(pc.fill_null(pc.cast(flag, pa.bool_()), False), late)


def _tickets_transform(batch: pa.RecordBatch, ctx: Context) -> pa.RecordBatch:
    created = utc_times(batch.column("created_at"))
    days, months = local_days(created, ctx.zone)
    responded = utc_times(batch.column("first_responded_at"))
    resolved = utc_times(batch.column("resolved_at"))
    closed = utc_times(batch.column("closed_at"))
    response_due = utc_times(batch.column("first_response_due_at"))
    resolution_due = utc_times(batch.column("resolution_due_at"))
    return pa.RecordBatch.from_arrays(
        [
            batch.column("ticket_id"),
            _text(batch.column("number")),
            batch.column("customer_id"),
            days,
            months,
            _text(batch.column("type")),
            _text(batch.column("channel")),
            batch.column("category_id"),
            _text(batch.column("category_path")),
            _text(batch.column("priority")),
            _text(batch.column("status")),
            _text(batch.column("value_class")),
            batch.column("queue_id"),
            batch.column("owner_id"),
            batch.column("team_id"),
            batch.column("order_id"),
            batch.column("product_id"),
            batch.column("merged_into_id"),
            _days_or_null(resolved, ctx.zone),
            _days_or_null(closed, ctx.zone),
            _minutes_between(created, responded),
            _minutes_between(created, resolved),
            pc.cast(batch.column("reopen_count"), I32),
            pc.cast(batch.column("reply_count"), I32),
            _breached(batch.column("first_response_breached"), responded, response_due),
            _breached(batch.column("resolution_breached"), resolved, resolution_due),
            response_due,
            resolution_due,
            created,
            utc_times(batch.column("updated_at")),
        ],
        schema=TICKETS.schema,
    )


def _returns_query(dialect: Dialect, plan: Plan) -> Query:
    d = dialect
    where, params = _since(d, (plan.marks or {}).get("row"), "r.updated_at", "r.id", plan.overlap)
    if plan.marks is not None and plan.rates_since is not None:
        where = f"({where} OR r.created_at >= %s)"
        params.append(d.param_time(plan.rates_since))
    sql = (
        f"SELECT r.id, r.number, r.customer_id, r.order_id, r.ticket_id, "  # noqa: S608 (no user text)
        f"{d.moment('r.created_at')}, r.status, r.reason, r.disposition, "
        f"{d.number('r.refund_amount')}, r.currency, {d.moment('r.received_at')}, "
        f"{d.moment('r.completed_at')}, r.owner_id, r.team_id, {d.moment('r.updated_at')} "
        f"FROM {_table('service.ReturnRequest')} r WHERE {where}"
    )
    return Query(sql, params)


def _returns_transform(batch: pa.RecordBatch, ctx: Context) -> pa.RecordBatch:
    created = utc_times(batch.column("created_at"))
    days, months = local_days(created, ctx.zone)
    refund = to_cents(decimals(batch.column("refund_amount")), batch.column("currency"), days, ctx)
    return pa.RecordBatch.from_arrays(
        [
            batch.column("return_id"),
            _text(batch.column("number")),
            batch.column("customer_id"),
            batch.column("order_id"),
            batch.column("ticket_id"),
            days,
            months,
            _text(batch.column("status")),
            _text(batch.column("reason")),
            _text(batch.column("disposition")),
            refund,
            _text(batch.column("currency")),
            _days_or_null(utc_times(batch.column("received_at")), ctx.zone),
            _days_or_null(utc_times(batch.column("completed_at")), ctx.zone),
            batch.column("owner_id"),
            batch.column("team_id"),
            created,
            utc_times(batch.column("updated_at")),
        ],
        schema=RETURNS.schema,
    )


def _return_lines_query(dialect: Dialect, plan: Plan) -> Query:
    d = dialect
    select = (
        f"SELECT l.id, l.return_request_id, r.customer_id, r.order_id, l.order_line_id, "  # noqa: S608 (no user text)
        f"COALESCE(l.product_id, ol.product_id), {d.moment('r.created_at')}, "
        f"{d.number('l.quantity')}, l.reason, r.reason, l.disposition, r.status, "
        f"{d.moment('l.updated_at')}, {d.moment('r.updated_at')} "
        f"FROM {_table('service.ReturnLine')} l "
        f"JOIN {_table('service.ReturnRequest')} r ON r.id = l.return_request_id "
        f"LEFT JOIN {_table('sales.OrderLine')} ol ON ol.id = l.order_line_id"
    )
    if plan.marks is None:
        return Query(select, [])
    # As order lines per order: a return read again brings every current line of it, so a
    # line that left the return leaves the store too.
    returns, return_params = _since(d, plan.marks.get("return"), "updated_at", "id", plan.overlap)
    lines, line_params = _since(d, plan.marks.get("line"), "updated_at", "id", plan.overlap)
    parts = [
        f"SELECT id FROM {_table('service.ReturnRequest')} WHERE {returns}",  # noqa: S608 (no user text)
        f"SELECT return_request_id FROM {_table('service.ReturnLine')} WHERE {lines}",  # noqa: S608
    ]
    sql = f"{select} WHERE l.return_request_id IN ({' UNION '.join(parts)})"
    return Query(sql, [*return_params, *line_params])


def _return_lines_transform(batch: pa.RecordBatch, ctx: Context) -> pa.RecordBatch:
    days, months = local_days(utc_times(batch.column("created_at")), ctx.zone)
    reason = _text(batch.column("reason"))
    reason = pc.if_else(pc.equal(reason, ""), _text(batch.column("return_reason")), reason)
    return pa.RecordBatch.from_arrays(
        [
            batch.column("return_line_id"),
            batch.column("return_id"),
            batch.column("customer_id"),
            batch.column("order_id"),
            batch.column("order_line_id"),
            batch.column("product_id"),
            days,
            months,
            pc.cast(decimals(batch.column("quantity"), QUANTITY), F64),
            reason,
            _text(batch.column("disposition")),
            _text(batch.column("status")),
        ],
        schema=RETURN_LINES.schema,
    )


def _survey_answers_query(dialect: Dialect, plan: Plan) -> Query:
    d = dialect
    where, params = _since(d, (plan.marks or {}).get("row"), "s.updated_at", "s.id", plan.overlap)
    sql = (
        f"SELECT s.id, s.customer_id, s.survey_id, s.ticket_id, s.kind, s.score, "  # noqa: S608 (no user text)
        f"{d.moment('s.sent_at')}, {d.moment('s.responded_at')}, {d.moment('s.updated_at')} "
        f"FROM {_table('service.SurveyInvitation')} s "
        f"WHERE s.responded_at IS NOT NULL AND {where}"
    )
    return Query(sql, params)


def _survey_answers_transform(batch: pa.RecordBatch, ctx: Context) -> pa.RecordBatch:
    answered = utc_times(batch.column("responded_at"))
    days, months = local_days(answered, ctx.zone)
    return pa.RecordBatch.from_arrays(
        [
            batch.column("answer_id"),
            batch.column("customer_id"),
            batch.column("survey_id"),
            batch.column("ticket_id"),
            _text(batch.column("kind")),
            pc.cast(batch.column("score"), F64),
            days,
            months,
            _days_or_null(utc_times(batch.column("sent_at")), ctx.zone),
            utc_times(batch.column("updated_at")),
        ],
        schema=SURVEY_ANSWERS.schema,
    )


TICKETS = Source(
    name="tickets",
    key="ticket_id",
    group="ticket_id",
    raw=(
        ("ticket_id", I64),
        ("number", STR),
        ("customer_id", I64),
        ("created_at", MOMENT),
        ("type", STR),
        ("channel", STR),
        ("category_id", I64),
        ("category_path", STR),
        ("priority", STR),
        ("status", STR),
        ("value_class", STR),
        ("queue_id", I64),
        ("owner_id", I64),
        ("team_id", I64),
        ("order_id", I64),
        ("product_id", I64),
        ("merged_into_id", I64),
        ("first_responded_at", MOMENT),
        ("resolved_at", MOMENT),
        ("closed_at", MOMENT),
        ("reopen_count", I64),
        ("reply_count", I64),
        ("first_response_due_at", MOMENT),
        ("resolution_due_at", MOMENT),
        ("first_response_breached", I64),
        ("resolution_breached", I64),
        ("updated_at", MOMENT),
    ),
    schema=_schema(
        ("ticket_id", I64),
        ("number", STR),
        ("customer_id", I64),
        ("day", I32),
        ("month", I32),
        ("type", STR),
        ("channel", STR),
        ("category_id", I64),
        ("category", STR),
        ("priority", STR),
        ("status", STR),
        ("value_class", STR),
        ("queue_id", I64),
        ("owner_id", I64),
        ("team_id", I64),
        ("order_id", I64),
        ("product_id", I64),
        ("merged_into_id", I64),
        ("resolved_day", I32),
        ("closed_day", I32),
        ("first_response_minutes", I64),
        ("resolution_minutes", I64),
        ("reopen_count", I32),
        ("reply_count", I32),
        ("first_response_breached", pa.bool_()),
        ("resolution_breached", pa.bool_()),
        ("first_response_due_at", UTC_TS),
        ("resolution_due_at", UTC_TS),
        ("opened_at", UTC_TS),
        ("updated_at", UTC_TS),
    ),
    marks=_row_marks("ticket_id"),
    deletes=(("service.ticket", "ticket_id"),),
    query=_tickets_query,
    transform=_tickets_transform,
)

RETURNS = Source(
    name="returns",
    key="return_id",
    group="return_id",
    raw=(
        ("return_id", I64),
        ("number", STR),
        ("customer_id", I64),
        ("order_id", I64),
        ("ticket_id", I64),
        ("created_at", MOMENT),
        ("status", STR),
        ("reason", STR),
        ("disposition", STR),
        ("refund_amount", NUM),
        ("currency", STR),
        ("received_at", MOMENT),
        ("completed_at", MOMENT),
        ("owner_id", I64),
        ("team_id", I64),
        ("updated_at", MOMENT),
    ),
    schema=_schema(
        ("return_id", I64),
        ("number", STR),
        ("customer_id", I64),
        ("order_id", I64),
        ("ticket_id", I64),
        ("day", I32),
        ("month", I32),
        ("status", STR),
        ("reason", STR),
        ("disposition", STR),
        ("refund", I64),
        ("currency", STR),
        ("received_day", I32),
        ("completed_day", I32),
        ("owner_id", I64),
        ("team_id", I64),
        ("requested_at", UTC_TS),
        ("updated_at", UTC_TS),
    ),
    marks=_row_marks("return_id"),
    deletes=(("service.returnrequest", "return_id"),),
    query=_returns_query,
    transform=_returns_transform,
)

RETURN_LINES = Source(
    name="return_lines",
    key="return_line_id",
    group="return_id",
    raw=(
        ("return_line_id", I64),
        ("return_id", I64),
        ("customer_id", I64),
        ("order_id", I64),
        ("order_line_id", I64),
        ("product_id", I64),
        ("created_at", MOMENT),
        ("quantity", NUM),
        ("reason", STR),
        ("return_reason", STR),
        ("disposition", STR),
        ("status", STR),
        ("updated_at", MOMENT),
        ("return_updated_at", MOMENT),
    ),
    schema=_schema(
        ("return_line_id", I64),
        ("return_id", I64),
        ("customer_id", I64),
        ("order_id", I64),
        ("order_line_id", I64),
        ("product_id", I64),
        ("day", I32),
        ("month", I32),
        ("quantity", F64),
        ("reason", STR),
        ("disposition", STR),
        ("status", STR),
    ),
    marks=(
        Mark("line", "updated_at", "return_line_id"),
        Mark("return", "return_updated_at", "return_id"),
    ),
    deletes=(("service.returnrequest", "return_id"), ("service.returnline", "return_line_id")),
    query=_return_lines_query,
    transform=_return_lines_transform,
)

SURVEY_ANSWERS = Source(
    name="survey_answers",
    key="answer_id",
    group="answer_id",
    raw=(
        ("answer_id", I64),
        ("customer_id", I64),
        ("survey_id", I64),
        ("ticket_id", I64),
        ("kind", STR),
        ("score", I64),
        ("sent_at", MOMENT),
        ("responded_at", MOMENT),
        ("updated_at", MOMENT),
    ),
    schema=_schema(
        ("answer_id", I64),
        ("customer_id", I64),
        ("survey_id", I64),
        ("ticket_id", I64),
        ("kind", STR),
        ("score", F64),
        ("day", I32),
        ("month", I32),
        ("sent_day", I32),
        ("updated_at", UTC_TS),
    ),
    marks=_row_marks("answer_id"),
    # Invitations go with their customer, survey or ticket (the foreign keys cascade).
    deletes=(
        ("service.surveyinvitation", "answer_id"),
        ("customers.customer", "customer_id"),
        ("service.survey", "survey_id"),
        ("service.ticket", "ticket_id"),
    ),
    query=_survey_answers_query,
    transform=_survey_answers_transform,
)

# In reading order: the dimensions first, so a fact never names a customer or product the
# same run has not read (rows created while the run reads are picked up by the next run).
SOURCES: tuple[Source, ...] = (
    CATEGORIES,
    PRODUCTS,
    CUSTOMERS,
    ORDERS,
    LINES,
    INTERACTIONS,
    ACTIVITIES,
    TICKETS,
    RETURNS,
    RETURN_LINES,
    SURVEY_ANSWERS,
)
SOURCE_BY_NAME = {source.name: source for source in SOURCES}


# --- reading -----------------------------------------------------------------------------------


class _CopyStream(io.RawIOBase):
    """The bytes of a PostgreSQL ``COPY … TO STDOUT`` as a file Arrow's CSV reader reads."""

    def __init__(self, copy: Any) -> None:
        self._copy = copy
        self._buffer = memoryview(b"")
        self.received = 0

    def readable(self) -> bool:
        return True

    def readinto(self, target: Any) -> int:
        while not len(self._buffer):
            chunk = self._copy.read()
            if not chunk:
                return 0
            self._buffer = memoryview(bytes(chunk))
            self.received += len(chunk)
        count = min(len(target), len(self._buffer))
        target[:count] = self._buffer[:count]
        self._buffer = self._buffer[count:]
        return count


def _copy_batches(
    sql: str, params: list[Any], raw: Sequence[tuple[str, pa.DataType]], batch_rows: int
) -> Iterator[pa.RecordBatch]:
    """Stream a query through ``COPY (…) TO STDOUT (FORMAT CSV)`` into Arrow batches.

    COPY sends rows as fast as the server produces them, and Arrow parses the CSV in C:
    no Python object is made per value. NULL is an unquoted empty field, an empty string a
    quoted one, so the two stay apart.
    """
    import psycopg
    import pyarrow.csv as pa_csv

    connection.ensure_connection()
    raw_connection = connection.connection
    statement = psycopg.ClientCursor(raw_connection).mogrify(sql, params)
    names = [name for name, _ in raw]
    read_options = pa_csv.ReadOptions(
        column_names=names, block_size=max(1 << 20, batch_rows * 200), use_threads=False
    )
    convert_options = pa_csv.ConvertOptions(
        column_types=dict(raw),
        strings_can_be_null=True,
        quoted_strings_can_be_null=False,
        null_values=[""],
    )
    parse_options = pa_csv.ParseOptions(newlines_in_values=True)
    with (
        raw_connection.cursor() as cursor,
        cursor.copy(f"COPY ({statement}) TO STDOUT (FORMAT CSV)") as copy,
    ):
        stream = _CopyStream(copy)
        try:
            reader = pa_csv.open_csv(
                io.BufferedReader(stream, 1 << 20),
                read_options=read_options,
                parse_options=parse_options,
                convert_options=convert_options,
            )
        except pa.ArrowInvalid:
            if stream.received == 0:
                return  # no rows: Arrow refuses an empty file
            raise
        for block in reader:
            # Arrow cuts blocks by bytes; hand them on in the same row batches as fetchmany.
            for start in range(0, block.num_rows, batch_rows):
                yield block.slice(start, batch_rows)


def _cursor_batches(
    sql: str, params: list[Any], raw: Sequence[tuple[str, pa.DataType]], batch_rows: int
) -> Iterator[pa.RecordBatch]:
    """Stream a query with ``fetchmany`` (a server-side cursor on PostgreSQL)."""
    schema = pa.schema([pa.field(name, kind) for name, kind in raw])
    with connection.chunked_cursor() as cursor:
        cursor.execute(sql, params)
        while True:
            rows = cursor.fetchmany(batch_rows)
            if not rows:
                break
            columns = list(zip(*rows, strict=True))
            arrays = [
                _text_array(values)
                if kind == STR
                else _number_array(values)
                if kind == F64
                else pa.array(values, kind)
                for values, (_, kind) in zip(columns, raw, strict=True)
            ]
            yield pa.RecordBatch.from_arrays(arrays, schema=schema)


def _number_array(values: Sequence[Any]) -> pa.Array:
    """A number column as float64; a value SQLite kept as text (it did not look like a
    number when stored) is read as a number when it is one, else left empty."""
    try:
        return pa.array(values, F64)
    except (pa.ArrowTypeError, pa.ArrowInvalid):
        numbers: list[float | None] = []
        for value in values:
            try:
                numbers.append(None if value is None else float(value))
            except (TypeError, ValueError):
                numbers.append(None)
        return pa.array(numbers, F64)


def _text_array(values: Sequence[Any]) -> pa.Array:
    """A text column as Arrow strings; SQLite hands back numbers for numeric text (a
    decimal stored as REAL), which are turned into their text one by one."""
    try:
        return pa.array(values, STR)
    except (pa.ArrowTypeError, pa.ArrowInvalid):
        return pa.array([None if v is None else str(v) for v in values], STR)


def batches(
    query: Query,
    raw: Sequence[tuple[str, pa.DataType]],
    *,
    batch_rows: int = BATCH_ROWS,
    use_copy: bool | None = None,
) -> Iterator[pa.RecordBatch]:
    """The rows of ``query`` as Arrow batches of the ``raw`` columns, never all at once."""
    pg = connection.vendor == "postgresql"
    if use_copy is None:
        use_copy = pg
    if use_copy and not pg:
        raise ValueError("COPY reading needs PostgreSQL")
    stand_in = {NUM: STR if pg else F64, MOMENT: I64 if pg else STR}
    resolved = [(name, stand_in.get(kind, kind)) for name, kind in raw]
    reader = _copy_batches if use_copy else _cursor_batches
    yield from reader(query.sql, query.params, resolved, batch_rows)


def read(
    source: Source,
    context: Context,
    *,
    marks: dict[str, Any] | None,
    overlap: datetime.timedelta,
    rates_since: datetime.datetime | None = None,
    batch_rows: int = BATCH_ROWS,
    use_copy: bool | None = None,
) -> Iterator[tuple[pa.RecordBatch, pa.RecordBatch]]:
    """``(transformed, raw)`` batches of ``source``: all rows (``marks`` None) or changes
    since the marks; the raw batch moves the watermarks on (``advance``)."""
    plan = Plan(marks=marks, overlap=overlap, rates_since=rates_since)
    query = source.query(Dialect(connection.vendor), plan)
    for batch in batches(query, source.raw, batch_rows=batch_rows, use_copy=use_copy):
        yield source.transform(batch, context), batch


def advance(source: Source, marks: dict[str, Any], raw: pa.RecordBatch) -> dict[str, Any]:
    """``marks`` moved on to the largest ``(time, id)`` of each watermark in ``raw``."""
    result = dict(marks)
    for mark in source.marks:
        times = utc_times(raw.column(mark.time_column))
        top = pc.max(times).as_py()
        if top is None:
            continue
        ids = pc.filter(raw.column(mark.id_column), pc.equal(times, pa.scalar(top, UTC_TS)))
        top_id = int(pc.max(ids).as_py())
        text = top.astimezone(datetime.UTC).replace(tzinfo=None).isoformat(" ")
        current = result.get(mark.name)
        if current is None or (current["time"], current["id"]) < (text, top_id):
            result[mark.name] = {"time": text, "id": top_id}
    return result


# --- deletes and exchange rates ----------------------------------------------------------------

TIME = '"time"'  # the change log's time column, quoted: a reserved word in SQL


def change_log_top() -> dict[str, Any] | None:
    """The newest change-log row's ``(time, id)``: where the next run's deletes start."""
    d = Dialect(connection.vendor)
    sql = (
        f"SELECT {d.time(TIME)}, id FROM {_table('platform.ChangeLogEntry')} "  # noqa: S608 (no user text)
        f"ORDER BY {TIME} DESC, id DESC LIMIT 1"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql)
        row = cursor.fetchone()
    if row is None:
        return None
    return {"time": _normal_time(row[0]), "id": int(row[1])}


def _normal_time(text: str) -> str:
    parsed = _parse_text_time(str(text))
    assert parsed is not None
    return parsed.isoformat(" ")


def deleted_since(
    mark: dict[str, Any] | None, labels: Sequence[str], overlap: datetime.timedelta
) -> tuple[dict[str, set[int]], dict[str, Any] | None]:
    """Ids deleted per model label since ``mark`` (change-log rows of action delete).

    Returns the ids and the change log's new mark. Only deletes are read, through the
    change log's ``(model, time)`` index.
    """
    d = Dialect(connection.vendor)
    found: dict[str, set[int]] = {label: set() for label in labels}
    where, params = _since(d, mark, TIME, "id", overlap)
    marks = ", ".join(["%s"] * len(labels))
    sql = (
        f"SELECT model, object_id, {d.time(TIME)}, id "  # noqa: S608 (no user text)
        f"FROM {_table('platform.ChangeLogEntry')} "
        f"WHERE action = %s AND model IN ({marks}) AND {where}"
    )
    top = mark
    with connection.cursor() as cursor:
        cursor.execute(sql, ["delete", *labels, *params])
        while True:
            rows = cursor.fetchmany(BATCH_ROWS)
            if not rows:
                break
            for model, object_id, time, pk in rows:
                found[model].add(int(object_id))
                entry = {"time": _normal_time(time), "id": int(pk)}
                if top is None or (top["time"], int(top["id"])) < (entry["time"], entry["id"]):
                    top = entry
    return found, top


def rates_top(target: str) -> dict[str, Any] | None:
    """The newest ``(updated_at, id)`` of the exchange rates that convert into ``target``."""
    d = Dialect(connection.vendor)
    sql = (
        f"SELECT {d.time('updated_at')}, id FROM {_table('sales.ExchangeRate')} "  # noqa: S608 (no user text)
        "WHERE quote_currency = %s OR currency = %s ORDER BY updated_at DESC, id DESC LIMIT 1"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [target, target])
        row = cursor.fetchone()
    if row is None:
        return None
    return {"time": _normal_time(row[0]), "id": int(row[1])}


def rates_seen(
    mark: dict[str, Any] | None, target: str, overlap: datetime.timedelta
) -> dict[str, str]:
    """The exchange rates into ``target`` inside the overlap before ``mark`` (the rates'
    new watermark): ``{id: updated_at}``, kept in the manifest.

    The next run reads that window again (a rate committed late with an earlier time is
    not missed); a rate found there with the same id and time is one this run already
    knew, not a change. Without this, rates saved within the overlap of the newest one
    (a day's rates entered together, a bulk load) would count as changed on every run and
    turn each run into a re-read, or a full one when they include a currency's first rate.
    """
    if not mark:
        return {}
    d = Dialect(connection.vendor)
    where, params = _since(d, mark, "updated_at", "id", overlap)
    # The window up to and including the mark itself: every row the next run re-reads.
    where = f"({where} OR (updated_at = %s AND id <= %s))"
    params += [d.param_time(mark_time(mark["time"])), int(mark["id"])]
    sql = (
        f"SELECT id, {d.time('updated_at')} FROM {_table('sales.ExchangeRate')} "  # noqa: S608 (no user text)
        f"WHERE (quote_currency = %s OR currency = %s) AND {where}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [target, target, *params])
        return {str(pk): _normal_time(time) for pk, time in cursor.fetchall()}


def rates_changed_since(
    mark: dict[str, Any] | None,
    log_mark: dict[str, Any] | None,
    target: str,
    rates: RateTable,
    overlap: datetime.timedelta,
    seen: dict[str, str] | None = None,
) -> tuple[bool, datetime.date | None]:
    """Whether exchange rates into ``target`` changed since ``mark`` (the rates' own
    watermark) or were deleted since ``log_mark`` (the change log's), and from which day.
    Rates in ``seen`` (``rates_seen`` of the previous run) with the same time are not
    changes.

    ``(False, None)``: nothing changed. ``(True, day)``: amounts dated ``day`` or later must
    be converted again. ``(True, None)``: everything must (a rate was deleted, or the new
    rate is the earliest of its currency, which also serves every earlier day).
    """
    d = Dialect(connection.vendor)
    where, params = _since(d, mark, "updated_at", "id", overlap)
    sql = (
        f"SELECT currency, quote_currency, {d.text('day')}, id, {d.time('updated_at')} "  # noqa: S608 (no user text)
        f"FROM {_table('sales.ExchangeRate')} "
        f"WHERE (quote_currency = %s OR currency = %s) AND {where}"
    )
    known_rows = seen or {}
    with connection.cursor() as cursor:
        cursor.execute(sql, [target, target, *params])
        changed = [
            (currency, quote, day)
            for currency, quote, day, pk, time in cursor.fetchall()
            if known_rows.get(str(pk)) != _normal_time(time)
        ]
    log_where, log_params = _since(d, log_mark, TIME, "id", overlap)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {d.text('before')} FROM {_table('platform.ChangeLogEntry')} "  # noqa: S608 (no user text)
            f"WHERE action = %s AND model = %s AND {log_where}",
            ["delete", "sales.exchangerate", *log_params],
        )
        for (before,) in cursor.fetchall():
            try:
                state = json.loads(before) if before else {}
            except ValueError:
                state = {}
            if not isinstance(state, dict) or target in (
                state.get("currency"),
                state.get("quote_currency"),
            ):
                return True, None  # a rate that converted into the target is gone
    if not changed:
        return False, None
    first: datetime.date | None = None
    for currency, quote, text in changed:
        other = quote if currency == target else currency
        day = datetime.date.fromisoformat(str(text)[:10])
        known = rates._days.get(other) or []
        if not known or day <= known[0]:
            return True, None
        first = day if first is None else min(first, day)
    return True, first
