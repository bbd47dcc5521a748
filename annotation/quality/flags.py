"""Flags on annotators and their trust score.

Flags (each with the figures it was decided on, so a manager can see why):
- `too_fast`: the median active time per task is below the project's minimum (the page records active time with
  idle time left out, so a fast median means the tasks were not read);
- `straight_lining`: nearly every Likert rating (`straight_line_share`, 90%) is one value;
- `position_bias`: of the decided comparisons (ties left out), the response shown first wins far from half the time:
  an exact two-sided binomial test against 0.5 (`scipy.stats.binomtest`) below `p_value`, and a share beyond
  `bias_share` (or below 1 - `bias_share`). Rankings count every pair of responses, oriented by display position;
- `length_bias`: the same test for the longer of the two responses (equal lengths left out). A crowd whose good
  answers are the long ones is not flagged for it: the share must also exceed the others' share by `bias_margin`;
- `low_gold_accuracy`: the Wilson *upper* bound of gold accuracy is below the project's minimum, i.e. one can be
  confident the annotator is below it (a short unlucky streak is not enough).
A flag needs `min_tasks` tasks (or decided comparisons) behind it.

Trust (0..1) is the mean of the inputs that exist: the Wilson lower bound of gold accuracy, and the observed rate of
agreement with the other annotators. Each is shown beside it; an annotator with neither has no trust (None), and
consensus weights them 1.
"""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from scipy.stats import binomtest

from annotation.quality.gold import GoldAccuracy
from annotation.quality.preferences import comparisons_of
from annotation.quality.records import KIND_LIKERT, PREFERENCE_KINDS, ItemInfo, Judgement, likert_cells

TOO_FAST = "too_fast"
STRAIGHT_LINING = "straight_lining"
POSITION_BIAS = "position_bias"
LENGTH_BIAS = "length_bias"
LOW_GOLD_ACCURACY = "low_gold_accuracy"
FLAGS = (TOO_FAST, STRAIGHT_LINING, POSITION_BIAS, LENGTH_BIAS, LOW_GOLD_ACCURACY)


@dataclass(frozen=True)
class FlagParams:
    min_active_seconds: float = 5.0
    min_gold_accuracy: float = 0.7
    min_tasks: int = 10
    straight_line_share: float = 0.9
    p_value: float = 0.01
    bias_share: float = 0.75
    bias_margin: float = 0.15


@dataclass(frozen=True)
class BiasFigure:
    """How often the first-shown (or longer) response won, over decided comparisons, with the binomial test."""

    wins: int
    n: int
    share: float | None
    p_value: float | None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class AnnotatorFigures:
    """What the flags are decided on, for one annotator."""

    n_tasks: int = 0
    median_active_seconds: float | None = None
    total_active_seconds: float = 0.0
    likert_top_share: float | None = None
    likert_ratings: int = 0
    position: BiasFigure | None = None
    length: BiasFigure | None = None
    flags: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["position"] = self.position.as_dict() if self.position else None
        data["length"] = self.length.as_dict() if self.length else None
        return data


def bias_figure(wins: int, n: int) -> BiasFigure:
    if n == 0:
        return BiasFigure(0, 0, None, None)
    return BiasFigure(wins, n, wins / n, float(binomtest(wins, n, 0.5).pvalue))


def _preference_counts(
    kind: str, judgements: Iterable[Judgement], items: Mapping[int, ItemInfo]
) -> tuple[dict[int, list[int]], dict[int, list[int]]]:
    """Per annotator, [wins of the first shown, decided] and [wins of the longer, decided]."""
    position: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    length: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    for judgement in judgements:
        lengths = items[judgement.item_id].response_lengths if judgement.item_id in items else {}
        for comparison in comparisons_of(kind, judgement.payload, judgement.display_order):
            winner = comparison.winner()
            if winner is None:
                continue
            counts = position[judgement.annotator_id]
            counts[0] += winner == comparison.first
            counts[1] += 1
            first_length, second_length = lengths.get(comparison.first), lengths.get(comparison.second)
            if first_length is None or second_length is None or first_length == second_length:
                continue
            longer = comparison.first if first_length > second_length else comparison.second
            counts = length[judgement.annotator_id]
            counts[0] += winner == longer
            counts[1] += 1
    return position, length


