"""Flags catch simulated fast, straight-lining, position- and length-biased annotators and spare careful ones."""

from __future__ import annotations

import pytest

from annotation.quality.flags import (
    LENGTH_BIAS,
    LOW_GOLD_ACCURACY,
    POSITION_BIAS,
    STRAIGHT_LINING,
    TOO_FAST,
    FlagParams,
    annotator_figures,
    bias_figure,
    trust_score,
)
from annotation.quality.gold import GoldAccuracy, GoldOutcome, gold_accuracy
from annotation.quality.records import ItemInfo, Judgement
from tests.support.annotation_simulation import (
    CAREFUL,
    FAST,
    FIRST,
    LONGER,
    STRAIGHT,
    simulate_likert,
    simulate_pairwise,
)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_pairwise_flags_catch_each_bias_and_spare_careful_annotators(seed: int) -> None:
    behaviours = {1: CAREFUL, 2: CAREFUL, 3: CAREFUL, 4: CAREFUL, 5: FAST, 6: FIRST, 7: LONGER}
    project = simulate_pairwise(behaviours, n_items=60, seed=seed)

    figures = annotator_figures("pairwise", project.judgements, project.items, {}, FlagParams())

    for careful in (1, 2, 3, 4):
        assert figures[careful].flags == [], (careful, figures[careful].as_dict())
    assert TOO_FAST in figures[5].flags
    assert POSITION_BIAS in figures[6].flags and LENGTH_BIAS not in figures[6].flags
    assert LENGTH_BIAS in figures[7].flags and POSITION_BIAS not in figures[7].flags


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_likert_flags_catch_straight_lining_and_fast_annotators(seed: int) -> None:
    project = simulate_likert({1: CAREFUL, 2: CAREFUL, 3: CAREFUL, 4: STRAIGHT, 5: FAST}, seed=seed)

    figures = annotator_figures("likert", project.judgements, project.items, {}, FlagParams())

    assert [figures[a].flags for a in (1, 2, 3)] == [[], [], []]
    assert figures[4].flags == [STRAIGHT_LINING]
    assert figures[5].flags == [TOO_FAST]
    assert figures[4].likert_top_share == 1.0


def test_position_bias_figure_is_the_exact_binomial_test() -> None:
    # 9 of 10 first-shown wins: two-sided p = 2 * (C(10,9) + C(10,10)) / 2^10 = 22 / 1024.
    figure = bias_figure(9, 10)

    assert figure.share == 0.9
    assert figure.p_value == pytest.approx(22 / 1024)


def test_no_flag_rests_on_fewer_tasks_than_the_minimum() -> None:
    judgements = [Judgement(i, 1, {"choice": "a"}, ["r1", "r2"], 1.0) for i in range(5)]
    items = {i: ItemInfo(i, ["r1", "r2"], {"r1": 10, "r2": 20}) for i in range(5)}

    figures = annotator_figures("pairwise", judgements, items, {}, FlagParams(min_tasks=10))

    assert figures[1].flags == []


def test_low_gold_accuracy_needs_confidence_that_accuracy_is_below_the_minimum() -> None:
    judgements = [Judgement(0, annotator, {"labels": ["x"]}) for annotator in (1, 2)]
    gold = {
        1: gold_accuracy([GoldOutcome(True)] * 2 + [GoldOutcome(False)] * 3),  # 2/5: upper bound 0.77
        2: gold_accuracy([GoldOutcome(True)] * 8 + [GoldOutcome(False)] * 12),  # 8/20: upper bound 0.61
    }

    figures = annotator_figures("label", judgements, {}, gold, FlagParams(min_gold_accuracy=0.7))

    assert figures[1].flags == []
    assert figures[2].flags == [LOW_GOLD_ACCURACY]


def test_trust_is_the_mean_of_the_inputs_that_exist() -> None:
    gold = GoldAccuracy(n=10, correct=8, accuracy=0.8, wilson_low=0.5, wilson_high=0.94)

    assert trust_score(gold, 0.7).score == pytest.approx(0.6)
    assert trust_score(None, 0.7).score == pytest.approx(0.7)
    assert trust_score(gold, None).score == pytest.approx(0.5)
    assert trust_score(None, None).score is None
