"""Custom fields: definitions' rules and values of every type, valid and invalid."""

from __future__ import annotations

from decimal import Decimal

import pytest

from vefa.common.errors import NotFound, PermissionDenied, ValidationFailed
from vefa.platform.custom_fields import clean_custom_fields, display_value
from vefa.platform.models import ChangeLogEntry, CustomFieldDefinition
from vefa.platform.services import custom_field_create, custom_field_delete, custom_field_update

pytestmark = pytest.mark.django_db
MODEL = "customers.customer"


def _define(key, field_type, **extra):
    return CustomFieldDefinition.objects.create(
        model=MODEL, key=key, label=key.title(), field_type=field_type, **extra
    )


# --- values ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field_type", "extra", "raw", "stored"),
    [
        ("text", {}, "  Gold  ", "Gold"),
        ("text", {}, 42, "42"),
        ("longtext", {}, "a\nb", "a\nb"),
        ("integer", {}, "17", 17),
        ("integer", {"min_value": 1, "max_value": 20}, 20, 20),
        ("decimal", {}, "3.50", "3.50"),
        ("decimal", {"min_value": Decimal("0.5")}, 0.5, "0.5"),
        ("boolean", {}, True, True),
        ("boolean", {}, "yes", True),
        ("boolean", {}, "off", False),
        ("date", {}, "2024-02-29", "2024-02-29"),
        ("choice", {"choices": ["gold", "silver"]}, "gold", "gold"),
        ("multichoice", {"choices": ["a", "b", "c"]}, ["c", "a", "c"], ["a", "c"]),
        ("multichoice", {"choices": ["a", "b"]}, "b", ["b"]),
        ("url", {}, "https://example.com/x", "https://example.com/x"),
        ("email", {}, "ayse@example.com", "ayse@example.com"),
        ("text", {"regex": r"[A-Z]{2}\d{3}"}, "TR123", "TR123"),
        ("text", {}, "<script>alert(1)</script>", "<script>alert(1)</script>"),
        ("text", {}, "علی رضایی", "علی رضایی"),
    ],
)
def test_valid_values_of_every_type_are_stored_normalised(field_type, extra, raw, stored):
    _define("field", field_type, **extra)
    assert clean_custom_fields(MODEL, {"field": raw}) == {"field": stored}


@pytest.mark.parametrize(
    ("field_type", "extra", "raw"),
    [
        ("text", {}, "x" * 301),
        ("text", {"max_length": 5}, "toolong"),
        ("text", {}, ["a"]),
        ("text", {}, True),
        ("text", {"regex": r"[A-Z]{2}\d{3}"}, "tr123"),
        ("longtext", {}, "x" * 2001),
        ("integer", {}, "1.5"),
        ("integer", {}, "ten"),
        ("integer", {}, True),
        ("integer", {"min_value": 1}, 0),
        ("integer", {"max_value": 10}, 11),
        ("decimal", {}, "NaN"),
        ("decimal", {}, "Infinity"),
        ("decimal", {}, "1,5"),
        ("decimal", {}, False),
        ("boolean", {}, "maybe"),
        ("date", {}, "29.02.2024"),
        ("date", {}, "2023-02-29"),
        ("choice", {"choices": ["gold"]}, "platinum"),
        ("multichoice", {"choices": ["a"]}, ["a", "z"]),
        ("url", {}, "javascript:alert(1)"),
        ("url", {}, "ftp://example.com"),
        ("email", {}, "not-an-address"),
        ("text", {}, "=cmd|' /C calc'!A0" * 100),
    ],
)
def test_invalid_values_name_the_field(field_type, extra, raw):
    _define("field", field_type, **extra)
    with pytest.raises(ValidationFailed) as error:
        clean_custom_fields(MODEL, {"field": raw})
    assert list(error.value.fields) == ["custom_fields.field"]


def test_required_unknown_and_non_object_values():
    _define("tier", "choice", choices=["gold"], required=True)
    with pytest.raises(ValidationFailed) as error:
        clean_custom_fields(MODEL, {"nope": "x"})
    assert error.value.fields == {
        "custom_fields.nope": ["There is no such custom field."],
        "custom_fields.tier": ["This field is required."],
    }
    with pytest.raises(ValidationFailed) as error:
        clean_custom_fields(MODEL, ["tier", "gold"])  # type: ignore[arg-type]
    assert "custom_fields" in error.value.fields


def test_merging_over_existing_values_keeps_values_of_deleted_definitions():
    _define("tier", "text")
    existing = {"tier": "gold", "old_field": "kept"}
    assert clean_custom_fields(MODEL, {"tier": ""}, existing=existing) == {"old_field": "kept"}
    assert clean_custom_fields(MODEL, {"tier": "x"}, existing=existing) == {
        "tier": "x",
        "old_field": "kept",
    }


def test_display_values():
    yes_no = _define("vip", "boolean")
    many = _define("tags2", "multichoice", choices=["a", "b"])
    assert display_value(yes_no, True) == "Yes"
    assert display_value(yes_no, False) == "No"
    assert display_value(many, ["a", "b"]) == "a, b"
    assert display_value(many, []) == ""


