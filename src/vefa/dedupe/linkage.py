"""Probabilistic record linkage of customers with Splink (Fellegi–Sunter), on DuckDB or Spark.

``link(table, …)`` takes the prepared comparison columns (``vefa.dedupe.features``) as an
Arrow table and returns the pairs at or above the threshold and their clusters. The steps:

1. **Blocking**: only pairs that agree on at least one blocking rule are compared (same
   e-mail, phone or tax number; the same name skeleton in one postcode or with one birth
   date; the same birth date in one city; the first letters of the name skeleton in one
   postcode): a million customers give a few million pairs instead of 5·10¹¹.
2. **Model**: each comparison (name, e-mail, phone, tax number, birth date, location) has
   levels from "exactly equal" down to "different"; a level's m probability (how often true
   duplicates fall into it) and u probability (how often two random customers do) give its
   match weight. The levels start from priors written here; with enough rows
   (``TRAIN_MIN_ROWS``) u is estimated by random sampling and m by expectation maximisation
   on two blocking rules (same phone: trains the names, e-mail …; same name skeleton in
   one postcode: trains the phone, e-mail …), and the share of duplicates from
   deterministic rules.
   On a tiny database the priors are used as they are.
3. **Prediction** scores every blocked pair; pairs below ``threshold`` are dropped.
4. **Clustering**: the connected components of the remaining pairs, without the pairs a
   person said are not duplicates (``dismissed``).

The settings object is the same for both engines: ``engine="duckdb"`` (the default, an
in-memory DuckDB) or ``engine="spark"`` (a local Spark session, or the one given).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

logger = logging.getLogger(__name__)

DEFAULT_THRESHOLD = 0.9
# Below this many rows EM has too little to learn from: the priors are used.
TRAIN_MIN_ROWS = 5_000
# Pairs scored at prediction below this probability are not even written out.
PREDICT_FLOOR = 0.5
ENGINES = ("duckdb", "spark")

Progress = Callable[[str], None]
# Two records whose names disagree outright (not even a typo, transliteration or swap apart)
# are kept apart unless they share the e-mail or the tax number: family members share a
# landline and an address, which the model alone would count as strong evidence.
# (A comparison's match weight is 0 when a value is unknown, below 0 when the level is
# evidence against a match.)
NAME_GATE = "mw_name >= 0 or mw_email > 0 or mw_tax_number > 0"


@dataclass
class LinkageResult:
    """What one linkage produced."""

    records: int
    # (unique_id_l, unique_id_r, match_probability) of the pairs at or above the threshold.
    pairs: list[tuple[int, int, float]] = field(default_factory=list)
    # Clusters of two or more records: [(record id, its best pair's probability), …].
    clusters: list[list[tuple[int, float]]] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    trained: str = "priors"
    parameters: dict[str, Any] = field(default_factory=dict)


def settings(*, records: int, threshold: float = DEFAULT_THRESHOLD) -> Any:
    """The Splink settings (a ``SettingsCreator``) for ``records`` customers."""
    import splink.comparison_level_library as cll
    import splink.comparison_library as cl
    from splink import SettingsCreator

    def level(creator: Any, m: float, u: float) -> Any:
        return creator.configure(m_probability=m, u_probability=u)

    name = cl.CustomComparison(
        output_column_name="name",
        comparison_levels=[
            cll.NullLevel("name_sorted"),
            level(cll.ExactMatchLevel("name_sorted"), 0.55, 0.0003),
            level(
                cll.And(cll.JaroWinklerLevel("name_a", 0.92), cll.JaroWinklerLevel("name_b", 0.92)),
                0.2,
                0.0002,
            ),
            level(cll.ExactMatchLevel("name_skel"), 0.12, 0.0003),
            level(
                cll.And(
                    cll.Or(
                        cll.JaroWinklerLevel("name_a", 0.85), cll.JaroWinklerLevel("skel_a", 0.85)
                    ),
                    cll.Or(
                        cll.JaroWinklerLevel("name_b", 0.85), cll.JaroWinklerLevel("skel_b", 0.85)
                    ),
                ),
                0.1,
                0.002,
            ),
            level(cll.ElseLevel(), 0.03, 0.9975),
        ],
    )
    email = cl.CustomComparison(
        output_column_name="email",
        comparison_levels=[
            cll.NullLevel("email"),
            level(cll.ExactMatchLevel("email"), 0.7, 0.00001),
            level(
                cll.DamerauLevenshteinLevel("email", 1),
                0.12,
                0.0005,
            ),
            level(cll.ElseLevel(), 0.18, 0.99949),
        ],
    )
    phone = cl.CustomComparison(
        output_column_name="phone",
        comparison_levels=[
            cll.NullLevel("phone"),
            level(cll.ExactMatchLevel("phone"), 0.8, 0.00001),
            level(cll.LevenshteinLevel("phone", 1), 0.1, 0.0002),
            level(cll.ElseLevel(), 0.1, 0.99979),
        ],
    )
    tax = cl.CustomComparison(
        output_column_name="tax_number",
        comparison_levels=[
            cll.NullLevel("tax_number"),
            level(cll.ExactMatchLevel("tax_number"), 0.95, 0.000001),
            level(cll.LevenshteinLevel("tax_number", 1), 0.03, 0.00005),
            level(cll.ElseLevel(), 0.02, 0.999949),
        ],
    )
    birth = cl.CustomComparison(
        output_column_name="birth_date",
        comparison_levels=[
            cll.NullLevel("birth_date"),
            level(cll.ExactMatchLevel("birth_date"), 0.9, 0.00005),
            level(cll.LevenshteinLevel("birth_date", 1), 0.07, 0.001),
            level(cll.ElseLevel(), 0.03, 0.99895),
        ],
    )
    location = cl.CustomComparison(
        output_column_name="location",
        comparison_levels=[
            cll.And(cll.NullLevel("postcode"), cll.NullLevel("city")).configure(is_null_level=True),
            level(cll.ExactMatchLevel("postcode"), 0.65, 0.0005),
            level(
                cll.Or(cll.ExactMatchLevel("city"), cll.JaroWinklerLevel("city", 0.8)),
                0.3,
                0.05,
            ),
            level(cll.ElseLevel(), 0.05, 0.9495),
        ],
    )
    # About one customer in six is a second entry: the share of duplicate pairs among all.
    prior = min(0.5, max(1e-9, 0.2 / max(records, 2)))
    return SettingsCreator(
        link_type="dedupe_only",
        unique_id_column_name="unique_id",
        probability_two_random_records_match=prior,
        comparisons=[name, email, phone, tax, birth, location],
        blocking_rules_to_generate_predictions=blocking_rules(),
        retain_matching_columns=False,
        retain_intermediate_calculation_columns=True,
        max_iterations=12,
        em_convergence=0.001,
        additional_columns_to_retain=[],
    )


def blocking_rules() -> list[Any]:
    from splink import block_on

    return [
        block_on("email"),
        block_on("phone"),
        block_on("tax_number"),
        block_on("name_skel", "postcode"),
        block_on("name_skel", "birth_date"),
        block_on("birth_date", "city"),
        block_on("substr(name_skel, 1, 2)", "postcode"),
    ]


def _db_api(engine: str, spark: Any = None) -> Any:
    if engine == "spark":
        from splink import SparkAPI

        session = spark or spark_session()
        return SparkAPI(spark_session=session, num_partitions_on_repartition=4)
    from splink import DuckDBAPI

    return DuckDBAPI()


def spark_session() -> Any:
    """A small local Spark session for the linkage (``local[2]``), with Splink's string
    similarity functions (its jar) and a checkpoint folder."""
    import tempfile

    from pyspark.sql import SparkSession
    from splink.backends.spark import similarity_jar_location

    session = (
        SparkSession.builder.master("local[2]")
        .appName("vefa-dedupe")
        .config("spark.jars", similarity_jar_location())
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.default.parallelism", "4")
        .config("spark.ui.enabled", "false")
        .config("spark.driver.memory", "2g")
        .getOrCreate()
    )
    session.sparkContext.setCheckpointDir(tempfile.mkdtemp(prefix="vefa-dedupe-spark-"))
    return session


def _register(db_api: Any, engine: str, table: pa.Table) -> Any:
    if engine == "spark":
        frame = db_api.spark.createDataFrame(table.to_pandas())
        return db_api.register(frame, table_name="customers_in")
    return db_api.register(table, table_name="customers_in")


def link(
    table: pa.Table,
    *,
    threshold: float = DEFAULT_THRESHOLD,
    engine: str = "duckdb",
    dismissed: Iterable[tuple[int, int]] = (),
    seed: int = 42,
    train: bool | None = None,
    progress: Progress | None = None,
    spark: Any = None,
) -> LinkageResult:
    """Link the customers of ``table`` (columns of ``features.COLUMNS``)."""
    from splink import Linker, block_on

    if engine not in ENGINES:
        raise ValueError(f"unknown engine {engine!r}")
    note = progress or (lambda _step: None)
    # Splink reports every step at INFO; a run reports its own progress.
    logging.getLogger("splink").setLevel(logging.WARNING)
    records = table.num_rows
    result = LinkageResult(records=records)
    result.parameters = {"threshold": threshold, "engine": engine}
    if records < 2:
        return result
    timings = result.timings
    started = time.perf_counter()

    db_api = _db_api(engine, spark)
    frame = _register(db_api, engine, table)
    linker = Linker(frame, settings(records=records, threshold=threshold), log_level=None)
    timings["load"] = time.perf_counter() - started

    if train is None:
        train = records >= TRAIN_MIN_ROWS
    if train:
        note("train")
        step = time.perf_counter()
        linker.training.estimate_probability_two_random_records_match(
            [block_on("email"), block_on("phone"), block_on("tax_number")], recall=0.7
        )
        linker.training.estimate_u_using_random_sampling(
            max_pairs=min(2e6, max(1e5, records * 5.0)), seed=seed
        )
        for rule in (block_on("phone"), block_on("name_skel", "postcode")):
            linker.training.estimate_parameters_using_expectation_maximisation(
                rule, estimate_without_term_frequencies=True
            )
        result.trained = "em"
        timings["train"] = time.perf_counter() - step

    note("predict")
    step = time.perf_counter()
    predictions = linker.inference.predict(
        threshold_match_probability=min(threshold, PREDICT_FLOOR), warning_mode="never"
    )
    pairs = _pairs_at(predictions, engine, threshold)
    timings["predict"] = time.perf_counter() - step
    result.parameters["prior"] = float(linker._settings_obj._probability_two_random_records_match)

    note("cluster")
    step = time.perf_counter()
    blocked = {(min(a, b), max(a, b)) for a, b in dismissed}
    result.pairs = [p for p in pairs if (min(p[0], p[1]), max(p[0], p[1])) not in blocked]
    result.clusters = clusters_of(result.pairs)
    timings["cluster"] = time.perf_counter() - step
    timings["total"] = time.perf_counter() - started
    if engine == "duckdb":
        db_api.duckdb_con.close()
    return result


def _pairs_at(predictions: Any, engine: str, threshold: float) -> list[tuple[int, int, float]]:
    sql = (
        "select unique_id_l, unique_id_r, match_probability "  # noqa: S608 (no user text)
        f"from {predictions.physical_name} where match_probability >= {float(threshold)!r} "
        f"and ({NAME_GATE})"
    )
    if engine == "duckdb":
        rows = predictions.db_api.duckdb_con.sql(sql).fetchall()
    else:
        rows = [tuple(r) for r in predictions.db_api.spark.sql(sql).collect()]
    return [(int(a), int(b), float(p)) for a, b, p in rows]


def clusters_of(pairs: Iterable[tuple[int, int, float]]) -> list[list[tuple[int, float]]]:
    """The connected components of ``pairs`` (union–find), each member with the
    probability of its best pair; largest probability first."""
    parent: dict[int, int] = {}
    best: dict[int, float] = {}

    def find(x: int) -> int:
        root = x
        while parent[root] != root:
            root = parent[root]
        while parent[x] != root:
            parent[x], x = root, parent[x]
        return root

    for a, b, probability in pairs:
        for x in (a, b):
            if x not in parent:
                parent[x] = x
            if probability > best.get(x, -1.0):
                best[x] = probability
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    groups: dict[int, list[tuple[int, float]]] = {}
    for x in parent:
        groups.setdefault(find(x), []).append((x, best[x]))
    out = [sorted(members) for members in groups.values() if len(members) > 1]
    out.sort(key=lambda members: (-min(p for _, p in members), members[0][0]))
    return out
