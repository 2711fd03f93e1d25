"""Precision and recall of the linkage on the labelled set (pairwise, on clusters)."""

from __future__ import annotations

import pyarrow as pa
import pytest

from vefa.dedupe import features, linkage, synthetic
from vefa.dedupe.extract import table_of


def _scores(rows, result):
    truth = {row["id"]: row["entity"] for row in rows}
    predicted = {rid: n for n, members in enumerate(result.clusters) for rid, _ in members}
    return synthetic.pairwise_scores(truth, predicted)


@pytest.mark.parametrize("seed", [1, 2])
def test_precision_and_recall_on_a_few_thousand(seed):
    rows = synthetic.generate(4000, seed=seed)
    result = linkage.link(table_of(features.prepare_columns(rows)))
    scores = _scores(rows, result)
    assert scores.true_pairs > 500  # the set has duplicates to find
    assert scores.precision >= 0.95, scores
    assert scores.recall >= 0.95, scores


def test_trained_model_on_more_rows():
    rows = synthetic.generate(linkage.TRAIN_MIN_ROWS + 1000, seed=5)
    result = linkage.link(table_of(features.prepare_columns(rows)))
    assert result.trained == "em"
    scores = _scores(rows, result)
    assert scores.precision >= 0.95, scores
    assert scores.recall >= 0.95, scores


def test_generator_makes_the_promised_variants():
    rows = synthetic.generate(3000, seed=3)
    names = " ".join(r["display_name"] for r in rows)
    assert any("\u0400" <= ch <= "\u04ff" for ch in names)  # Serbian Cyrillic
    assert any("\u0600" <= ch <= "\u06ff" for ch in names)  # Persian
    assert "ı" in names and "ş" in names and "đ" in names.lower()
    entities = {}
    for row in rows:
        entities.setdefault(row["entity"], []).append(row)
    duplicated = [group for group in entities.values() if len(group) > 1]
    assert len(duplicated) > 300
    # Some second entries differ in name from the first.
    assert any(len({r["display_name"] for r in group}) > 1 for group in duplicated)
    assert len({r["id"] for r in rows}) == len(rows) == 3000


def test_scores_count_pairs():
    truth = {1: 1, 2: 1, 3: 1, 4: 2}
    scores = synthetic.pairwise_scores(truth, {1: 0, 2: 0, 4: 0})
    assert (scores.true_pairs, scores.predicted_pairs, scores.correct_pairs) == (3, 3, 1)


def test_dismissed_pairs_are_not_clustered():
    rows = synthetic.generate(500, seed=9)
    table = table_of(features.prepare_columns(rows))
    first = linkage.link(table)
    a, b, _ = first.pairs[0]
    again = linkage.link(table, dismissed=[(b, a)])
    assert all({a, b} != {x, y} for x, y, _ in again.pairs)


def test_empty_and_single_tables():
    empty = table_of({name: [] for name in features.COLUMNS})
    assert linkage.link(empty).clusters == []
    one = table_of(features.prepare_columns([{"id": 1, "kind": "person", "first_name": "A"}]))
    assert linkage.link(one).clusters == []


def test_unknown_engine_is_refused():
    with pytest.raises(ValueError, match="engine"):
        linkage.link(pa.table({"unique_id": [1]}), engine="oracle")


def test_clusters_of_joins_chains():
    clusters = linkage.clusters_of([(1, 2, 0.99), (2, 3, 0.95), (7, 8, 0.999)])
    assert [[m for m, _ in c] for c in clusters] == [[7, 8], [1, 2, 3]]
    assert dict(clusters[1]) == {1: 0.99, 2: 0.99, 3: 0.95}
