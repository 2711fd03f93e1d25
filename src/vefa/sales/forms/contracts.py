"""Forms of the contract pages. They only shape input; the services validate and write."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from vefa.interactions.forms import BootstrapMixin
from vefa.sales.choices import BillingPeriod, ContractStatus
from vefa.sales.money import COMMON_CURRENCIES


def date_input() -> forms.DateInput:
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class ContractForm(BootstrapMixin, forms.Form):
    title = forms.CharField(
        label=_("Title"), max_length=200, widget=forms.TextInput(attrs={"dir": "auto"})
    )
    start_date = forms.DateField(label=_("Start"), widget=date_input())
    end_date = forms.DateField(label=_("End"), widget=date_input())
    value = forms.CharField(
        label=_("Value"),
        max_length=40,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "dir": "ltr"}),
    )
    currency = forms.CharField(
        label=_("Currency"),
        max_length=3,
        widget=forms.TextInput(attrs={"list": "currency-list", "dir": "ltr", "size": 4}),
    )
    billing_period = forms.ChoiceField(label=_("Billing period"), choices=BillingPeriod.choices)
    status = forms.ChoiceField(label=_("Status"), choices=ContractStatus.choices)
    renewal_date = forms.DateField(
        label=_("Renewal date"),
        required=False,
        widget=date_input(),
        help_text=_("Leave empty to use the end date."),
    )
    remind_days_before = forms.IntegerField(
        label=_("Remind days before renewal"), min_value=0, max_value=365, initial=30
    )
    auto_renew = forms.BooleanField(label=_("Renews automatically"), required=False)
    owner = forms.TypedChoiceField(label=_("Owner"), coerce=int, required=False)
    notes = forms.CharField(
        label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 3, "dir": "auto"})
    )
    version = forms.IntegerField(required=False, widget=forms.HiddenInput)

    currencies = COMMON_CURRENCIES

    def __init__(
        self,
        *args: Any,
        owners: list[tuple[int, str]],
        statuses: list[tuple[str, str]] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["owner"].choices = owners  # type: ignore[attr-defined]
        if statuses is not None:
            self.fields["status"].choices = statuses  # type: ignore[attr-defined]

    def service_data(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "title": data["title"],
            "start_date": data["start_date"],
            "end_date": data["end_date"],
            "value": data["value"],
            "currency": data["currency"].upper(),
            "billing_period": data["billing_period"],
            "status": data["status"],
            "renewal_date": data["renewal_date"],
            "remind_days_before": data["remind_days_before"],
            "auto_renew": data["auto_renew"],
            "owner_id": data["owner"] or None,
            "notes": data["notes"],
        }
