"""Preferences from annotations: each annotator's scores, their merging, agreement, and pairs with margins.

One annotator's view of an item is a score per response id, higher is better:
- ranking `{"ranking": [["r1"], ["r3", "r2"], ["r4"]]}`: minus the group index (a group of several is a tie);
- pairwise `{"choice": "a"|"b"|"tie", "strength": 1..3}`: the chosen response gets `strength`, the other 0 (a tie
  gives both 0); "a" is the first id of the display order the annotator saw;
- Likert `{"ratings": {criterion: 1..scale}}`: the rating of the item's response (one criterion, or the mean of all).

Pairs: every two responses whose scores differ give one ordered pair, the better one chosen, with the score
difference as `margin`. So a ranking of K responses gives its K(K-1)/2 pairs with the rank distance as margin, tied
pairs dropped (Ouyang et al. 2022, section 3.5: "K choose 2" comparisons per prompt); a pairwise judgement gives
its pair with the strength as margin; Likert ratings give rating differences (Llama 2's margin uses the
preference-rating gap the same way, Touvron et al. 2023, section 3.2.2).

Several annotators:
- consensus: the quality issue's stored per-response scores when present, else the mean score per response over
  annotators (a Borda count for rankings; the median rating for Likert, as the quality issue does);
- majority: per response pair, the side most annotators preferred (a tied vote drops the pair); the margin is the
  mean margin of the annotators on the winning side; Likert: the most common rating (the median of the tied modes);
- none: every annotator's pairs as they are (not defined for Likert, where one rating is no comparison).

Agreement, when the quality issue stored none, is computed here as the mean over annotator pairs of: the share of
response pairs ordered the same way (<, = or >) for rankings, an equal choice for pairwise, and one minus the rating
distance over the scale's span for Likert. It is None with fewer than two annotators.
"""

from __future__ import annotations

import itertools
import operator
import statistics
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

from exports.formats.records import (
    KIND_LIKERT,
    KIND_PAIRWISE,
    KIND_RANKING,
    AnnotationRecord,
    ItemRecord,
)
from exports.formats.spec import MERGE_CONSENSUS, MERGE_MAJORITY, MERGE_NONE

# Scores closer than this are level (a tie): fitted Bradley-Terry strengths of tied responses differ by rounding only.
LEVEL = 1e-9


class PreferenceError(ValueError):
    """An annotation that cannot be read as a preference (its payload does not fit its kind)."""


class Pair(NamedTuple):
    """One ordered comparison: `chosen` is preferred to `rejected` by `margin` (> 0).

    A named tuple rather than a frozen dataclass: an export makes one per row, and a tuple is made in a sixth of
    the time.
    """

    chosen: str
    rejected: str
    margin: float


Scores = dict[str, float]


def ranking_scores(payload: Mapping[str, Any]) -> Scores:
    """Return minus the group index of each response id of a ranking payload (best group first)."""
    groups = payload.get("ranking")
    if not isinstance(groups, list) or not groups:
        raise PreferenceError("a ranking payload needs a non-empty 'ranking' list of groups")
    scores: Scores = {}
    for index, group in enumerate(groups):
        value = -float(index)
        for response_id in group if isinstance(group, list) else (group,):
            key = str(response_id)
            if key in scores:
                raise PreferenceError(f"response {key!r} appears twice in a ranking")
            scores[key] = value
    return scores


def pairwise_scores(payload: Mapping[str, Any], order: Sequence[str]) -> Scores:
    """Return the scores of a pairwise payload: the chosen one gets its strength, the other 0."""
    if len(order) < 2:
        raise PreferenceError("a pairwise item needs two responses")
    first, second = str(order[0]), str(order[1])
    choice = payload.get("choice")
    strength = payload.get("strength", 1)
    if isinstance(strength, bool) or not isinstance(strength, (int, float)) or strength <= 0:
        raise PreferenceError("a pairwise strength must be a positive number")
    if choice == "a":
        return {first: float(strength), second: 0.0}
    if choice == "b":
        return {first: 0.0, second: float(strength)}
    if choice == "tie":
        return {first: 0.0, second: 0.0}
    raise PreferenceError("a pairwise choice must be 'a', 'b' or 'tie'")


