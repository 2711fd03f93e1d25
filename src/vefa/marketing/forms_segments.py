"""The segment form and the rule builder's rows.

The rules come as parallel lists ``rule_param`` / ``rule_value`` (one pair per row of the
builder); each row's value widget is the customer filter form's own field for the chosen
parameter, so the builder offers exactly the choices the customer list offers.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django import forms
from django.http import QueryDict
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext_lazy as _

from vefa.marketing.choices import RuleMatch, SegmentKind
from vefa.marketing.segment_rules import (
    EXCLUDED_PARAMS,
    MAX_RULES,
    MAX_VALUE,
    parameter_groups,
    rule_form,
)

if TYPE_CHECKING:
    from vefa.accounts.models import User


class SegmentForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    description = forms.CharField(
        label=_("Description"), required=False, max_length=5000, widget=forms.Textarea({"rows": 2})
    )
    kind = forms.ChoiceField(label=_("Kind"), choices=SegmentKind.choices)
    match = forms.ChoiceField(
        label=_("Customers matching"), choices=RuleMatch.choices, required=False
    )
    tags = forms.CharField(
        label=_("Tags"), required=False, max_length=500, help_text=_("Comma-separated.")
    )

    def __init__(self, *args: Any, editing: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if editing:
            self.fields["kind"].disabled = True
        for field in self.fields.values():
            css = "form-select" if isinstance(field.widget, forms.Select) else "form-control"
            field.widget.attrs.setdefault("class", css)

    def clean_tags(self) -> list[str]:
        raw = self.cleaned_data.get("tags") or ""
        return [" ".join(t.split()) for t in raw.split(",") if t.strip()]


@dataclass
class RuleRow:
    index: int
    param: str
    value: str
    widget: SafeString
    error: str = ""
    key: str = ""


def rules_from_post(data: QueryDict) -> list[dict[str, str]]:
    """The builder's rows as rules (rows without a parameter are left out)."""
    params = data.getlist("rule_param")[: MAX_RULES + 1]
    values = data.getlist("rule_value")[: MAX_RULES + 1]
    rules = []
    for index, param in enumerate(params):
        if not param:
            continue
        value = values[index] if index < len(values) else ""
        rules.append({"param": param[:100], "value": value[: MAX_VALUE + 1]})
    return rules


def rules_from_filters(query: Mapping[str, Any], *, actor: User) -> list[dict[str, str]]:
    """Rules from a customer list's query string ("Save as segment"): one per filter given."""
    form = rule_form({}, actor=actor)
    rules = []
    for name in form.fields:
        if name in EXCLUDED_PARAMS:
            continue
        raw = query.get(name)
        if isinstance(raw, str) and raw.strip() and len(raw) <= MAX_VALUE:
            rules.append({"param": name, "value": raw.strip()})
    return rules[:MAX_RULES]


def _value_widget(
    param: str, value: str, key: str, *, actor: User, choices: dict[str, list[Any]]
) -> SafeString:
    form = rule_form({}, actor=actor)
    field = form.fields.get(param)
    attrs = {
        "id": f"rule-value-{key}",
        "aria-label": str(_("Value")),
        "class": "form-control",
    }
    if param in choices:
        options = [("", str(_("Choose…"))), *[(str(k), str(v)) for k, v in choices[param]]]
        if value and all(key != value for key, _label in options):
            # Not among the offered choices (older, or beyond the list): kept, by its id.
            options.append((value, f"#{value}"))
        return forms.Select(choices=options, attrs={**attrs, "class": "form-select"}).render(
            "rule_value", value
        )
    if field is None:
        return forms.TextInput(attrs={**attrs, "maxlength": str(MAX_VALUE)}).render(
            "rule_value", value
        )
    widget = field.widget
    if isinstance(widget, forms.Select):
        attrs["class"] = "form-select"
    merged = {**widget.attrs, **attrs}
    return widget.render("rule_value", value, attrs=merged)


def rule_rows(
    rules: list[dict[str, str]],
    *,
    actor: User,
    errors: Mapping[str, list[str]] | None = None,
    choices: dict[str, list[Any]] | None = None,
    key: str = "",
) -> list[RuleRow]:
    """One builder row per rule, with its value widget and its error (if any)."""
    errors = errors or {}
    rows = []
    for index, rule in enumerate(rules, start=1):
        param = str(rule.get("param", ""))
        value = str(rule.get("value", ""))
        row_key = key or f"r{index}"
        rows.append(
            RuleRow(
                index=index,
                param=param,
                value=value,
                widget=_value_widget(param, value, row_key, actor=actor, choices=choices or {}),
                error=" ".join(errors.get(f"rules.{index}", [])),
                key=row_key,
            )
        )
    return rows


def param_select(selected: str, key: str) -> SafeString:
    """The parameter chooser of a row, grouped by the filter's sections."""
    groups = parameter_groups()
    options = [format_html('<option value="">{}</option>', _("Choose a filter…"))]
    for title, params in groups:
        items = [
            format_html(
                '<option value="{}"{}>{}</option>',
                name,
                " selected" if name == selected else "",
                label,
            )
            for name, label in params
        ]
        options.append(
            format_html('<optgroup label="{}">{}</optgroup>', title, SafeString("".join(items)))
        )
    return format_html(
        '<select class="form-select" name="rule_param" id="rule-param-{}" aria-label="{}">{}'
        "</select>",
        key,
        _("Filter"),
        SafeString("".join(options)),
    )
