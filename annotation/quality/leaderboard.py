"""A ranking of models from people's preferences: the Chatbot Arena method.

Every pairwise choice and every pair of responses within a ranking, when both responses carry a model and the models
differ, is one battle; ties count half. Models are ranked by Bradley-Terry strength (`bradley_terry.fit`) on Arena's
Elo-like scale, with percentile bootstrap intervals over battles resampled with replacement (Chiang et al. 2024,
section 5: "we use the bootstrap ... to construct confidence intervals"). `rank_upper` is Arena's conservative
rank: 1 + the number of models whose interval lies wholly above this model's. The win-rate matrix is empirical
(row beats column, ties half), each cell with the number of battles behind it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from annotation.quality import bradley_terry
from annotation.quality.preferences import comparisons_of
from annotation.quality.records import PREFERENCE_KINDS, ItemInfo, Judgement

BOOTSTRAP_ROUNDS = 200
CONFIDENCE = 0.95
# Pseudo-battles per pair of models: negligible beside real data, keeps an unbeaten model finite.
PRIOR = 0.1


def battles(kind: str, judgements: Sequence[Judgement], items: Mapping[int, ItemInfo]) -> list[tuple[str, str, float]]:
    """(model shown first, model shown second, score of the first) for every comparison between two models."""
    if kind not in PREFERENCE_KINDS:
        return []
    found = []
    for judgement in judgements:
        item = items.get(judgement.item_id)
        if item is None or not item.response_models:
            continue
        for comparison in comparisons_of(kind, judgement.payload, judgement.display_order):
            first = item.response_models.get(comparison.first)
            second = item.response_models.get(comparison.second)
            if first and second and first != second:
                found.append((first, second, comparison.score))
    return found


def leaderboard(
    found: Sequence[tuple[str, str, float]],
    *,
    rounds: int = BOOTSTRAP_ROUNDS,
    confidence: float = CONFIDENCE,
    seed: int = 0,
) -> dict[str, Any]:
    """The models ranked by rating with intervals, their records, and the win-rate matrix. Deterministic for a seed."""
    models = sorted({name for first, second, _ in found for name in (first, second)})
    if len(models) < 2:
        return {"models": [], "matrix": {"models": models, "win_rate": [], "battles": []}, "battles": len(found),
                "rounds": rounds, "confidence": confidence}
    index = {name: position for position, name in enumerate(models)}
    outcomes = [bradley_terry.Outcome(index[first], index[second], score) for first, second, score in found]
    wins = bradley_terry.win_matrix(outcomes, len(models))
    strengths = bradley_terry.fit(wins, prior=PRIOR)
    replicates = bradley_terry.bootstrap(outcomes, len(models), rounds=rounds, prior=PRIOR, seed=seed)
    interval = bradley_terry.percentile_interval(replicates, confidence)

    games = wins + wins.T
    record = np.zeros((len(models), 3), dtype=int)  # wins, ties, losses
    for outcome in outcomes:
        column = {1.0: 0, 0.5: 1, 0.0: 2}[outcome.score]
        record[outcome.first, column] += 1
        record[outcome.second, 2 - column] += 1

    rows: list[dict[str, Any]] = []
    for name in models:
        i = index[name]
        rows.append({
            "model": name,
            "strength": float(strengths[i]),
            "rating": bradley_terry.arena_rating(float(strengths[i])),
            "rating_low": bradley_terry.arena_rating(float(interval[i, 0])),
            "rating_high": bradley_terry.arena_rating(float(interval[i, 1])),
            "battles": int(record[i].sum()),
            "wins": int(record[i, 0]),
            "ties": int(record[i, 1]),
            "losses": int(record[i, 2]),
            "win_rate": float(wins[i].sum() / games[i].sum()) if games[i].sum() else None,
        })
    for row in rows:
        row["rank_upper"] = 1 + sum(other["rating_low"] > row["rating_high"] for other in rows)
    rows.sort(key=lambda row: -row["rating"])
    ordered: list[str] = [str(row["model"]) for row in rows]
    def share(a: str, b: str) -> float | None:
        played = games[index[a], index[b]]
        return None if a == b or played == 0 else float(wins[index[a], index[b]] / played)

    win_rate = [[share(a, b) for b in ordered] for a in ordered]
    counts = [[int(games[index[a], index[b]]) if a != b else 0 for b in ordered] for a in ordered]
    return {
        "models": rows,
        "matrix": {"models": ordered, "win_rate": win_rate, "battles": counts},
        "battles": len(found),
        "rounds": rounds,
        "confidence": confidence,
    }
