"""The whole-project analysis and the routing rule."""

from __future__ import annotations

import pytest

from annotation.quality.agreement import Scheme
from annotation.quality.analysis import (
    ROUTE_MORE_ANNOTATORS,
    ROUTE_REVIEW,
    QualityParams,
    analyse_project,
    route_item,
)
from annotation.quality.gold import GoldParams
from annotation.quality.records import ItemInfo, Judgement
from tests.support.annotation_simulation import CAREFUL, FIRST, simulate_pairwise


@pytest.mark.parametrize(
    ("agreement", "submitted", "target", "cap", "threshold", "route"),
    [
        (0.4, 3, 3, 5, 0.6, ROUTE_MORE_ANNOTATORS),
        (0.4, 5, 5, 5, 0.6, ROUTE_REVIEW),
        (0.8, 3, 3, 5, 0.6, None),  # agrees enough
        (0.4, 2, 3, 5, 0.6, None),  # not all annotations in yet
        (0.4, 3, 3, 5, None, None),  # the project routes nothing
        (None, 3, 3, 5, 0.6, None),  # nothing to measure
    ],
)
def test_route_item(agreement, submitted, target, cap, threshold, route) -> None:  # type: ignore[no-untyped-def]
    assert route_item(agreement, submitted, target, cap, threshold) == route


def test_analysis_ties_gold_agreement_trust_and_consensus_together() -> None:
    items = {1: ItemInfo(1, is_gold=True, expected={"labels": ["x"]}), 2: ItemInfo(2)}
    judgements = [
        Judgement(1, 1, {"labels": ["x"]}), Judgement(1, 2, {"labels": ["x"]}), Judgement(1, 3, {"labels": ["y"]}),
        Judgement(2, 1, {"labels": ["y"]}), Judgement(2, 2, {"labels": ["y"]}), Judgement(2, 3, {"labels": ["y"]}),
    ]

    analysis = analyse_project(Scheme("label", labels=["x", "y"]), judgements, items, QualityParams(GoldParams()))

    assert analysis.annotators[3]["gold"]["accuracy"] == 0.0
    assert analysis.annotators[1]["gold"]["accuracy"] == 1.0
    # Annotator 3 agrees with the others on item 2 only: rate (0 + 1) / 2.
    assert analysis.annotators[3]["agreement"]["rate"] == pytest.approx(0.5)
    trust = analysis.annotators[1]["trust"]
    assert trust["score"] == pytest.approx((trust["gold_wilson_low"] + trust["agreement_rate"]) / 2)
    assert analysis.items[1].consensus == {"labels": ["x"], "shares": {"x": 2 / 3, "y": 1 / 3}, "tie": False}
    assert analysis.items[1].agreement == pytest.approx(1 / 3)
    assert analysis.headline is not None and analysis.headline["metric"] == "krippendorff_alpha"


def test_analysis_of_a_pairwise_project_with_models_has_a_leaderboard_and_bias() -> None:
    project = simulate_pairwise({1: CAREFUL, 2: CAREFUL, 3: FIRST}, n_items=30, seed=4)
    items = {
        item_id: ItemInfo(item_id, item.response_ids, item.response_lengths, {"r1": "m1", "r2": "m2"})
        for item_id, item in project.items.items()
    }

    analysis = analyse_project(Scheme("pairwise"), project.judgements, items, QualityParams(leaderboard_rounds=50))

    assert analysis.leaderboard is not None and analysis.leaderboard["battles"] == 90
    assert analysis.bias["position"]["n"] == 90
    assert "position_bias" in analysis.annotators[3]["flags"]
    assert len(analysis.items) == 30
