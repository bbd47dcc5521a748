"""Bradley-Terry: hand-computed fits, agreement with choix, a planted order recovered, bootstrap coverage."""

from __future__ import annotations

import math

import choix
import numpy as np
import pytest

from annotation.quality import bradley_terry as bt


def _simulate(rng: np.random.Generator, truth: np.ndarray, n: int) -> list[bt.Outcome]:
    outcomes = []
    for _ in range(n):
        i, j = rng.choice(len(truth), 2, replace=False)
        won = rng.random() < 1 / (1 + math.exp(truth[j] - truth[i]))
        outcomes.append(bt.Outcome(int(i), int(j), 1.0 if won else 0.0))
    return outcomes


def test_ties_count_half_to_each_side() -> None:
    # A beats B three times and ties once: wins 3.5 to 0.5, so exp(t_A - t_B) = 7 without a prior.
    outcomes = [bt.Outcome(0, 1, 1.0)] * 3 + [bt.Outcome(0, 1, 0.5)]
    wins = bt.win_matrix(outcomes, 2)

    strengths = bt.fit(wins, prior=0.0)

    assert wins.tolist() == [[0.0, 3.5], [0.5, 0.0]]
    assert strengths[0] - strengths[1] == pytest.approx(math.log(7))
    assert strengths.sum() == pytest.approx(0.0)


def test_weights_scale_a_comparison() -> None:
    wins = bt.win_matrix([bt.Outcome(0, 1, 1.0, weight=0.25), bt.Outcome(1, 0, 1.0)], 2)

    assert wins.tolist() == [[0.0, 0.25], [1.0, 0.0]]


def test_batched_mm_fit_equals_choix_on_the_same_data() -> None:
    rng = np.random.default_rng(3)
    wins = rng.integers(0, 30, size=(5, 5)).astype(float)
    np.fill_diagonal(wins, 0.0)

    expected = choix.ilsr_pairwise_dense(wins + 0.05 * (1 - np.eye(5)), alpha=0.0, tol=1e-12, max_iter=1000)
    batched = bt.fit_batch(wins[None], prior=0.1)[0]

    np.testing.assert_allclose(batched, expected - expected.mean(), atol=1e-6)
    np.testing.assert_allclose(bt.fit(wins, prior=0.1), batched, atol=1e-6)


def test_a_planted_order_is_recovered_from_simulated_comparisons() -> None:
    truth = np.array([1.2, 0.6, 0.0, -0.5, -1.3])
    outcomes = _simulate(np.random.default_rng(11), truth, 3000)

    strengths = bt.fit(bt.win_matrix(outcomes, len(truth)))

    assert list(np.argsort(-strengths)) == [0, 1, 2, 3, 4]
    np.testing.assert_allclose(strengths, truth - truth.mean(), atol=0.15)


def test_bootstrap_intervals_cover_the_truth_at_about_the_nominal_rate() -> None:
    # 100 seeded repetitions x 4 models; a 95% interval should cover the planted strength ~95% of the time.
    truth = np.array([0.6, 0.2, -0.2, -0.6])
    rng = np.random.default_rng(2024)
    covered = 0
    for repetition in range(100):
        outcomes = _simulate(rng, truth, 400)
        interval = bt.percentile_interval(bt.bootstrap(outcomes, 4, rounds=200, seed=repetition))
        covered += int(np.sum((interval[:, 0] <= truth) & (truth <= interval[:, 1])))

    coverage = covered / 400
    assert 0.90 <= coverage <= 0.99, coverage


def test_bootstrap_is_deterministic_for_a_seed() -> None:
    outcomes = [bt.Outcome(0, 1, 1.0), bt.Outcome(1, 2, 0.5), bt.Outcome(2, 0, 0.0)]

    np.testing.assert_array_equal(bt.bootstrap(outcomes, 3, rounds=20, seed=5), bt.bootstrap(outcomes, 3, 20, seed=5))


def test_arena_rating_scale() -> None:
    # A strength gap of ln(10) is 400 rating points on Arena's scale.
    assert bt.arena_rating(math.log(10)) - bt.arena_rating(0.0) == pytest.approx(400.0)
    assert bt.arena_rating(0.0) == 1000.0
