"""Forms of the ticket pages. They only shape input; the services validate and write."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext_lazy as _

from vefa.common.errors import ApplicationError
from vefa.interactions.forms import BootstrapMixin
from vefa.service.choices import TicketChannel, TicketPriority, TicketType

# The services' field names that a form shows under another name.
ALIASES = {"owner_id": "owner", "queue_id": "queue", "target": "target"}


def apply_service_errors(form: forms.BaseForm, error: ApplicationError) -> None:
    """Show a service's per-field errors on the form (unknown fields above it)."""
    if not error.fields:
        form.add_error(None, str(error.message))
    for name, messages in error.fields.items():
        target: str | None = ALIASES.get(name, name)
        if target not in form.fields:
            target = None
        for message in messages:
            form.add_error(target, message)


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files from one input; the upload rules are the services'."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("widget", MultipleFileInput())
        kwargs.setdefault("required", False)
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> list[UploadedFile]:
        if not data:
            return []
        items = data if isinstance(data, list | tuple) else [data]
        return [super(MultipleFileField, self).clean(item, initial) for item in items]


def _text_area(rows: int) -> forms.Textarea:
    return forms.Textarea(attrs={"rows": rows, "dir": "auto"})


class TicketForm(BootstrapMixin, forms.Form):
    subject = forms.CharField(
        label=_("Subject"), max_length=300, widget=forms.TextInput(attrs={"dir": "auto"})
    )
    description = forms.CharField(
        label=_("Description"), required=False, widget=_text_area(6), max_length=200_000
    )
    requester_name = forms.CharField(
        label=_("Requester name"),
        required=False,
        max_length=200,
        widget=forms.TextInput(attrs={"dir": "auto"}),
    )
    requester_email = forms.EmailField(
        label=_("Requester e-mail"),
        required=False,
        max_length=254,
        widget=forms.EmailInput(attrs={"dir": "ltr"}),
    )
    type = forms.ChoiceField(label=_("Type"), choices=TicketType.choices)
    channel = forms.ChoiceField(label=_("Channel"), choices=TicketChannel.choices)
    priority = forms.ChoiceField(label=_("Priority"), choices=TicketPriority.choices)
    category = forms.TypedChoiceField(label=_("Category"), coerce=int, required=False)
    queue = forms.TypedChoiceField(
        label=_("Queue"),
        coerce=int,
        required=False,
        help_text=_("Leave empty to route the ticket by the assignment rules."),
    )
    order = forms.IntegerField(label=_("Order"), required=False, min_value=1)
    attachments = MultipleFileField(label=_("Files"))

    def __init__(
        self,
        *args: Any,
        categories: list[tuple[int, str]],
        queues: list[tuple[int, str]],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["category"].choices = [("", "—"), *categories]  # type: ignore[attr-defined]
        self.fields["queue"].choices = [("", "—"), *queues]  # type: ignore[attr-defined]

    def service_data(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "subject": data["subject"],
            "description": data["description"],
            "requester_name": data["requester_name"],
            "requester_email": data["requester_email"],
            "type": data["type"],
            "channel": data["channel"],
            "priority": data["priority"],
            "category": data.get("category") or None,
            "queue": data.get("queue") or None,
            "order": data.get("order"),
        }


class TicketDetailsForm(BootstrapMixin, forms.Form):
    """The details an agent corrects on the ticket page."""

    subject = forms.CharField(
        label=_("Subject"), max_length=300, widget=forms.TextInput(attrs={"dir": "auto"})
    )
    type = forms.ChoiceField(label=_("Type"), choices=TicketType.choices)
    channel = forms.ChoiceField(label=_("Channel"), choices=TicketChannel.choices)
    priority = forms.ChoiceField(label=_("Priority"), choices=TicketPriority.choices)
    category = forms.TypedChoiceField(label=_("Category"), coerce=int, required=False)
    version = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, categories: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["category"].choices = [("", "—"), *categories]  # type: ignore[attr-defined]

    def service_data(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "subject": data["subject"],
            "type": data["type"],
            "channel": data["channel"],
            "priority": data["priority"],
            "category": data.get("category") or None,
        }


class MessageForm(BootstrapMixin, forms.Form):
    """A public reply or an internal note."""

    body = forms.CharField(label=_("Message"), widget=_text_area(4), max_length=200_000)
    attachments = MultipleFileField(label=_("Files"))
    send_email = forms.BooleanField(label=_("Send by e-mail"), required=False, initial=True)


class AssignForm(BootstrapMixin, forms.Form):
    owner = forms.TypedChoiceField(label=_("Owner"), coerce=int, required=False)
    queue = forms.TypedChoiceField(label=_("Queue"), coerce=int, required=False)
    version = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(
        self,
        *args: Any,
        owners: list[tuple[int, str]],
        queues: list[tuple[int, str]],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["owner"].choices = [("", _("Picked by the queue")), *owners]  # type: ignore[attr-defined]
        self.fields["queue"].choices = [("", _("Keep the queue")), *queues]  # type: ignore[attr-defined]


class MergeForm(BootstrapMixin, forms.Form):
    target = forms.CharField(
        label=_("Merge into ticket number"),
        max_length=20,
        widget=forms.TextInput(attrs={"dir": "ltr", "placeholder": "T-2026-000123"}),
    )
