"""API of the analytical CRM (/api/v1/analytics/…).

- ``customers/{id}/score`` and ``customers/{id}/history``: one customer's results and their
  history, for anyone who may see the customer (404 otherwise, like a missing customer);
- ``refreshes``: request a refresh (202 with its job) and follow it;
- ``results/{table}``: the dashboards' tables of the latest refresh, for people who may see
  every customer (a fixed list of tables; any other name is 404);
- ``segments`` and ``call-tasks``: turn an analytic customer list into a saved segment or
  into planned calls (a background job);
- ``settings``: read, and change (administrators).

Conventions (see ``vefa.common.api``): token or session auth, the one error shape, ``limit``
≤ 100 with keyset cursors on lists. Customers are filtered by analytic attributes on
``GET /api/v1/customers`` (``rfm_segment``, ``churn_risk``, ``clv_min`` …).
"""

from __future__ import annotations

import datetime
import math
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.db import transaction
from django.db.models import Model
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema
from pydantic import ConfigDict, Field

from vefa.analytics import services
from vefa.analytics.models import AnalyticsSettings, CustomerScore, Refresh
from vefa.analytics.views_customer import (
    HISTORY_LIMIT,
    as_of_of,
    customer_history,
    customer_score,
    label_of,
    next_best_products,
)
from vefa.common.api import API_ERRORS as ERRORS
from vefa.common.api import actor_of, clamp_limit, create_response, json_response, page_out
from vefa.common.errors import Conflict, NotFound, PermissionDenied
from vefa.common.paging import decode_cursor, encode_cursor, keyset_page
from vefa.platform.jobs import job_get
from vefa.platform.models import Job, SavedView

if TYPE_CHECKING:
    from vefa.accounts.models import User

router = Router(tags=["analytics"])

#: The dashboards' tables of a refresh, by the name the API takes. The file name comes from
#: this list only: the request's table name is looked up, never used to build a path.
RESULT_TABLES: dict[str, str] = {
    "rfm_grid": "rfm_grid.parquet",
    "ladder_transitions": "ladder_transitions.parquet",
    "pareto": "pareto.parquet",
    "pareto_summary": "pareto_summary.parquet",
    "cohorts": "cohorts.parquet",
    "basket_rules": "basket_rules.parquet",
    "kpis": "kpis.parquet",
    "profitability_by_segment": "profitability_by_segment.parquet",
    "clv_distribution": "clv_distribution.parquet",
}
# Columns of those tables that hold codes, and the kind of code (for their labels).
_CODE_COLUMNS = {
    "rfm_segment": "rfm_segment",
    "from_step": "ladder_step",
    "to_step": "ladder_step",
    "kpi": "kpi",
}
MAX_FILTERS = 50


@contextmanager
def _refused_as_403() -> Iterator[None]:
    """The services refuse with Django's ``PermissionDenied``: answer in the error shape."""
    try:
        yield
    except DjangoPermissionDenied as exc:
        raise PermissionDenied(str(exc) or _("You may not do this.")) from None


def _require_dashboards(actor: User) -> None:
    if not services.can_view_dashboards(actor):
        raise PermissionDenied(_("Company-wide analytics are for people who see every customer."))


# --- schemas --------------------------------------------------------------------------------


class ProductRefOut(Schema):
    id: int
    sku: str
    name: str


