"""Forms of the customers pages: they present and parse input; the services validate it.

A form never saves. The view passes ``form.service_data()`` to a service and maps the
service's ``ValidationFailed`` back onto the form with ``apply_errors``, so the rules live
in one place. Custom-field inputs are generated from the definitions of the model.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, cast

from django import forms
from django.utils.translation import gettext_lazy as _

from vefa.accounts.models import Team, User
from vefa.common.errors import ValidationFailed
from vefa.customers.choices import (
    AddressKind,
    Channel,
    ConsentPurpose,
    ContactPointKind,
    CustomerKind,
    Gender,
    HomeOwnership,
    IncomeBand,
    LeadStatus,
    LifecycleStage,
    MaritalStatus,
    RelationshipKind,
    Source,
)
from vefa.customers.services._common import country_choices
from vefa.customers.services.customers import ORGANISATION_FIELDS, PERSON_FIELDS
from vefa.platform.custom_fields import display_value
from vefa.platform.models import CustomFieldDefinition

FieldType = CustomFieldDefinition.FieldType
BLANK = [("", "—")]


def _choices(form: forms.Form, name: str, choices: Any) -> None:
    """Set the choices of a choice input (typed as a plain ``Field`` on ``form.fields``)."""
    cast(forms.ChoiceField, form.fields[name]).choices = choices


def _blank(choices: Iterable[tuple[str, Any]]) -> list[tuple[str, Any]]:
    return [*BLANK, *choices]


class StyledForm(forms.Form):
    """Bootstrap classes on every widget, and errors from services mapped onto fields."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.style()

    def style(self) -> None:
        for field in self.fields.values():
            widget = field.widget
            if isinstance(widget, forms.CheckboxInput):
                css = "form-check-input"
            elif isinstance(widget, forms.CheckboxSelectMultiple | forms.RadioSelect):
                css = ""
            elif isinstance(widget, forms.Select):
                css = "form-select"
            else:
                css = "form-control"
            if css:
                widget.attrs["class"] = (widget.attrs.get("class", "") + " " + css).strip()

    def apply_errors(self, exc: ValidationFailed) -> None:
        """Put a service's per-field messages on the matching inputs (others on the form)."""
        for name, messages in exc.fields.items():
            target = name
            if name.startswith("custom_fields."):
                target = "cf_" + name.split(".", 1)[1]
            if target not in self.fields:
                target = None  # type: ignore[assignment]
            for message in messages:
                self.add_error(target, message)
        if not exc.fields:
            self.add_error(None, exc.message)


def custom_field_input(definition: CustomFieldDefinition) -> forms.Field:
    """The input for one custom field (validated by the service, typed here for the browser)."""
    common: dict[str, Any] = {
        "label": definition.label,
        "required": definition.required and definition.field_type != FieldType.BOOLEAN,
        "help_text": definition.help_text,
    }
    kind = definition.field_type
    choices = [(str(c), str(c)) for c in definition.choices]
    if kind == FieldType.LONGTEXT:
        return forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), **common)
    if kind == FieldType.INTEGER:
        return forms.IntegerField(**common)
    if kind == FieldType.DECIMAL:
        return forms.DecimalField(**common)
    if kind == FieldType.BOOLEAN:
        return forms.BooleanField(**common)
    if kind == FieldType.DATE:
        return forms.DateField(widget=forms.DateInput(attrs={"type": "date"}), **common)
    if kind == FieldType.CHOICE:
        return forms.ChoiceField(choices=_blank(choices), **common)
    if kind == FieldType.MULTICHOICE:
        return forms.MultipleChoiceField(
            choices=choices, widget=forms.CheckboxSelectMultiple, **common
        )
    attrs = {"type": "url"} if kind == FieldType.URL else {}
    if kind == FieldType.EMAIL:
        attrs = {"type": "email"}
    return forms.CharField(widget=forms.TextInput(attrs=attrs), **common)


