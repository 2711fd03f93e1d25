"""Inserting a batch of new records fast, on Django's connection and in its transaction.

``bulk_create`` prepares every value of every row through the field (``get_db_prep_save``)
and compiles the statement anew for each chunk, which costs more than the database's own work
at import sizes. Here each field gets one converter chosen once (most values pass through
unchanged; dates and times are adapted by the backend's own functions; JSON goes through the
field), the statement is built once per chunk size, and ``RETURNING`` gives the new ids in
insertion order, as Django's bulk insert relies on. Timestamps with ``auto_now`` /
``auto_now_add`` are set as ``save()`` would.
"""

from __future__ import annotations

import functools
import operator
import sqlite3
from collections.abc import Callable, Sequence
from typing import Any

from django.db import connection, models
from django.db.models.base import ModelState
from django.utils import timezone

Converter = Callable[[Any], Any]


class Maker:
    """New, unsaved instances of one model, made without ``Model.__init__``.

    ``Model(**values)`` walks every field and works out its default for each instance; an
    import makes tens of thousands of instances of the same model per minute, so the
    defaults are worked out once here (callable defaults such as ``dict`` are still called
    per instance) and ``new`` only copies them and sets the given values. Values are given
    by attribute name (``owner_id``, not ``owner``); an unknown name raises ``TypeError``
    as ``Model(**values)`` would. No model here has ``pre_init``/``post_init`` receivers.
    """

    def __init__(self, model: type[models.Model]) -> None:
        self.model = model
        self.fixed: dict[str, Any] = {}
        self.dynamic: list[tuple[str, models.Field[Any, Any]]] = []
        self.names: set[str] = set()
        for f in model._meta.concrete_fields:
            self.names.add(f.attname)
            if f.has_default() and callable(f.default):
                self.dynamic.append((f.attname, f))
            else:
                self.fixed[f.attname] = f.get_default()

    def new(self, **values: Any) -> Any:
        unknown = values.keys() - self.names
        if unknown:
            raise TypeError(
                f"{self.model.__name__} got unexpected keyword arguments: {sorted(unknown)}"
            )
        obj = self.model.__new__(self.model)
        obj._state = ModelState()
        attrs = obj.__dict__
        attrs.update(self.fixed)
        for name, f in self.dynamic:
            attrs[name] = f.get_default()
        attrs.update(values)
        return obj


@functools.cache
def maker(model: type[models.Model]) -> Maker:
    return Maker(model)


def _same_as_last(convert: Converter) -> Converter:
    """``convert`` that reuses its last result for the very same value (a batch's rows share
    one ``now``, one empty ``{}`` …)."""
    last: list[Any] = [_NOTHING, None]

    def converted(value: Any) -> Any:
        if value is last[0] or (type(value) is dict and not value and last[0] == {}):
            return last[1]
        result = convert(value)
        last[0], last[1] = value, result
        return result

    return converted


_NOTHING = object()


def _converters(fields: Sequence[models.Field[Any, Any]]) -> list[Converter | None]:
    ops = connection.ops
    out: list[Converter | None] = []
    for f in fields:
        if isinstance(f, models.DateTimeField):
            out.append(_same_as_last(ops.adapt_datetimefield_value))
        elif isinstance(f, models.DateField):
            out.append(ops.adapt_datefield_value)
        elif isinstance(f, models.TimeField):
            out.append(ops.adapt_timefield_value)
        elif isinstance(f, models.JSONField):
            out.append(_same_as_last(_prep(f)))
        elif isinstance(f, models.DecimalField):
            out.append(_prep(f))
        else:
            out.append(None)
    return out


def _prep(field: models.Field[Any, Any]) -> Converter:
    def convert(value: Any) -> Any:
        return field.get_db_prep_save(value, connection)

    return convert


def _max_rows(columns: int) -> int:
    if connection.vendor == "sqlite":
        limit = 32_766 if sqlite3.sqlite_version_info >= (3, 32) else 999
        return max(1, min(500, limit // max(columns, 1)))
    return 1000


def insert_objects(model: type[models.Model], objects: Sequence[models.Model]) -> None:
    """Insert new ``objects`` of ``model`` and set their primary keys."""
    if not objects:
        return
    meta = model._meta
    fields = [f for f in meta.concrete_fields if not f.primary_key]
    converters = _converters(fields)
    now = timezone.now()
    for f in fields:
        if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
            for obj in objects:
                setattr(obj, f.attname, now)
    attnames = [f.attname for f in fields]
    # One C-level read of every column's value; only the columns that need it are converted.
    read = operator.itemgetter(*attnames)
    convert_at = [(i, c) for i, c in enumerate(converters) if c is not None]
    qn = connection.ops.quote_name
    columns = ", ".join(qn(f.column) for f in fields)
    one = "(" + ", ".join(["%s"] * len(fields)) + ")"
    step = _max_rows(len(fields))
    pk = meta.pk
    assert pk is not None
    table, pk_column = qn(meta.db_table), qn(pk.column)
    with connection.cursor() as cursor:
        for start in range(0, len(objects), step):
            chunk = objects[start : start + step]
            params: list[Any] = []
            for obj in chunk:
                values = read(obj.__dict__)
                if len(attnames) == 1:
                    values = (values,)
                if convert_at:
                    values = list(values)
                    for i, convert in convert_at:
                        if values[i] is not None:
                            values[i] = convert(values[i])
                params.extend(values)
            # Table and column names come from the model; every value is a parameter.
            values_sql = ", ".join([one] * len(chunk))
            sql = f"INSERT INTO {table} ({columns}) VALUES {values_sql} RETURNING {pk_column}"  # noqa: S608
            cursor.execute(sql, params)
            ids = [row[0] for row in cursor.fetchall()]
            for obj, new_id in zip(chunk, ids, strict=True):
                setattr(obj, pk.attname, new_id)
                obj._state.adding = False
                obj._state.db = connection.alias


def insert_rows(
    model: type[models.Model], columns: Sequence[str], rows: Sequence[tuple[Any, ...]]
) -> None:
    """Insert plain value tuples (already in database form) into ``model``'s table."""
    if not rows:
        return
    meta = model._meta
    qn = connection.ops.quote_name
    names = ", ".join(qn(getattr(meta.get_field(c), "column", c)) for c in columns)
    marks = ", ".join(["%s"] * len(columns))
    sql = f"INSERT INTO {qn(meta.db_table)} ({names}) VALUES ({marks})"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.executemany(sql, list(rows))


def db_json(model: type[models.Model], name: str) -> Converter:
    field = model._meta.get_field(name)
    convert = _same_as_last(lambda v: field.get_db_prep_save(v, connection))  # type: ignore[union-attr]
    return lambda v: None if v is None else convert(v)


def db_datetime(value: Any) -> Any:
    return connection.ops.adapt_datetimefield_value(value)
