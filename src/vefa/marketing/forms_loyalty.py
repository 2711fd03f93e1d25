"""Forms of the loyalty pages: the programme, an earning rule, a tier, redeeming, adjusting,
recording a referral."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from vefa.interactions.forms import BootstrapMixin
from vefa.marketing.choices import EarningRuleKind
from vefa.marketing.services.loyalty import LADDER_STEPS, ladder_step_labels


class ProgramForm(BootstrapMixin, forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    currency = forms.CharField(label=_("Currency"), max_length=3, min_length=3, initial="TRY")
    point_value = forms.DecimalField(
        label=_("Value of a point"), min_value=0, max_digits=12, decimal_places=4, initial=0
    )
    min_redeem = forms.IntegerField(label=_("Fewest points to redeem"), min_value=0, initial=0)
    expiry_months = forms.IntegerField(
        label=_("Points expire after (months)"),
        required=False,
        min_value=1,
        max_value=120,
        help_text=_("Empty: points never expire."),
    )
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)

    def clean_currency(self) -> str:
        return str(self.cleaned_data["currency"]).upper()


class EarningRuleForm(BootstrapMixin, forms.Form):
    kind = forms.ChoiceField(label=_("Earned for"), choices=EarningRuleKind.choices)
    points = forms.IntegerField(label=_("Points"), min_value=1, max_value=10_000_000)
    per_amount = forms.DecimalField(
        label=_("Per amount spent"),
        required=False,
        min_value=0,
        max_digits=18,
        decimal_places=2,
        help_text=_("Spending rules: the points are earned per this amount."),
    )
    category = forms.TypedChoiceField(
        label=_("Only for the category"), required=False, coerce=int, empty_value=None
    )

    def __init__(self, *args: Any, categories: list[tuple[int, str]] | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        field = self.fields["category"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [("", _("Any category")), *(categories or [])]


class TierForm(BootstrapMixin, forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)
    ladder_step = forms.ChoiceField(label=_("Ladder step"), choices=())
    multiplier = forms.DecimalField(
        label=_("Points multiplier"), min_value=0, max_value=100, decimal_places=2, initial=1
    )
    position = forms.IntegerField(label=_("Order"), min_value=0, max_value=1000, initial=0)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["ladder_step"]
        assert isinstance(field, forms.ChoiceField)
        labels = ladder_step_labels()
        field.choices = [(step, labels[step]) for step in LADDER_STEPS]


class PointsForm(BootstrapMixin, forms.Form):
    points = forms.IntegerField(label=_("Points"), min_value=-10_000_000, max_value=10_000_000)
    reason = forms.CharField(label=_("Reason"), max_length=300)


class ReferralForm(BootstrapMixin, forms.Form):
    code = forms.CharField(label=_("Referral code of the customer who brought them"), max_length=32)
