"""The one filter definition per list, used by the list pages and by the API.

A filter is a Django form over the query string: the page renders it (and shows its errors),
the API validates the same query parameters with it and reports the same errors in the API
error shape. ``apply`` turns the cleaned values into a queryset filter and ``ordering``
names the keyset sort field (always non-null; ``id`` breaks ties).

Custom fields take part as ``cf_<key>`` parameters, one per definition of the model: text
matches a part of the value, numbers, dates, choices and yes/no match exactly.

Other apps add filters to a list without this module knowing them: a ``FilterExtension``
registered for a model label contributes form fields and narrows the queryset (analytics adds
its customer attributes this way, so the customer app never imports it).
"""

from __future__ import annotations

import contextlib
import datetime
from collections.abc import Iterator, Mapping
from contextvars import ContextVar
from decimal import Decimal
from typing import Any, ClassVar, Protocol, cast

import phonenumbers
from django import forms
from django.core.exceptions import ImproperlyConfigured
from django.db import connection, connections
from django.db.models import DecimalField, Exists, OuterRef, Q, QuerySet, Value
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast, Upper
from django.http import QueryDict
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext_lazy as _

from vefa.common.errors import ValidationFailed
from vefa.common.text import fold
from vefa.customers.choices import CustomerKind, LeadStatus, LifecycleStage, Source
from vefa.customers.expressions import last_contact_key
from vefa.customers.normalize import DEFAULT_PHONE_REGION
from vefa.customers.services._common import country_codes
from vefa.platform.models import CustomFieldDefinition

FieldType = CustomFieldDefinition.FieldType
MAX_SEARCH = 100
MAX_TAGS = 5
# The parameters that are not filters: paging and the saved view.
NON_FILTER_PARAMS = frozenset({"cursor", "limit", "view", "page_size", "columns"})


def prefix_q(field: str, term: str) -> Q:
    """``field`` starts with ``term``, written so the database can use an index.

    PostgreSQL uses ``LIKE 'term%'`` with a pattern-ops index; SQLite's ``LIKE`` cannot use
    an index with Django's ESCAPE clause, but a range over the (already folded) text can.
    """
    if connection.vendor == "sqlite":
        return Q(**{f"{field}__gte": term, f"{field}__lt": term + "\U0010ffff"})
    return Q(**{f"{field}__startswith": term})


def phone_prefix(term: str) -> str | None:
    """The E.164 prefix a typed (partial) phone number stands for, or ``None``."""
    compact = "".join(ch for ch in term if not ch.isspace() and ch not in "-().")
    if not compact:
        return None
    plus = compact.startswith("+")
    digits = compact.lstrip("+")
    if not digits.isdigit() or len(digits) < 3:
        return None
    digits = "".join(str(int(ch)) for ch in digits)  # Persian and Arabic-Indic digits → ASCII
    if plus:
        return "+" + digits
    if digits.startswith("00"):
        return "+" + digits[2:]
    if digits.startswith("0"):
        code = phonenumbers.country_code_for_region(DEFAULT_PHONE_REGION)
        return f"+{code}{digits.lstrip('0')}"
    return "+" + digits


class FilterExtension(Protocol):
    """Filters another app adds to a list (registered with ``register_filter_extension``)."""

    #: The heading the list page shows above the extension's fields.
    title: Any

    def form_fields(self) -> dict[str, forms.Field]:
        """New form fields by parameter name; names must not clash with the list's own."""
        ...

    def apply(self, queryset: QuerySet[Any], data: Mapping[str, Any]) -> QuerySet[Any]:
        """``queryset`` narrowed by the extension's cleaned values in ``data``."""
        ...


_extensions: dict[str, list[FilterExtension]] = {}


def register_filter_extension(model_label: str, extension: FilterExtension) -> None:
    """Add ``extension``'s filters to every filter form of ``model_label`` (once per app)."""
    registered = _extensions.setdefault(model_label, [])
    if all(type(existing) is not type(extension) for existing in registered):
        registered.append(extension)


def filter_extensions(model_label: str) -> list[FilterExtension]:
    return list(_extensions.get(model_label, ()))