def _likert_values(judgement: Judgement) -> list[int]:
    return list(likert_cells(judgement.payload).values())


def _biased(figure: BiasFigure, params: FlagParams) -> bool:
    return (
        figure.n >= params.min_tasks
        and figure.share is not None
        and figure.p_value is not None
        and figure.p_value < params.p_value
        and (figure.share >= params.bias_share or figure.share <= 1 - params.bias_share)
    )


def annotator_figures(
    kind: str,
    judgements: Sequence[Judgement],
    items: Mapping[int, ItemInfo],
    gold: Mapping[int, GoldAccuracy],
    params: FlagParams,
) -> dict[int, AnnotatorFigures]:
    """The figures and flags of every annotator who submitted a judgement."""
    by_annotator: dict[int, list[Judgement]] = defaultdict(list)
    for judgement in judgements:
        by_annotator[judgement.annotator_id].append(judgement)
    position, length = (
        _preference_counts(kind, judgements, items) if kind in PREFERENCE_KINDS else ({}, {})
    )
    total_length = [sum(counts[0] for counts in length.values()), sum(counts[1] for counts in length.values())]

    result = {}
    for annotator, mine in by_annotator.items():
        seconds = [judgement.active_seconds for judgement in mine]
        figures = AnnotatorFigures(
            n_tasks=len(mine),
            median_active_seconds=float(statistics.median(seconds)) if seconds else None,
            total_active_seconds=float(sum(seconds)),
        )
        if (
            len(mine) >= params.min_tasks
            and figures.median_active_seconds is not None
            and figures.median_active_seconds < params.min_active_seconds
        ):
            figures.flags.append(TOO_FAST)
        if kind == KIND_LIKERT:
            values = [value for judgement in mine for value in _likert_values(judgement)]
            figures.likert_ratings = len(values)
            if values:
                figures.likert_top_share = Counter(values).most_common(1)[0][1] / len(values)
            if (
                len(mine) >= params.min_tasks
                and figures.likert_top_share is not None
                and figures.likert_top_share >= params.straight_line_share
            ):
                figures.flags.append(STRAIGHT_LINING)
        if kind in PREFERENCE_KINDS:
            figures.position = bias_figure(*position.get(annotator, [0, 0]))
            if _biased(figures.position, params):
                figures.flags.append(POSITION_BIAS)
            wins, n = length.get(annotator, [0, 0])
            figures.length = bias_figure(wins, n)
            others_n = total_length[1] - n
            others_share = (total_length[0] - wins) / others_n if others_n else 0.5
            if (
                _biased(figures.length, params)
                and figures.length.share is not None
                and abs(figures.length.share - others_share) >= params.bias_margin
            ):
                figures.flags.append(LENGTH_BIAS)
        accuracy = gold.get(annotator)
        high = accuracy.wilson_high if accuracy is not None else None
        if high is not None and high < params.min_gold_accuracy:
            figures.flags.append(LOW_GOLD_ACCURACY)
        result[annotator] = figures
    return result


@dataclass(frozen=True)
class Trust:
    score: float | None
    gold_wilson_low: float | None
    agreement_rate: float | None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def trust_score(gold: GoldAccuracy | None, agreement_rate: float | None) -> Trust:
    """Trust from the inputs that exist: the mean of gold accuracy's Wilson lower bound and the agreement rate."""
    gold_low = gold.wilson_low if gold is not None else None
    inputs = [value for value in (gold_low, agreement_rate) if value is not None]
    return Trust(sum(inputs) / len(inputs) if inputs else None, gold_low, agreement_rate)


def project_bias(kind: str, judgements: Sequence[Judgement], items: Mapping[int, ItemInfo]) -> dict[str, Any]:
    """The project's overall position and length bias (every annotator's decided comparisons together)."""
    if kind not in PREFERENCE_KINDS:
        return {"position": None, "length": None}
    position, length = _preference_counts(kind, judgements, items)
    return {
        "position": bias_figure(sum(c[0] for c in position.values()), sum(c[1] for c in position.values())).as_dict(),
        "length": bias_figure(sum(c[0] for c in length.values()), sum(c[1] for c in length.values())).as_dict(),
    }
