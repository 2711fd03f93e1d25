"""Custom fields: definitions per model, values in one JSON column, validated only here."""

from __future__ import annotations

import contextvars
import datetime
import re
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator, validate_email
from django.utils.translation import gettext as _

from vefa.common.errors import ValidationFailed
from vefa.platform.models import CustomFieldDefinition

FieldType = CustomFieldDefinition.FieldType
MAX_TEXT = 2000
MAX_CHOICES = 200
MAX_CHOICE_LENGTH = 100
CHOICE_TYPES = (FieldType.CHOICE, FieldType.MULTICHOICE)
NUMBER_TYPES = (FieldType.INTEGER, FieldType.DECIMAL)
TEXT_TYPES = (FieldType.TEXT, FieldType.LONGTEXT, FieldType.URL, FieldType.EMAIL)
# A key becomes a JSON key, a query parameter (``cf_<key>``) and an API field name.
KEY_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,49}$")


# Inside ``definitions_cached()``: the definitions read so far, by model label.
_cache: contextvars.ContextVar[dict[str, list[CustomFieldDefinition]] | None] = (
    contextvars.ContextVar("custom_field_definitions", default=None)
)


def definitions_for(model_label: str) -> list[CustomFieldDefinition]:
    cache = _cache.get()
    if cache is not None and model_label in cache:
        return list(cache[model_label])
    found = list(CustomFieldDefinition.objects.filter(model=model_label).order_by("order", "key"))
    if cache is not None:
        cache[model_label] = found
    return list(found)


@contextmanager
def definitions_cached() -> Iterator[None]:
    """Read each model's definitions once inside the block (a batch of records written in
    one transaction, e.g. inbound e-mail): the batch sees the definitions as they were when
    it first needed them, as one transaction would."""
    token = _cache.set({})
    try:
        yield
    finally:
        _cache.reset(token)


def model_choices() -> list[tuple[str, str]]:
    """The record types that have custom fields, as (label, name) pairs."""
    from django.apps import apps

    from vefa.common.models import CustomFieldsMixin

    return sorted(
        (model._meta.label_lower, str(model._meta.verbose_name).capitalize())
        for model in apps.get_models()
        if issubclass(model, CustomFieldsMixin)
    )


def definition_errors(definition: CustomFieldDefinition) -> dict[str, list[str]]:
    """What is wrong with a definition, per field (empty when it is valid)."""
    errors: dict[str, list[str]] = {}
    kind = definition.field_type
    if definition.model not in {label for label, _name in model_choices()}:
        errors["model"] = [_("Choose a record type that has custom fields.")]
    if not KEY_PATTERN.match(definition.key or ""):
        errors["key"] = [
            _(
                "Use lower-case letters, digits and underscores, starting with a letter "
                "(at most 50 characters)."
            )
        ]
    choices = definition.choices
    if kind in CHOICE_TYPES:
        if not isinstance(choices, list) or not choices:
            errors["choices"] = [_("List the values to choose from.")]
        elif len(choices) > MAX_CHOICES:
            errors["choices"] = [_("At most %(n)d values.") % {"n": MAX_CHOICES}]
        elif not all(isinstance(c, str) and c.strip() for c in choices):
            errors["choices"] = [_("Every value must be non-empty text.")]
        elif any(len(c) > MAX_CHOICE_LENGTH for c in choices):
            errors["choices"] = [
                _("A value has at most %(n)d characters.") % {"n": MAX_CHOICE_LENGTH}
            ]
        elif len({c.strip() for c in choices}) != len(choices):
            errors["choices"] = [_("The values must differ from one another.")]
    elif choices:
        errors["choices"] = [_("Only choice fields have values to choose from.")]
    if kind not in NUMBER_TYPES and (
        definition.min_value is not None or definition.max_value is not None
    ):
        errors["min_value"] = [_("Only number fields have a minimum and a maximum.")]
    if (
        definition.min_value is not None
        and definition.max_value is not None
        and definition.min_value > definition.max_value
    ):
        errors["max_value"] = [_("The maximum must not be below the minimum.")]
    if definition.max_length is not None:
        if kind not in TEXT_TYPES:
            errors["max_length"] = [_("Only text fields have a maximum length.")]
        elif not 1 <= definition.max_length <= MAX_TEXT:
            errors["max_length"] = [_("Between 1 and %(n)d.") % {"n": MAX_TEXT}]
    if definition.regex:
        if kind not in TEXT_TYPES:
            errors["regex"] = [_("Only text fields have a pattern.")]
        else:
            try:
                re.compile(definition.regex)
            except re.error:
                errors["regex"] = [_("This is not a valid regular expression.")]
    return errors