def likert_rating(payload: Mapping[str, Any], criterion: str) -> float:
    """Return one Likert annotation's rating: of `criterion`, or the mean over all its criteria when empty."""
    ratings = payload.get("ratings")
    if not isinstance(ratings, Mapping) or not ratings:
        raise PreferenceError("a Likert payload needs a non-empty 'ratings' mapping")
    values = [ratings[criterion]] if criterion else list(ratings.values())
    if criterion and criterion not in ratings:
        raise PreferenceError(f"the Likert payload has no rating for criterion {criterion!r}")
    if any(isinstance(v, bool) or not isinstance(v, (int, float)) for v in values):
        raise PreferenceError("Likert ratings must be numbers")
    return float(sum(values)) / len(values)


def annotation_scores(item: ItemRecord, annotation: AnnotationRecord, criterion: str = "") -> Scores:
    """Return one annotator's scores of the item's responses (see the module docstring)."""
    payload = annotation.effective_payload
    if item.kind == KIND_RANKING:
        return ranking_scores(payload)
    if item.kind == KIND_PAIRWISE:
        order = list(annotation.display_order) or [str(r.get("id")) for r in item.responses]
        return pairwise_scores(payload, order)
    if item.kind == KIND_LIKERT:
        if not item.responses:
            raise PreferenceError("a Likert item needs the response it rates")
        ratings = payload.get("ratings")
        if isinstance(ratings, Mapping) and ratings and all(isinstance(v, Mapping) for v in ratings.values()):
            # An item with several responses is rated per response: {"ratings": {response id: {criterion: v}}}.
            return {str(rid): likert_rating({"ratings": per}, criterion) for rid, per in ratings.items()}
        return {str(item.responses[0].get("id")): likert_rating(payload, criterion)}
    raise PreferenceError(f"items of kind {item.kind!r} hold no preferences")


def pairs_from_scores(scores: Mapping[str, float], order: Sequence[str] | None = None) -> list[Pair]:
    """Return the ordered pairs of responses whose scores differ (ties dropped), better one first.

    Pairs come in a fixed order: responses sorted by descending score, then by `order` (the item's response order)
    or id, so the same scores always give the same rows.
    """
    position = {rid: i for i, rid in enumerate(order or ())}
    last = len(position)
    ranked = sorted([(-value, position.get(rid, last), rid) for rid, value in scores.items()])
    pairs: list[Pair] = []
    for (better_key, _, better), (worse_key, _, worse) in itertools.combinations(ranked, 2):
        margin = worse_key - better_key  # the keys are the scores negated
        if margin > LEVEL:
            pairs.append(Pair(better, worse, margin))
    return pairs


def consensus_scores(per_annotator: Sequence[Scores], kind: str) -> Scores:
    """Merge annotators' scores into one score per response: the median for Likert, the mean otherwise."""
    first = per_annotator[0] if per_annotator else {}
    if kind != KIND_LIKERT and all(scores.keys() == first.keys() for scores in per_annotator):
        # The common case, everyone scored the same responses: the same means, without collecting lists.
        count = len(per_annotator)
        return {rid: sum([scores[rid] for scores in per_annotator]) / count for rid in first}
    collected: dict[str, list[float]] = {}
    for scores in per_annotator:
        for rid, value in scores.items():
            collected.setdefault(rid, []).append(value)
    if kind == KIND_LIKERT:
        return {rid: float(statistics.median(values)) for rid, values in collected.items()}
    return {rid: sum(values) / len(values) for rid, values in collected.items()}


def majority_rating(values: Sequence[float]) -> float:
    """Return the most common rating; between equally common ones, their median."""
    modes = statistics.multimode(values)
    return float(statistics.median(modes))


def majority_pairs(per_annotator: Sequence[Scores], order: Sequence[str]) -> list[Pair]:
    """Return, per response pair, the side most annotators preferred with the mean margin of that side."""
    position = {rid: i for i, rid in enumerate(order)}
    ids = sorted({rid for scores in per_annotator for rid in scores}, key=lambda r: (position.get(r, len(order)), r))
    pairs: list[Pair] = []
    for left, right in itertools.combinations(ids, 2):
        for_left: list[float] = []
        for_right: list[float] = []
        for scores in per_annotator:
            if left not in scores or right not in scores:
                continue
            difference = scores[left] - scores[right]
            if difference > 0:
                for_left.append(difference)
            elif difference < 0:
                for_right.append(-difference)
        if len(for_left) > len(for_right):
            pairs.append(Pair(left, right, sum(for_left) / len(for_left)))
        elif len(for_right) > len(for_left):
            pairs.append(Pair(right, left, sum(for_right) / len(for_right)))
    return pairs


def _relation(a: float, b: float) -> int:
    return (a > b) - (a < b)


