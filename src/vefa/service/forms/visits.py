"""The form that plans a service visit. It only shapes input; the service validates."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from vefa.interactions.forms import DATETIME_FORMAT, BootstrapMixin, datetime_input


class VisitForm(BootstrapMixin, forms.Form):
    start_at = forms.DateTimeField(
        label=_("Starts"), widget=datetime_input(), input_formats=[DATETIME_FORMAT]
    )
    end_at = forms.DateTimeField(
        label=_("Ends"), widget=datetime_input(), input_formats=[DATETIME_FORMAT]
    )
    location = forms.CharField(label=_("Location"), max_length=200, required=False)
    owner = forms.TypedChoiceField(label=_("Who"), coerce=int, required=False)
    description = forms.CharField(
        label=_("Description"), required=False, widget=forms.Textarea({"rows": 2})
    )

    def __init__(self, *args: Any, assignees: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["owner"].choices = assignees  # type: ignore[attr-defined]
