"""Forms of the opportunity pages. They shape input only; the services validate and write."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from vefa.common.errors import ApplicationError
from vefa.customers.choices import Source
from vefa.interactions.forms import BootstrapMixin
from vefa.sales.choices import ForecastCategory, LostReason
from vefa.sales.money import COMMON_CURRENCIES

DATE_INPUT = {"type": "date"}

# Service field names shown under another name on a form.
ALIASES = {"lines": None, "follow_up_activity": "follow_up_date", "pipeline": "stage"}


def apply_errors(form: forms.BaseForm, error: ApplicationError) -> None:
    """Show a service's per-field errors on the form (unknown fields above it)."""
    if not error.fields:
        form.add_error(None, str(error.message))
    for name, messages in error.fields.items():
        target = ALIASES.get(name, name)
        if target not in form.fields:
            target = None
        for message in messages:
            form.add_error(target, message)


def stage_choices(pipelines: list[Any]) -> list[tuple[str, Any]]:
    """Stages grouped by pipeline, for a select with optgroups."""
    groups: list[tuple[str, Any]] = []
    for pipeline in pipelines:
        stages = [(str(s.pk), s.name) for s in pipeline.stage_list]
        groups.append((pipeline.name, stages))
    return groups


def currency_choices(current: str | None = None) -> list[tuple[str, str]]:
    codes = list(COMMON_CURRENCIES)
    if current and current not in codes:
        codes.append(current)
    return [(c, c) for c in codes]


class OpportunityForm(BootstrapMixin, forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    customer = forms.IntegerField(widget=forms.HiddenInput, required=False)
    stage = forms.TypedChoiceField(label=_("Pipeline and stage"), coerce=int)
    amount = forms.DecimalField(
        label=_("Amount"), max_digits=20, decimal_places=4, min_value=0, initial=0
    )
    currency = forms.ChoiceField(label=_("Currency"))
    expected_close_date = forms.DateField(
        label=_("Expected close date"), required=False, widget=forms.DateInput(attrs=DATE_INPUT)
    )
    probability = forms.IntegerField(
        label=_("Probability (%)"),
        min_value=0,
        max_value=100,
        required=False,
        help_text=_("Leave as it is to take the stage's probability when the stage changes."),
    )
    forecast_category = forms.ChoiceField(
        label=_("Forecast category"), choices=ForecastCategory.choices
    )
    owner = forms.TypedChoiceField(label=_("Owner"), coerce=int)
    source = forms.ChoiceField(
        label=_("Source"), choices=[("", "—"), *Source.choices], required=False
    )
    next_step = forms.CharField(label=_("Next step"), max_length=300, required=False)
    follow_up_date = forms.DateField(
        label=_("Follow up on"),
        required=False,
        widget=forms.DateInput(attrs=DATE_INPUT),
        help_text=_("Plans a task with reminders for the owner on that day."),
    )
    follow_up_kind = forms.ChoiceField(
        label=_("Follow up by"),
        choices=[("task", _("Task")), ("call", _("Call"))],
        required=False,
    )
    lost_reason = forms.ChoiceField(
        label=_("Lost reason"), choices=[("", "—"), *LostReason.choices], required=False
    )
    lost_note = forms.CharField(label=_("Why it was lost"), max_length=500, required=False)
    lost_to = forms.TypedChoiceField(label=_("Lost to"), coerce=int, required=False)
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(
        self,
        *args: Any,
        stages: list[tuple[str, Any]],
        owners: list[tuple[int, str]],
        competitors: list[tuple[int, str]],
        currency: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["stage"].choices = stages  # type: ignore[attr-defined]
        self.fields["owner"].choices = owners  # type: ignore[attr-defined]
        self.fields["lost_to"].choices = [("", "—"), *competitors]  # type: ignore[attr-defined]
        self.fields["currency"].choices = currency_choices(currency)  # type: ignore[attr-defined]
        self.fields["name"].widget.attrs["dir"] = "auto"
        self.fields["next_step"].widget.attrs["dir"] = "auto"
        self.fields["lost_note"].widget.attrs["dir"] = "auto"


class QuickAddForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    customer = forms.IntegerField(label=_("Customer"))
    amount = forms.DecimalField(
        label=_("Amount"), max_digits=20, decimal_places=4, min_value=0, required=False
    )


class MoveForm(BootstrapMixin, forms.Form):
    stage = forms.TypedChoiceField(label=_("Move to"), coerce=int)
    lost_reason = forms.ChoiceField(
        label=_("Lost reason"), choices=[("", "—"), *LostReason.choices], required=False
    )
    lost_note = forms.CharField(label=_("Why it was lost"), max_length=500, required=False)
    lost_to = forms.TypedChoiceField(label=_("Lost to"), coerce=int, required=False)
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(
        self,
        *args: Any,
        stages: list[tuple[int, str]],
        competitors: list[tuple[int, str]],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["stage"].choices = stages  # type: ignore[attr-defined]
        self.fields["lost_to"].choices = [("", "—"), *competitors]  # type: ignore[attr-defined]


class LineForm(BootstrapMixin, forms.Form):
    product = forms.TypedChoiceField(label=_("Product"), coerce=int, required=False)
    description = forms.CharField(label=_("Description"), max_length=300, required=False)
    quantity = forms.DecimalField(
        label=_("Quantity"), max_digits=14, decimal_places=3, min_value=0, initial=1
    )
    unit_price = forms.DecimalField(
        label=_("Unit price"),
        max_digits=20,
        decimal_places=4,
        min_value=0,
        required=False,
        help_text=_("Empty: the price list's price."),
    )
    discount_percent = forms.DecimalField(
        label=_("Discount (%)"),
        max_digits=6,
        decimal_places=3,
        min_value=0,
        max_value=100,
        required=False,
    )

    def __init__(self, *args: Any, products: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["product"].choices = [("", "—"), *products]  # type: ignore[attr-defined]


class BidForm(BootstrapMixin, forms.Form):
    competitor = forms.TypedChoiceField(label=_("Competitor"), coerce=int)
    price = forms.DecimalField(
        label=_("Their price"), max_digits=20, decimal_places=4, min_value=0, required=False
    )
    currency = forms.ChoiceField(label=_("Currency"), required=False)
    notes = forms.CharField(label=_("Notes"), max_length=300, required=False)

    def __init__(
        self,
        *args: Any,
        competitors: list[tuple[int, str]],
        currency: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["competitor"].choices = competitors  # type: ignore[attr-defined]
        self.fields["currency"].choices = [("", "—"), *currency_choices(currency)]  # type: ignore[attr-defined]
