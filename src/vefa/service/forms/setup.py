"""Forms of the service settings page. They shape the input; the setup services validate it
(one set of rules for the page and the API) and their errors are shown on the form."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from vefa.accounts.models import Team, User
from vefa.common.errors import ApplicationError
from vefa.interactions.forms import BootstrapMixin
from vefa.service.choices import AssignmentMethod, EscalationAction, TicketPriority, TicketType
from vefa.service.models import BusinessCalendar, Category, Queue
from vefa.service.services.setup import VALUE_CLASSES

MAX_CHOICES = 500
NONE = ("", "—")
WEEKDAY_LABELS = [
    _("Monday"),
    _("Tuesday"),
    _("Wednesday"),
    _("Thursday"),
    _("Friday"),
    _("Saturday"),
    _("Sunday"),
]


def _refs(queryset: Any, label: str = "name") -> list[tuple[Any, str]]:
    return [NONE, *((str(o.pk), str(getattr(o, label))) for o in queryset[:MAX_CHOICES])]


def _users() -> list[tuple[Any, str]]:
    return _refs(User.objects.filter(is_active=True).order_by("full_name", "pk"), "full_name")


def _pk(value: Any) -> int | None:
    return int(value) if value not in (None, "") else None


class SetupForm(BootstrapMixin, forms.Form):
    """A section's form: ``to_data`` gives the service's input, ``initial_of`` the reverse."""

    references: tuple[str, ...] = ()

    def to_data(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        for name in self.references:
            if name in data:
                data[name] = _pk(data[name])
        return data

    @classmethod
    def initial_of(cls, obj: Any) -> dict[str, Any]:
        initial: dict[str, Any] = {}
        for name in cls.base_fields:
            if name in cls.references:
                pk = getattr(obj, f"{name}_id", None)
                initial[name] = str(pk) if pk is not None else ""
            else:
                initial[name] = getattr(obj, name, None)
        return initial

    def choices(self, name: str, choices: list[tuple[Any, str]]) -> None:
        field = self.fields[name]
        assert isinstance(field, forms.ChoiceField)
        field.choices = choices

    def apply_errors(self, error: ApplicationError) -> None:
        """A service's refusal on the fields it names (others above the form)."""
        if not error.fields:
            self.add_error(None, str(error.message))
        for name, messages in error.fields.items():
            target = name if name in self.fields else None
            for message in messages:
                self.add_error(target, message)


class QueueForm(SetupForm):
    references = ("team", "calendar")
    name = forms.CharField(label=_("Name"), max_length=100)
    team = forms.ChoiceField(label=_("Team"), required=False)
    calendar = forms.ChoiceField(label=_("Business calendar"), required=False)
    assignment = forms.ChoiceField(label=_("Assignment"), choices=AssignmentMethod.choices)
    email_address = forms.CharField(label=_("E-mail address"), max_length=254, required=False)
    is_default = forms.BooleanField(label=_("Default queue"), required=False)
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.choices("team", _refs(Team.objects.order_by("name")))
        self.choices("calendar", _refs(BusinessCalendar.objects.order_by("name")))


class CategoryForm(SetupForm):
    references = ("parent", "queue")
    name = forms.CharField(label=_("Name"), max_length=100)
    parent = forms.ChoiceField(label=_("Parent"), required=False)
    queue = forms.ChoiceField(label=_("Queue"), required=False)
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.choices("parent", _refs(Category.objects.order_by("path", "pk"), "path"))
        self.choices("queue", _refs(Queue.objects.order_by("name")))


class CalendarForm(SetupForm):
    """Working hours as text per weekday: "09:00-12:30, 13:30-18:00"; all empty = 24/7."""

    name = forms.CharField(label=_("Name"), max_length=100)
    time_zone = forms.CharField(
        label=_("Time zone"), max_length=64, initial="Europe/Istanbul", help_text="Europe/Istanbul"
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for day, label in enumerate(WEEKDAY_LABELS, start=1):
            self.fields[f"day_{day}"] = forms.CharField(
                label=label,
                required=False,
                max_length=200,
                widget=forms.TextInput(
                    attrs={"class": "form-control", "placeholder": "09:00-18:00", "dir": "ltr"}
                ),
            )

    def to_data(self) -> dict[str, Any]:
        data = {"name": self.cleaned_data["name"], "time_zone": self.cleaned_data["time_zone"]}
        hours: dict[str, list[list[str]]] = {}
        for day in range(1, 8):
            text = self.cleaned_data.get(f"day_{day}") or ""
            intervals = [part.strip() for part in text.split(",") if part.strip()]
            if intervals:
                hours[str(day)] = [[p.strip() for p in part.split("-")] for part in intervals]
        data["hours"] = hours
        return data

    @classmethod
    def initial_of(cls, obj: Any) -> dict[str, Any]:
        initial: dict[str, Any] = {"name": obj.name, "time_zone": obj.time_zone}
        hours = obj.hours if isinstance(obj.hours, dict) else {}
        for day in range(1, 8):
            intervals = hours.get(str(day)) or []
            initial[f"day_{day}"] = ", ".join("-".join(pair) for pair in intervals)
        return initial

    def day_fields(self) -> list[Any]:
        return [self[f"day_{day}"] for day in range(1, 8)]


class HolidayForm(BootstrapMixin, forms.Form):
    date = forms.DateField(label=_("Date"), widget=forms.DateInput(attrs={"type": "date"}))
    name = forms.CharField(label=_("Name"), max_length=100)


class PolicyForm(SetupForm):
    references = ("escalate_to",)
    name = forms.CharField(label=_("Name"), max_length=100)
    priority = forms.ChoiceField(
        label=_("Priority"), required=False, choices=[("", _("Any")), *TicketPriority.choices]
    )
    value_class = forms.ChoiceField(
        label=_("Value class"),
        required=False,
        choices=[("", _("Any")), *((c, c) for c in VALUE_CLASSES if c)],
    )
    first_response_minutes = forms.IntegerField(
        label=_("First response within (business minutes)"), min_value=1
    )
    resolution_minutes = forms.IntegerField(
        label=_("Resolution within (business minutes)"), min_value=1
    )
    warn_at_percent = forms.IntegerField(
        label=_("Warn at (% of the target)"), min_value=1, max_value=99, initial=80
    )
    escalation = forms.ChoiceField(label=_("On breach"), choices=EscalationAction.choices)
    escalate_to = forms.ChoiceField(label=_("Escalate to"), required=False)
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.choices("escalate_to", _users())


class RuleForm(SetupForm):
    references = ("category", "queue", "assignee")
    position = forms.IntegerField(label=_("Order"), min_value=0, initial=0)
    name = forms.CharField(label=_("Name"), max_length=100)
    category = forms.ChoiceField(label=_("Category"), required=False)
    ticket_type = forms.ChoiceField(
        label=_("Type"), required=False, choices=[("", _("Any")), *TicketType.choices]
    )
    value_class = forms.ChoiceField(
        label=_("Value class"),
        required=False,
        choices=[("", _("Any")), *((c, c) for c in VALUE_CLASSES if c)],
    )
    queue = forms.ChoiceField(label=_("Queue"))
    assignee = forms.ChoiceField(label=_("Assign to"), required=False)
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.choices("category", _refs(Category.objects.order_by("path", "pk"), "path"))
        self.choices("queue", _refs(Queue.objects.order_by("name")))
        self.choices("assignee", _users())


FORMS: dict[str, type[SetupForm]] = {
    "queue": QueueForm,
    "category": CategoryForm,
    "calendar": CalendarForm,
    "policy": PolicyForm,
    "rule": RuleForm,
}
