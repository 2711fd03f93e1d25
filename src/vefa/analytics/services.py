"""Writes of the analytical CRM: the one way results reach customers, settings, refreshes,
and the actions that turn an analytic list into work (a saved segment, call tasks).

``scores_write`` is the only code that writes ``CustomerScore`` rows. It is an idempotent
upsert: a refresh that is killed and run again writes the same rows, and rows of customers
that have dropped out of the results are removed.
"""

from __future__ import annotations

import datetime
import json
import math
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import pyarrow as pa
from django.core.exceptions import PermissionDenied
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from vefa.accounts.access import Scope, scope_for
from vefa.accounts.choices import Role
from vefa.analytics.models import AnalyticsSettings, CustomerScore, Refresh
from vefa.common.errors import ValidationFailed
from vefa.platform.jobs import job_start

if TYPE_CHECKING:
    from vefa.accounts.models import User
    from vefa.platform.models import Job, SavedView

REFRESH_JOB = "analytics.refresh"
CALL_TASKS_JOB = "analytics.call_tasks"
REFRESH_ROLES = frozenset({Role.ADMIN, Role.SALES_MANAGER, Role.MARKETER})
WRITE_BATCH = 20_000
MAX_CALL_TASKS = 5_000
CENT = Decimal("0.01")

# Columns of the results table ``scores_write`` takes (Arrow), besides ``customer_id``.
SCORE_COLUMNS = (
    "last_purchase_day",
    "frequency",
    "monetary",
    "r_score",
    "f_score",
    "m_score",
    "rfm_segment",
    "previous_rfm_segment",
    "ladder_step",
    "previous_ladder_step",
    "value_class",
    "revenue",
    "margin",
    "clv",
    "p_alive",
    "expected_purchases",
    "declining",
    "overdue",
    "churn_risk",
    "share_of_wallet",
    "next_best",
    "reasons",
)
# The columns of the scores table in the order they are written: the same results, with the
# refresh, the time and the currency, and the last purchase as a date.
DB_COLUMNS = (
    "customer_id",
    "refresh_id",
    "computed_at",
    "currency",
    "last_purchase_on",
    *SCORE_COLUMNS[1:],
)


def can_view_dashboards(actor: User | None) -> bool:
    """Company-wide figures are for people who may see every customer."""
    return scope_for(actor, "customers.customer", "view") == Scope.ALL


def can_refresh(actor: User | None) -> bool:
    if actor is None or not actor.is_authenticated or not actor.is_active:
        return False
    return bool(actor.is_superuser or actor.role in REFRESH_ROLES)


def _cents(value: Any) -> Decimal | None:
    if value is None:
        return None
    return (Decimal(int(value)) / 100).quantize(CENT)


def _float(value: Any) -> float | None:
    if value is None:
        return None
    number = float(value)
    return None if math.isnan(number) or math.isinf(number) else number


def _day(value: Any) -> datetime.date | None:
    if value is None:
        return None
    if isinstance(value, datetime.date):
        return value
    return datetime.date(1970, 1, 1) + datetime.timedelta(days=int(value))


def _row_values(
    row: Mapping[str, Any], *, refresh_id: int | None, computed_at: Any, currency: str
) -> tuple[Any, ...]:
    return (
        int(row["customer_id"]),
        refresh_id,
        computed_at,
        currency,
        _day(row.get("last_purchase_day")),
        row.get("frequency"),
        _cents(row.get("monetary")),
        row.get("r_score"),
        row.get("f_score"),
        row.get("m_score"),
        row.get("rfm_segment") or "",
        row.get("previous_rfm_segment") or "",
        row.get("ladder_step") or "",
        row.get("previous_ladder_step") or "",
        row.get("value_class") or "",
        _cents(row.get("revenue")),
        _cents(row.get("margin")),
        _cents(row.get("clv")),
        _float(row.get("p_alive")),
        _float(row.get("expected_purchases")),
        bool(row.get("declining")),
        bool(row.get("overdue")),
        row.get("churn_risk") or "",
        _float(row.get("share_of_wallet")),
        list(row.get("next_best") or []),
        _reasons(row.get("reasons")),
    )


