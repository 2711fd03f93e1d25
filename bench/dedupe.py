"""Benchmark of the batch duplicate search: a million customers, precision and recall.

    python -m bench.dedupe --customers 1000000
    python -m bench.dedupe --customers 200000 --engine spark

The labelled generator (``vefa.dedupe.synthetic``: Turkish, Serbian Latin and Cyrillic,
Persian and Latin-transliterated Persian customers, a fifth of them second or third entries
with typos, transliterations, swapped names, missing fields, plus namesakes and households)
writes ``--customers`` rows to a Parquet file in ``--dir`` (``VEFA_DATA_DIR`` or
``/tmp/dedupe-bench``). The timed part then does what a run does after its extract: DuckDB
reads the Parquet file, every row is turned into the comparison columns
(``features.prepare``), and ``linkage.link`` blocks, trains (u by random sampling, m by EM),
predicts and clusters. Pairwise precision and recall of the clusters are measured against
the labels. Written to ``bench/results/dedupe.md`` (appended).

Target from the issue: 1M customers in ≤ 5 minutes, precision and recall ≥ 0.95.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import time
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results" / "dedupe.md"
TARGET_SECONDS = 300.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--engine", choices=("duckdb", "spark"), default="duckdb")
    parser.add_argument("--threshold", type=float, default=0.9)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--dir", default=os.environ.get("VEFA_DATA_DIR", "/tmp/dedupe-bench"))
    parser.add_argument("--no-write", action="store_true", help="do not append the results")
    options = parser.parse_args()

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "vefa.config.settings")
    import django

    django.setup()
    import duckdb
    import pyarrow as pa
    import pyarrow.parquet as pq

    from vefa.dedupe import features, linkage, synthetic
    from vefa.dedupe.extract import table_of

    folder = Path(options.dir)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"customers-{options.customers}-{options.seed}.parquet"

    started = time.perf_counter()
    rows = synthetic.generate(options.customers, seed=options.seed)
    truth = {row["id"]: row["entity"] for row in rows}
    names = [k for k in rows[0] if k != "entity"]
    pq.write_table(pa.table({k: [row[k] for row in rows] for k in [*names, "entity"]}), path)
    del rows
    generate_seconds = time.perf_counter() - started
    print(f"generated {options.customers:,} customers in {generate_seconds:.1f} s → {path}")

    cpu_before = resource.getrusage(resource.RUSAGE_SELF)
    started = time.perf_counter()
    source = duckdb.connect()
    reader = source.sql(f"select * exclude (entity) from read_parquet('{path}')").arrow()
    batches = (
        reader.to_batches() if hasattr(reader, "to_batches") else reader.read_all().to_batches()
    )
    columns = features.prepare_columns(row for batch in batches for row in batch.to_pylist())
    table = table_of(columns)
    prepare_seconds = time.perf_counter() - started
    print(f"read and prepared in {prepare_seconds:.1f} s")

    result = linkage.link(
        table, threshold=options.threshold, engine=options.engine, seed=options.seed
    )
    total = time.perf_counter() - started
    cpu_after = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (cpu_after.ru_utime - cpu_before.ru_utime) + (cpu_after.ru_stime - cpu_before.ru_stime)

    predicted = {rid: n for n, members in enumerate(result.clusters) for rid, _ in members}
    scores = synthetic.pairwise_scores(truth, predicted)
    load = os.getloadavg()
    timings = {k: round(v, 1) for k, v in result.timings.items()}
    lines = [
        f"customers {options.customers:,} · engine {options.engine} · threshold "
        f"{options.threshold} · model {result.trained}",
        f"time (read + prepare + link + cluster): {total:.1f} s "
        f"({'meets' if total <= TARGET_SECONDS else 'misses'} the 300 s target); "
        f"CPU {cpu:.1f} s",
        f"steps: prepare {prepare_seconds:.1f} s, {timings}",
        f"pairs ≥ threshold {len(result.pairs):,}; clusters {len(result.clusters):,}",
        f"true pairs {scores.true_pairs:,}, predicted {scores.predicted_pairs:,}, "
        f"correct {scores.correct_pairs:,}",
        f"precision {scores.precision:.4f} · recall {scores.recall:.4f}",
        f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} · {os.cpu_count()} CPUs · "
        f"Python {platform.python_version()}",
    ]
    print("\n".join(lines))
    if not options.no_write:
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        with RESULTS.open("a", encoding="utf-8") as out:
            command = f"python -m bench.dedupe --customers {options.customers}"
            if options.engine != "duckdb":
                command += f" --engine {options.engine}"
            out.write(
                f"\n### `{command}` ({time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())})\n\n"
            )
            out.write("\n".join(f"- {line}" for line in lines) + "\n")


if __name__ == "__main__":
    main()
