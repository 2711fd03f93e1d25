"""The columns of a model's table and the value each column gets when a row leaves it out.

Bulk rows are built as dicts keyed by column name; ``TableSpec.row`` turns one into a tuple
in the table's column order, filling every column the generator does not know (a field
added later by another app) with the field's default, so the loader keeps working when the
models grow.
"""

from __future__ import annotations

import datetime
import functools
import json
import operator
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import models
from django.db.models.fields import NOT_PROVIDED


def plain(value: Any) -> Any:
    """A Python value as both loaders accept it (text for dates, JSON and decimals)."""
    if isinstance(value, datetime.datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return value


def _default(field: models.Field[Any, Any]) -> Any:
    if field.default is not NOT_PROVIDED:
        value = field.default() if callable(field.default) else field.default
        return plain(value)
    if field.null:
        return None
    if isinstance(field, models.CharField | models.TextField):
        return ""
    if isinstance(field, models.BooleanField):
        return False
    raise ValueError(f"{field.model.__name__}.{field.name} needs a value")


@dataclass(frozen=True, eq=False)
class TableSpec:
    """A table, its columns in order and the fallback value of each."""

    table: str
    columns: tuple[str, ...]
    defaults: tuple[Any, ...]
    required: frozenset[str]

    @classmethod
    def of(cls, model: type[models.Model], *, skip: Sequence[str] = ()) -> TableSpec:
        """The spec of ``model``'s table, leaving out the columns named in ``skip``."""
        columns: list[str] = []
        defaults: list[Any] = []
        required: set[str] = set()
        for field in model._meta.concrete_fields:
            if field.column in skip:
                continue
            columns.append(field.column)
            try:
                defaults.append(_default(field))
            except ValueError:
                defaults.append(None)
                required.add(field.column)
        return cls(model._meta.db_table, tuple(columns), tuple(defaults), frozenset(required))

    def row(self, values: dict[str, Any]) -> tuple[Any, ...]:
        """``values`` (column → value) as a tuple in column order, defaults filled in."""
        if not self.required.issubset(values):
            missing = sorted(self.required - values.keys())
            raise ValueError(f"{self.table}: no value for {', '.join(missing)}")
        return self._pick({**self._defaults, **values})

    @functools.cached_property
    def _defaults(self) -> dict[str, Any]:
        return dict(zip(self.columns, self.defaults, strict=True))

    @functools.cached_property
    def _pick(self) -> Callable[[dict[str, Any]], tuple[Any, ...]]:
        getter = operator.itemgetter(*self.columns)
        if len(self.columns) == 1:
            return lambda values: (getter(values),)
        return getter
