"""Scoring annotations of gold items (items with a known answer) and each annotator's accuracy on them.

A gold item's `expected` is a payload of the project's kind:
- likert `{"ratings": {criterion: value}}`: correct when every expected criterion is rated within the project's
  tolerance (0 = exactly);
- pairwise `{"winner": "<response id>" | "tie"}`, or `{"choice": "a"|"b"|"tie"}` where "a" is the item's first
  response *in the order it was imported* (annotators see a randomised order, which is mapped back through the
  assignment's recorded display order);
- ranking `{"ranking": [[ids], ...]}`: scored by Kendall's tau-b to the expected order; correct when tau is at
  least `ranking_min_tau`;
- label `{"labels": [...]}`: correct when the chosen set equals the expected set.

Accuracy is reported with its Wilson score interval (Wilson 1927; `statsmodels` `proportion_confint(method=
"wilson")`): the lower bound is the accuracy one can be confident of, which is what trust uses, so that 2 of 2
correct does not outrank 48 of 50.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

from statsmodels.stats.proportion import proportion_confint

from annotation.quality.agreement import kendall_tau
from annotation.quality.preferences import pairwise_comparison, rank_positions
from annotation.quality.records import (
    KIND_LABEL,
    KIND_LIKERT,
    KIND_PAIRWISE,
    KIND_RANKING,
    ItemInfo,
    Judgement,
    likert_cells,
)

# Confidence level of the reported intervals.
CONFIDENCE = 0.95


@dataclass(frozen=True)
class GoldParams:
    likert_tolerance: int = 0
    # A ranking within this Kendall's tau of the expected order counts as correct (0.6: at most 20% of pairs
    # swapped when there are no ties).
    ranking_min_tau: float = 0.6


@dataclass(frozen=True)
class GoldOutcome:
    correct: bool
    tau: float | None = None  # rankings only


@dataclass(frozen=True)
class GoldAccuracy:
    n: int
    correct: int
    accuracy: float | None
    wilson_low: float | None
    wilson_high: float | None
    mean_tau: float | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def wilson_interval(correct: int, n: int) -> tuple[float, float] | tuple[None, None]:
    """The Wilson score interval of a proportion at CONFIDENCE (None, None without trials)."""
    if n == 0:
        return None, None
    low, high = proportion_confint(correct, n, alpha=1 - CONFIDENCE, method="wilson")
    return float(low), float(high)


def _expected_winner(expected: Mapping[str, Any], item: ItemInfo) -> str | None:
    if "winner" in expected:
        return str(expected["winner"])
    choice = str(expected.get("choice", ""))
    if choice == "tie":
        return "tie"
    position = {"a": 0, "b": 1}.get(choice)
    if position is None or len(item.response_ids) <= position:
        return None
    return str(item.response_ids[position])


def gold_outcome(kind: str, judgement: Judgement, item: ItemInfo, params: GoldParams) -> GoldOutcome | None:
    """Whether one annotation of a gold item matches the expected answer; None when it cannot be scored."""
    expected = item.expected
    if not item.is_gold or not isinstance(expected, Mapping):
        return None
    payload = judgement.payload
    if kind == KIND_LIKERT:
        wanted = likert_cells(expected)
        given = likert_cells(payload)
        if not wanted:
            return None
        return GoldOutcome(all(
            cell in given and abs(given[cell] - value) <= params.likert_tolerance for cell, value in wanted.items()
        ))
    if kind == KIND_PAIRWISE:
        wanted_winner = _expected_winner(expected, item)
        comparison = pairwise_comparison(payload, judgement.display_order)
        if wanted_winner is None or comparison is None:
            return None
        return GoldOutcome((comparison.winner() or "tie") == wanted_winner)
    if kind == KIND_RANKING:
        tau = kendall_tau(
            rank_positions(kind, payload, judgement.display_order),
            rank_positions(kind, expected, ()),
        )
        if tau is None:
            return None
        return GoldOutcome(tau >= params.ranking_min_tau, tau)
    if kind == KIND_LABEL:
        if "labels" not in expected:
            return None
        return GoldOutcome(set(map(str, payload.get("labels") or [])) == set(map(str, expected["labels"])))
    return None


def gold_accuracy(outcomes: Iterable[GoldOutcome]) -> GoldAccuracy:
    """Accuracy over scored gold answers with its Wilson interval, and the mean tau for rankings."""
    outcomes = list(outcomes)
    n = len(outcomes)
    correct = sum(outcome.correct for outcome in outcomes)
    low, high = wilson_interval(correct, n)
    taus = [outcome.tau for outcome in outcomes if outcome.tau is not None]
    return GoldAccuracy(
        n=n,
        correct=correct,
        accuracy=correct / n if n else None,
        wilson_low=low,
        wilson_high=high,
        mean_tau=sum(taus) / len(taus) if taus else None,
    )


def gold_accuracy_by_annotator(
    kind: str, judgements: Iterable[Judgement], items: Mapping[int, ItemInfo], params: GoldParams
) -> dict[int, GoldAccuracy]:
    """Each annotator's accuracy on the gold items they answered (annotators without gold answers are absent)."""
    outcomes: dict[int, list[GoldOutcome]] = defaultdict(list)
    for judgement in judgements:
        item = items.get(judgement.item_id)
        if item is None:
            continue
        outcome = gold_outcome(kind, judgement, item, params)
        if outcome is not None:
            outcomes[judgement.annotator_id].append(outcome)
    return {annotator: gold_accuracy(scored) for annotator, scored in outcomes.items()}


def unanimous_answer(kind: str, judgements: Iterable[Judgement], item: ItemInfo) -> dict[str, Any] | None:
    """The answer every annotator of the item gave, as an `expected` payload, or None if they did not all agree.

    Used to promote items to gold. Pairwise answers are stored as `{"winner": id | "tie"}` because each annotator
    saw their own order.
    """
    answers: list[dict[str, Any]] = []
    for judgement in judgements:
        payload = judgement.payload
        if kind == KIND_LIKERT:
            answers.append({"ratings": dict(sorted((payload.get("ratings") or {}).items()))})
        elif kind == KIND_LABEL:
            answers.append({"labels": sorted(map(str, payload.get("labels") or []))})
        elif kind == KIND_PAIRWISE:
            comparison = pairwise_comparison(payload, judgement.display_order)
            if comparison is None:
                return None
            answers.append({"winner": comparison.winner() or "tie"})
        elif kind == KIND_RANKING:
            groups = [sorted(map(str, group)) for group in payload.get("ranking") or []]
            answers.append({"ranking": groups})
        else:
            return None
    if len(answers) < 2 or any(answer != answers[0] for answer in answers[1:]):
        return None
    return answers[0]


def gold_serve_probability(gold_rate: float, served: int, gold_served: int) -> float:
    """The chance that an annotator's next item is gold: the shortfall against the rate, between 0 and 1.

    After `served` items of which `gold_served` were gold, the next should bring the count to `gold_rate *
    (served + 1)`; the shortfall is that minus `gold_served`. At the start it equals the rate (random, so gold
    cannot be told by its position); an annotator who drew no gold for a while gets it with rising probability,
    one who drew too much gets none for a while. Over many items the share converges to the rate.
    """
    if gold_rate <= 0:
        return 0.0
    return min(1.0, max(0.0, gold_rate * (served + 1) - gold_served))
