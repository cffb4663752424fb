import pytest

from assistant.search.fusion import calibrated, rrf, top, weighted


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


def test_calibrated_hand_computed():
    # 2 × cosine + BM25 / mass: chunk 2 has the lower cosine but matches 60% of the question's weight.
    fused = calibrated({1: 0.85, 2: 0.80}, {2: 6.0}, 10.0, 2.0)
    assert fused == pytest.approx({1: 1.7, 2: 2.2})
    assert top(fused, 1)[0][0] == 2


def test_calibrated_scale_decides_between_the_lists():
    cosines, keyword = {1: 0.90, 2: 0.80}, {2: 3.0}
    assert top(calibrated(cosines, keyword, 10.0, 2.0), 1)[0][0] == 2  # 1.8 vs 1.6 + 0.3
    assert top(calibrated(cosines, keyword, 10.0, 4.0), 1)[0][0] == 1  # 3.6 vs 3.2 + 0.3


@pytest.mark.parametrize("mass", [0.0, -1.0])
def test_calibrated_without_keyword_weight_is_dense_only(mass):
    assert calibrated({1: 0.5, 2: 0.7}, {1: 9.0}, mass, 1.0) == {1: 0.5, 2: 0.7}


def test_calibrated_is_absolute_not_per_query():
    # The same BM25 share counts the same whatever the other candidates score (min-max would stretch it to 1).
    alone = calibrated({1: 0.8}, {1: 2.0}, 20.0, 1.0)
    beside = calibrated({1: 0.8, 2: 0.8}, {1: 2.0, 2: 0.5}, 20.0, 1.0)
    assert alone[1] == pytest.approx(beside[1]) == pytest.approx(0.9)
    assert calibrated({}, {3: 1.0}, 5.0, 1.0) == {}