def _clean_value(definition: CustomFieldDefinition, raw: Any) -> Any:
    """Return the stored form of ``raw`` or raise ``ValueError`` with a user message."""
    kind = definition.field_type
    if kind in (FieldType.TEXT, FieldType.LONGTEXT, FieldType.URL, FieldType.EMAIL):
        if not isinstance(raw, str | int | float) or isinstance(raw, bool):
            raise ValueError(_("Enter text."))
        value = str(raw).strip()
        limit = definition.max_length or (MAX_TEXT if kind == FieldType.LONGTEXT else 300)
        if len(value) > limit:
            raise ValueError(_("At most %(limit)d characters.") % {"limit": limit})
        if definition.regex and value and not re.fullmatch(definition.regex, value):
            raise ValueError(_("The value does not have the expected format."))
        try:
            if kind == FieldType.URL and value:
                URLValidator(schemes=["http", "https"])(value)
            if kind == FieldType.EMAIL and value:
                validate_email(value)
        except ValidationError as exc:
            raise ValueError(exc.messages[0]) from exc
        return value
    if kind == FieldType.INTEGER:
        if isinstance(raw, bool):
            raise ValueError(_("Enter a whole number."))
        try:
            number = int(str(raw).strip())
        except ValueError as exc:
            raise ValueError(_("Enter a whole number.")) from exc
        _check_range(definition, Decimal(number))
        return number
    if kind == FieldType.DECIMAL:
        if isinstance(raw, bool):
            raise ValueError(_("Enter a number."))
        try:
            number_d = Decimal(str(raw).strip())
        except InvalidOperation as exc:
            raise ValueError(_("Enter a number.")) from exc
        if not number_d.is_finite():
            raise ValueError(_("Enter a number."))
        _check_range(definition, number_d)
        return str(number_d)
    if kind == FieldType.BOOLEAN:
        if isinstance(raw, bool):
            return raw
        text = str(raw).strip().lower()
        if text in {"true", "1", "yes", "on"}:
            return True
        if text in {"false", "0", "no", "off", ""}:
            return False
        raise ValueError(_("Enter yes or no."))
    if kind == FieldType.DATE:
        try:
            return datetime.date.fromisoformat(str(raw).strip()).isoformat()
        except ValueError as exc:
            raise ValueError(_("Enter a date as YYYY-MM-DD.")) from exc
    if kind == FieldType.CHOICE:
        if str(raw) not in [str(c) for c in definition.choices]:
            raise ValueError(_("Choose one of the listed values."))
        return str(raw)
    if kind == FieldType.MULTICHOICE:
        values = raw if isinstance(raw, list) else [raw]
        allowed = [str(c) for c in definition.choices]
        if any(str(v) not in allowed for v in values):
            raise ValueError(_("Choose only listed values."))
        return sorted({str(v) for v in values})
    raise ValueError(_("Unknown field type."))


def _check_range(definition: CustomFieldDefinition, number: Decimal) -> None:
    if definition.min_value is not None and number < definition.min_value:
        raise ValueError(_("At least %(min)s.") % {"min": definition.min_value.normalize()})
    if definition.max_value is not None and number > definition.max_value:
        raise ValueError(_("At most %(max)s.") % {"max": definition.max_value.normalize()})


def _is_empty(value: Any) -> bool:
    return value is None or value == "" or value == []


def clean_custom_fields(
    model_label: str,
    values: dict[str, Any] | None,
    *,
    existing: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Validate ``values`` against the model's definitions, merged over ``existing``.

    Unknown keys, wrong types, missing required values are all reported per field as
    ``custom_fields.<key>``. Keys of definitions that no longer exist are kept untouched so
    deleting a definition loses no data.
    """
    definitions = {d.key: d for d in definitions_for(model_label)}
    result: dict[str, Any] = dict(existing or {})
    errors: dict[str, list[str]] = {}
    if values is not None and not isinstance(values, dict):
        raise ValidationFailed(
            _("Please correct the errors below."),
            fields={"custom_fields": [_("Expected an object of field values.")]},
        )
    for key, raw in (values or {}).items():
        definition = definitions.get(key)
        if definition is None:
            errors[f"custom_fields.{key}"] = [_("There is no such custom field.")]
            continue
        if _is_empty(raw):
            result.pop(key, None)
            continue
        try:
            result[key] = _clean_value(definition, raw)
        except ValueError as exc:
            errors[f"custom_fields.{key}"] = [str(exc)]
    for key, definition in definitions.items():
        if (
            definition.required
            and _is_empty(result.get(key))
            and f"custom_fields.{key}" not in errors
        ):
            errors[f"custom_fields.{key}"] = [_("This field is required.")]
    if errors:
        raise ValidationFailed(_("Please correct the errors below."), fields=errors)
    return result


def display_value(definition: CustomFieldDefinition, value: Any) -> str:
    """A custom field value as text for lists and the detail page."""
    if _is_empty(value):
        return ""
    if definition.field_type == FieldType.BOOLEAN:
        return _("Yes") if value else _("No")
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value)