def _day_start(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(
        datetime.datetime.combine(day, datetime.time.min), timezone.get_current_timezone()
    )


def _tag_slug(name: str) -> str:
    # The same key platform.services.tags_resolve gives a tag.
    return slugify(name, allow_unicode=True) or name.casefold()


# How many related rows make a condition common: from here on a list walks its records in
# sort order and checks each (``EXISTS``) instead of gathering and sorting every match.
COMMON_RELATED = 5_000

_id_lists: ContextVar[bool] = ContextVar("filters_id_lists", default=False)


@contextlib.contextmanager
def id_lists() -> Iterator[None]:
    """Within it, conditions on related rows are lists of ids (``pk IN (subquery)``): for
    counting every record, which reads each list once in id order rather than the records
    in an index's order (segment counts over every customer)."""
    token = _id_lists.set(True)
    try:
        yield
    finally:
        _id_lists.reset(token)


def _lists_only(queryset: QuerySet[Any]) -> bool:
    """Whether conditions on related rows are lists of ids without weighing them."""
    return _id_lists.get() or connections[queryset.db].vendor == "postgresql"


def with_related(
    queryset: QuerySet[Any],
    related: QuerySet[Any],
    column: str,
    *,
    indexed: bool = True,
    common: bool | None = None,
) -> QuerySet[Any]:
    """``queryset`` narrowed to the records that have a row in ``related`` (``column`` of
    it points at the record), in the form that reads fewer rows.

    Gathering every match and sorting it costs a page what the matches number (SQLite keeps
    no histogram and gathers a tenth of the database to show 50 records). A bounded count of
    ``related`` (an index read) tells: a common condition is checked record by record in
    sort order (``EXISTS``), which stops when the page is full; a rare one is a list of ids.
    A condition no index serves (``indexed=False``) is checked record by record: gathering
    its list would read all of ``related``. ``common`` gives the answer when the caller
    counted already (several conditions together). Counting every record (``id_lists``)
    always takes the list, and so does PostgreSQL, which plans ``IN`` as a semi-join from
    its statistics either way (the bounded count only added its own time there).
    """
    ids = queryset.filter(pk__in=related.values(column))
    if _lists_only(queryset):
        return ids
    if common is None:
        common = not indexed or related[:COMMON_RELATED].count() >= COMMON_RELATED
    if not common:
        return ids
    return queryset.filter(Exists(related.filter(**{column: OuterRef("pk")})))


def _with_tags(queryset: QuerySet[Any], slugs: list[str]) -> QuerySet[Any]:
    """``queryset`` narrowed to records carrying every tag of ``slugs`` (see
    ``with_related``).

    The tags are looked up first: a tag nobody has matches nothing without a query over the
    records (PostgreSQL, not knowing the slug is absent, walked a million customers in name
    order looking for it: 2.8 s), and the tags' ids let the planner use their share of the
    links from the statistics. Several tags are common or rare together: two common tags
    can be rare in combination (VIP and wholesale, 3 % and 1.5 % of a million customers,
    about 450 together), and checking each row for both would walk most of the list.
    """
    field = queryset.model._meta.get_field("tags")
    tags = field.remote_field.model._default_manager
    wanted = list(dict.fromkeys(slugs))
    found = dict(tags.filter(slug__in=wanted).values_list("slug", "pk"))
    if len(found) < len(wanted):
        return queryset.none()
    through = field.remote_field.through._default_manager
    source = field.m2m_field_name()
    links = [through.filter(tag_id=found[slug]) for slug in wanted]
    common: bool | None = None
    if len(links) > 1 and not _lists_only(queryset):
        every = links[0]
        for other in links[1:]:
            every = every.filter(**{f"{source}__in": other.values(source)})
        common = every[:COMMON_RELATED].count() >= COMMON_RELATED
        if not common:
            # One list of the records carrying all of them (450 ids, not 30,000 and 15,000).
            return with_related(queryset, every, source, common=False)
    for tagged in links:
        queryset = with_related(queryset, tagged, source, common=common)
    return queryset


class ListFilterForm(forms.Form):
    """What every main list filters by: text, owner, team, tags, creation date, custom fields.

    Subclasses add their own fields, ``model_label``, ``SORTS`` and ``apply_own``.
    """

    model_label: ClassVar[str] = ""
    SORTS: ClassVar[dict[str, str]] = {}
    DEFAULT_SORT: ClassVar[str] = "name"

    q = forms.CharField(label=_("Search"), required=False, max_length=MAX_SEARCH)
    owner = forms.CharField(
        label=_("Owner"),
        required=False,
        max_length=20,
        help_text=_('"me", "none" (no owner) or a user id.'),
    )
    team = forms.CharField(label=_("Team"), required=False, max_length=20)
    tag = forms.CharField(
        label=_("Tags"),
        required=False,
        max_length=300,
        help_text=_("Comma-separated; all must match."),
    )
    created_from = forms.DateField(label=_("Created from"), required=False)
    created_to = forms.DateField(label=_("Created until"), required=False)
    sort = forms.ChoiceField(label=_("Sort"), required=False)

    def __init__(
        self,
        data: Mapping[str, Any] | None = None,
        *,
        actor: Any,
        definitions: list[CustomFieldDefinition] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(data if data is not None else {}, **kwargs)
        self.actor = actor
        self.definitions = (
            definitions
            if definitions is not None
            else list(
                CustomFieldDefinition.objects.filter(model=self.model_label).order_by(
                    "order", "key"
                )
            )
        )
        cast(forms.ChoiceField, self.fields["sort"]).choices = [
            ("", _("Default")),
            *self.sort_choices(),
        ]
        for definition in self.definitions:
            self.fields[f"cf_{definition.key}"] = self._custom_field(definition)
        self.extension_groups: list[tuple[Any, list[str]]] = []
        for extension in filter_extensions(self.model_label):
            names = []
            for name, field in extension.form_fields().items():
                if name in self.fields:
                    raise ImproperlyConfigured(f"filter {name!r} of {extension!r} clashes")
                self.fields[name] = field
                names.append(name)
            self.extension_groups.append((extension.title, names))
        for field in self.fields.values():
            css = "form-select" if isinstance(field.widget, forms.Select) else "form-control"
            field.widget.attrs.setdefault("class", css)

    # --- definitions --------------------------------------------------------------------

    def sort_choices(self) -> list[tuple[str, Any]]:
        return []

    @staticmethod
    def _custom_field(definition: CustomFieldDefinition) -> forms.Field:
        label = definition.label
        kind = definition.field_type
        if kind == FieldType.BOOLEAN:
            return forms.ChoiceField(
                label=label,
                required=False,
                choices=[("", _("Any")), ("true", _("Yes")), ("false", _("No"))],
            )
        if kind in (FieldType.CHOICE, FieldType.MULTICHOICE):
            choices = [(str(c), str(c)) for c in definition.choices]
            return forms.ChoiceField(
                label=label, required=False, choices=[("", _("Any")), *choices]
            )
        if kind == FieldType.INTEGER:
            return forms.IntegerField(label=label, required=False)
        if kind == FieldType.DECIMAL:
            return forms.DecimalField(label=label, required=False, max_digits=30, decimal_places=10)
        if kind == FieldType.DATE:
            return forms.DateField(label=label, required=False)
        return forms.CharField(label=label, required=False, max_length=MAX_SEARCH)

    # --- cleaning -----------------------------------------------------------------------

    def clean_owner(self) -> str:
        value = (self.cleaned_data.get("owner") or "").strip().lower()
        if value and value not in ("me", "none") and not value.isdigit():
            raise forms.ValidationError(_('Enter "me", "none" or a user id.'))
        return value

    def clean_team(self) -> str:
        value = (self.cleaned_data.get("team") or "").strip().lower()
        if value and value not in ("mine", "none") and not value.isdigit():
            raise forms.ValidationError(_('Enter "mine", "none" or a team id.'))
        return value

    def clean_tag(self) -> list[str]:
        raw = self.cleaned_data.get("tag") or ""
        names = [" ".join(n.split()) for n in raw.split(",") if n.strip()]
        if len(names) > MAX_TAGS:
            raise forms.ValidationError(_("At most %(n)d tags.") % {"n": MAX_TAGS})
        return names

    def clean_q(self) -> str:
        value = self.cleaned_data.get("q") or ""
        if "\x00" in value:
            raise forms.ValidationError(_("Null characters are not allowed."))
        return " ".join(value.split())

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        for low, high in self.ranges():
            a, b = data.get(low), data.get(high)
            if a is not None and b is not None and a > b:
                self.add_error(high, _("The end cannot be before the start."))
        return data

    def ranges(self) -> list[tuple[str, str]]:
        return [("created_from", "created_to")]

    # --- applying -----------------------------------------------------------------------

    @property
    def sort_key(self) -> str:
        value = self.cleaned_data.get("sort") if hasattr(self, "cleaned_data") else None
        return value or self.DEFAULT_SORT

    @property
    def ordering(self) -> str:
        """The field ``keyset_page`` orders by (``-`` for descending)."""
        return self.SORTS[self.sort_key]

    def apply(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        """``queryset`` narrowed by every filter given (call after ``is_valid``)."""
        data = self.cleaned_data
        owner = data.get("owner")
        if owner == "me":
            queryset = queryset.filter(owner=self.actor)
        elif owner == "none":
            queryset = queryset.filter(owner__isnull=True)
        elif owner:
            queryset = queryset.filter(owner_id=int(owner))
        team = data.get("team")
        if team == "mine":
            queryset = queryset.filter(team_id=getattr(self.actor, "team_id", None))
        elif team == "none":
            queryset = queryset.filter(team__isnull=True)
        elif team:
            queryset = queryset.filter(team_id=int(team))
        if data.get("tag"):
            queryset = _with_tags(queryset, [_tag_slug(name) for name in data["tag"]])
        if data.get("created_from"):
            queryset = queryset.filter(created_at__gte=_day_start(data["created_from"]))
        if data.get("created_to"):
            next_day = data["created_to"] + datetime.timedelta(days=1)
            queryset = queryset.filter(created_at__lt=_day_start(next_day))
        queryset = self.apply_custom_fields(queryset)
        queryset = self.apply_own(queryset)
        for extension in filter_extensions(self.model_label):
            queryset = extension.apply(queryset, data)
        return queryset

    def apply_own(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        return queryset

    def search_branches(self) -> list[Q]:
        """The conditions the text search matches any of (for ``keyset_page(any_of=…)``)."""
        return []

    def apply_custom_fields(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        for definition in self.definitions:
            value = self.cleaned_data.get(f"cf_{definition.key}")
            if value is None or value == "":
                continue
            key = definition.key
            kind = definition.field_type
            if kind == FieldType.BOOLEAN:
                queryset = queryset.filter(**{f"custom_fields__{key}": value == "true"})
            elif kind == FieldType.MULTICHOICE:
                # The stored list as JSON text contains the quoted value (same on both DBs).
                lookup: dict[str, Any] = (
                    {f"custom_fields__{key}__icontains": f'"{value}"'}
                    if connection.vendor == "sqlite"
                    else {f"custom_fields__{key}__contains": [value]}
                )
                queryset = queryset.filter(**lookup)
            elif kind == FieldType.INTEGER:
                queryset = queryset.filter(**{f"custom_fields__{key}": int(value)})
            elif kind == FieldType.DECIMAL:
                alias = f"_cf_{key}"
                queryset = queryset.alias(
                    **{
                        alias: Cast(
                            KeyTextTransform(key, "custom_fields"),
                            DecimalField(max_digits=30, decimal_places=10),
                        )
                    }
                ).filter(**{alias: Decimal(value)})
            elif kind == FieldType.DATE:
                queryset = queryset.filter(**{f"custom_fields__{key}": value.isoformat()})
            elif kind == FieldType.CHOICE:
                queryset = queryset.filter(**{f"custom_fields__{key}": value})
            else:
                queryset = queryset.filter(**{f"custom_fields__{key}__icontains": value})
        return queryset

    # --- presenting ---------------------------------------------------------------------

    def query_params(self) -> QueryDict:
        """The given filters as a query string (for paging links and saved views)."""
        params = QueryDict(mutable=True)
        source = self.data if self.data is not None else {}
        for name in self.fields:
            value = source.get(name) if hasattr(source, "get") else None
            if value not in (None, ""):
                params[name] = str(value)
        return params

    def filters_dict(self) -> dict[str, str]:
        return {key: str(value) for key, value in self.query_params().items()}

    @property
    def active_count(self) -> int:
        return sum(1 for k in self.filters_dict() if k != "sort")

    def error_dict(self) -> dict[str, list[str]]:
        return {k: [str(m) for m in v] for k, v in self.errors.items()}

    @property
    def extension_active(self) -> bool:
        """Whether a filter of another app is set (the page then shows those filters)."""
        given = self.filters_dict()
        return any(name in given for _title, names in self.extension_groups for name in names)

    def extension_field_groups(self) -> list[tuple[Any, list[forms.BoundField]]]:
        """The other apps' filters as (heading, bound fields), for the list page."""
        return [(title, [self[name] for name in names]) for title, names in self.extension_groups]


class CustomerFilterForm(ListFilterForm):
    """Filters of the customer list and of ``GET /api/v1/customers``."""

    model_label = "customers.customer"
    SORTS = {
        "name": "name_key",
        "-name": "-name_key",
        "created": "created_at",
        "-created": "-created_at",
        # Never-contacted customers sort as if last contacted at the epoch (the database keeps
        # ``last_contact_key`` non-null): first in ascending order, last in descending.
        "last_contact": "last_contact_key",
        "-last_contact": "-last_contact_key",
    }

    kind = forms.ChoiceField(
        label=_("Kind"), required=False, choices=[("", _("Any")), *CustomerKind.choices]
    )
    stage = forms.ChoiceField(
        label=_("Lifecycle stage"),
        required=False,
        choices=[("", _("Any")), *LifecycleStage.choices],
    )
    source = forms.ChoiceField(
        label=_("Source"), required=False, choices=[("", _("Any")), *Source.choices]
    )
    city = forms.CharField(label=_("City"), required=False, max_length=100)
    country = forms.CharField(label=_("Country"), required=False, max_length=2)
    last_contact_after = forms.DateField(label=_("Last contact from"), required=False)
    last_contact_before = forms.DateField(
        label=_("Not contacted since"),
        required=False,
        help_text=_("Includes customers never contacted."),
    )

    field_order = [
        "q",
        "kind",
        "stage",
        "owner",
        "team",
        "tag",
        "source",
        "city",
        "country",
        "created_from",
        "created_to",
        "last_contact_after",
        "last_contact_before",
        "sort",
    ]

    def sort_choices(self) -> list[tuple[str, Any]]:
        return [
            ("name", _("Name A–Z")),
            ("-name", _("Name Z–A")),
            ("created", _("Oldest first")),
            ("-created", _("Newest first")),
            ("last_contact", _("Longest without contact")),
            ("-last_contact", _("Most recently contacted")),
        ]

    def ranges(self) -> list[tuple[str, str]]:
        return [*super().ranges(), ("last_contact_after", "last_contact_before")]

    def clean_country(self) -> str:
        value = (self.cleaned_data.get("country") or "").strip().upper()
        if value and value not in country_codes():
            raise forms.ValidationError(_("Enter a two-letter ISO country code, e.g. TR."))
        return value

    def clean_city(self) -> str:
        return " ".join((self.cleaned_data.get("city") or "").split())

    def search_branches(self) -> list[Q]:
        term = self.cleaned_data.get("q") or ""
        if not term:
            return []
        branches = [prefix_q("name_key", fold(term)), prefix_q("primary_email", term.lower())]
        phone = phone_prefix(term)
        if phone:
            branches.append(prefix_q("primary_phone", phone))
        return branches

    def apply_own(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        data = self.cleaned_data
        branches = self.search_branches()
        if branches:
            match = branches[0]
            for branch in branches[1:]:
                match |= branch
            queryset = queryset.filter(match)
        for name, lookup in (
            ("kind", "kind"),
            ("stage", "lifecycle_stage"),
            ("source", "source"),
            ("country", "country"),
        ):
            if data.get(name):
                queryset = queryset.filter(**{lookup: data[name]})
        if data.get("city"):
            # UPPER on both sides, by the database: served by the customer_city_name index
            # (SQLite's iexact is a LIKE, which no index serves).
            queryset = queryset.alias(_city=Upper("city")).filter(_city=Upper(Value(data["city"])))
        if data.get("last_contact_after"):
            queryset = queryset.filter(
                last_interaction_at__gte=_day_start(data["last_contact_after"])
            )
        if data.get("last_contact_before"):
            queryset = queryset.filter(
                Q(last_interaction_at__lt=_day_start(data["last_contact_before"]))
                | Q(last_interaction_at__isnull=True)
            )
        if self.sort_key in ("last_contact", "-last_contact"):
            queryset = queryset.annotate(last_contact_key=last_contact_key())
        return queryset


class LeadFilterForm(ListFilterForm):
    """Filters of the lead list and of ``GET /api/v1/leads``."""

    model_label = "customers.lead"
    SORTS = {
        "name": "name_key",
        "-name": "-name_key",
        "created": "created_at",
        "-created": "-created_at",
        "score": "score",
        "-score": "-score",
    }
    DEFAULT_SORT = "-created"

    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=[("", _("Any")), *LeadStatus.choices]
    )
    source = forms.ChoiceField(
        label=_("Source"), required=False, choices=[("", _("Any")), *Source.choices]
    )
    score_min = forms.IntegerField(
        label=_("Score from"), required=False, min_value=0, max_value=100
    )
    score_max = forms.IntegerField(
        label=_("Score until"), required=False, min_value=0, max_value=100
    )
    open = forms.ChoiceField(
        label=_("Open leads only"),
        required=False,
        choices=[("", _("Any")), ("true", _("Yes")), ("false", _("No"))],
    )

    field_order = [
        "q",
        "status",
        "open",
        "owner",
        "team",
        "tag",
        "source",
        "score_min",
        "score_max",
        "created_from",
        "created_to",
        "sort",
    ]

    def sort_choices(self) -> list[tuple[str, Any]]:
        return [
            ("-created", _("Newest first")),
            ("created", _("Oldest first")),
            ("name", _("Name A–Z")),
            ("-name", _("Name Z–A")),
            ("-score", _("Highest score")),
            ("score", _("Lowest score")),
        ]

    def ranges(self) -> list[tuple[str, str]]:
        return [*super().ranges(), ("score_min", "score_max")]

    def apply_own(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        data = self.cleaned_data
        term = data.get("q") or ""
        if term:
            match = prefix_q("name_key", fold(term)) | prefix_q("email", term.lower())
            phone = phone_prefix(term)
            if phone:
                match |= prefix_q("phone", phone)
            queryset = queryset.filter(match)
        if data.get("status"):
            queryset = queryset.filter(status=data["status"])
        if data.get("open") == "true":
            queryset = queryset.exclude(status__in=[LeadStatus.CONVERTED, LeadStatus.UNQUALIFIED])
        elif data.get("open") == "false":
            queryset = queryset.filter(status__in=[LeadStatus.CONVERTED, LeadStatus.UNQUALIFIED])
        if data.get("source"):
            queryset = queryset.filter(source=data["source"])
        if data.get("score_min") is not None:
            queryset = queryset.filter(score__gte=data["score_min"])
        if data.get("score_max") is not None:
            queryset = queryset.filter(score__lte=data["score_max"])
        return queryset


def clean_filters(
    form_class: type[ListFilterForm],
    data: Mapping[str, Any] | None,
    *,
    actor: Any,
    definitions: list[CustomFieldDefinition] | None = None,
) -> ListFilterForm:
    """A valid filter form for ``data`` or ``ValidationFailed`` naming each bad parameter."""
    form = form_class(data or {}, actor=actor, definitions=definitions)
    if not form.is_valid():
        raise ValidationFailed(str(_("Some filters are not valid.")), fields=form.error_dict())
    return form