class ScoreOut(Schema):
    """A customer's current results; money in ``currency`` (the reporting currency)."""

    customer_id: int
    refresh_id: int | None
    as_of: datetime.date
    computed_at: datetime.datetime
    currency: str
    last_purchase_on: datetime.date | None
    frequency: int | None
    monetary: Decimal | None
    r_score: int | None
    f_score: int | None
    m_score: int | None
    rfm_segment: str
    rfm_segment_label: str
    previous_rfm_segment: str
    previous_rfm_segment_label: str
    ladder_step: str
    ladder_step_label: str
    previous_ladder_step: str
    previous_ladder_step_label: str
    value_class: str
    value_class_label: str
    revenue: Decimal | None
    margin: Decimal | None
    clv: Decimal | None
    p_alive: float | None
    expected_purchases: float | None
    declining: bool
    overdue: bool
    churn_risk: str
    churn_risk_label: str
    share_of_wallet: float | None
    next_best: list[int]
    next_best_products: list[ProductRefOut] = Field(
        default=[], description="The recommended products the caller may see, in order."
    )
    reasons: dict[str, Any] = Field(
        description="The numbers behind the flags: orders and revenue (cents) in the last "
        "12 months and the 12 before and their change, the usual gap between purchases, "
        "the value rank, the wallet estimate and the cost parts of the margin."
    )

    @staticmethod
    def resolve_as_of(obj: CustomerScore) -> datetime.date:
        return as_of_of(obj)

    @staticmethod
    def resolve_rfm_segment_label(obj: CustomerScore) -> str:
        return label_of("rfm_segment", obj.rfm_segment)

    @staticmethod
    def resolve_previous_rfm_segment_label(obj: CustomerScore) -> str:
        return label_of("rfm_segment", obj.previous_rfm_segment)

    @staticmethod
    def resolve_ladder_step_label(obj: CustomerScore) -> str:
        return label_of("ladder_step", obj.ladder_step)

    @staticmethod
    def resolve_previous_ladder_step_label(obj: CustomerScore) -> str:
        return label_of("ladder_step", obj.previous_ladder_step)

    @staticmethod
    def resolve_value_class_label(obj: CustomerScore) -> str:
        return label_of("value_class", obj.value_class)

    @staticmethod
    def resolve_churn_risk_label(obj: CustomerScore) -> str:
        return label_of("churn_risk", obj.churn_risk)

    @staticmethod
    def resolve_next_best(obj: CustomerScore) -> list[int]:
        values = obj.next_best if isinstance(obj.next_best, list) else []
        return [v for v in values if isinstance(v, int) and not isinstance(v, bool)]

    @staticmethod
    def resolve_reasons(obj: CustomerScore) -> dict[str, Any]:
        return obj.reasons if isinstance(obj.reasons, dict) else {}


class HistoryItemOut(Schema):
    as_of: datetime.date
    refresh_id: int
    rfm_segment: str
    rfm_segment_label: str
    ladder_step: str
    ladder_step_label: str
    value_class: str
    value_class_label: str
    churn_risk: str
    churn_risk_label: str


class HistoryOut(Schema):
    customer_id: int
    items: list[HistoryItemOut]


class JobOut(Schema):
    id: int
    kind: str
    title: str
    status: str
    progress: int
    total: int
    message: str
    result: dict[str, Any]
    created_at: datetime.datetime
    started_at: datetime.datetime | None
    finished_at: datetime.datetime | None
    url: str

    @staticmethod
    def resolve_url(obj: Job) -> str:
        return reverse("platform:job_detail", args=[obj.pk])


class RefreshIn(Schema):
    full: bool = Field(
        default=False, description="Extract everything again instead of what changed."
    )


class RefreshOut(Schema):
    id: int
    status: str
    full: bool
    as_of: datetime.date
    requested_by_id: int | None
    created_at: datetime.datetime
    started_at: datetime.datetime | None
    finished_at: datetime.datetime | None
    figures: dict[str, Any]
    error: str
    job: JobOut | None
    url: str

    @staticmethod
    def resolve_url(obj: Refresh) -> str:
        return reverse("api:analytics_refresh_detail", args=[obj.pk])


class RefreshPageOut(Schema):
    items: list[RefreshOut]
    next_cursor: str | None
    previous_cursor: str | None


class ResultOut(Schema):
    """One dashboard table of the latest refresh; money in cents of ``currency``."""

    table: str
    refresh_id: int | None
    as_of: datetime.date | None
    currency: str
    columns: list[str]
    labels: dict[str, str] = Field(description="Translated labels of the codes in the rows.")
    items: list[dict[str, Any]]
    next_cursor: str | None
    previous_cursor: str | None


