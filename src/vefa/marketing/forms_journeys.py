"""Forms of the journey pages: the journey with its trigger settings, and a step."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from vefa.customers.choices import ConsentPurpose
from vefa.interactions.forms import BootstrapMixin
from vefa.marketing.choices import JourneyAction, JourneyTrigger


class JourneyForm(BootstrapMixin, forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    description = forms.CharField(
        label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    trigger = forms.ChoiceField(label=_("Trigger"), choices=JourneyTrigger.choices)
    purpose = forms.ChoiceField(
        label=_("Consent purpose"),
        choices=ConsentPurpose.choices,
        initial=ConsentPurpose.MARKETING,
    )
    days_before = forms.IntegerField(
        label=_("Days before the birthday"),
        required=False,
        min_value=0,
        max_value=60,
        help_text=_("Birthday journeys only."),
    )
    segment = forms.TypedChoiceField(
        label=_("Segment the customer enters"),
        required=False,
        coerce=int,
        empty_value=None,
        help_text=_("Win-back journeys: e.g. a segment of declining customers or a low P(alive)."),
    )
    cooldown_days = forms.IntegerField(
        label=_("Enrol the same customer again after (days)"),
        required=False,
        min_value=1,
        max_value=3650,
        initial=90,
    )
    category = forms.TypedChoiceField(
        label=_("Only purchases in the category"),
        required=False,
        coerce=int,
        empty_value=None,
        help_text=_("Purchase journeys only; empty for any purchase."),
    )

    def __init__(
        self,
        *args: Any,
        segments: list[tuple[int, str]] | None = None,
        categories: list[tuple[int, str]] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        segment_field = self.fields["segment"]
        category_field = self.fields["category"]
        assert isinstance(segment_field, forms.ChoiceField)
        assert isinstance(category_field, forms.ChoiceField)
        segment_field.choices = [("", "—"), *(segments or [])]
        category_field.choices = [("", _("Any category")), *(categories or [])]

    def trigger_params(self) -> dict[str, Any]:
        data = self.cleaned_data
        trigger = data.get("trigger")
        if trigger == JourneyTrigger.BIRTHDAY:
            return {"days_before": data.get("days_before") or 0}
        if trigger == JourneyTrigger.DECLINING:
            return {
                "segment": data.get("segment"),
                "cooldown_days": data.get("cooldown_days") or 90,
            }
        if trigger == JourneyTrigger.PURCHASE and data.get("category"):
            return {"category": data["category"]}
        return {}


class StepForm(BootstrapMixin, forms.Form):
    action = forms.ChoiceField(label=_("Action"), choices=JourneyAction.choices)
    wait_days = forms.IntegerField(
        label=_("Wait (days)"), min_value=0, max_value=3650, initial=0, required=False
    )
    points = forms.IntegerField(label=_("Points"), required=False, min_value=1, max_value=1_000_000)
    task_subject = forms.CharField(label=_("Call about"), required=False, max_length=300)


class StepEditForm(BootstrapMixin, forms.Form):
    wait_days = forms.IntegerField(
        label=_("Wait (days)"), min_value=0, max_value=3650, initial=0, required=False
    )
    points = forms.IntegerField(label=_("Points"), required=False, min_value=1, max_value=1_000_000)
    task_subject = forms.CharField(label=_("Call about"), required=False, max_length=300)
