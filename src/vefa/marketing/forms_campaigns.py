"""Forms of the template, campaign, cost and settings pages. They only shape input; the
services validate and write."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from vefa.customers.choices import ConsentPurpose
from vefa.interactions.forms import DATETIME_FORMAT, BootstrapMixin, datetime_input
from vefa.marketing.choices import CampaignChannel, CampaignObjective
from vefa.marketing.services.campaigns import MAX_VARIANTS
from vefa.marketing.services.templates import MAX_BODY, MAX_PREHEADER, MAX_SUBJECT

LANGUAGES = list(settings.LANGUAGES)


class TemplateForm(BootstrapMixin, forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    channel = forms.ChoiceField(label=_("Channel"), choices=CampaignChannel.choices)
    default_language = forms.ChoiceField(
        label=_("Default language"),
        choices=LANGUAGES,
        help_text=_("Customers whose language has no version get this one."),
    )
    description = forms.CharField(
        label=_("Description"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 2, "dir": "auto"}),
    )
    version = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for code, _name in LANGUAGES:
            attrs = {"dir": "auto", "lang": code, "class": "form-control"}
            self.fields[f"subject_{code}"] = forms.CharField(
                label=_("Subject"),
                max_length=MAX_SUBJECT,
                required=False,
                widget=forms.TextInput(attrs=attrs),
            )
            self.fields[f"preheader_{code}"] = forms.CharField(
                label=_("Preview text"),
                max_length=MAX_PREHEADER,
                required=False,
                widget=forms.TextInput(attrs=attrs),
                help_text=_("Shown by mail programs after the subject."),
            )
            self.fields[f"body_html_{code}"] = forms.CharField(
                label=_("HTML body"),
                max_length=MAX_BODY,
                required=False,
                strip=False,
                widget=forms.Textarea(
                    attrs={
                        **attrs,
                        "rows": 10,
                        "dir": "ltr",
                        "class": "form-control font-monospace",
                    }
                ),
            )
            self.fields[f"body_text_{code}"] = forms.CharField(
                label=_("Plain-text body"),
                max_length=MAX_BODY,
                required=False,
                strip=False,
                widget=forms.Textarea(attrs={**attrs, "rows": 6}),
                help_text=_("Left empty, it is made from the HTML body."),
            )

    def languages(self) -> list[dict[str, Any]]:
        return [
            {
                "code": code,
                "name": name,
                "fields": [
                    self[f"{key}_{code}"]
                    for key in ("subject", "preheader", "body_html", "body_text")
                ],
            }
            for code, name in LANGUAGES
        ]

    def service_data(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "name": data["name"],
            "channel": data["channel"],
            "default_language": data["default_language"],
            "description": data.get("description", ""),
            "versions": {
                code: {
                    key: data.get(f"{key}_{code}", "")
                    for key in ("subject", "preheader", "body_html", "body_text")
                }
                for code, _name in LANGUAGES
            },
        }


class CampaignForm(BootstrapMixin, forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    description = forms.CharField(
        label=_("Description"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 2, "dir": "auto"}),
    )
    objective = forms.ChoiceField(label=_("Objective"), choices=CampaignObjective.choices)
    channel = forms.ChoiceField(label=_("Channel"), choices=CampaignChannel.choices)
    purpose = forms.ChoiceField(
        label=_("Consent purpose"),
        choices=ConsentPurpose.choices,
        initial=ConsentPurpose.MARKETING,
        help_text=_("Only customers who consented to this purpose on the channel receive it."),
    )
    segments = forms.TypedMultipleChoiceField(
        label=_("Audience"),
        coerce=int,
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 6}),
    )
    exclusions = forms.TypedMultipleChoiceField(
        label=_("Excluded segments"),
        coerce=int,
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 6}),
    )
    control_percent = forms.IntegerField(
        label=_("Control group (%)"),
        min_value=0,
        max_value=50,
        initial=10,
        help_text=_("A random share of the audience that receives nothing, to measure uplift."),
    )
    starts_at = forms.DateTimeField(
        label=_("Starts"),
        required=False,
        widget=datetime_input(),
        input_formats=[DATETIME_FORMAT],
    )
    ends_at = forms.DateTimeField(
        label=_("Ends"),
        required=False,
        widget=datetime_input(),
        input_formats=[DATETIME_FORMAT],
    )
    budget = forms.DecimalField(
        label=_("Budget"), required=False, min_value=0, max_digits=18, decimal_places=2
    )
    currency = forms.CharField(
        label=_("Currency"),
        max_length=3,
        initial="TRY",
        widget=forms.TextInput(attrs={"dir": "ltr"}),
    )
    attribution_days = forms.IntegerField(
        label=_("Conversion window (days)"),
        required=False,
        min_value=1,
        max_value=365,
        help_text=_("Empty: the window of the marketing settings."),
    )
    from_name = forms.CharField(label=_("Sender name"), required=False, max_length=100)
    from_email = forms.EmailField(label=_("Sender address"), required=False)
    reply_to = forms.EmailField(label=_("Reply-to address"), required=False)
    version = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(
        self,
        *args: Any,
        segment_choices: list[tuple[int, str]],
        template_choices: list[tuple[int, str]],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["segments"].choices = segment_choices  # type: ignore[attr-defined]
        self.fields["exclusions"].choices = segment_choices  # type: ignore[attr-defined]
        for i in range(MAX_VARIANTS):
            self.fields[f"variant_{i}_code"] = forms.CharField(
                label=_("Variant"),
                max_length=8,
                required=False,
                widget=forms.TextInput(attrs={"dir": "ltr", "class": "form-control"}),
            )
            self.fields[f"variant_{i}_template"] = forms.TypedChoiceField(
                label=_("Template"),
                coerce=int,
                required=False,
                empty_value=None,
                choices=[("", "—"), *template_choices],
            )
            self.fields[f"variant_{i}_subject"] = forms.CharField(
                label=_("Subject (instead of the template's)"),
                max_length=300,
                required=False,
                widget=forms.TextInput(attrs={"dir": "auto", "class": "form-control"}),
            )
            self.fields[f"variant_{i}_weight"] = forms.IntegerField(
                label=_("Share (%)"),
                required=False,
                min_value=1,
                max_value=100,
            )

    def variant_rows(self) -> list[list[forms.BoundField]]:
        return [
            [self[f"variant_{i}_{key}"] for key in ("code", "template", "subject", "weight")]
            for i in range(MAX_VARIANTS)
        ]

    def service_data(self) -> dict[str, Any]:
        data = self.cleaned_data
        variants = []
        for i in range(MAX_VARIANTS):
            code = (data.get(f"variant_{i}_code") or "").strip()
            template = data.get(f"variant_{i}_template")
            if not code and template is None:
                continue
            variants.append(
                {
                    "code": code,
                    "template": template,
                    "subject": data.get(f"variant_{i}_subject", ""),
                    "weight": data.get(f"variant_{i}_weight"),
                }
            )
        return {
            "name": data["name"],
            "description": data.get("description", ""),
            "objective": data["objective"],
            "channel": data["channel"],
            "purpose": data["purpose"],
            "segments": list(data.get("segments") or []),
            "exclusions": list(data.get("exclusions") or []),
            "control_percent": data["control_percent"],
            "starts_at": data.get("starts_at"),
            "ends_at": data.get("ends_at"),
            "budget": data.get("budget"),
            "currency": (data.get("currency") or "").upper(),
            "attribution_days": data.get("attribution_days"),
            "from_name": data.get("from_name", ""),
            "from_email": data.get("from_email", ""),
            "reply_to": data.get("reply_to", ""),
            "variants": variants,
        }


class CostForm(BootstrapMixin, forms.Form):
    incurred_on = forms.DateField(
        label=_("Date"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    description = forms.CharField(label=_("Description"), max_length=200)
    amount = forms.DecimalField(label=_("Amount"), min_value=0, max_digits=18, decimal_places=2)
    currency = forms.CharField(
        label=_("Currency"), max_length=3, widget=forms.TextInput(attrs={"dir": "ltr"})
    )

    def service_data(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "incurred_on": data["incurred_on"],
            "description": data["description"],
            "amount": data["amount"],
            "currency": (data.get("currency") or "").upper(),
        }


class SettingsForm(BootstrapMixin, forms.Form):
    cap_messages = forms.IntegerField(label=_("Messages per customer"), min_value=1, max_value=1000)
    cap_days = forms.IntegerField(label=_("In days"), min_value=1, max_value=365)
    quiet_hours_start = forms.TimeField(
        label=_("Quiet hours from"), widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M")
    )
    quiet_hours_end = forms.TimeField(
        label=_("Quiet hours until"), widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M")
    )
    time_zone = forms.CharField(
        label=_("Time zone"), max_length=64, widget=forms.TextInput(attrs={"dir": "ltr"})
    )
    from_name = forms.CharField(label=_("Sender name"), required=False, max_length=100)
    from_email = forms.EmailField(label=_("Sender address"), required=False)
    reply_to = forms.EmailField(label=_("Reply-to address"), required=False)
    postal_address = forms.CharField(
        label=_("Postal address in every message"),
        required=False,
        max_length=300,
        help_text=_("Required by anti-spam law in many countries."),
    )
    send_rate = forms.IntegerField(
        label=_("Messages per second at most"), min_value=1, max_value=100_000
    )
    attribution_days = forms.IntegerField(
        label=_("Conversion window (days)"), min_value=1, max_value=365
    )
    soft_bounce_limit = forms.IntegerField(
        label=_("Soft bounces before suppression"), min_value=1, max_value=100
    )
    track_opens = forms.BooleanField(label=_("Track opens where allowed"), required=False)
    version = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def service_data(self) -> dict[str, Any]:
        return {k: v for k, v in self.cleaned_data.items() if k != "version"}
