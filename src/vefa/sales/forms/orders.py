"""Forms of the order pages. They only shape input; the services validate and write."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from vefa.interactions.forms import DATETIME_FORMAT, BootstrapMixin, datetime_input
from vefa.sales.choices import PaymentMethod, ShipmentStatus
from vefa.sales.money import COMMON_CURRENCIES

# The line inputs of the order form: ``lines-<n>-<field>``.
LINE_FIELDS = ("sku", "description", "quantity", "unit_price", "discount_percent", "tax_rate")
MAX_FORM_LINES = 200


class OrderForm(BootstrapMixin, forms.Form):
    currency = forms.CharField(label=_("Currency"), max_length=3, initial="TRY")
    ordered_at = forms.DateTimeField(
        label=_("Ordered"), required=False, widget=datetime_input(), input_formats=[DATETIME_FORMAT]
    )
    owner = forms.TypedChoiceField(label=_("Owner"), coerce=int, required=False)
    shipping_address = forms.CharField(
        label=_("Shipping address"),
        required=False,
        max_length=2_000,
        widget=forms.Textarea(attrs={"rows": 2, "dir": "auto"}),
    )
    notes = forms.CharField(
        label=_("Notes"),
        required=False,
        max_length=20_000,
        widget=forms.Textarea(attrs={"rows": 2, "dir": "auto"}),
    )

    def __init__(
        self,
        *args: Any,
        owners: list[tuple[int, str]] | None = None,
        lock_currency: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["owner"].choices = owners or []  # type: ignore[attr-defined]
        self.fields["currency"].widget.attrs.update({"list": "currency-list", "dir": "ltr"})
        if lock_currency:
            self.fields["currency"].disabled = True

    @property
    def currencies(self) -> tuple[str, ...]:
        return COMMON_CURRENCIES


def lines_from_post(data: Mapping[str, Any]) -> list[dict[str, str]]:
    """The line rows of a posted order form, in row order; unused rows are dropped."""
    indices: set[int] = set()
    for key in data:
        parts = str(key).split("-")
        if len(parts) == 3 and parts[0] == "lines" and parts[1].isdigit() and len(parts[1]) < 5:
            indices.add(int(parts[1]))
    rows: list[dict[str, str]] = []
    for index in sorted(indices)[:MAX_FORM_LINES]:
        row = {name: str(data.get(f"lines-{index}-{name}", "")).strip() for name in LINE_FIELDS}
        # A row with only the default quantity (or a tax rate) is an unused row.
        if row["sku"] or row["description"] or row["unit_price"]:
            rows.append(row)
    return rows


class ShipmentForm(BootstrapMixin, forms.Form):
    carrier = forms.CharField(label=_("Carrier"), max_length=100)
    tracking_number = forms.CharField(label=_("Tracking number"), max_length=100, required=False)
    status = forms.ChoiceField(
        label=_("Status"), choices=ShipmentStatus.choices, initial=ShipmentStatus.PREPARING
    )
    notes = forms.CharField(label=_("Notes"), max_length=300, required=False)


class PaymentForm(BootstrapMixin, forms.Form):
    amount = forms.CharField(
        label=_("Amount"),
        max_length=40,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "dir": "ltr"}),
    )
    method = forms.ChoiceField(
        label=_("Method"), choices=PaymentMethod.choices, initial=PaymentMethod.TRANSFER
    )
    reference = forms.CharField(label=_("Reference"), max_length=100, required=False)


class ImportForm(forms.Form):
    file = forms.FileField(
        label=_("File (.csv or .xlsx)"),
        widget=forms.ClearableFileInput(
            attrs={"class": "form-control", "accept": ".csv,.xlsx,text/csv"}
        ),
    )
