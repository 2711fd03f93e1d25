"""Writes of the sales catalogue: product categories, products and competitors.

The catalogue is company-wide (policy ``sales.product``): everyone reads it, sales managers
and administrators keep it. Price lists and exchange rates are in ``catalogue_prices``,
pipelines and their stages in ``catalogue_pipelines``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

from django.db import IntegrityError, transaction
from django.db.models import Model, ProtectedError
from django.utils.translation import gettext as _

from vefa.accounts.access import can_create
from vefa.common.errors import ValidationFailed
from vefa.platform.records import record_create, record_delete, record_update
from vefa.sales.choices import Unit
from vefa.sales.models import Competitor, Product, ProductCategory
from vefa.sales.services._common import (
    as_currency,
    as_money,
    as_percent,
    as_pk,
    as_text,
    denied,
    get_for,
    invalid,
)

if TYPE_CHECKING:
    from vefa.accounts.models import User
    from vefa.platform.models import Tag

MAX_CATEGORY_DEPTH = 10
Cleaner = Callable[[Any], Any]


# --- shared helpers ----------------------------------------------------------------------


def require_catalogue_manager(actor: User, model: type[Model] = Product) -> None:
    """Refuse anyone who may not change the catalogue (reps, service, marketing, read-only)."""
    if not can_create(actor, model):
        raise denied()


def clean_values(data: Any, cleaners: Mapping[str, Cleaner]) -> dict[str, Any]:
    """Run each field's cleaner; unknown fields and every bad value are reported together."""
    if not isinstance(data, Mapping):
        raise invalid({"__all__": [_("Expected an object of field values.")]})
    errors: dict[str, list[str]] = {}
    values: dict[str, Any] = {}
    for key, raw in data.items():
        cleaner = cleaners.get(key)
        if cleaner is None:
            errors[str(key)] = [_("This field cannot be changed.")]
            continue
        try:
            values[key] = cleaner(raw)
        except ValidationFailed as exc:
            for name, messages in exc.fields.items():
                errors.setdefault(name, []).extend(messages)
    if errors:
        raise invalid(errors)
    return values


def as_bool(value: Any, *, field: str) -> bool:
    if not isinstance(value, bool):
        raise invalid({field: [_("Enter yes or no.")]})
    return value


def as_required_text(value: Any, *, field: str, max_length: int) -> str:
    text = as_text(value, field=field, max_length=max_length)
    if not text:
        raise invalid({field: [_("This field is required.")]})
    return text


def as_whole(value: Any, *, field: str, minimum: int = 0, maximum: int = 32767) -> int:
    """A whole number in a range; text of digits is accepted, floats and booleans are not."""
    if isinstance(value, bool) or value is None or value == "":
        raise invalid({field: [_("Enter a whole number.")]})
    if isinstance(value, str) and value.strip().lstrip("-").isdigit() and len(value) < 12:
        value = int(value.strip())
    if not isinstance(value, int):
        raise invalid({field: [_("Enter a whole number.")]})
    if not minimum <= value <= maximum:
        raise invalid(
            {
                field: [
                    _("Enter a whole number from %(min)d to %(max)d.")
                    % {"min": minimum, "max": maximum}
                ]
            }
        )
    return value


def protected_delete(instance: Model, *, actor: User, message: str) -> None:
    """Delete through the change log; a record still referenced is refused with ``message``."""
    try:
        with transaction.atomic():
            record_delete(instance, actor=actor)
    except ProtectedError:
        raise invalid({"__all__": [message]}) from None


# --- categories --------------------------------------------------------------------------


def _category_parent(
    value: Any, *, current: ProductCategory | None = None
) -> ProductCategory | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise invalid({"parent_id": [_("Choose an existing category.")]})
    try:
        key = as_pk(value)
    except Exception:
        raise invalid({"parent_id": [_("Choose an existing category.")]}) from None
    parent = ProductCategory.objects.filter(pk=key).first()
    if parent is None:
        raise invalid({"parent_id": [_("Choose an existing category.")]})
    # Walk up from the new parent: meeting the category itself would make a loop.
    seen = 0
    node: ProductCategory | None = parent
    while node is not None:
        if current is not None and node.pk == current.pk:
            raise invalid({"parent_id": [_("A category cannot be placed inside itself.")]})
        seen += 1
        if seen >= MAX_CATEGORY_DEPTH:
            raise invalid(
                {
                    "parent_id": [
                        _("Categories nest at most %(n)d deep.") % {"n": MAX_CATEGORY_DEPTH}
                    ]
                }
            )
        node = node.parent
    return parent