FilterValue = str | int | float | bool | None


class SegmentIn(Schema):
    name: str
    filters: dict[str, FilterValue] = Field(
        default={},
        max_length=MAX_FILTERS,
        description="Customer list filters, as on GET /api/v1/customers.",
    )
    share_with_team: bool = False


class SegmentOut(Schema):
    id: int
    name: str
    filters: dict[str, str]
    shared_with_team: bool
    url: str = Field(description="The customer list with the segment applied.")

    @staticmethod
    def resolve_shared_with_team(obj: SavedView) -> bool:
        return obj.team_id is not None

    @staticmethod
    def resolve_url(obj: SavedView) -> str:
        return _segment_url(obj)


class CallTasksIn(Schema):
    filters: dict[str, FilterValue] = Field(default={}, max_length=MAX_FILTERS)
    subject: str
    due: datetime.date


class SettingsOut(Schema):
    """The analytics settings; shares are between 0 and 1, costs in the reporting currency."""

    reporting_currency: str
    rfm_window_days: int
    ladder_window_days: int
    ladder_occasional_orders: int
    ladder_regular_orders: int
    ladder_loyal_orders: int
    value_basis: str
    value_a_share: Decimal
    value_b_share: Decimal
    decline_share: Decimal
    overdue_factor: Decimal
    churn_p_alive: Decimal
    clv_horizon_months: int
    clv_annual_discount: Decimal
    cost_per_activity: Decimal
    cost_per_ticket: Decimal
    cost_per_return: Decimal
    cost_per_message: Decimal
    basket_min_support: Decimal
    basket_min_confidence: Decimal
    nightly: bool
    updated_at: datetime.datetime


class SettingsPatch(Schema):
    """Any of the settings; an unknown name is refused rather than ignored."""

    model_config = ConfigDict(extra="forbid")

    reporting_currency: str | None = None
    rfm_window_days: int | None = None
    ladder_window_days: int | None = None
    ladder_occasional_orders: int | None = None
    ladder_regular_orders: int | None = None
    ladder_loyal_orders: int | None = None
    value_basis: str | None = None
    value_a_share: Decimal | None = None
    value_b_share: Decimal | None = None
    decline_share: Decimal | None = None
    overdue_factor: Decimal | None = None
    churn_p_alive: Decimal | None = None
    clv_horizon_months: int | None = None
    clv_annual_discount: Decimal | None = None
    cost_per_activity: Decimal | None = None
    cost_per_ticket: Decimal | None = None
    cost_per_return: Decimal | None = None
    cost_per_message: Decimal | None = None
    basket_min_support: Decimal | None = None
    basket_min_confidence: Decimal | None = None
    nightly: bool | None = None


def _segment_url(view: Model) -> str:
    return f"{reverse('customers:list')}?view={view.pk}"


def _filters(values: dict[str, FilterValue]) -> dict[str, str]:
    """JSON filter values as the query-string values the customer filter form reads."""
    clean: dict[str, str] = {}
    for key, value in values.items():
        if value is None or value == "":
            continue
        clean[str(key)] = ("true" if value else "false") if isinstance(value, bool) else str(value)
    return clean


# --- one customer ---------------------------------------------------------------------------


@router.get(
    "/analytics/customers/{customer_id}/score",
    response={200: ScoreOut, **ERRORS},
    url_name="analytics_customer_score",
)
def customer_score_detail(request: HttpRequest, customer_id: int) -> HttpResponse:
    """The customer's current analytic results with labels and the reasons behind the flags.

    404 when the customer is hidden from the caller or has no results yet.
    """
    from vefa.customers.selectors import customer_get

    actor = actor_of(request)
    customer = customer_get(actor=actor, pk=customer_id)
    score = customer_score(customer)
    if score is None:
        raise NotFound(_("No analytics for this customer yet."))
    body = dict(ScoreOut.from_orm(score).model_dump(mode="json"))
    products = next_best_products(actor, list(body["next_best"]))
    body["next_best_products"] = [{"id": p.pk, "sku": p.sku, "name": p.name} for p in products]
    return json_response(body)