# --- definitions ----------------------------------------------------------------------------


def _data(**changes):
    return {"model": MODEL, "key": "tier", "label": "Tier", "field_type": "text", **changes}


def test_an_administrator_defines_changes_and_removes_a_field_with_a_change_log(admin_user):
    definition = custom_field_create(
        actor=admin_user, data=_data(field_type="choice", choices=["gold", "silver"])
    )
    updated = custom_field_update(
        actor=admin_user,
        definition_id=definition.pk,
        data={"label": "Customer tier"},
        expected_version=1,
    )
    assert (updated.label, updated.version) == ("Customer tier", 2)
    custom_field_delete(actor=admin_user, definition_id=definition.pk)
    actions = list(
        ChangeLogEntry.objects.filter(model="platform.customfielddefinition")
        .order_by("id")
        .values_list("action", flat=True)
    )
    assert actions == ["create", "update", "delete"]
    assert not CustomFieldDefinition.objects.exists()


def test_only_administrators_write_definitions_and_nothing_changes_otherwise(rep, manager):
    for actor in (rep, manager):
        with pytest.raises(PermissionDenied):
            custom_field_create(actor=actor, data=_data())
    definition = _define("tier", "text")
    with pytest.raises(PermissionDenied):
        custom_field_update(actor=rep, definition_id=definition.pk, data={"label": "X"})
    with pytest.raises(PermissionDenied):
        custom_field_delete(actor=rep, definition_id=definition.pk)
    definition.refresh_from_db()
    assert definition.label == "Tier"
    assert ChangeLogEntry.objects.count() == 0


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"field_type": "choice"}, "choices"),
        ({"field_type": "multichoice", "choices": []}, "choices"),
        ({"field_type": "choice", "choices": ["a", "a"]}, "choices"),
        ({"field_type": "choice", "choices": ["", "b"]}, "choices"),
        ({"field_type": "choice", "choices": [1, 2]}, "choices"),
        ({"field_type": "choice", "choices": ["x" * 101]}, "choices"),
        ({"field_type": "choice", "choices": [str(i) for i in range(201)]}, "choices"),
        ({"field_type": "text", "choices": ["a"]}, "choices"),
        ({"key": "Tier"}, "key"),
        ({"key": "1tier"}, "key"),
        ({"key": "tier-level"}, "key"),
        ({"key": "<script>"}, "key"),
        ({"key": "k" * 51}, "key"),
        ({"model": "accounts.user"}, "model"),
        ({"model": "nope"}, "model"),
        ({"field_type": "integer", "min_value": 5, "max_value": 1}, "max_value"),
        ({"field_type": "text", "min_value": 1}, "min_value"),
        ({"field_type": "integer", "max_length": 5}, "max_length"),
        ({"field_type": "text", "max_length": 5000}, "max_length"),
        ({"field_type": "text", "regex": "(unclosed"}, "regex"),
        ({"field_type": "boolean", "regex": "x"}, "regex"),
        ({"field_type": "colour"}, "field_type"),
        ({"label": ""}, "label"),
        ({"label": "l" * 101}, "label"),
    ],
)
def test_bad_definitions_are_refused_and_nothing_is_stored(admin_user, changes, field):
    with pytest.raises(ValidationFailed) as error:
        custom_field_create(actor=admin_user, data=_data(**changes))
    assert field in error.value.fields
    assert not CustomFieldDefinition.objects.exists()
    assert ChangeLogEntry.objects.count() == 0


def test_a_key_is_unique_per_record_type(admin_user):
    custom_field_create(actor=admin_user, data=_data())
    with pytest.raises(ValidationFailed):
        custom_field_create(actor=admin_user, data=_data())
    other = custom_field_create(actor=admin_user, data=_data(model="customers.lead"))
    assert other.key == "tier"
    assert CustomFieldDefinition.objects.count() == 2


def test_the_record_type_and_key_never_change_and_unknown_fields_are_refused(admin_user):
    definition = custom_field_create(actor=admin_user, data=_data())
    for data in ({"key": "other"}, {"model": "customers.lead"}, {"colour": "red"}):
        with pytest.raises(ValidationFailed):
            custom_field_update(actor=admin_user, definition_id=definition.pk, data=data)
    with pytest.raises(NotFound):
        custom_field_update(actor=admin_user, definition_id=definition.pk + 99, data={})


def test_a_stale_version_is_a_conflict(admin_user):
    from vefa.common.errors import Conflict

    definition = custom_field_create(actor=admin_user, data=_data())
    custom_field_update(actor=admin_user, definition_id=definition.pk, data={"label": "A"})
    with pytest.raises(Conflict):
        custom_field_update(
            actor=admin_user, definition_id=definition.pk, data={"label": "B"}, expected_version=1
        )
    definition.refresh_from_db()
    assert definition.label == "A"
