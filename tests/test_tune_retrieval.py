"""The tuning objective of scripts/tune_retrieval.py on hand-made tables: at or above the baseline everywhere, then dev."""

import pytest

from tests.conftest import load_script


@pytest.fixture(scope="module")
def tune():
    return load_script("tune_retrieval")


BASE = {"drcd": (0.90, 0.99, 0.94), "cmrc": (0.95, 1.00, 0.97)}


def test_margin_is_the_worst_gap_over_sets_and_metrics(tune):
    cells = {"dev tune": (0.8, 0.9, 0.85), "drcd": (0.91, 0.99, 0.95), "cmrc": (0.96, 0.99, 0.975)}
    assert tune.margin(cells, BASE) == pytest.approx(-0.01)  # cmrc hit@5 one point below
    assert tune.margin({"a": (0.9, 1.0, 0.95)}, {"a": (0.92, 0.99, 0.94)}) == pytest.approx(-0.02)


def test_choose_prefers_dev_among_configurations_at_or_above_the_baseline(tune):
    results = [
        ("best mean, below on drcd", {"dev tune": (0.90, 0.99, 0.95), "drcd": (0.89, 0.99, 0.935),
                                      "cmrc": (0.99, 1.00, 0.995)}),
        ("feasible, weaker dev", {"dev tune": (0.80, 0.95, 0.86), "drcd": (0.92, 0.99, 0.95),
                                  "cmrc": (0.96, 1.00, 0.98)}),
        ("feasible, better dev", {"dev tune": (0.82, 0.97, 0.88), "drcd": (0.90, 0.99, 0.94),
                                  "cmrc": (0.95, 1.00, 0.97)}),
    ]
    chosen, why = tune.choose(results, BASE)
    assert chosen == "feasible, better dev"  # margin exactly 0 counts as "at or above"
    assert why.startswith("2 of 3 configurations")


def test_choose_falls_back_to_the_largest_margin(tune):
    results = [
        ("far below", {"dev tune": (0.95, 1.0, 0.97), "drcd": (0.80, 0.95, 0.85), "cmrc": (0.95, 1.0, 0.97)}),
        ("just below", {"dev tune": (0.70, 0.9, 0.80), "drcd": (0.899, 0.99, 0.94), "cmrc": (0.95, 1.0, 0.97)}),
    ]
    chosen, why = tune.choose(results, BASE)
    assert chosen == "just below" and why.startswith("no configuration")
