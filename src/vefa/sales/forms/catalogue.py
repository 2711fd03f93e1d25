"""Forms of the catalogue pages. They only shape input; the services validate and write.

Amounts are text fields (``inputmode="decimal"``) handed to the services as text, so a
price never passes through a float and the service's message names the field.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from vefa.common.errors import ApplicationError
from vefa.interactions.forms import BootstrapMixin
from vefa.sales.choices import PipelineKind, StageKind, Unit
from vefa.sales.money import COMMON_CURRENCIES

# Service field names that a form shows under another name.
FIELD_ALIASES = {
    "category_id": "category",
    "parent_id": "parent",
    "customer_group_id": "customer_group",
    "product_id": "product",
}


def apply_errors(form: forms.BaseForm, error: ApplicationError) -> None:
    """Show a service's per-field errors on the form (others above it)."""
    if not error.fields:
        form.add_error(None, str(error.message))
    for name, messages in error.fields.items():
        target: str | None = FIELD_ALIASES.get(name, name)
        if target not in form.fields:
            target = None
        for message in messages:
            form.add_error(target, message)


def amount_input(placeholder: str = "0.00") -> forms.TextInput:
    return forms.TextInput(
        attrs={"inputmode": "decimal", "autocomplete": "off", "placeholder": placeholder}
    )


def currency_field(**kwargs: Any) -> forms.CharField:
    return forms.CharField(
        label=_("Currency"),
        max_length=3,
        min_length=3,
        widget=forms.TextInput(
            attrs={
                "list": "currency-options",
                "autocapitalize": "characters",
                "autocomplete": "off",
                "size": 4,
            }
        ),
        help_text=_("ISO 4217 code, e.g. TRY, EUR, RSD, IRR."),
        **kwargs,
    )


CURRENCY_OPTIONS = COMMON_CURRENCIES


class CategoryForm(BootstrapMixin, forms.Form):
    name = forms.CharField(label=_("Name"), max_length=120)
    parent = forms.TypedChoiceField(
        label=_("Parent category"), required=False, coerce=int, empty_value=None
    )
    version = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, categories: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["parent"].choices = [("", _("— top level —")), *categories]  # type: ignore[attr-defined]


class ProductForm(BootstrapMixin, forms.Form):
    sku = forms.CharField(label=_("SKU"), max_length=64)
    name = forms.CharField(label=_("Name"), max_length=200)
    category = forms.TypedChoiceField(
        label=_("Category"), required=False, coerce=int, empty_value=None
    )
    unit = forms.ChoiceField(label=_("Unit"), choices=Unit.choices, initial=Unit.PIECE)
    list_price = forms.CharField(label=_("List price"), max_length=40, widget=amount_input())
    unit_cost = forms.CharField(
        label=_("Unit cost"),
        max_length=40,
        required=False,
        widget=amount_input(""),
        help_text=_("For the margin; leave empty when unknown."),
    )
    currency = currency_field(initial="TRY")
    tax_rate = forms.CharField(
        label=_("Tax rate (%)"), max_length=10, initial="20", widget=amount_input("20")
    )
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)
    tags = forms.CharField(
        label=_("Tags"), required=False, max_length=1000, help_text=_("Separate with commas.")
    )
    description = forms.CharField(
        label=_("Description"),
        required=False,
        max_length=20_000,
        widget=forms.Textarea(attrs={"rows": 4, "dir": "auto"}),
    )
    version = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, categories: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["category"].choices = [("", _("— none —")), *categories]  # type: ignore[attr-defined]
        for name in ("sku", "name"):
            self.fields[name].widget.attrs["dir"] = "auto"

    def tag_names(self) -> list[str]:
        raw = self.cleaned_data.get("tags") or ""
        return [name.strip() for name in raw.split(",") if name.strip()]


class PriceListForm(BootstrapMixin, forms.Form):
    name = forms.CharField(label=_("Name"), max_length=120)
    currency = currency_field()
    customer_group = forms.TypedChoiceField(
        label=_("Customer group (tag)"),
        required=False,
        coerce=int,
        empty_value=None,
        help_text=_("Leave empty for a price list that applies to every customer."),
    )
    valid_from = forms.DateField(
        label=_("Valid from"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    valid_until = forms.DateField(
        label=_("Valid until"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)
    version = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, groups: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["customer_group"].choices = [("", _("— every customer —")), *groups]  # type: ignore[attr-defined]


class PriceListItemForm(BootstrapMixin, forms.Form):
    product = forms.CharField(
        label=_("Product (SKU)"),
        max_length=64,
        widget=forms.TextInput(attrs={"list": "product-options", "autocomplete": "off"}),
    )
    min_quantity = forms.CharField(
        label=_("From quantity"),
        max_length=20,
        initial="1",
        required=False,
        widget=amount_input("1"),
    )
    unit_price = forms.CharField(label=_("Unit price"), max_length=40, widget=amount_input())


class ExchangeRateForm(BootstrapMixin, forms.Form):
    day = forms.DateField(label=_("Date"), widget=forms.DateInput(attrs={"type": "date"}))
    currency = currency_field()
    quote_currency = currency_field()
    rate = forms.CharField(label=_("Rate"), max_length=40, widget=amount_input("1.0000"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["currency"].label = _("1 unit of")
        self.fields["quote_currency"].label = _("is worth, in")
        self.fields["currency"].help_text = ""
        self.fields["quote_currency"].help_text = ""


class CompetitorForm(BootstrapMixin, forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    website = forms.CharField(label=_("Web site"), max_length=200, required=False)
    notes = forms.CharField(
        label=_("Notes"),
        max_length=20_000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "dir": "auto"}),
    )
    version = forms.IntegerField(required=False, widget=forms.HiddenInput)


class PipelineForm(BootstrapMixin, forms.Form):
    name = forms.CharField(label=_("Name"), max_length=120)
    kind = forms.ChoiceField(label=_("Kind"), choices=PipelineKind.choices)
    is_default = forms.BooleanField(label=_("Default for its kind"), required=False)
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)
    version = forms.IntegerField(required=False, widget=forms.HiddenInput)


class StageForm(BootstrapMixin, forms.Form):
    name = forms.CharField(label=_("Name"), max_length=120)
    kind = forms.ChoiceField(label=_("Kind"), choices=StageKind.choices)
    probability = forms.IntegerField(
        label=_("Win probability (%)"), min_value=0, max_value=100, required=False
    )
    stale_after_days = forms.IntegerField(
        label=_("Stale after (days)"), min_value=1, max_value=3650, initial=30
    )
    version = forms.IntegerField(required=False, widget=forms.HiddenInput)
