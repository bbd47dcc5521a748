"""One answer per item from its annotators, optionally weighted by their trust.

- Likert: per criterion the (weighted) median, with its spread (quartiles, interquartile range, min, max);
- labels: the (weighted) majority; with several labels allowed, each label a (weighted) majority chose;
- pairwise and ranking: Bradley-Terry strengths of the item's responses from every comparison its annotators made,
  ties counting half (see `bradley_terry`), giving an order, a winner (None when the top two are level) and the
  model's probability that the winner beats the runner-up.
Weights are the annotators' trust scores (an annotator without one weighs 1); unweighted, every annotator weighs 1.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from annotation.quality import bradley_terry
from annotation.quality.preferences import comparisons_of
from annotation.quality.records import (
    KIND_LABEL,
    KIND_LIKERT,
    KIND_RANKING,
    PREFERENCE_KINDS,
    ItemInfo,
    Judgement,
    likert_cells,
)

# Pseudo-comparisons per pair of an item's responses (half a win each way): keeps strengths finite with 3 judges.
ITEM_PRIOR = 0.5
# Strengths closer than this are level: no winner.
LEVEL = 1e-9


@dataclass(frozen=True)
class ItemConsensus:
    item_id: int
    value: dict[str, Any]
    n_judgements: int


def weighted_median(values: Sequence[float], weights: Sequence[float]) -> float:
    """The value where the cumulative weight reaches half the total; midway to the next value when it lands exactly
    on half (so equal weights give the ordinary median)."""
    order = np.argsort(values, kind="stable")
    sorted_values = np.asarray(values, dtype=float)[order]
    cumulative = np.cumsum(np.asarray(weights, dtype=float)[order])
    half = cumulative[-1] / 2.0
    index = int(np.searchsorted(cumulative, half - 1e-12))
    if np.isclose(cumulative[index], half) and index + 1 < len(sorted_values):
        return float((sorted_values[index] + sorted_values[index + 1]) / 2.0)
    return float(sorted_values[index])


def likert_consensus(judgements: Sequence[Judgement], weights: Mapping[int, float]) -> dict[str, Any]:
    """Per criterion (per response and criterion when each response was rated) the weighted median and spread."""
    by_cell: dict[tuple[str, ...], list[tuple[float, float]]] = defaultdict(list)
    for judgement in judgements:
        for cell, value in likert_cells(judgement.payload).items():
            by_cell[cell].append((float(value), weights.get(judgement.annotator_id, 1.0)))
    ratings: dict[str, Any] = {}
    spread: dict[str, Any] = {}
    for cell, pairs in sorted(by_cell.items()):
        values = [value for value, _ in pairs]
        q1, q3 = np.percentile(values, [25, 75])
        median = weighted_median(values, [weight for _, weight in pairs])
        figures = {"q1": float(q1), "q3": float(q3), "iqr": float(q3 - q1), "min": min(values), "max": max(values),
                   "n": len(values)}
        if len(cell) == 1:
            ratings[cell[0]] = median
            spread[cell[0]] = figures
        else:
            ratings.setdefault(cell[0], {})[cell[1]] = median
            spread.setdefault(cell[0], {})[cell[1]] = figures
    return {"ratings": ratings, "spread": spread}


def label_consensus(
    judgements: Sequence[Judgement], weights: Mapping[int, float], labels: Sequence[str], multi_label: bool
) -> dict[str, Any]:
    votes: dict[str, float] = defaultdict(float)
    total = 0.0
    for judgement in judgements:
        weight = weights.get(judgement.annotator_id, 1.0)
        total += weight
        for label in set(map(str, judgement.payload.get("labels") or [])):
            votes[label] += weight
    shares = {label: votes[label] / total for label in sorted(votes)} if total else {}
    order = {label: position for position, label in enumerate(labels)}
    if multi_label:
        chosen = [label for label, share in shares.items() if share > 0.5]
        return {"labels": sorted(chosen, key=lambda label: (order.get(label, len(order)), label)), "shares": shares,
                "tie": False}
    if not shares:
        return {"labels": [], "shares": {}, "tie": False}
    best = max(shares.values())
    leaders = sorted((label for label, share in shares.items() if np.isclose(share, best)),
                     key=lambda label: (order.get(label, len(order)), label))
    # A tie is broken by the project's label order, and said so: exports may prefer to leave such items out.
    return {"labels": leaders[:1], "shares": shares, "tie": len(leaders) > 1}


def _preference_matrix(
    kind: str, judgements: Sequence[Judgement], weights: Mapping[int, float], item: ItemInfo | None
) -> tuple[list[str], NDArray[np.float64], int]:
    """The item's response ids, its weighted win matrix (ties half) and the number of comparisons."""
    comparisons = [
        (comparison, weights.get(judgement.annotator_id, 1.0))
        for judgement in judgements
        for comparison in comparisons_of(kind, judgement.payload, judgement.display_order)
    ]
    ids = list(item.response_ids) if item and item.response_ids else []
    for comparison, _ in comparisons:
        for rid in (comparison.first, comparison.second):
            if rid not in ids:
                ids.append(rid)
    index = {rid: position for position, rid in enumerate(ids)}
    outcomes = [
        bradley_terry.Outcome(index[c.first], index[c.second], c.score, weight) for c, weight in comparisons
    ]
    return ids, bradley_terry.win_matrix(outcomes, len(ids)), len(comparisons)