@router.get(
    "/analytics/customers/{customer_id}/history",
    response={200: HistoryOut, **ERRORS},
    url_name="analytics_customer_history",
)
def customer_history_list(
    request: HttpRequest, customer_id: int, limit: int | None = Query(None, ge=1)
) -> HttpResponse:
    """The customer's RFM segment, ladder step, value class and churn risk per refresh,
    newest first (at most 100), read from the refresh snapshots."""
    from vefa.customers.selectors import customer_get

    customer = customer_get(actor=actor_of(request), pk=customer_id)
    size = min(int(limit or HISTORY_LIMIT), HISTORY_LIMIT)
    entries = customer_history(customer.pk, limit=size)
    items = [
        HistoryItemOut(
            as_of=e.as_of,
            refresh_id=e.refresh_id,
            rfm_segment=e.rfm_segment,
            rfm_segment_label=e.rfm_segment_label,
            ladder_step=e.ladder_step,
            ladder_step_label=e.ladder_step_label,
            value_class=e.value_class,
            value_class_label=e.value_class_label,
            churn_risk=e.churn_risk,
            churn_risk_label=e.churn_risk_label,
        ).model_dump(mode="json")
        for e in entries
    ]
    return json_response({"customer_id": customer.pk, "items": items})


# --- refreshes ------------------------------------------------------------------------------


def _refresh_body(refresh: Refresh) -> dict[str, Any]:
    return dict(RefreshOut.from_orm(refresh).model_dump(mode="json"))


@router.post(
    "/analytics/refreshes", response={202: RefreshOut, **ERRORS}, url_name="analytics_refresh"
)
def refresh_create(request: HttpRequest, payload: RefreshIn) -> HttpResponse:
    """Queue a refresh; a refresh already queued or running is returned instead of a second.

    Answers 202 with the refresh and its job; follow it at ``url``.
    """
    with _refused_as_403():
        refresh = services.refresh_request(actor=actor_of(request), full=payload.full)
    refresh = Refresh.objects.select_related("job").get(pk=refresh.pk)
    response = json_response(_refresh_body(refresh), status=202)
    response["Location"] = reverse("api:analytics_refresh_detail", args=[refresh.pk])
    return response


@router.get(
    "/analytics/refreshes", response={200: RefreshPageOut, **ERRORS}, url_name="analytics_refreshes"
)
def refresh_list(
    request: HttpRequest, cursor: str | None = None, limit: int | None = Query(None, ge=1)
) -> HttpResponse:
    """The refreshes, newest first, with their figures and job progress."""
    _require_dashboards(actor_of(request))
    page = keyset_page(
        Refresh.objects.select_related("job"),
        ordering="-id",
        cursor=cursor,
        size=clamp_limit(limit),
    )
    data = page_out(page, RefreshOut)
    data["items"] = [item.model_dump(mode="json") for item in data["items"]]
    return json_response(data)


@router.get(
    "/analytics/refreshes/{refresh_id}",
    response={200: RefreshOut, **ERRORS},
    url_name="analytics_refresh_detail",
)
def refresh_detail(request: HttpRequest, refresh_id: int) -> HttpResponse:
    """One refresh: status, figures (seconds per step, rows), error, job progress."""
    _require_dashboards(actor_of(request))
    refresh = Refresh.objects.select_related("job").filter(pk=refresh_id).first()
    if refresh is None:
        raise NotFound(_("Not found."))
    return json_response(_refresh_body(refresh))


# --- dashboard tables -----------------------------------------------------------------------