class CustomFieldsFormMixin(StyledForm):
    """Adds ``cf_<key>`` inputs for ``definitions`` and collects their values."""

    def add_custom_fields(
        self, definitions: list[CustomFieldDefinition], values: dict[str, Any] | None
    ) -> None:
        self.definitions = definitions
        for definition in definitions:
            name = f"cf_{definition.key}"
            self.fields[name] = custom_field_input(definition)
            if values and definition.key in values and not self.is_bound:
                self.initial[name] = values[definition.key]

    def custom_field_values(self) -> dict[str, Any]:
        """The submitted custom-field values as the service expects them (text from the form).

        Empty inputs are sent as empty, which clears the value.
        """
        result: dict[str, Any] = {}
        for definition in getattr(self, "definitions", []):
            name = f"cf_{definition.key}"
            if definition.field_type == FieldType.MULTICHOICE:
                result[definition.key] = (
                    self.data.getlist(name) if hasattr(self.data, "getlist") else []
                )
            elif definition.field_type == FieldType.BOOLEAN:
                result[definition.key] = name in self.data and self.data.get(name) not in (
                    "",
                    "false",
                    "off",
                )
            else:
                result[definition.key] = (self.data.get(name) or "").strip()
        return result


def _owner_choices(current: User | None = None) -> list[tuple[str, str]]:
    users = (
        User.objects.filter(is_active=True).only("pk", "full_name", "email").order_by("full_name")
    )
    choices = [(str(u.pk), str(u)) for u in users[:500]]
    if current is not None and str(current.pk) not in {pk for pk, _ in choices}:
        choices.append((str(current.pk), str(current)))
    return _blank(choices)


def _team_choices() -> list[tuple[str, str]]:
    return _blank((str(t.pk), t.name) for t in Team.objects.order_by("name")[:200])


# --- customers -----------------------------------------------------------------------------


