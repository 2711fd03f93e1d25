"""Forms of the interactions pages. They only shape input; the services validate and write."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from vefa.common.errors import ApplicationError
from vefa.interactions.choices import (
    ActivityKind,
    Direction,
    InitiatedBy,
    InteractionChannel,
    InteractionKind,
    InteractionStatus,
    Priority,
)

DATETIME_FORMAT = "%Y-%m-%dT%H:%M"

REMINDER_CHOICES = [
    (5, _("5 minutes before")),
    (15, _("15 minutes before")),
    (30, _("30 minutes before")),
    (60, _("1 hour before")),
    (120, _("2 hours before")),
    (1440, _("1 day before")),
    (2880, _("2 days before")),
    (10080, _("1 week before")),
]

# Service field names that a form shows under another name.
FIELD_ALIASES = {
    "customer": "customer_id",
    "owner_id": "owner",
    "reminder_minutes": "reminders",
    "attendee_user_ids": None,
    "attendee_emails": "attendee_emails",
}


def datetime_input() -> forms.DateTimeInput:
    return forms.DateTimeInput(attrs={"type": "datetime-local"}, format=DATETIME_FORMAT)


class BootstrapMixin:
    """Bootstrap classes on every widget, so templates stay plain."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():  # type: ignore[attr-defined]
            widget = field.widget
            if isinstance(widget, forms.CheckboxInput):
                widget.attrs.setdefault("class", "form-check-input")
            elif isinstance(widget, forms.CheckboxSelectMultiple):
                continue
            elif isinstance(widget, forms.Select):
                widget.attrs.setdefault("class", "form-select")
            else:
                widget.attrs.setdefault("class", "form-control")


def apply_errors(form: forms.BaseForm, error: ApplicationError) -> None:
    """Show a service's per-field errors on the form (unknown fields above it)."""
    if not error.fields:
        form.add_error(None, str(error.message))
    for name, messages in error.fields.items():
        target = FIELD_ALIASES.get(name, name)
        if target not in form.fields:
            target = None
        for message in messages:
            form.add_error(target, message)


class InteractionForm(BootstrapMixin, forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=InteractionKind.choices)
    subject = forms.CharField(label=_("Subject"), max_length=300)
    occurred_at = forms.DateTimeField(
        label=_("Time"), required=False, widget=datetime_input(), input_formats=[DATETIME_FORMAT]
    )
    direction = forms.ChoiceField(
        label=_("Direction"), choices=Direction.choices, initial=Direction.OUTBOUND
    )
    initiated_by = forms.ChoiceField(
        label=_("Initiated by"), choices=InitiatedBy.choices, initial=InitiatedBy.COMPANY
    )
    channel = forms.ChoiceField(
        label=_("Channel"), choices=[("", "—"), *InteractionChannel.choices], required=False
    )
    body = forms.CharField(label=_("Details"), required=False, widget=forms.Textarea({"rows": 4}))
    outcome = forms.CharField(label=_("Outcome"), max_length=300, required=False)
    status = forms.ChoiceField(
        label=_("Status"), choices=InteractionStatus.choices, initial=InteractionStatus.DONE
    )
    duration_minutes = forms.IntegerField(
        label=_("Duration (minutes)"), required=False, min_value=0, max_value=100_000
    )
    amount = forms.DecimalField(label=_("Amount"), required=False, max_digits=18, decimal_places=2)
    currency = forms.CharField(label=_("Currency"), max_length=3, required=False)
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def service_data(self) -> dict[str, Any]:
        data = {k: v for k, v in self.cleaned_data.items() if k != "version"}
        data["currency"] = data.get("currency") or ""
        if data.get("occurred_at") is None:
            # Left empty: now for a new interaction, unchanged for an edited one.
            data.pop("occurred_at", None)
        return data


