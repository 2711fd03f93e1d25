"""Forms of the quote pages. They only shape input; the quote services validate and write.

The lines are not a Django formset: each line row posts the same field names
(``line_product``, ``line_description`` …) and ``lines_from_post`` reads them in order, so
rows added or removed with htmx need no management form.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django import forms
from django.http import QueryDict
from django.utils.translation import gettext_lazy as _

from vefa.common.errors import ApplicationError
from vefa.interactions.forms import BootstrapMixin
from vefa.sales.choices import Unit
from vefa.sales.money import COMMON_CURRENCIES

LANGUAGE_CHOICES = [
    ("en", _("English")),
    ("tr", _("Turkish")),
    ("sr-latn", _("Serbian (Latin)")),
    ("fa", _("Persian")),
]

LINE_FIELDS = ("product", "description", "quantity", "unit", "unit_price", "discount_percent",
               "tax_rate")  # fmt: skip
MAX_FORM_LINES = 500


def date_input() -> forms.DateInput:
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class QuoteForm(BootstrapMixin, forms.Form):
    """The header of a quote: who it is for, its language, currency, dates and texts."""

    version = forms.IntegerField(required=False, widget=forms.HiddenInput)
    contact = forms.TypedChoiceField(
        label=_("Contact person"), required=False, coerce=int, empty_value=None
    )
    opportunity = forms.TypedChoiceField(
        label=_("Opportunity"), required=False, coerce=int, empty_value=None
    )
    currency = forms.ChoiceField(label=_("Currency"))
    price_list = forms.TypedChoiceField(
        label=_("Price list"), required=False, coerce=int, empty_value=None
    )
    language = forms.ChoiceField(
        label=_("Language of the quote"),
        choices=LANGUAGE_CHOICES,
        help_text=_("The PDF and the e-mail are written in this language."),
    )
    issued_on = forms.DateField(label=_("Date"), widget=date_input())
    valid_until = forms.DateField(label=_("Valid until"), required=False, widget=date_input())
    owner = forms.TypedChoiceField(label=_("Owner"), coerce=int, empty_value=None)
    notes = forms.CharField(
        label=_("Notes"), required=False, max_length=20_000, widget=forms.Textarea({"rows": 3})
    )
    terms = forms.CharField(
        label=_("Terms"), required=False, max_length=20_000, widget=forms.Textarea({"rows": 3})
    )

    def __init__(
        self,
        *args: Any,
        contacts: list[tuple[int, str]],
        opportunities: list[tuple[int, str]],
        price_lists: list[tuple[int, str]],
        owners: list[tuple[int, str]],
        currency: str,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        blank = [("", "—")]
        self.fields["contact"].choices = blank + contacts  # type: ignore[attr-defined]
        self.fields["opportunity"].choices = blank + opportunities  # type: ignore[attr-defined]
        self.fields["price_list"].choices = blank + price_lists  # type: ignore[attr-defined]
        self.fields["owner"].choices = owners  # type: ignore[attr-defined]
        codes = list(COMMON_CURRENCIES)
        if currency and currency not in codes:
            codes.insert(0, currency)
        self.fields["currency"].choices = [(c, c) for c in codes]  # type: ignore[attr-defined]


class SendForm(BootstrapMixin, forms.Form):
    version = forms.IntegerField(required=False, widget=forms.HiddenInput)
    to = forms.EmailField(label=_("To"), max_length=254)
    message = forms.CharField(
        label=_("Message"), required=False, max_length=5_000, widget=forms.Textarea({"rows": 4})
    )


class RejectForm(BootstrapMixin, forms.Form):
    version = forms.IntegerField(required=False, widget=forms.HiddenInput)
    reason = forms.CharField(
        label=_("Why did the customer reject it?"),
        max_length=2_000,
        widget=forms.Textarea({"rows": 3}),
    )


def apply_errors(form: forms.BaseForm, error: ApplicationError) -> dict[int, dict[str, str]]:
    """Show a service's field errors on the form; line errors (``lines.3.unit_price``) are
    returned per row index for the line table."""
    line_errors: dict[int, dict[str, str]] = {}
    if not error.fields:
        form.add_error(None, str(error.message))
    for name, messages in error.fields.items():
        parts = name.split(".")
        if parts[0] == "lines" and len(parts) >= 2 and parts[1].isdigit():
            field = parts[2] if len(parts) > 2 else "description"
            line_errors.setdefault(int(parts[1]), {})[field] = " ".join(messages)
            continue
        target = name if name in form.fields else None
        for message in messages:
            form.add_error(target, message if target else f"{name}: {message}")
    return line_errors


def lines_from_post(post: QueryDict | Mapping[str, Any]) -> list[dict[str, Any]]:
    """The line rows of a posted form, in order. A row with no product, description, price,
    discount or tax is a blank row and left out (its quantity and unit have defaults)."""

    def getlist(key: str) -> list[Any]:
        if isinstance(post, QueryDict):
            return post.getlist(key)
        value = post.get(key)
        return list(value) if isinstance(value, list | tuple) else []

    columns = {name: getlist(f"line_{name}")[: MAX_FORM_LINES + 1] for name in LINE_FIELDS}
    count = max((len(values) for values in columns.values()), default=0)
    lines: list[dict[str, Any]] = []
    for i in range(count):
        row = {
            name: (columns[name][i].strip() if i < len(columns[name]) else "")
            for name in LINE_FIELDS
        }
        filled = ("product", "description", "unit_price", "discount_percent", "tax_rate")
        if not any(row[name] for name in filled):
            continue
        lines.append({k: v for k, v in row.items() if v != "" or k == "description"})
    return lines


def unit_choices() -> list[tuple[str, str]]:
    return [(str(v), str(label)) for v, label in Unit.choices]
