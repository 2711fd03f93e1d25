"""Forms of the integrations pages. They only shape input; the services validate and write."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from vefa.integrations.catalogue import event_choices
from vefa.integrations.choices import Operator, SourceKind
from vefa.interactions.forms import BootstrapMixin

RULE_ROWS = 5


class WebhookForm(BootstrapMixin, forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)
    url = forms.CharField(
        label=_("URL"),
        max_length=500,
        widget=forms.TextInput(attrs={"dir": "ltr", "inputmode": "url"}),
        help_text=_("Vefa POSTs signed JSON here. Private and local addresses are refused."),
    )
    description = forms.CharField(label=_("Description"), max_length=300, required=False)
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)
    version = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        events = [("", "—"), *event_choices()]
        operators = [("", "—"), *Operator.choices]
        self.rule_rows: list[list[forms.BoundField]] = []
        for i in range(RULE_ROWS):
            self.fields[f"rule_{i}_event"] = forms.ChoiceField(
                label=_("Event"), choices=events, required=False
            )
            self.fields[f"rule_{i}_field"] = forms.CharField(
                label=_("Field"),
                max_length=60,
                required=False,
                widget=forms.TextInput(attrs={"dir": "ltr"}),
            )
            self.fields[f"rule_{i}_operator"] = forms.ChoiceField(
                label=_("Operator"), choices=operators, required=False
            )
            self.fields[f"rule_{i}_value"] = forms.CharField(
                label=_("Value"), max_length=200, required=False
            )
        for i in range(RULE_ROWS):
            for part in ("event", "operator"):
                self.fields[f"rule_{i}_{part}"].widget.attrs["class"] = "form-select form-select-sm"
            for part in ("field", "value"):
                self.fields[f"rule_{i}_{part}"].widget.attrs["class"] = (
                    "form-control form-control-sm"
                )
            self.rule_rows.append(
                [self[f"rule_{i}_{part}"] for part in ("event", "field", "operator", "value")]
            )

    def service_data(self) -> dict[str, Any]:
        data = self.cleaned_data
        rules = []
        for i in range(RULE_ROWS):
            pair = data.get(f"rule_{i}_event") or ""
            if not pair:
                continue
            entity, _dot, event = pair.partition(".")
            rules.append(
                {
                    "entity": entity,
                    "event": event,
                    "condition_field": data.get(f"rule_{i}_field") or "",
                    "condition_operator": data.get(f"rule_{i}_operator") or "",
                    "condition_value": data.get(f"rule_{i}_value") or "",
                }
            )
        return {
            "name": data["name"],
            "url": data["url"],
            "description": data.get("description") or "",
            "is_active": bool(data.get("is_active")),
            "rules": rules,
        }

    @staticmethod
    def initial_for(webhook: Any) -> dict[str, Any]:
        initial: dict[str, Any] = {
            "name": webhook.name,
            "url": webhook.url,
            "description": webhook.description,
            "is_active": webhook.is_active,
            "version": webhook.version,
        }
        for i, rule in enumerate(list(webhook.rules.all())[:RULE_ROWS]):
            initial[f"rule_{i}_event"] = f"{rule.entity}.{rule.event}"
            initial[f"rule_{i}_field"] = rule.condition_field
            initial[f"rule_{i}_operator"] = rule.condition_operator
            initial[f"rule_{i}_value"] = rule.condition_value
        return initial


class OrderSourceForm(BootstrapMixin, forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)
    key = forms.SlugField(
        label=_("Key"),
        max_length=40,
        widget=forms.TextInput(attrs={"dir": "ltr"}),
        help_text=_("Part of the address the shop posts to, e.g. web-shop."),
    )
    kind = forms.ChoiceField(label=_("Kind"), choices=SourceKind.choices)
    default_currency = forms.CharField(
        label=_("Default currency"),
        max_length=3,
        initial="TRY",
        widget=forms.TextInput(attrs={"dir": "ltr"}),
    )
    price_list = forms.TypedChoiceField(label=_("Price list"), coerce=int, required=False)
    owner = forms.TypedChoiceField(label=_("Owner"), coerce=int)
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)
    version = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(
        self,
        *args: Any,
        owners: list[tuple[int, str]],
        price_lists: list[tuple[int, str]],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["owner"].choices = owners  # type: ignore[attr-defined]
        self.fields["price_list"].choices = [("", "—"), *price_lists]  # type: ignore[attr-defined]

    def service_data(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        data.pop("version", None)
        if data.get("price_list") in ("", None):
            data["price_list"] = None
        return data


class VCardImportForm(BootstrapMixin, forms.Form):
    file = forms.FileField(
        label=_("vCard file (.vcf)"),
        widget=forms.ClearableFileInput(
            attrs={"class": "form-control", "accept": ".vcf,text/vcard"}
        ),
    )