def pair_agreement(first: Scores, second: Scores, kind: str, scale: int) -> float | None:
    """Return how much two annotators of one item agree, in [0, 1] (see the module docstring)."""
    if kind == KIND_LIKERT:
        (a,) = first.values()
        (b,) = second.values()
        return 1.0 - abs(a - b) / max(scale - 1, 1)
    shared = sorted(set(first) & set(second))
    comparisons = [
        _relation(first[x], first[y]) == _relation(second[x], second[y]) for x, y in itertools.combinations(shared, 2)
    ]
    if not comparisons:
        return None
    return sum(comparisons) / len(comparisons)


def _relations(scores: Scores, pairs: Sequence[tuple[str, str]]) -> list[int | None]:
    return [_relation(scores[x], scores[y]) if x in scores and y in scores else None for x, y in pairs]


def item_agreement(per_annotator: Sequence[Scores], kind: str, scale: int) -> float | None:
    """Return the mean agreement over all annotator pairs of an item, None with fewer than two annotators."""
    if len(per_annotator) < 2:
        return None
    if kind == KIND_LIKERT and all(len(scores) == 1 for scores in per_annotator):
        values = [
            value
            for first, second in itertools.combinations(per_annotator, 2)
            if (value := pair_agreement(first, second, kind, scale)) is not None
        ]
        return sum(values) / len(values) if values else None
    # Each annotator's order relation on every response pair, computed once; then compared pair by pair
    # (the same figure as `pair_agreement`, without recomputing the relations for every annotator pair).
    ids = sorted({rid for scores in per_annotator for rid in scores})
    pairs = list(itertools.combinations(ids, 2))
    if all(len(scores) == len(ids) for scores in per_annotator):
        # The common case: everyone scored every response, so every relation exists and each annotator pair
        # compares all of them (the same figure as below, without the per-relation checks).
        if not pairs:
            return None
        complete = [[(s[x] > s[y]) - (s[x] < s[y]) for x, y in pairs] for s in per_annotator]
        agreements = [sum(map(operator.eq, first, second)) / len(pairs)
                      for first, second in itertools.combinations(complete, 2)]
        return sum(agreements) / len(agreements)
    relations = [_relations(scores, pairs) for scores in per_annotator]
    values = []
    for first, second in itertools.combinations(relations, 2):
        shared = [a == b for a, b in zip(first, second, strict=True) if a is not None and b is not None]
        if shared:
            values.append(sum(shared) / len(shared))
    return sum(values) / len(values) if values else None


def item_pairs(item: ItemRecord, per_annotator: Sequence[Scores], merge: str) -> list[Pair]:
    """Return the pairs of one ranking or pairwise item under a merge method (Likert: see `likert_scores`)."""
    order = [str(r.get("id")) for r in item.responses]
    if item.kind == KIND_LIKERT:
        # Several responses rated on one item: pairs of their merged ratings (median or most common).
        if merge == MERGE_NONE:
            raise PreferenceError("merge 'none' is not defined for Likert ratings (one rating compares nothing); "
                                  "use consensus or majority")
        if merge == MERGE_MAJORITY:
            collected: dict[str, list[float]] = {}
            for scores in per_annotator:
                for rid, value in scores.items():
                    collected.setdefault(rid, []).append(value)
            return pairs_from_scores({rid: majority_rating(v) for rid, v in collected.items()}, order)
    if merge == MERGE_NONE:
        return [pair for scores in per_annotator for pair in pairs_from_scores(scores, order)]
    if merge == MERGE_MAJORITY:
        return majority_pairs(per_annotator, order)
    if merge == MERGE_CONSENSUS:
        if item.consensus is not None and item.consensus.scores:
            return pairs_from_scores(dict(item.consensus.scores), order)
        return pairs_from_scores(consensus_scores(per_annotator, item.kind), order)
    raise ValueError(f"unknown merge method {merge!r}")


def likert_score(item: ItemRecord, per_annotator: Sequence[Scores], merge: str) -> float | None:
    """Return the merged rating of a Likert item's response (None when nobody rated it)."""
    if item.consensus is not None and item.consensus.scores and merge == MERGE_CONSENSUS:
        return float(next(iter(item.consensus.scores.values())))
    values = [value for scores in per_annotator for value in scores.values()]
    if not values:
        return None
    if merge == MERGE_MAJORITY:
        return majority_rating(values)
    if merge == MERGE_CONSENSUS:
        return float(statistics.median(values))
    raise PreferenceError("merge 'none' is not defined for Likert ratings (one rating compares nothing); "
                          "use consensus or majority")
