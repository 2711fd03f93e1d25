"""The same linkage on Spark (a local session), on a tiny set: the same pairs as DuckDB."""

from __future__ import annotations

import importlib.util
import shutil

import pytest

from vefa.dedupe import features, linkage, synthetic
from vefa.dedupe.extract import table_of


def _spark_missing() -> str | None:
    if importlib.util.find_spec("pyspark") is None:
        return "pyspark is not installed (test extras)"
    if shutil.which("java") is None:
        return "Java is not installed"
    return None


@pytest.fixture(scope="module")
def spark():
    missing = _spark_missing()
    if missing:
        pytest.skip(missing)
    session = linkage.spark_session()
    yield session
    session.stop()


def test_spark_finds_what_duckdb_finds(spark):
    rows = synthetic.generate(120, seed=4)
    table = table_of(features.prepare_columns(rows))
    on_duckdb = linkage.link(table)
    on_spark = linkage.link(table, engine="spark", spark=spark)
    assert on_spark.parameters["engine"] == "spark"
    assert len(on_duckdb.pairs) > 5
    assert {(a, b) for a, b, _ in on_spark.pairs} == {(a, b) for a, b, _ in on_duckdb.pairs}
    spark_clusters = sorted(on_spark.clusters)
    duckdb_clusters = sorted(on_duckdb.clusters)
    assert [[m for m, _ in c] for c in spark_clusters] == [
        [m for m, _ in c] for c in duckdb_clusters
    ]
    spark_p = [p for c in spark_clusters for _, p in c]
    assert spark_p == pytest.approx([p for c in duckdb_clusters for _, p in c], abs=1e-6)
