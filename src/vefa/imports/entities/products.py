"""Importing products into the sales catalogue, matched on their SKU.

Each row is one product. Rows go through the catalogue's own services
(``product_create`` / ``product_update``), so the same validation, change log and events
apply as on the product page. A category is named by its name (folded, so case and accents
do not matter); an unknown category is a row error, never a new category.

Also home of the small helpers the other adapters of this package share
(``errors_from_failure``, ``choice_options``).
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from django.db import models, transaction
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from vefa.common.errors import ApplicationError
from vefa.common.text import fold
from vefa.imports.entities import register
from vefa.imports.entities.base import (
    EntityAdapter,
    Field,
    ImportContext,
    Outcome,
    Row,
    RowError,
    Written,
)
from vefa.sales.choices import Unit
from vefa.sales.models import Product, ProductCategory

MAX_PRICE = Decimal("1e12")


def choice_options(
    choices: type[models.TextChoices], extra: dict[str, tuple[str, ...]] | None = None
) -> tuple[tuple[str, ...], ...]:
    """``Field.choices`` of a choices class: each value with its English label and the
    extra words (Turkish, Serbian, Persian) given for it."""
    extra = extra or {}
    options: list[tuple[str, ...]] = []
    with translation.override("en"):
        for value, label in choices.choices:
            options.append((str(value), str(label), *extra.get(str(value), ())))
    return tuple(options)


def errors_from_failure(
    row: Row, exc: ApplicationError, names: dict[str, str] | None = None
) -> list[RowError]:
    """A service's refusal as row errors: each field message on that field's column."""
    names = names or {}
    errors: list[RowError] = []
    for name, messages in (exc.fields or {}).items():
        field_name = names.get(name, name)
        column = row.columns.get(field_name, field_name if field_name != "__all__" else "")
        errors.append(
            RowError(row.number, column, row.raw.get(field_name, ""), " ".join(map(str, messages)))
        )
    if not errors:
        errors.append(RowError(row.number, "", "", str(exc.message)))
    return errors


UNIT_WORDS: dict[str, tuple[str, ...]] = {
    "piece": ("pcs", "pc", "adet", "ad", "komad", "kom", "عدد"),
    "hour": ("h", "saat", "sat", "ساعت"),
    "day": ("gün", "gun", "dan", "روز"),
    "month": ("ay", "mesec", "ماه"),
    "year": ("yıl", "yil", "godina", "سال"),
    "kg": ("kilo", "kilogram", "کیلوگرم"),
    "g": ("gr", "gram", "گرم"),
    "l": ("lt", "litre", "liter", "litar", "لیتر"),
    "m": ("metre", "meter", "metar", "متر"),
    "m2": ("m²", "metrekare", "مترمربع"),
    "box": ("kutu", "kutija", "جعبه"),
    "package": ("paket", "بسته"),
}


@register
class ProductAdapter(EntityAdapter):
    entity = "products"
    label = gettext_lazy("Products")
    model = Product
    fields = (
        Field(
            "sku",
            gettext_lazy("SKU"),
            required=True,
            max_length=64,
            aliases=("sku", "code", "product code", "stok kodu", "ürün kodu", "šifra", "کد کالا"),
        ),
        Field(
            "name",
            gettext_lazy("Name"),
            required=True,
            max_length=200,
            aliases=("product", "product name", "ürün", "ürün adı", "naziv", "نام کالا"),
        ),
        Field(
            "description",
            gettext_lazy("Description"),
            max_length=20_000,
            aliases=("açıklama", "opis", "توضیحات"),
        ),
        Field(
            "category",
            gettext_lazy("Category"),
            max_length=200,
            aliases=("kategori", "kategorija", "دسته"),
        ),
        Field(
            "unit",
            gettext_lazy("Unit"),
            kind="choice",
            choices=choice_options(Unit, UNIT_WORDS),
            aliases=("birim", "jedinica", "واحد"),
        ),
        Field(
            "list_price",
            gettext_lazy("List price"),
            kind="decimal",
            aliases=("price", "fiyat", "liste fiyatı", "cena", "قیمت"),
        ),
        Field(
            "unit_cost",
            gettext_lazy("Unit cost"),
            kind="decimal",
            aliases=("cost", "maliyet", "trošak", "بهای تمام شده"),
        ),
        Field(
            "currency",
            gettext_lazy("Currency"),
            kind="currency",
            aliases=("para birimi", "döviz", "valuta", "ارز"),
        ),
        Field(
            "tax_rate",
            gettext_lazy("Tax rate (%)"),
            kind="decimal",
            aliases=("tax", "vat", "kdv", "kdv oranı", "pdv", "مالیات"),
        ),
        Field(
            "is_active",
            gettext_lazy("Active"),
            kind="bool",
            aliases=("aktif", "aktivan", "فعال"),
        ),
    )
    match_keys = {"sku": "sku"}
    default_match_key = "sku"

    # -- checks ------------------------------------------------------------------------------

    def _categories(self, ctx: ImportContext) -> dict[str, int]:
        cached = ctx.cache.get("product_categories")
        if cached is None:
            cached = {}
            for pk, name in ProductCategory.objects.order_by("pk").values_list("pk", "name"):
                cached.setdefault(fold(name), pk)
            ctx.cache["product_categories"] = cached
        return cached

    def clean(self, row: Row, ctx: ImportContext) -> None:
        values = row.values
        sku = values.get("sku")
        if isinstance(sku, str) and any(ch.isspace() for ch in sku):
            row.error("sku", _("A SKU has no spaces."))
        for name in ("list_price", "unit_cost"):
            amount = values.get(name)
            if amount is not None and (amount < 0 or amount >= MAX_PRICE):
                row.error(name, _("Enter an amount between 0 and 999,999,999,999."))
        rate = values.get("tax_rate")
        if rate is not None and not (0 <= rate <= 100):
            row.error("tax_rate", _("Enter a percentage between 0 and 100."))
        category = values.get("category")
        if category and fold(category) not in self._categories(ctx):
            row.error("category", _("No product category has this name."))

    # -- writes --------------------------------------------------------------------------------

    def _data(self, row: Row, ctx: ImportContext) -> dict[str, Any]:
        data: dict[str, Any] = {}
        for name, value in row.values.items():
            if name == "category":
                data["category_id"] = self._categories(ctx).get(fold(value))
            elif isinstance(value, Decimal):
                data[name] = str(value)
            else:
                data[name] = value
        return data

    def create(self, rows: Sequence[Row], ctx: ImportContext) -> list[Outcome]:
        from vefa.sales.services.catalogue import product_create

        outcomes: list[Outcome] = []
        for row in rows:
            try:
                with transaction.atomic():
                    product = product_create(actor=ctx.actor, **self._data(row, ctx))
            except ApplicationError as exc:
                outcomes.append(
                    Outcome(
                        "error", errors=errors_from_failure(row, exc, {"category_id": "category"})
                    )
                )
                continue
            outcomes.append(
                Outcome("created", records=[Written(self.object_type(), product.pk, "created")])
            )
        return outcomes

    def update(self, rows: Sequence[Row], ctx: ImportContext) -> list[Outcome]:
        from vefa.sales.services.catalogue import product_update

        ids = [row.existing_id for row in rows if row.existing_id is not None]
        current = {p.pk: p for p in Product.objects.filter(pk__in=ids)}
        outcomes: list[Outcome] = []
        for row in rows:
            product = current.get(row.existing_id or 0)
            if product is None:
                outcomes.append(
                    Outcome(
                        "error", errors=[RowError(row.number, "", "", _("The record is gone."))]
                    )
                )
                continue
            data = self._data(row, ctx)
            changed = {k: v for k, v in data.items() if not _same(_current(product, k), v)}
            if not changed:
                outcomes.append(Outcome("unchanged"))
                continue
            previous = {k: _json(_current(product, k)) for k in changed}
            try:
                with transaction.atomic():
                    product_update(actor=ctx.actor, product_id=product.pk, data=changed)
            except ApplicationError as exc:
                outcomes.append(
                    Outcome(
                        "error", errors=errors_from_failure(row, exc, {"category_id": "category"})
                    )
                )
                continue
            outcomes.append(
                Outcome(
                    "updated",
                    records=[Written(self.object_type(), product.pk, "updated", previous)],
                )
            )
        return outcomes


def _current(product: Product, name: str) -> Any:
    if name == "category_id":
        return product.category_id
    return getattr(product, name)


def _same(old: Any, new: Any) -> bool:
    if isinstance(old, Decimal) or isinstance(new, Decimal):
        try:
            return Decimal(str(old)) == Decimal(str(new))
        except Exception:
            return False
    return bool(old == new)


def _json(value: Any) -> Any:
    return str(value) if isinstance(value, Decimal) else value
