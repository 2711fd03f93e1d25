"""Reads of the analytical CRM for the pages: the latest refresh's results, the refresh runs,
the settings, product names for basket rules and the customers of an analytic list.

Company-wide figures are for people who may see every customer
(``services.can_view_dashboards``); for everyone else each read answers ``NotFound``, so the
pages look the same as a page that does not exist.

The results of a refresh are Parquet files written once (``refresh.py``). They are read
here with DuckDB and kept in memory per results folder: a refresh id names one immutable
set of files, so the cache needs no invalidation besides a new refresh (the folder's
modification time is part of the key, in case a folder was written again). The largest file
(``scores.parquet``, one row per customer) is only aggregated, never loaded.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
import pyarrow.parquet as pq
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from vefa.analytics import services
from vefa.analytics.models import AnalyticsSettings, Refresh
from vefa.common.errors import NotFound

if TYPE_CHECKING:
    from vefa.accounts.models import User
    from vefa.common.paging import Page
    from vefa.customers.models import Customer

# The dashboards' tables of a results folder, each with the columns the pages read.
TABLES: dict[str, tuple[str, ...]] = {
    "rfm_grid": ("r_score", "f_score", "customers", "monetary"),
    "ladder_transitions": ("from_step", "to_step", "customers"),
    "pareto": ("customer_share", "value_share"),
    "pareto_summary": ("customers", "customer_share_for_80", "top_5_share", "bottom_20_share"),
    "cohorts": (
        "cohort_month",
        "months_since",
        "customers",
        "revenue",
        "cohort_customers",
        "retained_share",
        "revenue_share",
    ),
    "basket_rules": ("antecedent", "consequent", "baskets", "support", "confidence", "lift"),
    "kpis": ("kpi", "current", "previous", "change"),
    "profitability_by_segment": ("rfm_segment", "customers", "revenue", "margin", "unprofitable"),
    "clv_distribution": ("band", "customers", "clv"),
}
# A safety cap on the rows read of a dashboard table (they hold tens to thousands).
MAX_ROWS = 50_000
CACHE_SIZE = 4
HISTORY = 20


@dataclass(frozen=True)
class AnalyticList:
    """A list of customers to act on, as filters of the customer list (``/customers/?…``).

    ``condition`` is the same list over the columns of ``scores.parquet``, to count it
    from the results without a query on the customer table.
    """

    key: str
    title: Promise
    description: Promise
    filters: Mapping[str, str]
    condition: str


ANALYTIC_LISTS: tuple[AnalyticList, ...] = (
    AnalyticList(
        "declining",
        _("Declining customers"),
        _("Ordered or spent clearly less in the last 12 months than in the 12 before."),
        {"declining": "true"},
        "declining",
    ),
    AnalyticList(
        "a_at_risk",
        _("A customers at high churn risk"),
        _("The most valuable customers whose buying has slowed down or stopped."),
        {"value_class": "A", "churn_risk": "high"},
        "value_class = 'A' AND churn_risk = 'high'",
    ),
    AnalyticList(
        "overdue",
        _("Overdue for a purchase"),
        _("Have not bought for clearly longer than their usual time between purchases."),
        {"overdue": "true"},
        "overdue",
    ),
    AnalyticList(
        "cannot_lose",
        _("Cannot lose them"),
        _("Bought often and much, but not for a long time."),
        {"rfm_segment": "cannot_lose"},
        "rfm_segment = 'cannot_lose'",
    ),
    AnalyticList(
        "at_risk",
        _("At risk"),
        _("Bought often, but their last purchase was a while ago."),
        {"rfm_segment": "at_risk"},
        "rfm_segment = 'at_risk'",
    ),
    AnalyticList(
        "high_risk",
        _("High churn risk"),
        _("Every customer the refresh rated at high churn risk."),
        {"churn_risk": "high"},
        "churn_risk = 'high'",
    ),
)
LISTS_BY_KEY = {item.key: item for item in ANALYTIC_LISTS}


@dataclass(frozen=True)
class Results:
    """The figures of one refresh, as plain rows (small tables) and counts."""

    refresh_id: int
    tables: Mapping[str, list[dict[str, Any]]]
    customers: int
    ladder_steps: Mapping[str, int]
    list_counts: Mapping[str, int]
    missing: tuple[str, ...] = ()

    def rows(self, name: str) -> list[dict[str, Any]]:
        return list(self.tables.get(name, []))


@dataclass
class Dashboard:
    """What the dashboard page shows: results (``None`` before the first refresh), the
    refresh they come from, the refresh under way, and the settings (for the currency)."""

    results: Results | None
    refresh: Refresh | None
    current: Refresh | None
    last: Refresh | None
    settings: AnalyticsSettings
    currency: str
    product_names: dict[int, str] = field(default_factory=dict)


def _check(actor: User | None) -> None:
    if actor is None or not services.can_view_dashboards(actor):
        raise NotFound(str(_("Not found.")))


# --- reading a results folder ---------------------------------------------------------------

_cache: OrderedDict[tuple[str, int], Results] = OrderedDict()
_lock = threading.Lock()


def _read_table(path: Path, columns: tuple[str, ...], limit: int | None) -> list[dict[str, Any]]:
    """The rows of one Parquet file with the columns the pages use (missing ones as null)."""
    table = pq.read_table(path)
    if limit is not None and table.num_rows > limit:
        table = table.slice(0, limit)
    present = [c for c in columns if c in table.column_names]
    rows = table.select(present).to_pylist()
    for row in rows:
        for column in columns:
            row.setdefault(column, None)
    return rows


def _scores_counts(path: Path) -> tuple[int, dict[str, int], dict[str, int]]:
    """Customers, customers per ladder step and per analytic list, from ``scores.parquet``."""
    counts = ", ".join(
        f"count(*) FILTER (WHERE {item.condition}) AS {item.key}" for item in ANALYTIC_LISTS
    )
    con = duckdb.connect()
    try:
        con.execute("SET threads TO 2")
        con.read_parquet(str(path)).create_view("scores")
        # The list conditions are this module's constants.
        row = con.execute(f"SELECT count(*), {counts} FROM scores").fetchone()  # noqa: S608
        steps = con.execute(
            "SELECT ladder_step, count(*) FROM scores WHERE coalesce(ladder_step, '') <> '' "
            "GROUP BY ladder_step"
        ).fetchall()
    finally:
        con.close()
    assert row is not None
    lists = {item.key: int(row[k + 1]) for k, item in enumerate(ANALYTIC_LISTS)}
    return int(row[0]), {str(step): int(n) for step, n in steps}, lists


def load_results(folder: Path) -> Results:
    """The figures of the results folder ``results/<refresh id>/`` (cached per folder).

    A file that is missing (a refresh of an older version, a metric that had nothing to
    say) gives an empty table and is named in ``missing``.
    """
    try:
        stamp = folder.stat().st_mtime_ns
    except OSError:
        stamp = 0
    key = (str(folder), stamp)
    with _lock:
        if key in _cache:
            _cache.move_to_end(key)
            return _cache[key]
    tables: dict[str, list[dict[str, Any]]] = {}
    missing: list[str] = []
    for name, columns in TABLES.items():
        path = folder / f"{name}.parquet"
        if path.is_file():
            tables[name] = _read_table(path, columns, MAX_ROWS)
        else:
            tables[name] = []
            missing.append(name)
    scores = folder / "scores.parquet"
    customers = 0
    steps: dict[str, int] = {}
    lists = {item.key: 0 for item in ANALYTIC_LISTS}
    try:
        if scores.is_file():
            customers, steps, lists = _scores_counts(scores)
        else:
            missing.append("scores")
    except duckdb.Error:  # a file of another shape: the counts stay empty, the page works
        missing.append("scores")
    try:
        refresh_id = int(folder.name)
    except ValueError:
        refresh_id = 0
    results = Results(
        refresh_id=refresh_id,
        tables=tables,
        customers=customers,
        ladder_steps=steps,
        list_counts=lists,
        missing=tuple(missing),
    )
    with _lock:
        _cache[key] = results
        _cache.move_to_end(key)
        while len(_cache) > CACHE_SIZE:
            _cache.popitem(last=False)
    return results


def _latest_folder() -> Path | None:
    from vefa.analytics.refresh import latest_results

    return latest_results()


# --- reads for the pages ----------------------------------------------------------------------


def dashboard(actor: User) -> Dashboard:
    """The latest refresh's figures with product names for its basket rules."""
    _check(actor)
    options = AnalyticsSettings.current()
    folder = _latest_folder()
    results = load_results(folder) if folder is not None else None
    refresh = (
        Refresh.objects.filter(pk=results.refresh_id).first()
        if results is not None and results.refresh_id
        else None
    )
    names: dict[int, str] = {}
    if results is not None:
        ids: set[int] = set()
        for rule in results.rows("basket_rules"):
            ids.update(int(v) for v in (rule["antecedent"], rule["consequent"]) if v is not None)
        names = product_names(actor, ids)
    return Dashboard(
        results=results,
        refresh=refresh,
        current=refresh_current(actor),
        last=Refresh.objects.select_related("job").order_by("-pk").first(),
        settings=options,
        currency=options.reporting_currency,
        product_names=names,
    )