def _reasons(value: Any) -> dict[str, Any]:
    """The numbers behind the flags: a dict, or JSON text of one; empty values dropped."""
    if isinstance(value, str):
        try:
            value = json.loads(value) if value else {}
        except ValueError:
            value = {}
    if not isinstance(value, dict):
        return {}
    return {str(k): v for k, v in value.items() if v is not None}


def _upsert_sql(vendor: str) -> str:
    table = CustomerScore._meta.db_table
    columns = ", ".join(DB_COLUMNS)
    placeholders = ", ".join(["%s"] * len(DB_COLUMNS))
    updates = ", ".join(f"{c} = excluded.{c}" for c in DB_COLUMNS if c != "customer_id")
    # Table and column names are this module's constants; values go in as parameters.
    return (
        f"INSERT INTO {table} ({columns}) VALUES ({placeholders}) "  # noqa: S608
        f"ON CONFLICT (customer_id) DO UPDATE SET {updates}"
    )


def scores_write(
    changed: pa.Table | Iterable[Mapping[str, Any]],
    *,
    refresh: Refresh | None,
    currency: str,
    keep_ids: Iterable[int] | None = None,
    progress: Any = None,
) -> int:
    """Write (insert or replace) the scores of the customers in ``changed``.

    ``changed`` holds ``customer_id`` and the ``SCORE_COLUMNS`` (money in cents, the last
    purchase as a day number). With ``keep_ids`` (every customer of the full result), rows of
    other customers are deleted. Runs in batches, each its own transaction, so a refresh
    killed half way leaves whole rows and the next run writes the rest. Returns the number of
    rows written.
    """
    from django.db.models.fields.json import JSONField

    computed_at = timezone.now()
    refresh_id = refresh.pk if refresh is not None else None
    if connection.vendor == "postgresql" and isinstance(changed, pa.Table):
        written = _copy_table(
            changed,
            refresh_id=refresh_id,
            computed_at=computed_at,
            currency=currency,
            progress=progress,
        )
        if keep_ids is not None:
            scores_prune(keep_ids)
        return written
    rows = _iter_table(changed) if isinstance(changed, pa.Table) else changed
    sql = _upsert_sql(connection.vendor)
    json_field = JSONField()
    written = 0
    batch: list[tuple[Any, ...]] = []

    def flush() -> None:
        nonlocal written
        if not batch:
            return
        if connection.vendor == "postgresql":
            _copy_upsert(batch)
        else:
            prepared = [
                (
                    *values[:24],
                    json_field.get_db_prep_value(values[24], connection),
                    json_field.get_db_prep_value(values[25], connection),
                )
                for values in batch
            ]
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.executemany(sql, prepared)
        written += len(batch)
        batch.clear()
        if progress is not None:
            progress(written)

    for row in rows:
        batch.append(
            _row_values(row, refresh_id=refresh_id, computed_at=computed_at, currency=currency)
        )
        if len(batch) >= WRITE_BATCH:
            flush()
    flush()
    if keep_ids is not None:
        scores_prune(keep_ids)
    return written


def _copy_upsert(batch: list[tuple[Any, ...]]) -> None:
    """PostgreSQL: the batch goes in by COPY into a temporary table, then one
    ``INSERT … SELECT … ON CONFLICT`` (an order of magnitude faster than row by row)."""
    table = connection.ops.quote_name(CustomerScore._meta.db_table)
    columns = ", ".join(DB_COLUMNS)
    updates = ", ".join(f"{c} = excluded.{c}" for c in DB_COLUMNS if c != "customer_id")
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TEMPORARY TABLE IF NOT EXISTS analytics_score_load (LIKE {table}) "
            "ON COMMIT DELETE ROWS"
        )
        # Empty also inside an enclosing transaction (a test), where no commit empties it.
        cursor.execute("TRUNCATE analytics_score_load")
        with cursor.copy(f"COPY analytics_score_load ({columns}) FROM STDIN") as copy:
            for values in batch:
                copy.write_row(
                    (
                        *values[:24],
                        json.dumps(values[24]),
                        json.dumps(values[25], ensure_ascii=False),
                    )
                )
        cursor.execute(
            f"INSERT INTO {table} ({columns}) SELECT {columns} FROM analytics_score_load "  # noqa: S608
            f"ON CONFLICT (customer_id) DO UPDATE SET {updates}"
        )


