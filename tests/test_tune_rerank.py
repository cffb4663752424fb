"""The fitting of scripts/tune_rerank.py on hand-made candidate lists: pairs, the pairwise fit and the metrics."""

import numpy as np
import pytest

from tests.conftest import load_script


@pytest.fixture(scope="module")
def tune():
    return load_script("tune_rerank")


def _question(x: list[list[float]], relevant: list[bool], ids: list[str] | None = None) -> dict:
    return {"x": np.array(x, dtype=float), "y": np.array(relevant), "ids": ids or [f"c{i}" for i in range(len(x))],
            "level": "chunk"}


def test_pairs_are_relevant_minus_other_weighted_per_question(tune):
    q = _question([[1.0, 0.0], [0.0, 1.0], [0.5, 0.5]], [False, True, False])
    diffs, weights = tune.pairs([q, _question([[1.0, 1.0]], [True])], 2.0)  # a question without others gives none
    assert len(diffs) == 1 and diffs[0].tolist() == [[-1.0, 1.0], [-0.5, 0.5]]
    assert weights[0].tolist() == [1.0, 1.0]  # the question's weight spread over its pairs


def test_metrics_read_passages_where_their_best_chunk_ranks(tune):
    q = _question([[0.0], [2.0], [1.0]], [False, False, True], ids=["p1", "p2", "p2"])
    assert tune.metrics([q], None) == (0.0, 1.0, 0.5)  # fused order: p1, p2 (relevant) second
    assert tune.metrics([q], np.array([1.0])) == (1.0, 1.0, 1.0)  # the model puts p2 first


def test_the_fit_learns_which_feature_marks_the_relevant_candidate(tune):
    rng = np.random.default_rng(0)
    questions = []
    for _ in range(60):
        x = rng.normal(size=(6, 2))
        x[:, 1] *= 0.1  # the second feature is noise on a smaller scale
        y = np.zeros(6, dtype=bool)
        y[int(np.argmax(x[:, 0]))] = True  # the first feature decides
        questions.append(_question(x.tolist(), y.tolist()))
    sets = {"a": questions[:30], "b": questions[30:]}
    diffs, _ = tune.pairs(questions, 1.0)
    weights = tune.fit(sets, 1.0, np.vstack(diffs).std(axis=0))
    assert weights[0] > 0 and abs(weights[1]) < weights[0] / 3
    assert tune.metrics(questions, weights)[0] == 1.0
