"""Where the metrics run: DuckDB on this machine (the default) or PySpark on a cluster.

Every metric in ``vefa.analytics.metrics`` is a function of Narwhals lazy frames, so the same
code runs on either engine. This module turns tables (Arrow tables or Parquet files of the
analytical store) into lazy frames of one engine and collects results back into Arrow.

Rules that keep both engines giving identical results:

- money is an integer number of cents of the reporting currency, so sums are exact;
- dates are integers (``day``: days since 1970-01-01; ``month``: year * 12 + month - 1), so
  date arithmetic is integer arithmetic;
- every ranking breaks ties by ``customer_id`` (or another key), never by row order;
- ratios are computed last, from exact integer sums.
"""

from __future__ import annotations

import datetime
import threading
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, Literal

import duckdb
import narwhals as nw
import pyarrow as pa

EngineName = Literal["duckdb", "pyspark"]
ENGINES: tuple[EngineName, ...] = ("duckdb", "pyspark")
EPOCH = datetime.date(1970, 1, 1)

_spark_lock = threading.Lock()
_spark_session: Any = None


def day_number(day: datetime.date) -> int:
    """Days since 1970-01-01: the integer date every fact table carries."""
    return (day - EPOCH).days


def day_from_number(number: int) -> datetime.date:
    return EPOCH + datetime.timedelta(days=int(number))


def month_number(day: datetime.date) -> int:
    """``year * 12 + month - 1``: consecutive months are consecutive integers."""
    return day.year * 12 + day.month - 1


def month_from_number(number: int) -> datetime.date:
    year, month = divmod(int(number), 12)
    return datetime.date(year, month + 1, 1)


def spark_session() -> Any:
    """A local Spark session (one per process), created on first use.

    Needs ``pip install vefa[spark]`` and Java 17 or newer. The time zone is UTC so that
    nothing depends on the machine's zone.
    """
    global _spark_session
    with _spark_lock:
        if _spark_session is None:
            import logging

            from pyspark.sql import SparkSession

            # py4j logs every connection at INFO, also while the interpreter shuts down.
            logging.getLogger("py4j").setLevel(logging.WARNING)

            builder = SparkSession.builder
            jars = _shared_jars()
            if jars:
                builder = builder.config("spark.jars", jars)
            _spark_session = (
                builder.master("local[2]")
                .appName("vefa-analytics")
                .config("spark.ui.enabled", "false")
                .config("spark.sql.session.timeZone", "UTC")
                .config("spark.sql.shuffle.partitions", "4")
                .config("spark.sql.ansi.enabled", "false")
                .getOrCreate()
            )
            _spark_session.sparkContext.setLogLevel("ERROR")
        return _spark_session


def _shared_jars() -> str:
    """Jars every local Spark session of the process carries. The session is one per process
    (``getOrCreate``), whoever starts it first: the duplicate search (``vefa.dedupe``) needs
    Splink's string similarity functions in it too."""
    try:
        from splink.backends.spark import similarity_jar_location
    except ImportError:
        return ""
    return str(similarity_jar_location())


class Engine:
    """One engine's way in (``frame``/``parquet``) and out (``collect``)."""

    def __init__(self, name: EngineName = "duckdb", *, connection: Any = None) -> None:
        if name not in ENGINES:
            raise ValueError(f"unknown analytics engine {name!r}; use one of {ENGINES}")
        self.name: EngineName = name
        self._duckdb = connection
        self._keep: list[Any] = []  # Arrow tables a DuckDB relation still reads from

    @property
    def duckdb(self) -> duckdb.DuckDBPyConnection:
        if self._duckdb is None:
            self._duckdb = duckdb.connect()
        return self._duckdb

    def frame(self, table: pa.Table | Mapping[str, Iterable[Any]]) -> nw.LazyFrame[Any]:
        """A lazy frame over an Arrow table (or a mapping of column name to values)."""
        if not isinstance(table, pa.Table):
            table = pa.table(dict(table))
        if self.name == "duckdb":
            self._keep.append(table)
            return nw.from_native(self.duckdb.from_arrow(table))
        spark = spark_session()
        return nw.from_native(spark.createDataFrame(table))

    def parquet(self, path: Path | str | list[str]) -> nw.LazyFrame[Any]:
        """A lazy frame over Parquet files (a file, a glob, or a list of files)."""
        if self.name == "duckdb":
            return nw.from_native(self.duckdb.read_parquet(path))
        spark = spark_session()
        paths = [str(p) for p in path] if isinstance(path, list) else [str(path)]
        return nw.from_native(spark.read.parquet(*paths))

    def collect(self, frame: nw.LazyFrame[Any], *, sort: list[str] | None = None) -> pa.Table:
        """Run ``frame`` and return an Arrow table, sorted by ``sort`` when given."""
        if sort:
            frame = frame.sort(sort)
        table: pa.Table = frame.collect("pyarrow").to_native()
        return table

    def close(self) -> None:
        if self._duckdb is not None:
            self._duckdb.close()
            self._duckdb = None
        self._keep.clear()