def product_names(actor: User, ids: set[int] | list[int]) -> dict[int, str]:
    """Names of the products the actor may see, by id (others are left out)."""
    _check(actor)
    from vefa.accounts.access import restrict
    from vefa.sales.models import Product

    wanted = sorted({int(i) for i in ids})
    if not wanted:
        return {}
    rows = restrict(Product.objects.filter(pk__in=wanted), actor, "view").values_list("pk", "name")
    return {int(pk): str(name) for pk, name in rows}


def refresh_current(actor: User) -> Refresh | None:
    """The refresh queued or running now, if any."""
    _check(actor)
    return (
        Refresh.objects.select_related("job")
        .filter(status__in=(Refresh.Status.QUEUED, Refresh.Status.RUNNING))
        .order_by("-pk")
        .first()
    )


def refresh_history(actor: User, *, limit: int = HISTORY) -> list[Refresh]:
    """The most recent refresh runs, newest first."""
    _check(actor)
    limit = max(1, min(int(limit), 200))
    return list(Refresh.objects.select_related("job", "requested_by").order_by("-pk")[:limit])


def refresh_get(actor: User, pk: Any) -> Refresh:
    """One refresh run (for its progress bar)."""
    _check(actor)
    try:
        number = int(pk)
    except (TypeError, ValueError):
        raise NotFound(str(_("Not found."))) from None
    refresh = Refresh.objects.select_related("job").filter(pk=number).first()
    if refresh is None:
        raise NotFound(str(_("Not found.")))
    return refresh


def current_settings(actor: User) -> AnalyticsSettings:
    """The analytics settings (read by every dashboard viewer, changed by administrators)."""
    _check(actor)
    return AnalyticsSettings.current()


def list_customers(actor: User, filters: Mapping[str, Any], *, size: int = 10) -> Page[Customer]:
    """The first page of an analytic list's customers, through the customer list selector
    (so the actor's access and the list's own filter validation apply)."""
    _check(actor)
    from vefa.customers.selectors import customer_list

    return customer_list(actor=actor, filters=dict(filters), size=max(1, min(size, 100)))
