"""The analytics refresh: extract → metrics → results and snapshot → write-back.

One run, step by step (each step's seconds land in ``Refresh.figures``):

1. **extract**: the store's incremental extract (``Store.extract``) brings the Parquet facts
   and dimensions up to date;
2. **metrics**: every metric runs on the configured engine (DuckDB by default, PySpark with
   ``VEFA_ANALYTICS_ENGINE=pyspark``) over the store's current tables, as of the refresh day;
3. **results**: the per-customer results are joined into one table and written, with the
   dashboards' tables (RFM grid, ladder transitions, Pareto curve, cohorts, basket rules,
   profitability by segment, KPIs, CLV distribution), into ``results/<refresh id>/``, and a
   snapshot of each customer's segment, step and class into ``snapshots/``;
4. **write-back**: only the customers whose results changed since the previous refresh are
   written through ``services.scores_write``; customers without results lose their row.

Every step is deterministic for a given store and day and every write is atomic (files) or
idempotent (the upsert), so a run killed half way and started again ends with the same
result as an uninterrupted one.
"""

from __future__ import annotations

import datetime
import json
import logging
import os
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import narwhals as nw
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from django.conf import settings
from django.utils import timezone

from vefa.analytics.engine import Engine, EngineName, day_number
from vefa.analytics.models import AnalyticsSettings, Refresh

logger = logging.getLogger(__name__)

# How far back the "previous" ladder step and RFM segment are computed (one quarter).
COMPARE_DAYS = 91
# Baskets of the last two years make the rules; three products are offered per customer.
BASKET_WINDOW_DAYS = 730
NEXT_BEST = 3
WEEKS_PER_YEAR = 365.25 / 7
ROW_GROUP = 100_000
# Complaints per day and resolution cover the last quarter.
SERVICE_DAYS = 90
# Return statuses in which nothing came back (left out of the return rates).
UNRETURNED = ("rejected", "cancelled")
# After writing more than this share of the scores, the planner's statistics are renewed.
ANALYZE_SHARE = 0.1


@dataclass
class RunContext:
    as_of: datetime.date
    options: AnalyticsSettings
    engine: Engine
    store: Any
    report: Callable[[int, str], None]
    figures: dict[str, Any] = field(default_factory=dict)

    @property
    def as_of_day(self) -> int:
        return day_number(self.as_of)

    def timed(self, name: str) -> _Timer:
        return _Timer(self.figures, name)


class _Timer:
    def __init__(self, figures: dict[str, Any], name: str) -> None:
        self.figures, self.name = figures, name

    def __enter__(self) -> None:
        self.start = time.perf_counter()

    def __exit__(self, *exc: object) -> None:
        seconds = self.figures.setdefault("seconds", {})
        seconds[self.name] = round(time.perf_counter() - self.start, 3)


def engine_name() -> EngineName:
    name = getattr(settings, "ANALYTICS_ENGINE", "duckdb")
    return "pyspark" if name == "pyspark" else "duckdb"


def store_dir() -> Path:
    from vefa.analytics.store import store_path

    return Path(store_path())


def results_dir(refresh_id: int) -> Path:
    return store_dir() / "results" / str(refresh_id)


