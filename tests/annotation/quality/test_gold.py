"""Gold scoring per kind and accuracy with Wilson intervals, against hand-computed values."""

from __future__ import annotations

import pytest

from annotation.quality.gold import (
    GoldOutcome,
    GoldParams,
    gold_accuracy,
    gold_accuracy_by_annotator,
    gold_outcome,
    gold_serve_probability,
    unanimous_answer,
    wilson_interval,
)
from annotation.quality.records import ItemInfo, Judgement


def test_wilson_interval_of_8_of_10_matches_the_formula() -> None:
    # p = 0.8, z = 1.95996, n = 10: centre (p + z^2/2n) / (1 + z^2/n) = 0.71674,
    # half-width z / (1 + z^2/n) * sqrt(p(1-p)/n + z^2/4n^2) = 0.22658.
    low, high = wilson_interval(8, 10)

    assert low == pytest.approx(0.71674 - 0.22658, abs=1e-4)
    assert high == pytest.approx(0.71674 + 0.22658, abs=1e-4)


def test_wilson_lower_bound_ranks_48_of_50_above_2_of_2() -> None:
    many = gold_accuracy([GoldOutcome(True)] * 48 + [GoldOutcome(False)] * 2)
    few = gold_accuracy([GoldOutcome(True)] * 2)

    assert many.wilson_low > few.wilson_low  # type: ignore[operator]


def test_likert_gold_is_correct_within_the_tolerance_on_every_criterion() -> None:
    item = ItemInfo(1, is_gold=True, expected={"ratings": {"helpful": 4, "honest": 5}})
    close = Judgement(1, 1, {"ratings": {"helpful": 3, "honest": 5}})

    assert gold_outcome("likert", close, item, GoldParams(likert_tolerance=0)).correct is False  # type: ignore[union-attr]
    assert gold_outcome("likert", close, item, GoldParams(likert_tolerance=1)).correct is True  # type: ignore[union-attr]


def test_pairwise_gold_maps_the_served_order_back_to_response_ids() -> None:
    # Expected "a" = the item's first imported response, r1. The annotator saw r2 first and chose "b" (= r1).
    item = ItemInfo(1, response_ids=["r1", "r2"], is_gold=True, expected={"choice": "a"})
    judgement = Judgement(1, 1, {"choice": "b"}, display_order=["r2", "r1"])
    wrong = Judgement(1, 2, {"choice": "a"}, display_order=["r2", "r1"])

    assert gold_outcome("pairwise", judgement, item, GoldParams()).correct is True  # type: ignore[union-attr]
    assert gold_outcome("pairwise", wrong, item, GoldParams()).correct is False  # type: ignore[union-attr]


def test_pairwise_gold_accepts_a_winner_id_and_ties() -> None:
    item = ItemInfo(1, response_ids=["r1", "r2"], is_gold=True, expected={"winner": "tie"})

    outcome = gold_outcome("pairwise", Judgement(1, 1, {"choice": "tie"}, ["r1", "r2"]), item, GoldParams())

    assert outcome is not None and outcome.correct


def test_ranking_gold_scores_kendall_tau_to_the_expected_order() -> None:
    item = ItemInfo(1, is_gold=True, expected={"ranking": [["r1"], ["r2"], ["r3"]]})
    one_swap = Judgement(1, 1, {"ranking": [["r1"], ["r3"], ["r2"]]}, ["r1", "r2", "r3"])

    outcome = gold_outcome("ranking", one_swap, item, GoldParams(ranking_min_tau=0.3))

    assert outcome is not None and outcome.tau == pytest.approx(1 / 3) and outcome.correct
    assert gold_outcome("ranking", one_swap, item, GoldParams(ranking_min_tau=0.6)).correct is False  # type: ignore[union-attr]


def test_label_gold_needs_the_exact_set() -> None:
    item = ItemInfo(1, is_gold=True, expected={"labels": ["spam", "ads"]})

    assert gold_outcome("label", Judgement(1, 1, {"labels": ["ads", "spam"]}), item, GoldParams()).correct  # type: ignore[union-attr]
    assert not gold_outcome("label", Judgement(1, 1, {"labels": ["ads"]}), item, GoldParams()).correct  # type: ignore[union-attr]


def test_items_that_are_not_gold_are_not_scored() -> None:
    item = ItemInfo(1, is_gold=False, expected={"labels": ["x"]})

    assert gold_outcome("label", Judgement(1, 1, {"labels": ["x"]}), item, GoldParams()) is None


def test_accuracy_by_annotator_counts_only_gold_items() -> None:
    items = {
        1: ItemInfo(1, is_gold=True, expected={"labels": ["x"]}),
        2: ItemInfo(2, is_gold=True, expected={"labels": ["y"]}),
        3: ItemInfo(3),
    }
    judgements = [
        Judgement(1, 7, {"labels": ["x"]}), Judgement(2, 7, {"labels": ["x"]}), Judgement(3, 7, {"labels": ["x"]}),
    ]

    accuracy = gold_accuracy_by_annotator("label", judgements, items, GoldParams())[7]

    assert (accuracy.n, accuracy.correct, accuracy.accuracy) == (2, 1, 0.5)


def test_unanimous_pairwise_answer_is_stored_by_winner_id() -> None:
    item = ItemInfo(1, response_ids=["r1", "r2"])
    judgements = [
        Judgement(1, 1, {"choice": "a"}, ["r2", "r1"]),
        Judgement(1, 2, {"choice": "b"}, ["r1", "r2"]),
    ]

    assert unanimous_answer("pairwise", judgements, item) == {"winner": "r2"}
    judgements.append(Judgement(1, 3, {"choice": "a"}, ["r1", "r2"]))
    assert unanimous_answer("pairwise", judgements, item) is None


def test_gold_serve_probability_is_the_shortfall_against_the_rate() -> None:
    assert gold_serve_probability(0.1, 0, 0) == pytest.approx(0.1)
    assert gold_serve_probability(0.1, 9, 0) == pytest.approx(1.0)
    assert gold_serve_probability(0.1, 9, 2) == 0.0
    assert gold_serve_probability(0.0, 50, 0) == 0.0


def test_serving_gold_at_the_shortfall_probability_keeps_the_rate() -> None:
    import random

    rng = random.Random(7)
    gold = 0
    for served in range(2000):
        gold += rng.random() < gold_serve_probability(0.15, served, gold)

    assert gold / 2000 == pytest.approx(0.15, abs=0.01)
