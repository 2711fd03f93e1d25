"""Forms of the knowledge-base pages: one title and text per language. They only shape
input; the services validate and write."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from vefa.interactions.forms import BootstrapMixin
from vefa.service.choices import ArticleStatus, ArticleVisibility
from vefa.service.services.knowledge import MAX_BODY, MAX_TITLE


class ArticleForm(BootstrapMixin, forms.Form):
    slug = forms.CharField(
        label=_("Address"),
        max_length=120,
        widget=forms.TextInput(attrs={"dir": "ltr"}),
        help_text=_("Lower-case letters, digits and hyphens, e.g. reset-password."),
    )
    visibility = forms.ChoiceField(
        label=_("Visibility"),
        choices=ArticleVisibility.choices,
        initial=ArticleVisibility.INTERNAL,
        help_text=_("Public articles are also shown in the customer portal."),
    )
    status = forms.ChoiceField(
        label=_("Status"), choices=ArticleStatus.choices, initial=ArticleStatus.DRAFT
    )
    category = forms.TypedChoiceField(label=_("Category"), coerce=int, required=False)
    version = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, categories: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["category"].choices = [("", "—"), *categories]  # type: ignore[attr-defined]
        for code, _name in settings.LANGUAGES:
            self.fields[f"title_{code}"] = forms.CharField(
                label=_("Title"),
                max_length=MAX_TITLE,
                required=False,
                widget=forms.TextInput(
                    attrs={"dir": "auto", "lang": code, "class": "form-control"}
                ),
            )
            self.fields[f"body_{code}"] = forms.CharField(
                label=_("Text"),
                max_length=MAX_BODY,
                required=False,
                strip=False,
                widget=forms.Textarea(
                    attrs={"rows": 10, "dir": "auto", "lang": code, "class": "form-control"}
                ),
                help_text=_("Plain text: a blank line starts a new paragraph."),
            )

    def languages(self) -> list[dict[str, Any]]:
        """The title and text fields of each language, for the template."""
        return [
            {
                "code": code,
                "name": name,
                "title": self[f"title_{code}"],
                "body": self[f"body_{code}"],
            }
            for code, name in settings.LANGUAGES
        ]

    def service_data(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "slug": data["slug"],
            "visibility": data["visibility"],
            "status": data["status"],
            "category": data.get("category") or None,
            "translations": {
                code: {
                    "title": data.get(f"title_{code}", ""),
                    "body": data.get(f"body_{code}", ""),
                }
                for code, _name in settings.LANGUAGES
            },
        }
