"""Consensus per item: medians with spread, majorities, Bradley-Terry orders, and trust weighting."""

from __future__ import annotations

import math

import pytest

from annotation.quality.consensus import item_consensus, trust_weights, weighted_median
from annotation.quality.records import ItemInfo, Judgement


def test_weighted_median_with_equal_weights_is_the_ordinary_median() -> None:
    assert weighted_median([1, 5, 3], [1, 1, 1]) == 3
    assert weighted_median([2, 3], [1, 1]) == 2.5
    assert weighted_median([1, 2, 5, 4], [1, 1, 1, 1]) == 3.0


def test_weighted_median_follows_the_heavy_annotator() -> None:
    assert weighted_median([1, 2, 5], [0.1, 0.1, 1.0]) == 5


def test_likert_consensus_is_the_median_per_criterion_with_its_spread() -> None:
    judgements = [
        Judgement(1, 1, {"ratings": {"helpful": 2, "honest": 5}}),
        Judgement(1, 2, {"ratings": {"helpful": 4, "honest": 5}}),
        Judgement(1, 3, {"ratings": {"helpful": 5, "honest": 4}}),
    ]

    value = item_consensus("likert", 1, judgements).value  # type: ignore[union-attr]

    assert value["ratings"] == {"helpful": 4.0, "honest": 5.0}
    # numpy's linear quartiles of (2, 4, 5): q1 = 3, q3 = 4.5.
    assert value["spread"]["helpful"] == {"q1": 3.0, "q3": 4.5, "iqr": 1.5, "min": 2.0, "max": 5.0, "n": 3}


def test_label_majority_and_a_tie_broken_by_the_project_label_order() -> None:
    votes = [Judgement(1, a, {"labels": [label]}) for a, label in enumerate(["spam", "ok", "spam"])]
    tied = [Judgement(2, a, {"labels": [label]}) for a, label in enumerate(["spam", "ok"])]

    majority = item_consensus("label", 1, votes, labels=["ok", "spam"]).value  # type: ignore[union-attr]
    tie = item_consensus("label", 2, tied, labels=["ok", "spam"]).value  # type: ignore[union-attr]

    assert majority["labels"] == ["spam"] and majority["shares"] == {"ok": 1 / 3, "spam": 2 / 3}
    assert tie == {"labels": ["ok"], "shares": {"ok": 0.5, "spam": 0.5}, "tie": True}


def test_multi_label_consensus_keeps_each_label_a_majority_chose() -> None:
    judgements = [
        Judgement(1, 1, {"labels": ["a", "b"]}),
        Judgement(1, 2, {"labels": ["b"]}),
        Judgement(1, 3, {"labels": ["a", "c"]}),
    ]

    value = item_consensus("label", 1, judgements, labels=["a", "b", "c"], multi_label=True).value  # type: ignore[union-attr]

    assert value["labels"] == ["a", "b"]


def test_pairwise_consensus_is_bradley_terry_over_response_ids() -> None:
    item = ItemInfo(1, response_ids=["r1", "r2"])
    # r2 wins twice (once shown first, once second), one tie.
    judgements = [
        Judgement(1, 1, {"choice": "a"}, ["r2", "r1"]),
        Judgement(1, 2, {"choice": "b"}, ["r1", "r2"]),
        Judgement(1, 3, {"choice": "tie"}, ["r1", "r2"]),
    ]

    value = item_consensus("pairwise", 1, judgements, item=item).value  # type: ignore[union-attr]

    # Wins r2 2.5, r1 0.5, plus the prior's 0.25 each way: exp(gap) = 2.75 / 0.75.
    assert value["winner"] == "r2" and value["order"] == ["r2", "r1"]
    assert value["scores"]["r2"] - value["scores"]["r1"] == pytest.approx(math.log(2.75 / 0.75))
    assert value["win_probability"] == pytest.approx(2.75 / 3.5)
    assert value["comparisons"] == 3


