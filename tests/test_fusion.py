import pytest

from assistant.search.fusion import rrf, top, weighted


def test_rrf_rewards_agreement():
    fused = rrf([[3, 1, 2], [1, 2]], k=60)
    assert top(fused, 1)[0][0] == 1
    assert fused[1] == pytest.approx(1 / 62 + 1 / 61)


def test_rrf_weights_shift_the_winner():
    assert top(rrf([[1], [2]], weights=[1.0, 3.0]), 1)[0][0] == 2


def test_weighted_minmax():
    fused = weighted({1: 0.9, 2: 0.5}, {2: 8.0, 3: 2.0}, 0.5)
    assert fused == {1: 0.5, 2: 0.5, 3: 0.0}
    assert top(weighted({1: 0.9, 2: 0.5}, {2: 8.0, 3: 2.0}, 0.2), 1)[0][0] == 2


@pytest.mark.parametrize("dense,keyword", [({}, {}), ({1: 0.3}, {}), ({}, {4: 1.0})])
def test_weighted_edge_cases(dense, keyword):
    fused = weighted(dense, keyword, 0.5)
    assert set(fused) == set(dense) | set(keyword)


def test_top_is_stable_on_ties():
    assert top({5: 1.0, 2: 1.0, 9: 0.5}, 3) == [(2, 1.0), (5, 1.0), (9, 0.5)]