# The raw columns a refresh's table is loaded with on PostgreSQL, and how each becomes a
# column of the scores table (money from cents, the day from its number, JSON from text).
_RAW_COLUMNS = (
    ("customer_id", "bigint", "customer_id"),
    ("last_purchase_day", "integer", "DATE '1970-01-01' + last_purchase_day"),
    ("frequency", "integer", "frequency"),
    ("monetary", "bigint", "round(monetary / 100.0, 2)"),
    ("r_score", "smallint", "r_score"),
    ("f_score", "smallint", "f_score"),
    ("m_score", "smallint", "m_score"),
    ("rfm_segment", "text", "rfm_segment"),
    ("previous_rfm_segment", "text", "previous_rfm_segment"),
    ("ladder_step", "text", "ladder_step"),
    ("previous_ladder_step", "text", "previous_ladder_step"),
    ("value_class", "text", "value_class"),
    ("revenue", "bigint", "round(revenue / 100.0, 2)"),
    ("margin", "bigint", "round(margin / 100.0, 2)"),
    ("clv", "bigint", "round(clv / 100.0, 2)"),
    ("p_alive", "double precision", "p_alive"),
    ("expected_purchases", "double precision", "expected_purchases"),
    ("declining", "boolean", "declining"),
    ("overdue", "boolean", "overdue"),
    ("churn_risk", "text", "churn_risk"),
    ("share_of_wallet", "double precision", "share_of_wallet"),
    ("next_best", "text", "next_best::jsonb"),
    ("reasons", "text", "jsonb_strip_nulls(reasons::jsonb)"),
)
_FLOATS = ("p_alive", "expected_purchases", "share_of_wallet")
_TEXTS = (
    "rfm_segment",
    "previous_rfm_segment",
    "ladder_step",
    "previous_ladder_step",
    "value_class",
    "churn_risk",
)


def _raw_csv(table: pa.Table) -> bytes:
    """``table`` as CSV in the order of ``_RAW_COLUMNS``, converted column by column.

    Texts are never NULL (the scores table keeps empty strings), flags default to false,
    NaN and infinite floats become NULL, next best products and reasons become JSON text.
    """
    import duckdb
    import pyarrow.csv as pa_csv

    present = set(table.column_names)

    def column(name: str) -> str:
        if name not in present:
            return {"declining": "false", "overdue": "false", "next_best": "'[]'"}.get(
                name, "''" if name in _TEXTS else "NULL"
            )
        if name in _TEXTS:
            return f"coalesce({name}, '')"
        if name in ("declining", "overdue"):
            return f"coalesce({name}, false)"
        if name in _FLOATS:
            return f"CASE WHEN isfinite({name}::DOUBLE) THEN {name}::DOUBLE END"
        if name == "next_best":
            return "coalesce(to_json(next_best)::VARCHAR, '[]')"
        if name == "reasons":
            text = pa.types.is_string(
                table.schema.field("reasons").type
            ) or pa.types.is_large_string(table.schema.field("reasons").type)
            return (
                "coalesce(reasons, '{}')" if text else "coalesce(to_json(reasons)::VARCHAR, '{}')"
            )
        return name

    select = ", ".join(f"{column(name)} AS {name}" for name, _type, _expr in _RAW_COLUMNS)
    con = duckdb.connect()
    try:
        con.register("changed", table)
        converted = con.sql(f"SELECT {select} FROM changed").to_arrow_table()  # noqa: S608
    finally:
        con.close()
    buffer = pa.BufferOutputStream()
    pa_csv.write_csv(converted, buffer, pa_csv.WriteOptions(include_header=False))
    return bytes(buffer.getvalue().to_pybytes())


