"""Rows of any model, filled in from the model's own fields (for "every model" tests).

``build(model, **values)`` inserts a row with the given values and, for every other column
that needs one, a plain value of the right type (unique columns get a fresh one; a required
foreign key gets a row of its own, built the same way). A model this cannot build fails the
test that asked for it, so a new model pointing at customers is noticed.
"""

from __future__ import annotations

import datetime
import itertools
from decimal import Decimal
from typing import Any

from django.db import models
from django.utils import timezone

_seq = itertools.count(1)
_shared: dict[type[models.Model], models.Model] = {}

# Values for columns whose plain value breaks a check constraint of the model.
OVERRIDES: dict[str, dict[str, Any]] = {
    "customers.customer": {"kind": "person", "first_name": "Row", "last_name": "Owner"},
    "marketing.pointsentry": {"points": 10},
}


def _value(fld: models.Field[Any, Any], unique: bool) -> Any:
    n = next(_seq)
    if fld.choices:
        return fld.choices[0][0]
    if isinstance(fld, models.EmailField):
        return f"row{n}@example.com"
    if isinstance(fld, models.CharField | models.TextField | models.SlugField):
        text = f"v{n}" if unique else "value"
        return text[: fld.max_length] if fld.max_length else text
    if isinstance(fld, models.BooleanField):
        return False
    if isinstance(fld, models.DecimalField):
        return Decimal("1")
    if isinstance(fld, models.IntegerField | models.FloatField):
        return n if unique else 1
    if isinstance(fld, models.DateTimeField):
        return timezone.now()
    if isinstance(fld, models.DateField):
        return timezone.localdate()
    if isinstance(fld, models.TimeField):
        return datetime.time(9, 0)
    if isinstance(fld, models.DurationField):
        return datetime.timedelta(minutes=5)
    if isinstance(fld, models.UUIDField):
        import uuid

        return uuid.uuid4()
    if isinstance(fld, models.JSONField):
        return {}
    if isinstance(fld, models.GenericIPAddressField):
        return "127.0.0.1"
    if isinstance(fld, models.BinaryField):
        return b"x"
    if isinstance(fld, models.FileField):
        return f"files/x{n}.txt"
    raise TypeError(f"no test value for {fld!r}")


def build(model: type[models.Model], *, depth: int = 0, **values: Any) -> models.Model:
    """Insert one row of ``model`` with ``values`` and plain values elsewhere."""
    if depth > 6:
        raise RecursionError(f"foreign keys too deep at {model._meta.label}")
    data = dict(OVERRIDES.get(model._meta.label_lower, {}))
    data.update(values)
    given = set(data) | {k.removesuffix("_id") for k in data}
    unique_names = {f.name for f in model._meta.concrete_fields if f.unique}
    for constraint in model._meta.constraints:
        if isinstance(constraint, models.UniqueConstraint) and constraint.condition is None:
            unique_names.update(constraint.fields)
    for together in model._meta.unique_together:
        unique_names.update(together)
    for fld in model._meta.concrete_fields:
        if fld.primary_key or fld.name in given or fld.attname in given:
            continue
        if fld.has_default() or fld.null:
            continue
        if getattr(fld, "auto_now", False) or getattr(fld, "auto_now_add", False):
            continue
        if fld.is_relation:
            target = fld.related_model
            assert isinstance(target, type)
            if fld.unique or fld.name in unique_names:
                data[fld.name] = build(target, depth=depth + 1)
            else:
                data[fld.name] = shared(target, depth=depth + 1)
            continue
        if isinstance(fld, models.CharField | models.TextField) and fld.blank:
            continue
        data[fld.name] = _value(fld, fld.name in unique_names)
    return model._base_manager.create(**data)


def shared(model: type[models.Model], *, depth: int = 0) -> models.Model:
    """One row of ``model`` reused by every row that needs some row of it."""
    row = _shared.get(model)
    if row is None or not model._base_manager.filter(pk=row.pk).exists():
        from django.contrib.auth import get_user_model

        if model is get_user_model():
            from tests.factories import UserFactory

            row = UserFactory()
        else:
            row = build(model, depth=depth)
        _shared[model] = row
    return row


def clone(row: models.Model, **values: Any) -> models.Model:
    """Insert a copy of ``row`` with ``values`` changed (unique columns get fresh values)."""
    model = type(row)
    unique = {f.name for f in model._meta.concrete_fields if f.unique and not f.primary_key} - set(
        values
    )
    data: dict[str, Any] = {}
    for fld in model._meta.concrete_fields:
        if fld.primary_key or fld.name in values:
            continue
        if fld.name in unique:
            if fld.is_relation:
                target = fld.related_model
                assert isinstance(target, type)
                data[fld.name] = build(target)
            else:
                data[fld.name] = _value(fld, True)
            continue
        data[fld.attname] = getattr(row, fld.attname)
    data.update(values)
    return model._base_manager.create(**data)