class CustomerForm(CustomFieldsFormMixin):
    """Create or edit a person or an organisation; fields of the other kind are left out."""

    # person
    first_name = forms.CharField(label=_("First name"), required=False)
    last_name = forms.CharField(label=_("Last name"), required=False)
    birth_date = forms.DateField(
        label=_("Birth date"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    gender = forms.ChoiceField(label=_("Gender"), required=False, choices=_blank(Gender.choices))
    income_band = forms.ChoiceField(
        label=_("Income band"), required=False, choices=_blank(IncomeBand.choices)
    )
    marital_status = forms.ChoiceField(
        label=_("Marital status"), required=False, choices=_blank(MaritalStatus.choices)
    )
    children_count = forms.IntegerField(label=_("Children"), required=False, min_value=0)
    home_ownership = forms.ChoiceField(
        label=_("Home ownership"), required=False, choices=_blank(HomeOwnership.choices)
    )
    pets = forms.CharField(label=_("Pets"), required=False)
    hobbies = forms.CharField(label=_("Hobbies"), required=False)
    sports_interests = forms.CharField(label=_("Sports interests"), required=False)
    # organisation
    legal_name = forms.CharField(label=_("Legal name"), required=False)
    trade_name = forms.CharField(label=_("Trade name"), required=False)
    employee_count = forms.IntegerField(label=_("Number of employees"), required=False, min_value=0)
    annual_revenue = forms.DecimalField(label=_("Annual revenue"), required=False, min_value=0)
    nace_code = forms.CharField(label=_("NACE code"), required=False)
    sic_code = forms.CharField(label=_("US SIC code"), required=False)
    tax_number = forms.CharField(label=_("Tax number"), required=False)
    # both
    lifecycle_stage = forms.ChoiceField(
        label=_("Lifecycle stage"), choices=LifecycleStage.choices, initial=LifecycleStage.PROSPECT
    )
    source = forms.ChoiceField(label=_("Source"), required=False, choices=_blank(Source.choices))
    owner = forms.ChoiceField(label=_("Owner"), required=False)
    team = forms.ChoiceField(label=_("Team"), required=False)
    language = forms.CharField(label=_("Language"), required=False, max_length=10)
    currency = forms.CharField(label=_("Currency"), required=False, max_length=3, initial="TRY")
    preferred_channel = forms.ChoiceField(
        label=_("Preferred channel"), required=False, choices=_blank(Channel.choices)
    )
    contact_frequency_days = forms.IntegerField(
        label=_("Preferred contact every (days)"), required=False, min_value=1
    )
    quiet_hours_start = forms.TimeField(
        label=_("Quiet hours from"), required=False, widget=forms.TimeInput(attrs={"type": "time"})
    )
    quiet_hours_end = forms.TimeField(
        label=_("Quiet hours until"), required=False, widget=forms.TimeInput(attrs={"type": "time"})
    )
    notes = forms.CharField(
        label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 4})
    )
    tags = forms.CharField(
        label=_("Tags"), required=False, help_text=_("Separate tags with commas.")
    )
    # only when creating
    email = forms.CharField(
        label=_("E-mail"), required=False, widget=forms.EmailInput(attrs={"autocomplete": "off"})
    )
    phone = forms.CharField(
        label=_("Phone"), required=False, widget=forms.TextInput(attrs={"type": "tel"})
    )
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(
        self,
        *args: Any,
        kind: str,
        customer: Any = None,
        definitions: list[CustomFieldDefinition],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.kind = kind
        self.customer = customer
        foreign = ORGANISATION_FIELDS if kind == CustomerKind.PERSON else PERSON_FIELDS
        for name in foreign:
            del self.fields[name]
        if customer is not None:
            del self.fields["email"]
            del self.fields["phone"]
        _choices(self, "owner", _owner_choices(getattr(customer, "owner", None)))
        _choices(self, "team", _team_choices())
        self.add_custom_fields(definitions, getattr(customer, "custom_fields", None))
        self.style()
        if customer is not None and not self.is_bound:
            for name in self.fields:
                if hasattr(customer, name) and name not in ("owner", "team", "tags"):
                    value = getattr(customer, name)
                    self.initial[name] = "" if value is None else value
            self.initial["owner"] = str(customer.owner_id or "")
            self.initial["team"] = str(customer.team_id or "")
            self.initial["tags"] = ", ".join(t.name for t in customer.tags.all())
            self.initial["version"] = customer.version

    def service_data(self) -> dict[str, Any]:
        """The submitted values for ``customer_create``/``customer_update``."""
        data: dict[str, Any] = {}
        skip = {"tags", "email", "phone", "version"}
        for name in self.fields:
            if name in skip or name.startswith("cf_"):
                continue
            value = self.cleaned_data.get(name)
            if name in ("owner", "team"):
                data[name] = int(value) if value else None
            elif isinstance(self.fields[name], forms.CharField | forms.ChoiceField):
                data[name] = value or ""
            else:
                data[name] = value
        if self.definitions:
            data["custom_fields"] = self.custom_field_values()
        return data

    @property
    def person_fields(self) -> list[forms.BoundField]:
        return [self[n] for n in PERSON_FIELDS if n in self.fields]

    @property
    def organisation_fields(self) -> list[forms.BoundField]:
        return [self[n] for n in ORGANISATION_FIELDS if n in self.fields]

    @property
    def custom_field_inputs(self) -> list[forms.BoundField]:
        return [self[n] for n in self.fields if n.startswith("cf_")]

    def group(self, *names: str) -> list[forms.BoundField]:
        return [self[n] for n in names if n in self.fields]

    @property
    def contact_fields(self) -> list[forms.BoundField]:
        return self.group("email", "phone")

    @property
    def general_fields(self) -> list[forms.BoundField]:
        return self.group(
            "lifecycle_stage", "source", "owner", "team", "tags", "language", "currency"
        )

    @property
    def preference_fields(self) -> list[forms.BoundField]:
        return self.group(
            "preferred_channel", "contact_frequency_days", "quiet_hours_start", "quiet_hours_end"
        )


def customer_current_values(form: CustomerForm, customer: Any) -> list[tuple[str, str, str]]:
    """(label, what was submitted, what is stored now) for the fields that differ.

    Shown on a conflict, so the person can see what the other writer changed.
    """
    rows: list[tuple[str, str, str]] = []
    definitions = {f"cf_{d.key}": d for d in form.definitions}
    for name, field in form.fields.items():
        if name in ("version",) or name not in form.data:
            continue
        submitted = str(form.data.get(name) or "")
        if name in definitions:
            stored = display_value(definitions[name], (customer.custom_fields or {}).get(name[3:]))
        elif name == "tags":
            stored = ", ".join(t.name for t in customer.tags.all())
        elif name in ("owner", "team"):
            related = getattr(customer, name)
            stored = str(related) if related else ""
            choices = dict(field.choices)  # type: ignore[attr-defined]
            submitted = str(choices.get(submitted, "")) if submitted else ""
        else:
            value = getattr(customer, name, "")
            stored = "" if value is None else str(value)
        if submitted.strip() != stored.strip():
            rows.append((str(field.label), submitted, stored))
    return rows


class BulkForm(StyledForm):
    """The checkbox selection of the customer list and what to do with it."""

    ACTIONS = [("assign", _("Assign owner")), ("team", _("Move to team")), ("tag", _("Tag"))]

    ids = forms.TypedMultipleChoiceField(coerce=int, required=True)
    action = forms.ChoiceField(choices=ACTIONS)
    owner = forms.ChoiceField(label=_("Owner"), required=False)
    team = forms.ChoiceField(label=_("Team"), required=False)
    add = forms.CharField(label=_("Add tags"), required=False)
    remove = forms.CharField(label=_("Remove tags"), required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _choices(self, "owner", _owner_choices())
        _choices(self, "team", _team_choices())
        selected = self.data.getlist("ids") if hasattr(self.data, "getlist") else []
        _choices(self, "ids", [(v, v) for v in selected if str(v).isdigit()][:500])


# --- child records -------------------------------------------------------------------------


class ContactPointForm(StyledForm):
    kind = forms.ChoiceField(label=_("Type"), choices=ContactPointKind.choices)
    value = forms.CharField(label=_("Value"))
    country = forms.ChoiceField(
        label=_("Country"),
        required=False,
        help_text=_("For a phone number written without the country code."),
    )
    label = forms.CharField(label=_("Label"), required=False, help_text=_("e.g. work, private"))
    network = forms.CharField(label=_("Network"), required=False, help_text=_("For social media."))
    is_primary = forms.BooleanField(label=_("Primary"), required=False)
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, language: str | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _choices(self, "country", _blank(country_choices(language)))

    def service_data(self) -> dict[str, Any]:
        return {k: v for k, v in self.cleaned_data.items() if k != "version"}


class AddressForm(StyledForm):
    kind = forms.ChoiceField(label=_("Type"), choices=AddressKind.choices)
    line1 = forms.CharField(label=_("Address"))
    line2 = forms.CharField(label=_("Address line 2"), required=False)
    district = forms.CharField(label=_("District"), required=False)
    city = forms.CharField(label=_("City"))
    region = forms.CharField(label=_("Region"), required=False)
    postal_code = forms.CharField(label=_("Postal code"), required=False)
    country = forms.ChoiceField(label=_("Country"))
    is_primary = forms.BooleanField(label=_("Primary"), required=False)
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, language: str | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _choices(self, "country", _blank(country_choices(language)))

    def service_data(self) -> dict[str, Any]:
        return {k: v for k, v in self.cleaned_data.items() if k != "version"}


class RelationshipForm(StyledForm):
    kind = forms.ChoiceField(label=_("Relationship"), choices=RelationshipKind.choices)
    to_customer = forms.IntegerField(label=_("Related customer"), widget=forms.HiddenInput)
    job_title = forms.CharField(label=_("Job title"), required=False)
    role = forms.CharField(label=_("Role"), required=False)
    start_date = forms.DateField(
        label=_("Since"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    end_date = forms.DateField(
        label=_("Until"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    notes = forms.CharField(label=_("Notes"), required=False)

    def service_data(self) -> dict[str, Any]:
        return {
            k: (v if v is not None else None)
            for k, v in self.cleaned_data.items()
            if k != "to_customer"
        }


class ConsentForm(StyledForm):
    channel = forms.ChoiceField(label=_("Channel"), choices=Channel.choices)
    purpose = forms.ChoiceField(label=_("Purpose"), choices=ConsentPurpose.choices)
    source = forms.CharField(
        label=_("Source"),
        required=False,
        max_length=100,
        help_text=_("Where it was given: web form, phone call, paper form …"),
    )
    text_version = forms.CharField(
        label=_("Consent text version"),
        required=False,
        max_length=50,
        help_text=_("Leave empty to keep the last version."),
    )


# --- leads ---------------------------------------------------------------------------------


class LeadForm(CustomFieldsFormMixin):
    first_name = forms.CharField(label=_("First name"), required=False)
    last_name = forms.CharField(label=_("Last name"), required=False)
    company_name = forms.CharField(label=_("Company"), required=False)
    job_title = forms.CharField(label=_("Job title"), required=False)
    email = forms.CharField(
        label=_("E-mail"), required=False, widget=forms.EmailInput(attrs={"autocomplete": "off"})
    )
    phone = forms.CharField(
        label=_("Phone"), required=False, widget=forms.TextInput(attrs={"type": "tel"})
    )
    source = forms.ChoiceField(label=_("Source"), required=False, choices=_blank(Source.choices))
    status = forms.ChoiceField(
        label=_("Status"),
        choices=[c for c in LeadStatus.choices if c[0] != LeadStatus.CONVERTED],
        initial=LeadStatus.NEW,
    )
    score = forms.IntegerField(label=_("Score"), required=False, min_value=0, max_value=100)
    owner = forms.ChoiceField(
        label=_("Owner"),
        required=False,
        help_text=_("Leave empty to let the assignment rules choose."),
    )
    team = forms.ChoiceField(label=_("Team"), required=False)
    notes = forms.CharField(
        label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 4})
    )
    tags = forms.CharField(
        label=_("Tags"), required=False, help_text=_("Separate tags with commas.")
    )
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(
        self,
        *args: Any,
        lead: Any = None,
        definitions: list[CustomFieldDefinition],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.lead = lead
        _choices(self, "owner", _owner_choices(getattr(lead, "owner", None)))
        _choices(self, "team", _team_choices())
        self.add_custom_fields(definitions, getattr(lead, "custom_fields", None))
        self.style()
        if lead is not None and not self.is_bound:
            for name in (
                "first_name",
                "last_name",
                "company_name",
                "job_title",
                "email",
                "phone",
                "source",
                "status",
                "score",
                "notes",
            ):
                self.initial[name] = getattr(lead, name)
            self.initial["owner"] = str(lead.owner_id or "")
            self.initial["team"] = str(lead.team_id or "")
            self.initial["tags"] = ", ".join(t.name for t in lead.tags.all())
            self.initial["version"] = lead.version

    @property
    def contact_fields(self) -> list[forms.BoundField]:
        names = ("first_name", "last_name", "company_name", "job_title", "email", "phone")
        return [self[n] for n in names]

    @property
    def sales_fields(self) -> list[forms.BoundField]:
        return [self[n] for n in ("source", "status", "score", "owner", "team", "tags", "notes")]

    @property
    def custom_field_inputs(self) -> list[forms.BoundField]:
        return [self[n] for n in self.fields if n.startswith("cf_")]

    def service_data(self) -> dict[str, Any]:
        data: dict[str, Any] = {}
        for name in (
            "first_name",
            "last_name",
            "company_name",
            "job_title",
            "email",
            "phone",
            "source",
            "status",
            "notes",
        ):
            data[name] = self.cleaned_data.get(name) or ""
        data["score"] = self.cleaned_data.get("score") or 0
        data["owner"] = int(self.cleaned_data["owner"]) if self.cleaned_data.get("owner") else None
        data["team"] = int(self.cleaned_data["team"]) if self.cleaned_data.get("team") else None
        if self.lead is not None and data["owner"] is None and self.lead.owner_id is None:
            data.pop("owner")
        if self.definitions:
            data["custom_fields"] = self.custom_field_values()
        return data


class LeadConvertForm(CustomFieldsFormMixin):
    lifecycle_stage = forms.ChoiceField(
        label=_("Lifecycle stage"), choices=LifecycleStage.choices, initial=LifecycleStage.PROSPECT
    )
    organisation = forms.ChoiceField(
        label=_("Organisation"),
        required=False,
        widget=forms.RadioSelect,
        help_text=_("Link to an organisation that already exists, or create a new one."),
    )
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(
        self,
        *args: Any,
        lead: Any,
        matches: list[Any],
        definitions: list[CustomFieldDefinition],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        choices = [("new", _("Create a new organisation")), ("none", _("No organisation"))]
        choices += [(str(m.pk), m.display_name) for m in matches]
        _choices(self, "organisation", choices)
        self.fields["organisation"].initial = str(matches[0].pk) if matches else "new"
        if not lead.company_name:
            del self.fields["organisation"]
        required = [d for d in definitions if d.required]
        lead_values = lead.custom_fields or {}
        self.add_custom_fields(required, {d.key: lead_values.get(d.key) for d in required})
        self.initial.setdefault("version", lead.version)
        self.style()