def _unique_category_name(name: str, parent: ProductCategory | None, exclude: int | None) -> None:
    clash = ProductCategory.objects.filter(name__iexact=name, parent=parent)
    if exclude is not None:
        clash = clash.exclude(pk=exclude)
    if clash.exists():
        raise invalid({"name": [_("This category already has a sub-category with this name.")]})


def category_create(*, actor: User, name: Any, parent_id: Any = None) -> ProductCategory:
    """Add a product category, at the top or under ``parent_id``."""
    require_catalogue_manager(actor, ProductCategory)
    values = clean_values(
        {"name": name, "parent_id": parent_id},
        {
            "name": lambda v: as_required_text(v, field="name", max_length=120),
            "parent_id": lambda v: _category_parent(v),
        },
    )
    with transaction.atomic():
        _unique_category_name(values["name"], values["parent_id"], None)
        category = ProductCategory(name=values["name"], parent=values["parent_id"])
        return record_create(category, actor=actor)


def category_update(
    *, actor: User, category_id: Any, data: Mapping[str, Any], expected_version: int | None = None
) -> ProductCategory:
    """Rename a category or move it under another parent (never under itself)."""
    with transaction.atomic():
        current = get_for(ProductCategory.objects.all(), actor=actor, pk=category_id)
        values = clean_values(
            data,
            {
                "name": lambda v: as_required_text(v, field="name", max_length=120),
                "parent_id": lambda v: _category_parent(v, current=current),
            },
        )
        if "parent_id" in values:
            values["parent"] = values.pop("parent_id")
        name = values.get("name", current.name)
        parent = values.get("parent", current.parent)
        _unique_category_name(name, parent, current.pk)
        return record_update(current, actor=actor, data=values, expected_version=expected_version)


def category_delete(*, actor: User, category_id: Any) -> None:
    """Delete an empty category; one with products or sub-categories is refused."""
    with transaction.atomic():
        category = get_for(
            ProductCategory.objects.all(), actor=actor, pk=category_id, action="delete"
        )
        if category.children.exists() or category.products.exists():
            raise invalid(
                {
                    "__all__": [
                        _(
                            "This category still has products or sub-categories. "
                            "Move them to another category first."
                        )
                    ]
                }
            )
        protected_delete(category, actor=actor, message=_("This category is still in use."))


# --- products ----------------------------------------------------------------------------


def _category(value: Any) -> ProductCategory | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise invalid({"category_id": [_("Choose an existing category.")]})
    try:
        key = as_pk(value)
    except Exception:
        raise invalid({"category_id": [_("Choose an existing category.")]}) from None
    category = ProductCategory.objects.filter(pk=key).first()
    if category is None:
        raise invalid({"category_id": [_("Choose an existing category.")]})
    return category


def _unit(value: Any) -> str:
    if not isinstance(value, str) or value not in Unit.values:
        raise invalid({"unit": [_("Choose a valid unit.")]})
    return value


def _sku(value: Any) -> str:
    text = as_required_text(value, field="sku", max_length=64)
    if any(ch.isspace() for ch in text):
        raise invalid({"sku": [_("A SKU has no spaces.")]})
    return text


def _custom_fields(value: Any) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise invalid({"custom_fields": [_("Expected an object of field values.")]})
    return value


PRODUCT_CLEANERS: dict[str, Cleaner] = {
    "sku": _sku,
    "name": lambda v: as_required_text(v, field="name", max_length=200),
    "description": lambda v: as_text(v, field="description", max_length=20_000),
    "category_id": _category,
    "unit": _unit,
    "list_price": lambda v: as_money(v, field="list_price"),
    "unit_cost": lambda v: as_money(v, field="unit_cost", required=False),
    "currency": as_currency,
    "tax_rate": lambda v: as_percent(v, field="tax_rate"),
    "is_active": lambda v: as_bool(v, field="is_active"),
    "custom_fields": _custom_fields,
}


def _duplicate_sku() -> ValidationFailed:
    return invalid({"sku": [_("Another product already has this SKU.")]})


