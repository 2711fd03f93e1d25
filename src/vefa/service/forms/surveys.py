"""Forms of the survey pages. They only shape input; the services validate and write."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from vefa.interactions.forms import BootstrapMixin
from vefa.service.choices import SurveyKind
from vefa.service.services.surveys import MAX_AUDIENCE, MAX_COMMENT


class SurveyForm(BootstrapMixin, forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=SurveyKind.choices, initial=SurveyKind.NPS)
    name = forms.CharField(
        label=_("Name"), max_length=200, widget=forms.TextInput(attrs={"dir": "auto"})
    )
    question = forms.CharField(
        label=_("Question"),
        max_length=500,
        required=False,
        widget=forms.TextInput(attrs={"dir": "auto"}),
        help_text=_("Leave empty for the standard question of the kind."),
    )
    audience = forms.CharField(
        label=_("Audience"),
        max_length=MAX_AUDIENCE,
        required=False,
        widget=forms.TextInput(attrs={"dir": "ltr"}),
        help_text=_(
            "The filters of the customer list: filter the list, then copy the part of its "
            "address after the question mark, e.g. lifecycle_stage=customer&tag=vip."
        ),
    )


class AnswerForm(forms.Form):
    """The public answer page. The score is text so a wrong value keeps the comment."""

    score = forms.CharField(label=_("Score"), max_length=10, required=False)
    comment = forms.CharField(
        label=_("Comment (optional)"),
        required=False,
        max_length=MAX_COMMENT,
        widget=forms.Textarea(attrs={"rows": 4, "dir": "auto", "class": "form-control"}),
    )
