"""Bradley-Terry strengths from comparisons with ties, and bootstrap intervals.

Model: P(i beats j) = exp(t_i) / (exp(t_i) + exp(t_j)) (Bradley & Terry 1952). Ties count half a win to each side,
the convention of Chatbot Arena (Chiang et al. 2024, "Chatbot Arena", section 4; their `compute_mle_elo`); we use it
rather than the Davidson (1970) tie model because one tie parameter cannot be estimated from the three to five
judgements an item gets, and because the leaderboard must follow Arena's method to be comparable with it.

The comparison matrix `wins[i, j]` holds i's wins over j (a tie adds 0.5 to both cells, each comparison scaled by
its weight). `prior` pseudo-comparisons are added to every pair, half a win each way: this keeps strengths finite
when a response never lost (always so for the three judgements of one item) and pulls little once real data is
there. The maximum-likelihood fit of that matrix is computed by `choix.ilsr_pairwise_dense` (Maystre & Grossglauser
2015, iterative Luce spectral ranking). Bootstrap replicates (resampling comparisons with replacement, Arena's
percentile intervals) are fitted all at once by the minorisation-maximisation iteration of Hunter (2004), vectorised
over replicates: the same maximum-likelihood estimate (tests check it against choix), hundreds of times faster than
one choix call per replicate.

Strengths are centred (mean 0). `arena_rating` maps them to Arena's Elo-like scale: 1000 + 400 * t / ln(10).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

import choix
import numpy as np
from numpy.typing import NDArray

ARENA_SCALE = 400.0
ARENA_BASE = 10.0
ARENA_INIT = 1000.0


@dataclass(frozen=True)
class Outcome:
    """One comparison between indices `first` and `second`: score 1 (first won), 0.5 (tie) or 0 (second won)."""

    first: int
    second: int
    score: float
    weight: float = 1.0


def win_matrix(outcomes: Iterable[Outcome], n: int) -> NDArray[np.float64]:
    """wins[i, j]: how many times i beat j, ties counting half to each, weighted."""
    wins = np.zeros((n, n), dtype=float)
    for outcome in outcomes:
        wins[outcome.first, outcome.second] += outcome.weight * outcome.score
        wins[outcome.second, outcome.first] += outcome.weight * (1.0 - outcome.score)
    return wins


def _with_prior(wins: NDArray[np.float64], prior: float) -> NDArray[np.float64]:
    n = wins.shape[-1]
    return wins + (prior / 2.0) * (1.0 - np.eye(n))


def fit(wins: NDArray[np.float64], prior: float = 0.1) -> NDArray[np.float64]:
    """Centred Bradley-Terry strengths of the win matrix plus `prior` pseudo-comparisons per pair (choix ILSR)."""
    n = wins.shape[0]
    if n == 1:
        return np.zeros(1)
    params = choix.ilsr_pairwise_dense(_with_prior(wins, prior), alpha=0.0, max_iter=1000, tol=1e-10)
    return params - params.mean()


def fit_batch(
    wins: NDArray[np.float64], prior: float = 0.1, iterations: int = 2000, tol: float = 1e-10
) -> NDArray[np.float64]:
    """Centred strengths for a stack of win matrices (shape B x n x n) by Hunter's MM iteration.

    Update: p_i <- W_i / sum_j N_ij / (p_i + p_j), with W_i the wins of i and N_ij the comparisons of i and j.
    """
    matrices = _with_prior(np.asarray(wins, dtype=float), prior)
    total_wins = matrices.sum(axis=2)
    games = matrices + np.swapaxes(matrices, 1, 2)
    strengths = np.ones(matrices.shape[:2])
    for _ in range(iterations):
        pair_sums = strengths[:, :, None] + strengths[:, None, :]
        updated = total_wins / (games / pair_sums).sum(axis=2)
        updated /= np.exp(np.log(updated).mean(axis=1, keepdims=True))
        converged = np.max(np.abs(np.log(updated) - np.log(strengths))) < tol
        strengths = updated
        if converged:
            break
    params = np.log(strengths)
    return params - params.mean(axis=1, keepdims=True)


def bootstrap(
    outcomes: list[Outcome], n: int, rounds: int = 200, prior: float = 0.1, seed: int = 0
) -> NDArray[np.float64]:
    """Strengths of `rounds` bootstrap replicates (rounds x n): the comparisons resampled with replacement."""
    if not outcomes:
        return np.zeros((rounds, n))
    rng = np.random.default_rng(seed)
    # Resampling N comparisons with replacement draws the count of each distinct comparison from a multinomial;
    # grouping identical comparisons first keeps this small (a few cells per pair of models).
    cells = Counter((o.first, o.second, o.score, o.weight) for o in outcomes)
    keys = list(cells)
    multiplicity = np.array([cells[key] for key in keys], dtype=float)
    counts = rng.multinomial(len(outcomes), multiplicity / multiplicity.sum(), size=rounds)
    first = np.array([key[0] for key in keys])
    second = np.array([key[1] for key in keys])
    won = np.array([key[3] * key[2] for key in keys])
    lost = np.array([key[3] * (1.0 - key[2]) for key in keys])
    wins = np.zeros((rounds, n, n))
    replicate = np.repeat(np.arange(rounds), len(keys))
    np.add.at(wins, (replicate, np.tile(first, rounds), np.tile(second, rounds)), (counts * won).ravel())
    np.add.at(wins, (replicate, np.tile(second, rounds), np.tile(first, rounds)), (counts * lost).ravel())
    return fit_batch(wins, prior=prior)


def percentile_interval(replicates: NDArray[np.float64], confidence: float = 0.95) -> NDArray[np.float64]:
    """Per column, the (low, high) percentiles of the replicates (shape n x 2)."""
    tail = (1.0 - confidence) / 2.0 * 100.0
    return np.percentile(replicates, [tail, 100.0 - tail], axis=0).T


def arena_rating(strength: float) -> float:
    """A centred strength on Chatbot Arena's Elo-like scale."""
    return ARENA_INIT + ARENA_SCALE / math.log(ARENA_BASE) * strength


def win_probability(first: float, second: float) -> float:
    return 1.0 / (1.0 + math.exp(second - first))