def product_create(
    *,
    actor: User,
    sku: Any,
    name: Any,
    description: Any = "",
    category_id: Any = None,
    unit: Any = Unit.PIECE,
    list_price: Any = "0",
    unit_cost: Any = None,
    currency: Any = "TRY",
    tax_rate: Any = "0",
    is_active: Any = True,
    custom_fields: Any = None,
    tags: Iterable[Tag | str] | None = None,
) -> Product:
    """Add a product. Prices are Decimal (text or Decimal, never float) in ``currency``."""
    require_catalogue_manager(actor)
    values = clean_values(
        {
            "sku": sku,
            "name": name,
            "description": description,
            "category_id": category_id,
            "unit": unit,
            "list_price": list_price,
            "unit_cost": unit_cost,
            "currency": currency,
            "tax_rate": tax_rate,
            "is_active": is_active,
            "custom_fields": custom_fields,
        },
        PRODUCT_CLEANERS,
    )
    values["category"] = values.pop("category_id")
    if Product.objects.filter(sku=values["sku"]).exists():
        raise _duplicate_sku()
    try:
        with transaction.atomic():
            return record_create(Product(**values), actor=actor, tags=tags)
    except IntegrityError:
        # A concurrent create with the same SKU won the race.
        raise _duplicate_sku() from None


def product_update(
    *,
    actor: User,
    product_id: Any,
    data: Mapping[str, Any],
    expected_version: int | None = None,
    tags: Iterable[Tag | str] | None = None,
) -> Product:
    """Change a product's fields (``expected_version`` guards against lost updates)."""
    values = clean_values(data, PRODUCT_CLEANERS)
    if "category_id" in values:
        values["category"] = values.pop("category_id")
    try:
        with transaction.atomic():
            current = get_for(Product.objects.all(), actor=actor, pk=product_id)
            if "sku" in values and (
                Product.objects.filter(sku=values["sku"]).exclude(pk=current.pk).exists()
            ):
                raise _duplicate_sku()
            return record_update(
                current, actor=actor, data=values, expected_version=expected_version, tags=tags
            )
    except IntegrityError:
        raise _duplicate_sku() from None


def product_delete(*, actor: User, product_id: Any) -> None:
    """Delete a product that no document uses (its price-list prices go with it)."""
    with transaction.atomic():
        product = get_for(Product.objects.all(), actor=actor, pk=product_id, action="delete")
        protected_delete(
            product,
            actor=actor,
            message=_(
                "This product is used on opportunities, quotes or orders. Mark it inactive instead."
            ),
        )


# --- competitors -------------------------------------------------------------------------

COMPETITOR_CLEANERS: dict[str, Cleaner] = {
    "name": lambda v: as_required_text(v, field="name", max_length=200),
    "website": lambda v: as_text(v, field="website", max_length=200),
    "notes": lambda v: as_text(v, field="notes", max_length=20_000),
}


def _unique_competitor(name: str, exclude: int | None) -> None:
    clash = Competitor.objects.filter(name__iexact=name)
    if exclude is not None:
        clash = clash.exclude(pk=exclude)
    if clash.exists():
        raise invalid({"name": [_("A competitor with this name exists already.")]})


def competitor_create(*, actor: User, name: Any, website: Any = "", notes: Any = "") -> Competitor:
    """Add a competitor (who else bids for our deals)."""
    require_catalogue_manager(actor, Competitor)
    values = clean_values({"name": name, "website": website, "notes": notes}, COMPETITOR_CLEANERS)
    try:
        with transaction.atomic():
            _unique_competitor(values["name"], None)
            return record_create(Competitor(**values), actor=actor)
    except IntegrityError:
        raise invalid({"name": [_("A competitor with this name exists already.")]}) from None


def competitor_update(
    *, actor: User, competitor_id: Any, data: Mapping[str, Any], expected_version: int | None = None
) -> Competitor:
    values = clean_values(data, COMPETITOR_CLEANERS)
    with transaction.atomic():
        current = get_for(Competitor.objects.all(), actor=actor, pk=competitor_id)
        if "name" in values:
            _unique_competitor(values["name"], current.pk)
        return record_update(current, actor=actor, data=values, expected_version=expected_version)


def competitor_delete(*, actor: User, competitor_id: Any) -> None:
    """Delete a competitor no opportunity names."""
    with transaction.atomic():
        competitor = get_for(
            Competitor.objects.all(), actor=actor, pk=competitor_id, action="delete"
        )
        protected_delete(
            competitor,
            actor=actor,
            message=_("Opportunities name this competitor; it cannot be deleted."),
        )
