"""Forms of the planning pages (targets). They only shape input; the services validate."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from vefa.interactions.forms import BootstrapMixin
from vefa.sales.choices import PeriodKind, TargetMetric
from vefa.sales.money import COMMON_CURRENCIES


class TargetForm(BootstrapMixin, forms.Form):
    subject = forms.ChoiceField(label=_("For"))
    period_kind = forms.ChoiceField(label=_("Period"), choices=PeriodKind.choices)
    period_start = forms.DateField(
        label=_("Any day of the period"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    metric = forms.ChoiceField(label=_("Measure"), choices=TargetMetric.choices)
    amount = forms.CharField(
        label=_("Target"),
        max_length=40,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "dir": "ltr"}),
    )
    currency = forms.CharField(
        label=_("Currency"),
        max_length=3,
        required=False,
        help_text=_("For revenue targets; leave empty for a number of deals."),
        widget=forms.TextInput(attrs={"list": "currency-list", "dir": "ltr", "size": 4}),
    )

    currencies = COMMON_CURRENCIES

    def __init__(self, *args: Any, subjects: list[tuple[str, Any]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["subject"].choices = subjects  # type: ignore[attr-defined]

    def service_data(self) -> dict[str, Any]:
        data = self.cleaned_data
        kind, _sep, key = str(data["subject"]).partition(":")
        return {
            "user_id": key if kind == "user" else None,
            "team_id": key if kind == "team" else None,
            "period_kind": data["period_kind"],
            "period_start": data["period_start"],
            "metric": data["metric"],
            "amount": data["amount"],
            "currency": data["currency"].upper() if data["currency"] else "",
        }


class TargetEditForm(BootstrapMixin, forms.Form):
    amount = forms.CharField(
        label=_("Target"),
        max_length=40,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "dir": "ltr"}),
    )
    currency = forms.CharField(
        label=_("Currency"),
        max_length=3,
        required=False,
        widget=forms.TextInput(attrs={"list": "currency-list", "dir": "ltr", "size": 4}),
    )
    version = forms.IntegerField(required=False, widget=forms.HiddenInput)

    currencies = COMMON_CURRENCIES
