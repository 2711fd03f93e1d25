"""The lists that can be exported and how each one is read.

Each list is read exactly as its page reads it: the same filter definition (the customer
and lead filter forms, the order, activity and ticket filter schemas, the product filters)
over the same selector for the actor, so an export holds only what the actor may see and
what the filter shows, in the list's order. Rows are read as tuples with ``values_list``
(no model instances) in chunks.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.db.models import QuerySet
from django.http import QueryDict
from django.utils.translation import gettext_lazy as _

from vefa.common.errors import ValidationFailed

if TYPE_CHECKING:
    from vefa.accounts.models import User

CHUNK = 2000
# The query parameters that are never filters.
IGNORED_PARAMS = frozenset({"cursor", "limit", "page_size", "columns", "format", "entity"})


@dataclass(frozen=True)
class Column:
    """One column: its header, the ``values_list`` path, and how a value is shown."""

    header: Any
    path: str
    # ``text`` (formula-safe), ``choice`` (its label), ``datetime`` (local time), ``date``,
    # ``number`` (kept a number), ``custom`` (a key of ``custom_fields``), ``bool``.
    kind: str = "text"
    choices: Mapping[str, Any] = field(default_factory=dict)
    key: str = ""


@dataclass
class Plan:
    """The rows of one export: the ordered queryset and its columns."""

    queryset: QuerySet[Any]
    columns: list[Column]

    @property
    def headers(self) -> list[str]:
        return [str(c.header) for c in self.columns]

    def values(self) -> QuerySet[Any]:
        paths = list(dict.fromkeys(c.path for c in self.columns))
        return self.queryset.values_list(*paths)

    def rows(self, zone: datetime.tzinfo) -> Iterator[list[Any]]:
        """Each row as Python values: text, numbers, naive local datetimes, dates."""
        paths = list(dict.fromkeys(c.path for c in self.columns))
        index = {p: i for i, p in enumerate(paths)}
        getters: list[Callable[[tuple[Any, ...]], Any]] = []
        for column in self.columns:
            getters.append(_getter(column, index[column.path], zone))
        for values in self.values().iterator(chunk_size=CHUNK):
            yield [get(values) for get in getters]

    def csv_rows(self, zone: datetime.tzinfo) -> Iterator[list[Any]]:
        """Rows ready for ``csv.writer`` (formula-safe text, local times).

        When every column is plain text, a choice, an integer or a time, the rows are read
        with a database cursor straight from the query's SQL (no conversions by the ORM),
        which is several times faster on big lists; otherwise through ``rows``.
        """
        from vefa.exports.writers import csv_cell

        if not _raw_ok(self):
            for row in self.rows(zone):
                yield [csv_cell(v) for v in row]
            return
        from django.db import connections
        from django.db.models import TextField
        from django.db.models.functions import Cast

        # Times are read as text (ISO in UTC on both databases): no datetime objects made.
        paths = []
        texts: dict[str, Any] = {}
        for column in self.columns:
            if column.kind == "datetime" and column.path not in texts:
                texts[column.path] = Cast(column.path, output_field=TextField())
        aliases = {path: f"_t{n}" for n, path in enumerate(texts)}
        queryset = self.queryset.annotate(**{aliases[p]: e for p, e in texts.items()})
        paths = list(dict.fromkeys(aliases.get(c.path, c.path) for c in self.columns))
        query = queryset.values_list(*paths)
        self_paths = {c.path: aliases.get(c.path, c.path) for c in self.columns}
        index = {p: i for i, p in enumerate(paths)}
        plan = [(index[self_paths[c.path]], _raw_converter(c, zone)) for c in self.columns]
        identity = all(i == n for n, (i, _f) in enumerate(plan))
        sql, params = query.query.sql_with_params()
        with connections[query.db].cursor() as cursor:
            cursor.execute(sql, params)
            while True:
                batch = cursor.fetchmany(CHUNK)
                if not batch:
                    break
                if identity:
                    converters = [f for _i, f in plan]
                    for raw in batch:
                        yield [
                            f(v) if f is not None else v
                            for f, v in zip(converters, raw, strict=False)
                        ]
                else:
                    for raw in batch:
                        yield [f(raw[i]) if f is not None else raw[i] for i, f in plan]


# Field types whose raw database value is what a CSV shows (after the text safety check).
_RAW_SAFE = (
    "CharField",
    "TextField",
    "EmailField",
    "SlugField",
    "AutoField",
    "BigAutoField",
    "IntegerField",
    "BigIntegerField",
    "SmallIntegerField",
    "PositiveIntegerField",
    "PositiveBigIntegerField",
    "PositiveSmallIntegerField",
    "DateTimeField",
)


def _field_of(model: Any, path: str) -> Any:
    parts = path.split("__")
    for part in parts[:-1]:
        model = model._meta.get_field(part).related_model
    return model._meta.get_field(parts[-1])


def _raw_ok(plan: Plan) -> bool:
    model = plan.queryset.model
    for column in plan.columns:
        if column.kind not in ("text", "choice", "datetime", "number"):
            return False
        try:
            kind = _field_of(model, column.path).get_internal_type()
        except Exception:
            return False
        if kind not in _RAW_SAFE:
            return False
    return True


def _raw_converter(column: Column, zone: datetime.tzinfo) -> Callable[[Any], Any] | None:
    """How a raw database value becomes a CSV cell; ``None`` keeps it as it is."""
    from vefa.exports.writers import DANGEROUS

    if column.kind == "text":
        first = frozenset(DANGEROUS)

        def text(value: Any) -> Any:
            if value and value[0] in first:
                return "'" + value
            return value

        return text
    if column.kind == "choice":
        labels = {k: str(v) for k, v in column.choices.items()}
        get = labels.get
        return lambda value: get(value, value)
    if column.kind == "datetime":
        utc = datetime.UTC
        offsets: dict[str, datetime.timedelta] = {}
        parse = datetime.datetime.fromisoformat
        same = zone == utc or getattr(zone, "key", None) == "UTC"

        def when(value: Any) -> Any:
            if value is None:
                return None
            if not isinstance(value, str):
                value = value.astimezone(utc).isoformat(" ")
            if same:
                return value[:19]
            # The zone's offset, looked up once per ten minutes of UTC time.
            key = value[:15]
            offset = offsets.get(key)
            if offset is None:
                moment = parse(value[:19]).replace(tzinfo=utc)
                offset = offsets[key] = moment.astimezone(zone).utcoffset() or datetime.timedelta()
            return (parse(value[:19]) + offset).isoformat(" ")

        return when
    return None


def _getter(column: Column, i: int, zone: datetime.tzinfo) -> Callable[[tuple[Any, ...]], Any]:
    kind = column.kind
    if kind == "choice":
        labels = {k: str(v) for k, v in column.choices.items()}
        return lambda row: labels.get(row[i], row[i])
    if kind == "datetime":

        def local(row: tuple[Any, ...]) -> Any:
            value = row[i]
            if value is None:
                return None
            return value.astimezone(zone).replace(tzinfo=None, microsecond=0)

        return local
    if kind == "custom":
        key = column.key

        def custom(row: tuple[Any, ...]) -> Any:
            data = row[i]
            if not isinstance(data, dict):
                return None
            value = data.get(key)
            if isinstance(value, list):
                return ", ".join(str(v) for v in value)
            return value

        return custom
    if kind == "bool":
        yes, no = str(_("Yes")), str(_("No"))
        return lambda row: None if row[i] is None else (yes if row[i] else no)
    return lambda row: row[i]


def _query(params: Mapping[str, Any] | None) -> QueryDict:
    data = QueryDict(mutable=True)
    for key, value in (params or {}).items():
        if key in IGNORED_PARAMS:
            continue
        if isinstance(value, list):
            data.setlist(str(key), [str(v) for v in value])
        elif value is not None:
            data[str(key)] = str(value)
    return data


def _custom_columns(model_label: str) -> list[Column]:
    from vefa.platform.custom_fields import definitions_for

    return [
        Column(d.label, "custom_fields", "custom", key=d.key) for d in definitions_for(model_label)
    ]


# --- the lists ----------------------------------------------------------------------------


def _customers(actor: User, params: QueryDict) -> Plan:
    from vefa.customers import selectors
    from vefa.customers.choices import CustomerKind, LifecycleStage, Source
    from vefa.customers.filters import NON_FILTER_PARAMS, CustomerFilterForm, clean_filters
    from vefa.platform.custom_fields import definitions_for

    if params.get("view"):
        from vefa.platform.selectors import saved_view_get

        saved = saved_view_get(actor=actor, pk=params["view"])
        merged = QueryDict(mutable=True)
        for key, value in (saved.filters or {}).items():
            if value is not None:
                merged.setlist(
                    str(key), [str(v) for v in value] if isinstance(value, list) else [str(value)]
                )
        for key in params:
            if key != "view":
                merged.setlist(key, params.getlist(key))
        params = merged
    data = {k: v for k, v in params.items() if k not in NON_FILTER_PARAMS}
    definitions = definitions_for("customers.customer")
    form = clean_filters(CustomerFilterForm, data, actor=actor, definitions=definitions)
    qs = form.apply(selectors.visible_customers(actor))
    ordering = form.ordering
    tie = "-id" if ordering.startswith("-") else "id"
    columns = [
        Column(_("ID"), "id", "number"),
        Column(_("Name"), "display_name"),
        Column(_("Kind"), "kind", "choice", dict(CustomerKind.choices)),
        Column(_("Stage"), "lifecycle_stage", "choice", dict(LifecycleStage.choices)),
        Column(_("E-mail"), "primary_email"),
        Column(_("Phone"), "primary_phone"),
        Column(_("City"), "city"),
        Column(_("Country"), "country"),
        Column(_("Source"), "source", "choice", dict(Source.choices)),
        Column(_("Owner"), "owner__full_name"),
        Column(_("Last contact"), "last_interaction_at", "datetime"),
        Column(_("Created"), "created_at", "datetime"),
        *_custom_columns("customers.customer"),
    ]
    return Plan(qs.order_by(ordering, tie), columns)


def _leads(actor: User, params: QueryDict) -> Plan:
    from vefa.customers import selectors
    from vefa.customers.choices import LeadStatus, Source
    from vefa.customers.filters import NON_FILTER_PARAMS, LeadFilterForm, clean_filters

    data = {k: v for k, v in params.items() if k not in NON_FILTER_PARAMS}
    form = clean_filters(LeadFilterForm, data, actor=actor)
    qs = form.apply(selectors.visible_leads(actor))
    ordering = form.ordering
    tie = "-id" if ordering.startswith("-") else "id"
    columns = [
        Column(_("ID"), "id", "number"),
        Column(_("First name"), "first_name"),
        Column(_("Last name"), "last_name"),
        Column(_("Company"), "company_name"),
        Column(_("Job title"), "job_title"),
        Column(_("E-mail"), "email"),
        Column(_("Phone"), "phone"),
        Column(_("Status"), "status", "choice", dict(LeadStatus.choices)),
        Column(_("Source"), "source", "choice", dict(Source.choices)),
        Column(_("Score"), "score", "number"),
        Column(_("Owner"), "owner__full_name"),
        Column(_("Created"), "created_at", "datetime"),
        *_custom_columns("customers.lead"),
    ]
    return Plan(qs.order_by(ordering, tie), columns)


def _strict(schema: Any, params: QueryDict) -> Any:
    """The filter schema for ``params``; a bad value is an error naming the parameter (the
    list page ignores it with a warning, an export must not quietly hold more rows)."""
    from vefa.interactions.filters import filters_from_query

    filters, errors = filters_from_query(schema, params)
    if errors:
        raise ValidationFailed(str(_("Some filters are not valid.")), fields=errors)
    return filters


def _activities(actor: User, params: QueryDict) -> Plan:
    from vefa.interactions import selectors
    from vefa.interactions.choices import ActivityKind, ActivityStatus
    from vefa.interactions.filters import ActivityFilters

    query = params.copy()
    # As the page: planned activities unless a status is asked for, ``any`` for all.
    if "status" not in query:
        query["status"] = ActivityStatus.PLANNED
    elif query["status"] == "any":
        query.pop("status")
    filters = _strict(ActivityFilters, query)
    qs = selectors.activity_list(actor=actor, filters=filters).filter(scheduled_at__isnull=False)
    columns = [
        Column(_("ID"), "id", "number"),
        Column(_("Kind"), "kind", "choice", dict(ActivityKind.choices)),
        Column(_("Subject"), "subject"),
        Column(_("Status"), "status", "choice", dict(ActivityStatus.choices)),
        Column(_("When"), "scheduled_at", "datetime"),
        Column(_("Customer"), "customer__display_name"),
        Column(_("Owner"), "owner__full_name"),
        Column(_("Location"), "location"),
        Column(_("Completed"), "completed_at", "datetime"),
        Column(_("Outcome"), "outcome"),
        *_custom_columns("interactions.activity"),
    ]
    return Plan(qs.order_by("scheduled_at", "id"), columns)


def _orders(actor: User, params: QueryDict) -> Plan:
    from vefa.sales.choices import OrderSource, OrderStatus
    from vefa.sales.selectors import orders as selectors
    from vefa.sales.selectors.orders import OrderFilters

    filters = _strict(OrderFilters, params)
    qs = selectors.order_list(actor=actor, filters=filters)
    columns = [
        Column(_("ID"), "id", "number"),
        Column(_("Number"), "number"),
        Column(_("Ordered"), "ordered_at", "datetime"),
        Column(_("Customer"), "customer__display_name"),
        Column(_("Status"), "status", "choice", dict(OrderStatus.choices)),
        Column(_("Source"), "source", "choice", dict(OrderSource.choices)),
        Column(_("External ID"), "external_id"),
        Column(_("Currency"), "currency"),
        Column(_("Subtotal"), "subtotal", "number"),
        Column(_("Tax"), "tax_total", "number"),
        Column(_("Total"), "total", "number"),
        Column(_("Paid"), "paid_total", "number"),
        Column(_("Owner"), "owner__full_name"),
        *_custom_columns("sales.order"),
    ]
    return Plan(qs, columns)


def _tickets(actor: User, params: QueryDict) -> Plan:
    from vefa.accounts.access import restrict
    from vefa.service.choices import TicketChannel, TicketPriority, TicketStatus, TicketType
    from vefa.service.filters import TicketFilters
    from vefa.service.models import Ticket

    filters = _strict(TicketFilters, params)
    # The list's own reading (``selectors.tickets.ticket_list``): restricted, then filtered.
    qs = filters.apply(restrict(Ticket.objects.all(), actor, "view"), actor=actor)
    columns = [
        Column(_("ID"), "id", "number"),
        Column(_("Number"), "number"),
        Column(_("Subject"), "subject"),
        Column(_("Status"), "status", "choice", dict(TicketStatus.choices)),
        Column(_("Priority"), "priority", "choice", dict(TicketPriority.choices)),
        Column(_("Type"), "type", "choice", dict(TicketType.choices)),
        Column(_("Channel"), "channel", "choice", dict(TicketChannel.choices)),
        Column(_("Customer"), "customer__display_name"),
        Column(_("Requester"), "requester_email"),
        Column(_("Queue"), "queue__name"),
        Column(_("Owner"), "owner__full_name"),
        Column(_("Created"), "created_at", "datetime"),
        Column(_("Resolved"), "resolved_at", "datetime"),
        *_custom_columns("service.ticket"),
    ]
    return Plan(qs.order_by("-id"), columns)


def _products(actor: User, params: QueryDict) -> Plan:
    from vefa.sales.selectors import catalogue as selectors

    filters = selectors.ProductFilters.from_query(params)
    qs = selectors.product_list(actor=actor, filters=filters)
    columns = [
        Column(_("ID"), "id", "number"),
        Column(_("SKU"), "sku"),
        Column(_("Name"), "name"),
        Column(_("Category"), "category__name"),
        Column(_("Unit"), "unit"),
        Column(_("List price"), "list_price", "number"),
        Column(_("Unit cost"), "unit_cost", "number"),
        Column(_("Currency"), "currency"),
        Column(_("Tax rate"), "tax_rate", "number"),
        Column(_("Active"), "is_active", "bool"),
        *_custom_columns("sales.product"),
    ]
    return Plan(qs, columns)


@dataclass(frozen=True)
class Entity:
    key: str
    label: Any
    list_url: str
    build: Callable[[User, QueryDict], Plan]


ENTITIES: dict[str, Entity] = {
    e.key: e
    for e in (
        Entity("customers", _("Customers"), "customers:list", _customers),
        Entity("leads", _("Leads"), "customers:lead_list", _leads),
        Entity("activities", _("Activities"), "interactions:activity_list", _activities),
        Entity("orders", _("Orders"), "sales:order_list", _orders),
        Entity("tickets", _("Tickets"), "service:ticket_list", _tickets),
        Entity("products", _("Products"), "sales:product_list", _products),
    )
}


def entity_choices() -> list[tuple[str, Any]]:
    return [(e.key, e.label) for e in ENTITIES.values()]


def plan_for(actor: User, entity: str, params: Mapping[str, Any] | None) -> Plan:
    """The rows ``actor`` gets for the list ``entity`` filtered by ``params``.

    An unknown list or a bad filter raises ``ValidationFailed`` naming it.
    """
    found = ENTITIES.get(str(entity))
    if found is None:
        raise ValidationFailed(
            str(_("Please correct the errors below.")),
            fields={"entity": [str(_("Unknown list."))]},
        )
    return found.build(actor, _query(params))