class QuickInteractionForm(BootstrapMixin, forms.Form):
    """The short form of the customer page: what, when, how it went."""

    kind = forms.ChoiceField(
        label=_("Kind"), choices=InteractionKind.choices, initial=InteractionKind.CALL
    )
    direction = forms.ChoiceField(
        label=_("Direction"), choices=Direction.choices, initial=Direction.OUTBOUND
    )
    subject = forms.CharField(label=_("Subject"), max_length=300)
    body = forms.CharField(label=_("Details"), required=False, widget=forms.Textarea({"rows": 2}))
    outcome = forms.CharField(label=_("Outcome"), max_length=300, required=False)
    occurred_at = forms.DateTimeField(
        label=_("Time"), required=False, widget=datetime_input(), input_formats=[DATETIME_FORMAT]
    )


class ActivityForm(BootstrapMixin, forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=ActivityKind.choices)
    subject = forms.CharField(label=_("Subject"), max_length=300)
    due_at = forms.DateTimeField(
        label=_("Due"),
        required=False,
        widget=datetime_input(),
        input_formats=[DATETIME_FORMAT],
        help_text=_("For tasks and calls."),
    )
    start_at = forms.DateTimeField(
        label=_("Starts"),
        required=False,
        widget=datetime_input(),
        input_formats=[DATETIME_FORMAT],
        help_text=_("For meetings and appointments."),
    )
    end_at = forms.DateTimeField(
        label=_("Ends"), required=False, widget=datetime_input(), input_formats=[DATETIME_FORMAT]
    )
    all_day = forms.BooleanField(label=_("All day"), required=False)
    location = forms.CharField(label=_("Location"), max_length=200, required=False)
    description = forms.CharField(
        label=_("Description"), required=False, widget=forms.Textarea({"rows": 3})
    )
    priority = forms.ChoiceField(
        label=_("Priority"), choices=Priority.choices, initial=Priority.NORMAL
    )
    owner = forms.TypedChoiceField(label=_("Assigned to"), coerce=int, required=False)
    customer_id = forms.IntegerField(widget=forms.HiddenInput, required=False)
    reminders = forms.TypedMultipleChoiceField(
        label=_("Reminders"),
        choices=REMINDER_CHOICES,
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    attendee_emails = forms.CharField(
        label=_("Guests' e-mail addresses"),
        required=False,
        help_text=_("Separate addresses with commas."),
    )
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, assignees: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["owner"].choices = assignees  # type: ignore[attr-defined]

    def emails(self) -> list[str]:
        raw = self.cleaned_data.get("attendee_emails") or ""
        return [p.strip() for p in raw.replace(";", ",").split(",") if p.strip()]


class QuickActivityForm(BootstrapMixin, forms.Form):
    kind = forms.ChoiceField(
        label=_("Kind"), choices=ActivityKind.choices, initial=ActivityKind.CALL
    )
    subject = forms.CharField(label=_("Subject"), max_length=300)
    when = forms.DateTimeField(
        label=_("When"), widget=datetime_input(), input_formats=[DATETIME_FORMAT]
    )
    duration = forms.IntegerField(
        label=_("Length (minutes)"),
        required=False,
        min_value=5,
        max_value=24 * 60,
        initial=60,
        help_text=_("For meetings and appointments."),
    )


class CompleteForm(BootstrapMixin, forms.Form):
    outcome = forms.CharField(label=_("Outcome"), max_length=300, required=False)
    notes = forms.CharField(label=_("Notes"), required=False, widget=forms.Textarea({"rows": 3}))
    duration_minutes = forms.IntegerField(
        label=_("Duration (minutes)"), required=False, min_value=1, max_value=24 * 60
    )
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)


class TimeEntryForm(BootstrapMixin, forms.Form):
    minutes = forms.IntegerField(label=_("Minutes"), min_value=1, max_value=24 * 60)
    started_at = forms.DateTimeField(
        label=_("Started"), required=False, widget=datetime_input(), input_formats=[DATETIME_FORMAT]
    )
    note = forms.CharField(label=_("Note"), max_length=300, required=False)
    billable = forms.BooleanField(label=_("Billable"), required=False)


class AttachmentForm(forms.Form):
    file = forms.FileField(
        label=_("File"), widget=forms.ClearableFileInput({"class": "form-control"})
    )