def _copy_table(
    table: pa.Table,
    *,
    refresh_id: int | None,
    computed_at: Any,
    currency: str,
    progress: Any = None,
) -> int:
    """PostgreSQL, a refresh's Arrow table: each batch converted column by column into CSV,
    sent by COPY into a temporary table and upserted with one statement; no Python per row."""
    target = connection.ops.quote_name(CustomerScore._meta.db_table)
    columns = ", ".join(DB_COLUMNS)
    updates = ", ".join(f"{c} = excluded.{c}" for c in DB_COLUMNS if c != "customer_id")
    raw = ", ".join(f"{name} {kind}" for name, kind, _expr in _RAW_COLUMNS)
    expressions = [expr for _name, _kind, expr in _RAW_COLUMNS]
    select = ", ".join([expressions[0], "%s", "%s", "%s", *expressions[1:]])
    written = 0
    for start in range(0, table.num_rows, WRITE_BATCH):
        chunk = table.slice(start, WRITE_BATCH)
        data = _raw_csv(chunk)
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                f"CREATE TEMPORARY TABLE IF NOT EXISTS analytics_score_raw ({raw}) "
                "ON COMMIT DELETE ROWS"
            )
            cursor.execute("TRUNCATE analytics_score_raw")
            with cursor.copy("COPY analytics_score_raw FROM STDIN (FORMAT csv)") as copy:
                copy.write(data)
            cursor.execute(
                f"INSERT INTO {target} ({columns}) SELECT {select} "  # noqa: S608
                f"FROM analytics_score_raw ON CONFLICT (customer_id) DO UPDATE SET {updates}",
                [refresh_id, computed_at, currency],
            )
        written += chunk.num_rows
        if progress is not None:
            progress(written)
    return written


def _iter_table(table: pa.Table) -> Iterable[dict[str, Any]]:
    for batch in table.to_batches(max_chunksize=WRITE_BATCH):
        yield from batch.to_pylist()


def scores_prune(keep_ids: Iterable[int]) -> int:
    """Delete the scores of customers not in ``keep_ids`` (they have no results any more)."""
    keep = {int(i) for i in keep_ids}
    existing = CustomerScore.objects.values_list("customer_id", flat=True).iterator(
        chunk_size=50_000
    )
    gone = [pk for pk in existing if pk not in keep]
    deleted = 0
    for start in range(0, len(gone), WRITE_BATCH):
        chunk = gone[start : start + WRITE_BATCH]
        deleted += CustomerScore.objects.filter(customer_id__in=chunk).delete()[0]
    return deleted


def scores_analyze() -> None:
    """Renew the planner's statistics of the scores table after a large write-back, so the
    customer lists filtered by a score pick the right plan from the next query on."""
    table = CustomerScore._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {connection.ops.quote_name(table)}")


# --- settings ------------------------------------------------------------------------------

SHARE_FIELDS = (
    "value_a_share",
    "value_b_share",
    "decline_share",
    "churn_p_alive",
    "clv_annual_discount",
    "basket_min_confidence",
)


def settings_update(*, actor: User, data: Mapping[str, Any]) -> AnalyticsSettings:
    """Change the analytics settings (administrators only); every value is checked."""
    if not (actor and actor.is_active and (actor.is_superuser or actor.role == Role.ADMIN)):
        raise PermissionDenied(_("Only administrators change the analytics settings."))
    current = AnalyticsSettings.current()
    editable = {
        f.name
        for f in AnalyticsSettings._meta.get_fields()
        if getattr(f, "editable", False) and f.name not in ("id", "updated_at")
    }
    errors: dict[str, list[str]] = {}
    unknown = sorted(set(data) - editable)
    if unknown:
        errors["__all__"] = [_("Unknown settings: %(names)s") % {"names": ", ".join(unknown)}]
    for name, value in data.items():
        if name in editable:
            if name == "reporting_currency" and isinstance(value, str):
                value = value.strip().upper()
            setattr(current, name, value)
    try:
        current.full_clean()
    except Exception as exc:  # ValidationError: turned into the one error shape
        for field, messages in getattr(exc, "message_dict", {"__all__": [str(exc)]}).items():
            errors.setdefault(field, []).extend(str(m) for m in messages)
    if not errors:
        errors.update(_settings_relations(current))
        if not _known_currency(current.reporting_currency):
            errors["reporting_currency"] = [_("Enter an ISO 4217 currency code, e.g. TRY.")]
    if errors:
        raise ValidationFailed(_("Please correct the errors below."), fields=errors)
    current.save()
    return current


def _known_currency(code: str) -> bool:
    from babel.numbers import get_currency_name

    code = (code or "").upper()
    return len(code) == 3 and code.isalpha() and get_currency_name(code, locale="en") != code


