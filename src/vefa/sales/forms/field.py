"""Forms of the field-sales pages and the sales analysis. They shape input; services validate."""

from __future__ import annotations

import datetime
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from vefa.interactions.forms import DATETIME_FORMAT, BootstrapMixin, datetime_input
from vefa.sales.money import COMMON_CURRENCIES

OUTCOME_MAX = 300


class VisitPlanForm(BootstrapMixin, forms.Form):
    due_at = forms.DateTimeField(
        label=_("When"), widget=datetime_input(), input_formats=[DATETIME_FORMAT]
    )
    location = forms.CharField(
        label=_("Address"),
        max_length=200,
        required=False,
        help_text=_("Filled from the customer's primary address; change it if you meet elsewhere."),
    )
    subject = forms.CharField(label=_("Subject"), max_length=300, required=False)
    description = forms.CharField(
        label=_("Purpose"), required=False, widget=forms.Textarea({"rows": 3})
    )


class VisitLogForm(BootstrapMixin, forms.Form):
    """The one-field form behind the "Visited" button: the outcome is already filled in."""

    outcome = forms.CharField(label=_("Outcome"), max_length=OUTCOME_MAX, required=False)
    version = forms.IntegerField(widget=forms.HiddenInput, required=False, min_value=1)


class AnalysisForm(BootstrapMixin, forms.Form):
    start = forms.DateField(label=_("From"), widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label=_("Until"), widget=forms.DateInput(attrs={"type": "date"}))
    currency = forms.ChoiceField(label=_("Reporting currency"), choices=[])
    pipeline = forms.TypedChoiceField(
        label=_("Funnel pipeline"), coerce=int, required=False, choices=[], empty_value=None
    )

    def __init__(
        self,
        *args: Any,
        currencies: list[str],
        pipelines: list[tuple[int, str]],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["currency"].choices = [(c, c) for c in currencies]  # type: ignore[attr-defined]
        self.fields["pipeline"].choices = pipelines  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("start"), data.get("end")
        if isinstance(start, datetime.date) and isinstance(end, datetime.date) and end < start:
            self.add_error("end", _("The end must not be before the start."))
        return data


def currency_choices(extra: list[str]) -> list[str]:
    """The common currencies first, then every other currency that has exchange rates."""
    out = list(COMMON_CURRENCIES)
    out += sorted(c for c in set(extra) if c not in out)
    return out
