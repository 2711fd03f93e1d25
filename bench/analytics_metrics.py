"""Benchmark of the customer metrics (RFM, loyalty ladder, A/B/C) on DuckDB against pandas.

    python -m bench.analytics_metrics [--transactions 10000000] [--customers 1000000]

Generates, deterministically from ``--seed``, ``--transactions`` purchase transactions of
``--customers`` customers (a few customers buy often, most rarely: each customer's buying
rate is drawn from a gamma distribution) over three years, about 1 % of them refunds with a
negative amount, and writes them as one Parquet file in a temporary directory, sorted by
customer, day and order as the store writes its current ``transactions`` file. Then, after
one warm-up pass, ``--rounds`` times each:

- *metrics*: ``rfm.rfm``, ``ladder.ladder`` and ``value.value_classes`` through Narwhals on
  DuckDB, each reading the Parquet file and collected into Arrow;
- *pandas*: the same three written as an analyst would in pandas (``read_parquet``, boolean
  filter, ``groupby``, ``rank(method="first")``, ``cumsum``), the file read once for all
  three.

Both sides compute the same definitions, and the script checks that they agree customer by
customer before printing the median (p50) and the worst wall-clock time of each side, the
median CPU time (all threads: DuckDB uses every core, pandas mostly one) and the speed-up
(of the p50 wall-clock times).
Targets: the three metrics in at most 3 s, at least twice as fast as pandas.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from bench.run import percentile

AS_OF_DAY = 20_454  # 2026-01-01
HISTORY_DAYS = 3 * 365
TARGET_SECONDS = 3.0
TARGET_SPEEDUP = 2.0


def generate(path: Path, *, transactions: int, customers: int, seed: int) -> None:
    """Write the transactions table of the analytics contract to ``path`` (Parquet)."""
    rng = np.random.default_rng(seed)
    rate = rng.gamma(shape=0.5, scale=1.0, size=customers)
    customer_id = rng.choice(customers, size=transactions, p=rate / rate.sum()) + 1
    day = (AS_OF_DAY - 1 - rng.integers(0, HISTORY_DAYS, size=transactions)).astype(np.int32)
    revenue = np.round(rng.lognormal(mean=10.0, sigma=1.0, size=transactions)).astype(np.int64)
    refund = rng.random(transactions) < 0.01
    revenue[refund] = -revenue[refund] // 3
    cost = (revenue * rng.uniform(0.4, 0.95, size=transactions)).astype(np.int64)
    order_id = np.arange(1, transactions + 1)
    # The store's layout: sorted by customer_id, day, order_id.
    order = np.lexsort((order_id, day, customer_id))
    customer_id, day, order_id = customer_id[order], day[order], order_id[order]
    revenue, cost = revenue[order], cost[order]
    dates = day.astype("datetime64[D]")
    years = dates.astype("datetime64[Y]").astype(np.int64) + 1970
    months = dates.astype("datetime64[M]").astype(np.int64) % 12
    table = pa.table(
        {
            "customer_id": pa.array(customer_id, pa.int64()),
            "order_id": pa.array(order_id, pa.int64()),
            "day": pa.array(day, pa.int32()),
            "month": pa.array((years * 12 + months).astype(np.int32), pa.int32()),
            "revenue": pa.array(revenue, pa.int64()),
            "cost": pa.array(cost, pa.int64()),
        }
    )
    # As the store writes it: zstd, row groups of 122,880 rows (DuckDB's COPY default).
    pq.write_table(table, path, compression="zstd", row_group_size=122_880)


def run_metrics(path: Path) -> dict[str, pa.Table]:
    """The three metrics through Narwhals on DuckDB, each reading the Parquet file."""
    from vefa.analytics.engine import Engine
    from vefa.analytics.metrics import ladder, rfm, value

    engine = Engine("duckdb")
    try:
        return {
            "rfm": engine.collect(rfm.rfm(engine.parquet(path), as_of_day=AS_OF_DAY)),
            "ladder": engine.collect(ladder.ladder(engine.parquet(path), as_of_day=AS_OF_DAY)),
            "value": engine.collect(value.value_classes(engine.parquet(path), as_of_day=AS_OF_DAY)),
        }
    finally:
        engine.close()


def run_pandas(path: Path) -> dict[str, pd.DataFrame]:
    """The same three metrics in plain pandas."""
    from vefa.analytics.metrics.params import RfmParams

    df = pd.read_parquet(path, columns=["customer_id", "order_id", "day", "revenue"])
    year = df[(df["day"] >= AS_OF_DAY - 365) & (df["day"] < AS_OF_DAY)]

    # RFM: per customer, then quintiles of the ranks (ties in the order of customer_id,
    # which is the order groupby leaves them in), then the segment of (R, F).
    g = year.groupby("customer_id").agg(
        last_day=("day", "max"), frequency=("order_id", "count"), monetary=("revenue", "sum")
    )
    g = g.reset_index()
    n = len(g)
    g["recency_days"] = AS_OF_DAY - g["last_day"]
    for column, score in (("last_day", "r_score"), ("frequency", "f_score"),
                          ("monetary", "m_score")):  # fmt: skip
        g[score] = np.ceil(5 * g[column].rank(method="first") / n).astype(int)
    g["rfm_score"] = g["r_score"] * 100 + g["f_score"] * 10 + g["m_score"]
    segments = RfmParams()
    table = {r * 10 + f: segments.segment_of(r, f) for r in range(1, 6) for f in range(1, 6)}
    g["rfm_segment"] = (g["r_score"] * 10 + g["f_score"]).map(table)

    # Ladder: orders in the year, cut into steps.
    orders = year.groupby("customer_id").size().rename("orders").reset_index()
    orders["ladder_step"] = pd.cut(
        orders["orders"],
        bins=[0, 1, 3, 9, np.inf],
        labels=["one_time", "occasional", "regular", "loyal"],
    )

    # A/B/C: best first, running share of the positive value.
    v = year.groupby("customer_id")["revenue"].sum().rename("value").reset_index()
    v = v.sort_values(["value", "customer_id"], ascending=[False, True], ignore_index=True)
    v["value_rank"] = np.arange(1, len(v) + 1)
    positive = v["value"].clip(lower=0)
    total = positive.sum()
    running = positive.cumsum()
    v["cumulative_share"] = running / total
    before = (running - positive) / total
    v["value_class"] = np.select([before < 0.8, before < 0.95], ["A", "B"], default="C")
    v["top_5_percent"] = v["value_rank"] * 20 <= len(v)
    v["bottom_20_percent"] = (len(v) - v["value_rank"] + 1) * 5 <= len(v)
    return {"rfm": g, "ladder": orders, "value": v}


def check_same(metrics: dict[str, pa.Table], frames: dict[str, pd.DataFrame]) -> None:
    """Fail loudly unless both sides give the same result for every customer."""
    columns = {
        "rfm": ["customer_id", "recency_days", "frequency", "monetary", "rfm_score",
                "rfm_segment"],
        "ladder": ["customer_id", "orders", "ladder_step"],
        "value": ["customer_id", "value", "value_rank", "value_class", "top_5_percent",
                  "bottom_20_percent"],
    }  # fmt: skip
    for name, keep in columns.items():
        ours = metrics[name].to_pandas()[keep].sort_values("customer_id", ignore_index=True)
        theirs = frames[name][keep].sort_values("customer_id", ignore_index=True)
        for column in keep:
            left = ours[column].astype(str).to_numpy()
            right = theirs[column].astype(str).to_numpy()
            if len(left) != len(right) or (left != right).any():
                raise SystemExit(f"{name}.{column}: DuckDB and pandas disagree")


def timed(call: Callable[[], Any], rounds: int) -> tuple[list[float], list[float], Any]:
    """Wall-clock and CPU seconds (all threads of the process) of ``rounds`` calls."""
    result = call()  # warm-up: file cache, imports, DuckDB's first connection
    wall, cpu = [], []
    for _ in range(rounds):
        started, started_cpu = time.perf_counter(), time.process_time()
        result = call()
        wall.append(time.perf_counter() - started)
        cpu.append(time.process_time() - started_cpu)
    return wall, cpu, result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.analytics_metrics")
    parser.add_argument("--transactions", type=int, default=10_000_000)
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    options = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="vefa-analytics-bench-") as directory:
        path = Path(directory) / "transactions.parquet"
        started = time.perf_counter()
        generate(
            path,
            transactions=options.transactions,
            customers=options.customers,
            seed=options.seed,
        )
        size = path.stat().st_size / 2**20
        elapsed = time.perf_counter() - started
        print(f"generated {options.transactions:,} transactions of {options.customers:,} "
              f"customers ({size:.0f} MiB of Parquet) in {elapsed:.1f} s")  # fmt: skip

        ours, ours_cpu, metrics = timed(lambda: run_metrics(path), options.rounds)
        theirs, theirs_cpu, frames = timed(lambda: run_pandas(path), options.rounds)
        check_same(metrics, frames)

    rows = metrics["rfm"].num_rows
    p50_ours, p50_theirs = percentile(ours, 0.5), percentile(theirs, 0.5)
    speedup = p50_theirs / p50_ours
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"{platform.machine()}, {os.cpu_count()} CPUs, Python {sys.version.split()[0]}, "
          f"load average {load:.1f}")  # fmt: skip
    print(f"{rows:,} customers bought in the last year; DuckDB and pandas agree")
    met = "ok" if p50_ours <= TARGET_SECONDS else "MISSED"
    print(f"RFM + ladder + A/B/C, Narwhals on DuckDB: p50 {p50_ours:5.2f} s, max "
          f"{max(ours):5.2f} s, CPU {percentile(ours_cpu, 0.5):5.2f} s "
          f"(target {TARGET_SECONDS:.0f} s) {met}")  # fmt: skip
    print(f"RFM + ladder + A/B/C, pandas:              p50 {p50_theirs:5.2f} s, max "
          f"{max(theirs):5.2f} s, CPU {percentile(theirs_cpu, 0.5):5.2f} s")  # fmt: skip
    print(f"speed-up {speedup:.1f}× (target {TARGET_SPEEDUP:.0f}×) "
          f"{'ok' if speedup >= TARGET_SPEEDUP else 'MISSED'}")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