def _settings_relations(value: AnalyticsSettings) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    for name in SHARE_FIELDS:
        share = Decimal(str(getattr(value, name)))
        if not Decimal(0) < share < Decimal(1):
            errors[name] = [_("Enter a share between 0 and 1.")]
    if Decimal(str(value.value_a_share)) >= Decimal(str(value.value_b_share)):
        errors["value_b_share"] = [_("Must be larger than the A class share.")]
    if not (
        value.ladder_occasional_orders < value.ladder_regular_orders < value.ladder_loyal_orders
    ):
        errors["ladder_regular_orders"] = [_("The thresholds must increase step by step.")]
    if value.ladder_occasional_orders < 2:
        errors["ladder_occasional_orders"] = [_("An occasional buyer has at least 2 orders.")]
    for name in ("rfm_window_days", "ladder_window_days"):
        if not 30 <= getattr(value, name) <= 3660:
            errors[name] = [_("Enter between 30 and 3660 days.")]
    if not 1 <= value.clv_horizon_months <= 120:
        errors["clv_horizon_months"] = [_("Enter between 1 and 120 months.")]
    if Decimal(str(value.overdue_factor)) < 1:
        errors["overdue_factor"] = [_("Enter 1 or more.")]
    return errors


# --- refresh --------------------------------------------------------------------------------


def refresh_request(
    *, actor: User | None, full: bool = False, as_of: datetime.date | None = None
) -> Refresh:
    """Queue a refresh (on demand from the page, or ``actor=None`` for the nightly run).

    A refresh already queued or running is returned instead of starting a second one.
    """
    if actor is not None and not can_refresh(actor):
        raise PermissionDenied(_("Your role cannot refresh the analytics."))
    with transaction.atomic():
        running = (
            Refresh.objects.select_for_update()
            .filter(status__in=(Refresh.Status.QUEUED, Refresh.Status.RUNNING))
            .first()
        )
        if running is not None:
            return running
        refresh = Refresh.objects.create(
            full=bool(full),
            as_of=as_of or timezone.localdate(),
            requested_by=actor,
        )
        job = job_start(
            actor=actor,
            kind=REFRESH_JOB,
            title=_("Analytics refresh"),
            params={"refresh_id": refresh.pk},
        )
        Refresh.objects.filter(pk=refresh.pk).update(job=job)
        refresh.job = job
    return refresh


# --- from insight to action -----------------------------------------------------------------


def segment_create(
    *, actor: User, name: str, filters: Mapping[str, Any], share_with_team: bool = False
) -> SavedView:
    """Save an analytic list (its customer filters) as a named segment of the customer list.

    The filters are checked with the customer filter form first, so a segment never holds a
    filter the list would refuse.
    """
    from vefa.customers.filters import CustomerFilterForm, clean_filters
    from vefa.platform.services import saved_view_create

    clean = {str(k): str(v) for k, v in filters.items() if v not in (None, "")}
    clean_filters(CustomerFilterForm, clean, actor=actor)
    return saved_view_create(
        actor=actor,
        list_key="customers",
        name=name,
        filters=clean,
        columns=[],
        sort="",
        share_with_team=share_with_team,
    )


def call_tasks_request(
    *, actor: User, filters: Mapping[str, Any], subject: str, due: datetime.date
) -> Job:
    """Queue a job that plans a call for every customer of an analytic list, for its owner.

    Runs in the background (a list can hold thousands of customers) with a progress bar; the
    job skips customers that already have an open call with the same subject, so running it
    twice plans nothing twice.
    """
    from vefa.accounts.access import can_create
    from vefa.customers.filters import CustomerFilterForm, clean_filters
    from vefa.interactions.models import Activity

    if not can_create(actor, Activity):
        raise PermissionDenied(_("Your role cannot plan activities."))
    errors: dict[str, list[str]] = {}
    subject = " ".join((subject or "").split())
    if not subject:
        errors["subject"] = [_("This field is required.")]
    elif len(subject) > 200:
        errors["subject"] = [_("At most %(n)d characters.") % {"n": 200}]
    if not isinstance(due, datetime.date):
        errors["due"] = [_("Enter a valid date.")]
    if errors:
        raise ValidationFailed(_("Please correct the errors below."), fields=errors)
    clean = {str(k): str(v) for k, v in filters.items() if v not in (None, "")}
    clean_filters(CustomerFilterForm, clean, actor=actor)
    return job_start(
        actor=actor,
        kind=CALL_TASKS_JOB,
        title=_("Calls: %(subject)s") % {"subject": subject},
        params={"filters": clean, "subject": subject, "due": due.isoformat()},
    )