def _json_value(value: Any) -> Any:
    """A Parquet value as JSON: non-finite floats become null, dates ISO text."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, list):
        return [_json_value(v) for v in value]
    return value


def _code_labels(kind: str, codes: set[str]) -> dict[str, str]:
    if kind == "kpi":
        from vefa.analytics.metrics.kpis import LABELS as KPI_LABELS

        return {c: str(KPI_LABELS[c]) for c in codes if c in KPI_LABELS}
    labels = {c: label_of(kind, c) for c in codes if c and c != "none"}
    if kind == "ladder_step" and "none" in codes:
        labels["none"] = str(_("none"))
    return labels


def _results_folder(cursor_refresh: int | None) -> Path | None:
    """The folder a page is read from: the cursor's refresh while it exists, else the
    latest (so paging through a table is never mixed across two refreshes)."""
    from vefa.analytics.refresh import latest_results, results_dir

    if cursor_refresh is not None:
        folder = results_dir(cursor_refresh)
        if folder.is_dir():
            return folder
    return latest_results()


@router.get(
    "/analytics/results/{table}", response={200: ResultOut, **ERRORS}, url_name="analytics_result"
)
def result_table(
    request: HttpRequest,
    table: str,
    cursor: str | None = None,
    limit: int | None = Query(None, ge=1),
) -> HttpResponse:
    """A dashboard table of the latest refresh: ``rfm_grid``, ``ladder_transitions``,
    ``pareto``, ``pareto_summary``, ``cohorts``, ``basket_rules``, ``kpis``,
    ``profitability_by_segment`` or ``clv_distribution`` (any other name is 404).

    For people who see every customer. Before the first refresh the table is empty with
    ``refresh_id`` null.
    """
    import pyarrow.parquet as pq

    _require_dashboards(actor_of(request))
    file_name = RESULT_TABLES.get(table)
    if file_name is None:
        raise NotFound(_("There is no such analytics table."))
    size = clamp_limit(limit)
    decoded = decode_cursor(cursor) if cursor else None
    cursor_refresh, offset = None, 0
    if decoded is not None and isinstance(decoded[0], int) and decoded[1] >= 0:
        cursor_refresh, offset = decoded[0], decoded[1]
    folder = _results_folder(cursor_refresh)
    if folder is not None and cursor_refresh is not None and folder.name != str(cursor_refresh):
        offset = 0  # the cursor's refresh is gone: start again on the latest
    currency = AnalyticsSettings.current().reporting_currency
    body: dict[str, Any] = {
        "table": table,
        "refresh_id": None,
        "as_of": None,
        "currency": currency,
        "columns": [],
        "labels": {},
        "items": [],
        "next_cursor": None,
        "previous_cursor": None,
    }
    path = folder / file_name if folder is not None else None
    if folder is None or path is None or not path.is_file():
        return json_response(body)
    refresh_id = int(folder.name)
    data = pq.read_table(path)
    rows = data.slice(offset, size).to_pylist()
    refresh = Refresh.objects.filter(pk=refresh_id).only("as_of").first()
    labels: dict[str, str] = {}
    for column, kind in _CODE_COLUMNS.items():
        if column in data.column_names:
            codes = {str(row[column]) for row in rows if row.get(column) is not None}
            labels.update(_code_labels(kind, codes))
    body.update(
        refresh_id=refresh_id,
        as_of=refresh.as_of.isoformat() if refresh is not None else None,
        columns=list(data.column_names),
        labels=labels,
        items=[{k: _json_value(v) for k, v in row.items()} for row in rows],
        next_cursor=(
            encode_cursor(refresh_id, offset + size, False)
            if offset + size < data.num_rows
            else None
        ),
        previous_cursor=(
            encode_cursor(refresh_id, max(0, offset - size), False) if offset > 0 else None
        ),
    )
    return json_response(body)


# --- from insight to action -----------------------------------------------------------------


@router.post(
    "/analytics/segments", response={201: SegmentOut, **ERRORS}, url_name="analytics_segment"
)
def segment_create(request: HttpRequest, payload: SegmentIn) -> HttpResponse:
    """Save customer filters (analytic ones among them) as a named segment of the customer
    list. Answers 201 with the saved view and ``url``, the list with the segment applied;
    ``Idempotency-Key`` makes a retry return the first answer."""
    actor = actor_of(request)

    def create() -> SavedView:
        with _refused_as_403():
            return services.segment_create(
                actor=actor,
                name=payload.name,
                filters=_filters(payload.filters),
                share_with_team=payload.share_with_team,
            )

    return create_response(request, create=create, schema=SegmentOut, location=_segment_url)


@router.post(
    "/analytics/call-tasks", response={202: JobOut, **ERRORS}, url_name="analytics_call_tasks"
)
def call_tasks_create(request: HttpRequest, payload: CallTasksIn) -> HttpResponse:
    """Plan a call, due on ``due``, for every customer of the filtered list (each for the
    customer's owner). Runs as a background job: 202 with the job; follow it at
    ``/api/v1/analytics/call-tasks/{job id}``. Customers that already have an open call with
    the same subject are skipped."""
    from vefa.accounts.access import can_create
    from vefa.interactions.models import Activity

    actor = actor_of(request)
    if not can_create(actor, Activity):
        raise PermissionDenied(_("Your role cannot plan calls."))
    with _refused_as_403():
        job = services.call_tasks_request(
            actor=actor,
            filters=_filters(payload.filters),
            subject=payload.subject,
            due=payload.due,
        )
    job.refresh_from_db()
    response = json_response(JobOut.from_orm(job).model_dump(mode="json"), status=202)
    response["Location"] = reverse("api:analytics_call_tasks_detail", args=[job.pk])
    return response


@router.get(
    "/analytics/call-tasks/{job_id}",
    response={200: JobOut, **ERRORS},
    url_name="analytics_call_tasks_detail",
)
def call_tasks_detail(request: HttpRequest, job_id: int) -> HttpResponse:
    """The progress of a call-planning job the caller started (``result.planned`` at the end)."""
    job = job_get(actor=actor_of(request), pk=job_id)
    if job.kind != services.CALL_TASKS_JOB:
        raise NotFound(_("Not found."))
    return json_response(JobOut.from_orm(job).model_dump(mode="json"))


# --- settings -------------------------------------------------------------------------------


def _settings_stamp(value: AnalyticsSettings) -> int:
    return int(value.updated_at.timestamp() * 1_000_000)


def _settings_response(value: AnalyticsSettings) -> HttpResponse:
    response = json_response(SettingsOut.from_orm(value).model_dump(mode="json"))
    response["ETag"] = f'"{value.pk}-{_settings_stamp(value)}"'
    return response


@router.get(
    "/analytics/settings", response={200: SettingsOut, **ERRORS}, url_name="analytics_settings"
)
def settings_detail(request: HttpRequest) -> HttpResponse:
    """The analytics settings (windows, cut-offs, unit costs, reporting currency)."""
    _require_dashboards(actor_of(request))
    return _settings_response(AnalyticsSettings.current())


@router.patch(
    "/analytics/settings",
    response={200: SettingsOut, **ERRORS},
    url_name="analytics_settings_update",
)
def settings_update(request: HttpRequest, payload: SettingsPatch) -> HttpResponse:
    """Change some settings (administrators only); every value is checked and the errors
    name the fields. Send ``If-Match`` with the ETag you read to avoid lost updates."""
    from vefa.common.api import if_match_version

    actor = actor_of(request)
    data = payload.model_dump(exclude_unset=True)
    with transaction.atomic():
        AnalyticsSettings.current()
        current = AnalyticsSettings.objects.select_for_update().get(pk=1)
        expected = if_match_version(request, current)
        if expected is not None and expected != _settings_stamp(current):
            raise Conflict(
                _("Someone else changed the settings first. Reload and try again."),
                current_version=_settings_stamp(current),
            )
        with _refused_as_403():
            updated = services.settings_update(actor=actor, data=data)
    return _settings_response(updated)