def latest_results() -> Path | None:
    """The results folder of the latest finished refresh, or ``None`` before the first."""
    pointer = store_dir() / "results" / "latest.json"
    try:
        refresh_id = int(json.loads(pointer.read_text())["refresh_id"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    folder = results_dir(refresh_id)
    return folder if folder.is_dir() else None


def _write_parquet(table: pa.Table, path: Path) -> None:
    """Write ``table`` to ``path`` atomically (temporary file, then rename).

    Row groups of 100,000 rows: a table sorted by customer is then read for one customer
    by its row group's statistics, not as a whole (the customer page's history).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    pq.write_table(table, temporary, compression="zstd", row_group_size=ROW_GROUP)
    os.replace(temporary, path)


def _write_json(data: Any, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_text(json.dumps(data, sort_keys=True, default=str))
    os.replace(temporary, path)


# --- the metrics ----------------------------------------------------------------------------


def _metrics(ctx: RunContext) -> tuple[pa.Table, dict[str, pa.Table]]:
    """Per-customer results (one Arrow table) and the dashboards' tables."""
    from vefa.analytics.metrics import (
        basket,
        cohorts,
        decline,
        kpis,
        ladder,
        profitability,
        rfm,
        signals,
        value,
        wallet,
    )
    from vefa.analytics.metrics.params import DeclineParams, LadderParams, RfmParams, ValueParams
    from vefa.analytics.metrics.params_b import CostParams

    options, engine, day = ctx.options, ctx.engine, ctx.as_of_day
    tx = ctx.store.frame("transactions", engine)
    lines = ctx.store.frame("lines", engine)
    customers = ctx.store.frame("customers", engine)
    activities = ctx.store.frame("activities", engine)
    interactions = ctx.store.frame("interactions", engine)
    # The help desk: a merged ticket is a duplicate of the one it went into, a cancelled
    # return never happened, and a rejected one brought nothing back.
    tickets = ctx.store.frame("tickets", engine).filter(nw.col("merged_into_id").is_null())
    returns = ctx.store.frame("returns", engine).filter(nw.col("status") != "cancelled")
    returned_lines = ctx.store.frame("return_lines", engine).filter(
        ~nw.col("status").is_in(list(UNRETURNED))
    )
    answers = ctx.store.frame("survey_answers", engine)

    ladder_params = LadderParams(
        window_days=options.ladder_window_days,
        occasional_orders=options.ladder_occasional_orders,
        regular_orders=options.ladder_regular_orders,
        loyal_orders=options.ladder_loyal_orders,
    )
    rfm_params = RfmParams(window_days=options.rfm_window_days)
    value_params = ValueParams(
        a_share=float(options.value_a_share),
        b_share=float(options.value_b_share),
        basis=options.value_basis,  # type: ignore[arg-type]
    )
    decline_params = DeclineParams(
        drop_share=float(options.decline_share), overdue_factor=float(options.overdue_factor)
    )
    per_activity = _to_cents(options.cost_per_activity)
    cost_params = CostParams(
        ticket_cost=_to_cents(options.cost_per_ticket),
        # A complaint recorded in the contact history costs what a ticket costs.
        complaint_cost=_to_cents(options.cost_per_ticket),
        return_cost=_to_cents(options.cost_per_return),
        send_cost=_to_cents(options.cost_per_message),
        call_cost=per_activity,
        meeting_cost=per_activity,
        appointment_cost=per_activity,
        visit_cost=per_activity,
        task_cost=per_activity,
    )

    tables: dict[str, pa.Table] = {}
    with ctx.timed("rfm"):
        rfm_now = engine.collect(
            rfm.rfm(tx, as_of_day=day, window_days=options.rfm_window_days, params=rfm_params),
            sort=["customer_id"],
        )
        rfm_before = engine.collect(
            rfm.rfm(
                tx,
                as_of_day=day - COMPARE_DAYS,
                window_days=options.rfm_window_days,
                params=rfm_params,
            ).select("customer_id", "rfm_segment"),
            sort=["customer_id"],
        )
        tables["rfm_grid"] = engine.collect(
            rfm.grid(engine.frame(rfm_now)), sort=["r_score", "f_score"]
        )
    ctx.report(35, "rfm")
    with ctx.timed("ladder"):
        ladder_now = engine.collect(
            ladder.ladder(tx, as_of_day=day, params=ladder_params), sort=["customer_id"]
        )
        ladder_before = engine.collect(
            ladder.ladder(tx, as_of_day=day - COMPARE_DAYS, params=ladder_params),
            sort=["customer_id"],
        )
        tables["ladder_transitions"] = engine.collect(
            ladder.transitions(
                engine.frame(ladder_before.select(["customer_id", "ladder_step"])),
                engine.frame(ladder_now.select(["customer_id", "ladder_step"])),
            ),
            sort=["from_step", "to_step"],
        )
    with ctx.timed("value"):
        values = engine.collect(
            value.value_classes(tx, as_of_day=day, params=value_params),
            sort=["customer_id"],
        )
        value_frame = engine.frame(values)
        tables["pareto"] = engine.collect(value.pareto(value_frame), sort=["customer_share"])
        tables["pareto_summary"] = engine.collect(value.pareto_summary(value_frame))
    ctx.report(45, "value")
    with ctx.timed("decline"):
        declines = engine.collect(
            decline.decline(tx, as_of_day=day, params=decline_params), sort=["customer_id"]
        )
        overdue = engine.collect(
            decline.overdue(tx, as_of_day=day, params=decline_params), sort=["customer_id"]
        )
    with ctx.timed("cohorts"):
        tables["cohorts"] = engine.collect(
            cohorts.cohorts(tx, as_of_day=day), sort=["cohort_month", "months_since"]
        )
    with ctx.timed("wallet"):
        wallets = engine.collect(
            wallet.share_of_wallet(tx, customers, as_of_day=day), sort=["customer_id"]
        )
        breadth = engine.collect(
            wallet.category_breadth(lines, as_of_day=day), sort=["customer_id"]
        )
    with ctx.timed("profitability"):
        profits = engine.collect(
            profitability.profitability(
                tx,
                activities=activities,
                # A complaint ticket's first message is also a complaint in the contact
                # history: the ticket's cost counts it once.
                interactions=interactions.filter(~nw.col("from_ticket")),
                tickets=tickets.filter(~nw.col("customer_id").is_null()),
                returns=returns,
                as_of_day=day,
                window_days=365,
                params=cost_params,
            ),
            sort=["customer_id"],
        )
    ctx.report(55, "profitability")
    with ctx.timed("basket"):
        rules = engine.collect(
            basket.rules(
                lines,
                level="product",
                min_support=float(options.basket_min_support),
                min_confidence=float(options.basket_min_confidence),
                as_of_day=day,
                window_days=BASKET_WINDOW_DAYS,
            ),
            sort=["antecedent", "consequent"],
        )
        tables["basket_rules"] = rules
        best = _next_best(engine, lines.filter(nw.col("day") < day), rules)
    with ctx.timed("kpis"):
        tables["kpis"] = engine.collect(
            kpis.kpis(
                tx,
                customers,
                period="month",
                as_of_day=day,
                surveys=answers.filter(nw.col("kind") == "csat"),
            ),
            sort=["kpi"],
        )
    with ctx.timed("service"):
        tables["complaints_per_day"] = engine.collect(
            signals.complaints_per_day(tickets, as_of_day=day, window_days=SERVICE_DAYS),
            sort=["day"],
        )
        tables["resolution"] = engine.collect(
            signals.resolution(tickets, as_of_day=day, window_days=SERVICE_DAYS, by=("type",)),
            sort=["type"],
        )
        tables["return_rates"] = engine.collect(
            signals.return_rates(returned_lines, lines, as_of_day=day, by=("product_id",)),
            sort=["product_id"],
        )
        tables["return_reasons"] = engine.collect(
            signals.return_rates(returned_lines, lines, as_of_day=day, by=("reason",)),
            sort=["reason"],
        )
        service = engine.collect(
            _service_per_customer(tickets, returns, as_of_day=day), sort=["customer_id"]
        )
    ctx.report(62, "kpis")
    with ctx.timed("clv"):
        clv_table = _clv(ctx, tx)
    ctx.report(72, "clv")
    with ctx.timed("combine"):
        scores = _combine(
            rfm_now=rfm_now,
            rfm_before=rfm_before,
            ladder_now=ladder_now,
            ladder_before=ladder_before,
            values=values,
            declines=declines,
            overdue=overdue,
            wallets=wallets,
            breadth=breadth,
            profits=profits,
            best=best,
            clv=clv_table,
            service=service,
            options=options,
            as_of_day=day,
        )
        tables["profitability_by_segment"] = _profit_by_segment(scores)
        tables["clv_distribution"] = _clv_distribution(scores)
    ctx.figures["customers_scored"] = scores.num_rows
    ctx.figures["basket_rules"] = rules.num_rows
    return scores, tables


def _service_per_customer(
    tickets: nw.LazyFrame[Any], returns: nw.LazyFrame[Any], *, as_of_day: int
) -> nw.LazyFrame[Any]:
    """customer_id, tickets, complaints, returns: what each customer brought to the help
    desk in the year before ``as_of_day`` (tickets by the day opened, returns by the day
    asked); the customer page shows them next to the service cost."""
    window = (nw.col("day") >= as_of_day - 365) & (nw.col("day") < as_of_day)
    zero = nw.lit(0, nw.Int64)
    per_ticket = tickets.filter(window & ~nw.col("customer_id").is_null()).select(
        nw.col("customer_id").cast(nw.Int64),
        nw.lit(1, nw.Int64).alias("tickets"),
        (nw.col("type") == "complaint").cast(nw.Int64).alias("complaints"),
        zero.alias("returns"),
    )
    per_return = returns.filter(window & ~nw.col("customer_id").is_null()).select(
        nw.col("customer_id").cast(nw.Int64),
        zero.alias("tickets"),
        zero.alias("complaints"),
        nw.lit(1, nw.Int64).alias("returns"),
    )
    return (
        nw.concat([per_ticket, per_return], how="vertical")
        .group_by("customer_id")
        .agg(*[nw.col(name).sum().cast(nw.Int64) for name in ("tickets", "complaints", "returns")])
    )


def _next_best(engine: Engine, lines: nw.LazyFrame[Any], rules: pa.Table) -> pa.Table:
    """``basket.next_best`` from the lines of the products the rules name.

    The same result for less work: a product no rule names is neither a candidate nor
    hides one, so the other lines (most of them, with a selective rule set) are left out
    before the per-customer grouping; without any rule there is nothing to offer and the
    lines are not read at all.
    """
    from vefa.analytics.metrics import basket

    if rules.num_rows == 0:
        return pa.table(
            {
                "customer_id": pa.array([], pa.int64()),
                "product_id": pa.array([], pa.int64()),
                "rank": pa.array([], pa.int64()),
                "score": pa.array([], pa.float64()),
            }
        )
    named = sorted(set(rules["antecedent"].to_pylist()) | set(rules["consequent"].to_pylist()))
    return engine.collect(
        basket.next_best(
            lines.filter(nw.col("product_id").is_in(named)), engine.frame(rules), k=NEXT_BEST
        ),
        sort=["customer_id", "rank"],
    )


def _to_cents(value: Any) -> int:
    return int((Decimal(str(value)) * 100).to_integral_value())


def _clv(ctx: RunContext, tx: nw.LazyFrame[Any]) -> pa.Table:
    """P(alive), purchases expected in the next year and discounted CLV per customer.

    BG/NBD and Gamma-Gamma fitted on every customer's history up to the refresh day (time in
    weeks); the CLV is revenue over the configured horizon in months, discounted monthly at
    the yearly rate. A data set the models cannot be fitted on (too few repeat buyers) gives
    no CLV values rather than a failed refresh; the reason is kept in the refresh figures.
    """
    from vefa.analytics import clv

    options = ctx.options
    summary = ctx.engine.collect(
        # The calibration period ends with the day before the refresh day.
        clv.summary_frame(tx, calibration_end_day=ctx.as_of_day - 1, time_unit="week"),
        sort=["customer_id"],
    )
    empty = pa.table(
        {
            "customer_id": pa.array([], pa.int64()),
            "p_alive": pa.array([], pa.float64()),
            "expected_purchases": pa.array([], pa.float64()),
            "clv": pa.array([], pa.int64()),
        }
    )
    if summary.num_rows == 0:
        return empty
    frequency = summary["frequency"].to_numpy().astype(float)
    recency = summary["recency"].to_numpy().astype(float)
    age = summary["T"].to_numpy().astype(float)
    monetary = summary["monetary_value"].to_numpy(zero_copy_only=False).astype(float)
    months = options.clv_horizon_months
    try:
        bgnbd = clv.fit_bgnbd(frequency, recency, age)
        alive = clv.p_alive(bgnbd, frequency, recency, age)
        next_year = clv.expected_purchases(bgnbd, WEEKS_PER_YEAR, frequency, recency, age)
    except clv.ClvError as exc:
        ctx.figures["clv_skipped"] = str(exc)
        return empty
    ctx.figures["clv_model"] = {"bgnbd": {k: round(v, 6) for k, v in bgnbd.as_dict().items()}}
    horizon = months * WEEKS_PER_YEAR / 12
    # The yearly rate as a monthly one: the horizon is cut into months.
    monthly_rate = (1 + float(options.clv_annual_discount)) ** (1 / 12) - 1
    repeat = frequency > 0
    try:
        spend_model = clv.fit_gamma_gamma(frequency[repeat], monetary[repeat])
        spend = clv.expected_spend(spend_model, frequency, monetary)
        ctx.figures["clv_model"]["gamma_gamma"] = {
            k: round(v, 6) for k, v in spend_model.as_dict().items()
        }
    except clv.ClvError as exc:
        # Without the spend model a customer is expected to spend what they spent on average
        # in their repeat purchases, or what repeat purchases cost on average.
        ctx.figures["clv_spend_model_skipped"] = str(exc)
        spend = _average_spend(frequency, monetary)
    try:
        _purchases, discounted = clv.discounted_purchases(
            bgnbd,
            frequency,
            recency,
            age,
            horizon=horizon,
            discount_rate=monthly_rate,
            periods=months,
        )
    except clv.ClvError as exc:
        ctx.figures["clv_skipped"] = str(exc)
        value: pa.Array = pa.nulls(len(frequency), pa.int64())
    else:
        # Cents in, cents out; whole currency units, so a move by cents is not a change.
        value = pa.array((np.round(spend * discounted / 100) * 100).astype(np.int64))
    return pa.table(
        {
            "customer_id": summary["customer_id"],
            # Rounded to what the page shows and the filters use, so that the daily ageing of
            # every customer does not turn into a write of every row.
            "p_alive": pa.array(np.round(alive, 3)),
            "expected_purchases": pa.array(np.round(next_year, 2)),
            "clv": value,
        }
    )


def _average_spend(frequency: np.ndarray, monetary: np.ndarray) -> np.ndarray:
    """Each repeat buyer's own average purchase; the average of those for everyone else."""
    repeat = (frequency > 0) & (monetary > 0)
    overall = float(monetary[repeat].mean()) if repeat.any() else 0.0
    return np.where(repeat, monetary, overall)


def _combine(*, options: AnalyticsSettings, as_of_day: int, **parts: pa.Table) -> pa.Table:
    """One row per customer with every result, in the columns ``scores_write`` takes."""
    con = duckdb.connect()
    try:
        for name, table in parts.items():
            con.register(name, table)
        sql = """
        WITH everyone AS (
            SELECT customer_id FROM rfm_now UNION SELECT customer_id FROM ladder_now
            UNION SELECT customer_id FROM values UNION SELECT customer_id FROM declines
            UNION SELECT customer_id FROM clv
        ),
        nb AS (
            SELECT customer_id, list(product_id ORDER BY rank) AS next_best
            FROM best GROUP BY customer_id
        )
        SELECT
            e.customer_id,
            $as_of_day - r.recency_days AS last_purchase_day,
            r.frequency, r.monetary, r.r_score, r.f_score, r.m_score,
            coalesce(r.rfm_segment, '') AS rfm_segment,
            coalesce(rb.rfm_segment, '') AS previous_rfm_segment,
            coalesce(l.ladder_step, '') AS ladder_step,
            coalesce(lb.ladder_step, '') AS previous_ladder_step,
            coalesce(v.value_class, '') AS value_class,
            p.revenue, p.net_margin AS margin, c.clv, c.p_alive, c.expected_purchases,
            coalesce(d.declining, false) AS declining,
            coalesce(o.overdue, false) AS overdue,
            CASE
                WHEN (c.p_alive < $threshold AND v.value_class IN ('A', 'B'))
                     OR (coalesce(d.declining, false) AND coalesce(o.overdue, false))
                    THEN 'high'
                WHEN c.p_alive < $threshold OR coalesce(d.declining, false)
                     OR coalesce(o.overdue, false)
                    THEN 'medium'
                ELSE 'low'
            END AS churn_risk,
            w.share AS share_of_wallet,
            coalesce(nb.next_best, []) AS next_best,
            to_json(struct_pack(
                orders_last_12m := d.orders_last_12m, orders_prev_12m := d.orders_prev_12m,
                revenue_last_12m := d.revenue_last_12m, revenue_prev_12m := d.revenue_prev_12m,
                order_change := d.order_change, revenue_change := d.revenue_change,
                mean_gap_days := o.mean_gap_days,
                wallet := w.wallet, wallet_source := w.wallet_source,
                categories_bought := cb.categories_bought,
                categories_total := cb.categories_total,
                few_categories := cb.few_categories,
                gross_margin := p.gross_margin, service_cost := p.service_cost,
                marketing_cost := p.marketing_cost, sales_cost := p.sales_cost,
                tickets_12m := s.tickets, complaints_12m := s.complaints,
                returns_12m := s.returns
            ))::VARCHAR AS reasons
        FROM everyone e
        LEFT JOIN rfm_now r USING (customer_id)
        LEFT JOIN rfm_before rb USING (customer_id)
        LEFT JOIN ladder_now l USING (customer_id)
        LEFT JOIN ladder_before lb USING (customer_id)
        LEFT JOIN values v USING (customer_id)
        LEFT JOIN declines d USING (customer_id)
        LEFT JOIN overdue o USING (customer_id)
        LEFT JOIN wallets w USING (customer_id)
        LEFT JOIN breadth cb USING (customer_id)
        LEFT JOIN profits p USING (customer_id)
        LEFT JOIN clv c USING (customer_id)
        LEFT JOIN nb USING (customer_id)
        LEFT JOIN service s USING (customer_id)
        ORDER BY e.customer_id
        """
        parameters = {"as_of_day": int(as_of_day), "threshold": float(options.churn_p_alive)}
        return con.sql(sql, params=parameters).to_arrow_table()
    finally:
        con.close()


def _profit_by_segment(scores: pa.Table) -> pa.Table:
    con = duckdb.connect()
    try:
        con.register("scores", scores)
        return con.sql(
            """
            SELECT rfm_segment, count(*) AS customers, sum(revenue) AS revenue,
                   sum(margin) AS margin, count(*) FILTER (WHERE margin < 0) AS unprofitable
            FROM scores WHERE rfm_segment <> '' GROUP BY rfm_segment ORDER BY rfm_segment
            """
        ).to_arrow_table()
    finally:
        con.close()


def _clv_distribution(scores: pa.Table) -> pa.Table:
    """Customers per CLV band: 0 for a value of 0 or less, n for 10^(n-1) to 10^n currency
    units (band 1 also holds values under one unit)."""
    con = duckdb.connect()
    try:
        con.register("scores", scores)
        return con.sql(
            """
            SELECT CASE WHEN clv <= 0 THEN 0
                        ELSE greatest(1, floor(log10(clv / 100.0))::INTEGER + 1) END AS band,
                   count(*) AS customers, sum(clv) AS clv
            FROM scores WHERE clv IS NOT NULL GROUP BY band ORDER BY band
            """
        ).to_arrow_table()
    finally:
        con.close()


def _changed(scores: pa.Table, previous: Path | None) -> pa.Table:
    """The rows of ``scores`` that differ from the previous refresh's (all without one)."""
    if previous is None or not (previous / "scores.parquet").exists():
        return scores
    con = duckdb.connect()
    try:
        con.register("now", scores)
        old = pq.read_table(previous / "scores.parquet")
        if old.schema != scores.schema:
            return scores
        con.register("before", old)
        return con.sql(
            "SELECT * FROM now EXCEPT SELECT * FROM before ORDER BY customer_id"
        ).to_arrow_table()
    finally:
        con.close()


# --- the run --------------------------------------------------------------------------------


def run(refresh: Refresh, *, progress: Callable[..., None] | None = None) -> dict[str, Any]:
    """Run one refresh to the end and return its figures (also saved on the row)."""
    from vefa.analytics.services import scores_analyze, scores_write
    from vefa.analytics.store import Store, reporting_currency

    def report(percent: int, message: str) -> None:
        if progress is not None:
            progress(percent, 100, message=message)

    Refresh.objects.filter(pk=refresh.pk).update(
        status=Refresh.Status.RUNNING, started_at=timezone.now(), error=""
    )
    started = time.perf_counter()
    options = AnalyticsSettings.current()
    engine = Engine(engine_name())
    store = Store()
    ctx = RunContext(
        as_of=refresh.as_of, options=options, engine=engine, store=store, report=report
    )
    try:
        with ctx.timed("extract"):
            extracted = store.extract(full=refresh.full)
        ctx.figures["extract"] = extracted.as_dict()
        report(20, "extract")
        scores, tables = _metrics(ctx)
        previous = latest_results()
        folder = results_dir(refresh.pk)
        with ctx.timed("results"):
            if folder.exists():
                shutil.rmtree(folder)  # a killed run's partial folder: written again
            for name, table in tables.items():
                _write_parquet(table, folder / f"{name}.parquet")
            _write_parquet(scores, folder / "scores.parquet")
            _write_parquet(
                scores.select(
                    ["customer_id", "rfm_segment", "ladder_step", "value_class", "churn_risk"]
                ).append_column("as_of", pa.array([refresh.as_of] * scores.num_rows, pa.date32())),
                store_dir() / "snapshots" / f"{refresh.as_of.isoformat()}-{refresh.pk}.parquet",
            )
        report(80, "results")
        with ctx.timed("write_back"):
            changed = _changed(scores, previous)
            ctx.figures["scores_changed"] = changed.num_rows
            scores_write(
                changed,
                refresh=refresh,
                currency=reporting_currency(),
                keep_ids=scores["customer_id"].to_pylist(),
            )
            if changed.num_rows > ANALYZE_SHARE * max(scores.num_rows, 1):
                scores_analyze()
        _write_json(
            {"refresh_id": refresh.pk, "as_of": refresh.as_of.isoformat()},
            store_dir() / "results" / "latest.json",
        )
        ctx.figures["seconds"]["total"] = round(time.perf_counter() - started, 3)
        ctx.figures["engine"] = engine.name
        Refresh.objects.filter(pk=refresh.pk).update(
            status=Refresh.Status.DONE, finished_at=timezone.now(), figures=ctx.figures
        )
        report(100, "done")
        return ctx.figures
    except Exception as exc:
        Refresh.objects.filter(pk=refresh.pk).update(
            status=Refresh.Status.FAILED,
            finished_at=timezone.now(),
            figures=ctx.figures,
            error=f"{type(exc).__name__}: {exc}"[:2000],
        )
        raise
    finally:
        engine.close()


def run_now(*, full: bool = False, as_of: datetime.date | None = None) -> Refresh:
    """Create a refresh and run it here and now (the command line, the demo, benchmarks)."""
    row = Refresh.objects.create(full=full, as_of=as_of or timezone.localdate())
    try:
        run(row)
    finally:
        row.refresh_from_db()
    return row