def _preference_value(
    kind: str, judgements: Sequence[Judgement], ids: list[str], strengths: Sequence[float], comparisons: int
) -> dict[str, Any]:
    index = {rid: position for position, rid in enumerate(ids)}
    scores = {rid: float(strengths[index[rid]]) for rid in ids}
    order = sorted(ids, key=lambda rid: (-scores[rid], index[rid]))
    value: dict[str, Any] = {"scores": scores, "order": order, "winner": None, "win_probability": None,
                             "comparisons": comparisons}
    if len(order) >= 2:
        top, runner_up = scores[order[0]], scores[order[1]]
        value["win_probability"] = bradley_terry.win_probability(top, runner_up)
        if top - runner_up > LEVEL:
            value["winner"] = order[0]
    if kind == KIND_RANKING and judgements:
        value["all_bad_share"] = sum(bool(j.payload.get("all_bad")) for j in judgements) / len(judgements)
    return value


def preference_consensus(
    kind: str, judgements: Sequence[Judgement], weights: Mapping[int, float], item: ItemInfo | None
) -> dict[str, Any]:
    """One item's Bradley-Terry consensus (choix)."""
    ids, wins, comparisons = _preference_matrix(kind, judgements, weights, item)
    strengths = bradley_terry.fit(wins, prior=ITEM_PRIOR) if ids else np.zeros(0)
    return _preference_value(kind, judgements, ids, list(strengths), comparisons)


def preference_consensus_many(
    kind: str,
    groups: Mapping[int, Sequence[Judgement]],
    weights: Mapping[int, float],
    items: Mapping[int, ItemInfo],
) -> dict[int, ItemConsensus]:
    """The consensus of many items at once: items with the same number of responses are fitted together
    (`bradley_terry.fit_batch`, the same estimate as one choix fit per item, at a fraction of the cost)."""
    prepared = {item_id: _preference_matrix(kind, group, weights, items.get(item_id))
                for item_id, group in groups.items()}
    by_size: dict[int, list[int]] = defaultdict(list)
    for item_id, (ids, _, _) in prepared.items():
        by_size[len(ids)].append(item_id)
    result = {}
    for size, item_ids in by_size.items():
        if size == 0:
            fitted = np.zeros((len(item_ids), 0))
        else:
            fitted = bradley_terry.fit_batch(np.stack([prepared[i][1] for i in item_ids]), prior=ITEM_PRIOR)
        for row, item_id in enumerate(item_ids):
            ids, _, comparisons = prepared[item_id]
            value = _preference_value(kind, groups[item_id], ids, list(fitted[row]), comparisons)
            result[item_id] = ItemConsensus(item_id=item_id, value=value, n_judgements=len(groups[item_id]))
    return result


def item_consensus(
    kind: str,
    item_id: int,
    judgements: Sequence[Judgement],
    *,
    item: ItemInfo | None = None,
    weights: Mapping[int, float] | None = None,
    labels: Sequence[str] = (),
    multi_label: bool = False,
) -> ItemConsensus | None:
    """The consensus of one item's judgements (None for the writing kinds, which have no single answer)."""
    weights = weights or {}
    if kind == KIND_LIKERT:
        value = likert_consensus(judgements, weights)
    elif kind == KIND_LABEL:
        value = label_consensus(judgements, weights, labels, multi_label)
    elif kind in PREFERENCE_KINDS:
        value = preference_consensus(kind, judgements, weights, item)
    else:
        return None
    return ItemConsensus(item_id=item_id, value=value, n_judgements=len(judgements))


def trust_weights(trust: Mapping[int, float | None], floor: float = 0.05) -> dict[int, float]:
    """Consensus weights from trust scores: unknown trust weighs 1, and nobody weighs less than `floor` (a weight
    of 0 would silently drop an annotator whose trust is merely unmeasured-low)."""
    return {annotator: 1.0 if score is None else max(float(score), floor) for annotator, score in trust.items()}