def test_ranking_consensus_orders_responses_and_reports_all_bad() -> None:
    judgements = [
        Judgement(1, 1, {"ranking": [["r1"], ["r2"], ["r3"]], "all_bad": False}, ["r1", "r2", "r3"]),
        Judgement(1, 2, {"ranking": [["r1"], ["r3", "r2"]], "all_bad": True}, ["r3", "r1", "r2"]),
        Judgement(1, 3, {"ranking": [["r2"], ["r1"], ["r3"]], "all_bad": False}, ["r2", "r3", "r1"]),
    ]

    value = item_consensus("ranking", 1, judgements).value  # type: ignore[union-attr]

    assert value["order"] == ["r1", "r2", "r3"]
    assert value["all_bad_share"] == pytest.approx(1 / 3)


def test_trust_weighting_lets_a_trusted_minority_win() -> None:
    judgements = [Judgement(1, a, {"labels": [label]}) for a, label in [(1, "x"), (2, "y"), (3, "y")]]
    weights = trust_weights({1: 0.95, 2: 0.2, 3: 0.3})

    unweighted = item_consensus("label", 1, judgements, labels=["x", "y"]).value  # type: ignore[union-attr]
    weighted = item_consensus("label", 1, judgements, labels=["x", "y"], weights=weights).value  # type: ignore[union-attr]

    assert unweighted["labels"] == ["y"]
    assert weighted["labels"] == ["x"]


def test_unknown_trust_weighs_one_and_nobody_weighs_nothing() -> None:
    assert trust_weights({1: None, 2: 0.0, 3: 0.8}) == {1: 1.0, 2: 0.05, 3: 0.8}


def test_writing_kinds_have_no_consensus() -> None:
    assert item_consensus("instruction", 1, [Judgement(1, 1, {"instruction": "x"})]) is None


def test_likert_consensus_of_several_rated_responses_is_per_response_and_criterion() -> None:
    judgements = [
        Judgement(1, 1, {"ratings": {"r1": {"helpful": 2}, "r2": {"helpful": 5}}}),
        Judgement(1, 2, {"ratings": {"r1": {"helpful": 3}, "r2": {"helpful": 5}}}),
        Judgement(1, 3, {"ratings": {"r1": {"helpful": 3}, "r2": {"helpful": 4}}}),
    ]

    value = item_consensus("likert", 1, judgements).value  # type: ignore[union-attr]

    assert value["ratings"] == {"r1": {"helpful": 3.0}, "r2": {"helpful": 5.0}}
    assert value["spread"]["r2"]["helpful"]["min"] == 4.0


def test_many_items_fitted_together_equal_one_fit_per_item() -> None:
    import random

    from annotation.quality.consensus import preference_consensus_many

    rng = random.Random(9)
    groups = {}
    for item_id in range(40):
        size = rng.choice([2, 3, 4])
        ids = [f"r{i}" for i in range(size)]
        group = []
        for annotator in range(3):
            order = ids[:]
            rng.shuffle(order)
            groups_of_order = [[rid] for rid in order]
            if rng.random() < 0.3:  # a tie at the bottom
                groups_of_order = [*groups_of_order[:-2], groups_of_order[-2] + groups_of_order[-1]]
            group.append(Judgement(item_id, annotator, {"ranking": groups_of_order}, order))
        groups[item_id] = group
    weights = {0: 0.9, 1: 0.5}

    batched = preference_consensus_many("ranking", groups, weights, {})
    single = {item_id: item_consensus("ranking", item_id, group, weights=weights) for item_id, group in groups.items()}

    assert batched.keys() == single.keys()
    for item_id, consensus in batched.items():
        expected = single[item_id].value  # type: ignore[union-attr]
        assert consensus.value["order"] == expected["order"]
        for rid, score in expected["scores"].items():
            assert consensus.value["scores"][rid] == pytest.approx(score, abs=1e-6)
