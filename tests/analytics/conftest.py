"""Engines for the analytics tests: DuckDB always, PySpark (local mode) where Java is.

``engine`` runs a test once per engine; ``parity`` runs a metric on both engines and asserts
identical results. On a user's machine without Java the PySpark runs are skipped with a
message; in CI (``CI=true``) they must run.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from typing import Any

import narwhals as nw
import pyarrow as pa
import pytest

from tests.conftest import IN_CI
from vefa.analytics.engine import Engine, EngineName


def _spark_missing() -> str | None:
    try:
        import pyspark  # noqa: F401
    except ImportError:
        return "PySpark is not installed (make test installs it with the test extras)"
    if shutil.which("java") is None:
        return "Java is not installed; PySpark needs Java 17 or newer"
    return None


def require_engine(name: EngineName) -> None:
    if name != "pyspark":
        return
    missing = _spark_missing()
    if missing:
        if IN_CI:
            pytest.fail(missing)
        pytest.skip(missing)


@pytest.fixture(params=["duckdb", "pyspark"])
def engine(request) -> Any:
    require_engine(request.param)
    instance = Engine(request.param)
    yield instance
    instance.close()


def as_rows(table: pa.Table) -> list[dict[str, Any]]:
    """Rows as dicts, floats rounded to 9 places so engines' last-bit noise cannot differ."""
    rows = table.to_pylist()
    return [
        {key: round(value, 9) if isinstance(value, float) else value for key, value in row.items()}
        for row in rows
    ]


@pytest.fixture
def parity() -> Callable[..., pa.Table]:
    """``parity(metric, tables, sort=[...], **kwargs)``: run on both engines, compare, return.

    ``tables`` maps the metric's frame arguments to Arrow tables; the result of DuckDB is
    returned after the comparison with PySpark.
    """

    def run(
        metric: Callable[..., nw.LazyFrame[Any]],
        tables: dict[str, pa.Table],
        *,
        sort: list[str],
        **kwargs: Any,
    ) -> pa.Table:
        results = {}
        for name in ("duckdb", "pyspark"):
            require_engine(name)  # type: ignore[arg-type]
            engine = Engine(name)  # type: ignore[arg-type]
            try:
                frames = {key: engine.frame(value) for key, value in tables.items()}
                results[name] = engine.collect(metric(**frames, **kwargs), sort=sort)
            finally:
                engine.close()
        duck, spark = results["duckdb"], results["pyspark"]
        assert duck.column_names == spark.column_names
        assert as_rows(duck) == as_rows(spark)
        return duck

    return run


@pytest.fixture(scope="session", autouse=True)
def _stop_spark():
    """Stop the local Spark session at the end, while logging still has its streams."""
    yield
    from vefa.analytics import engine as engine_module

    session = engine_module._spark_session
    if session is not None:
        session.stop()
        engine_module._spark_session = None
