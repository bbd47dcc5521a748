"""The model leaderboard: battles from judgements, ratings with intervals, the win-rate matrix and its counts."""

from __future__ import annotations

import math

import numpy as np
import pytest

from annotation.quality.leaderboard import battles, leaderboard
from annotation.quality.records import ItemInfo, Judgement


def test_battles_come_from_pairwise_choices_and_ranking_pairs_between_different_models() -> None:
    items = {
        1: ItemInfo(1, ["r1", "r2"], response_models={"r1": "alpha", "r2": "beta"}),
        2: ItemInfo(2, ["r1", "r2", "r3"], response_models={"r1": "alpha", "r2": "beta", "r3": "alpha"}),
        3: ItemInfo(3, ["r1", "r2"]),  # no models: no battle
    }
    pairwise = [Judgement(1, 1, {"choice": "b"}, ["r2", "r1"]), Judgement(3, 1, {"choice": "a"}, ["r1", "r2"])]
    ranking = [Judgement(2, 1, {"ranking": [["r3"], ["r1", "r2"]]}, ["r1", "r2", "r3"])]

    assert battles("pairwise", pairwise, items) == [("beta", "alpha", 0.0)]
    # r1-r2: alpha vs beta tie; r1-r3: same model, skipped; r2-r3: beta loses to alpha.
    assert battles("ranking", ranking, items) == [("alpha", "beta", 0.5), ("beta", "alpha", 0.0)]


def test_leaderboard_ranks_with_intervals_and_counts_every_figure() -> None:
    found = [("a", "b", 1.0)] * 6 + [("a", "b", 0.5)] * 2 + [("b", "a", 1.0)] * 2 + [("b", "c", 1.0)] * 5 + [
        ("c", "b", 1.0)
    ] * 5

    board = leaderboard(found, rounds=100)

    names = [row["model"] for row in board["models"]]
    assert names[0] == "a"
    a = board["models"][0]
    assert (a["battles"], a["wins"], a["ties"], a["losses"]) == (10, 6, 2, 2)
    assert a["win_rate"] == pytest.approx(7 / 10)
    assert a["rating_low"] <= a["rating"] <= a["rating_high"]
    matrix = board["matrix"]
    row_a, col_b = matrix["models"].index("a"), matrix["models"].index("b")
    assert matrix["win_rate"][row_a][col_b] == pytest.approx(0.7)
    assert matrix["win_rate"][col_b][row_a] == pytest.approx(0.3)
    assert matrix["battles"][row_a][col_b] == 10
    assert matrix["win_rate"][row_a][matrix["models"].index("c")] is None  # a never met c
    assert board["battles"] == 20


def test_leaderboard_rating_gap_follows_bradley_terry() -> None:
    # 70% wins with ties half: exp(gap) = 7/3 (up to the tiny prior), 400 / ln 10 points per unit of strength.
    found = [("a", "b", 1.0)] * 600 + [("a", "b", 0.5)] * 200 + [("b", "a", 1.0)] * 200

    board = leaderboard(found, rounds=50)

    gap = board["models"][0]["rating"] - board["models"][1]["rating"]
    assert gap == pytest.approx(400 / math.log(10) * math.log(7 / 3), abs=0.5)


def test_conservative_rank_ties_models_whose_intervals_overlap() -> None:
    rng = np.random.default_rng(0)
    found = [("a", "b", float(rng.random() < 0.52)) for _ in range(40)]
    found += [("c", "a", 0.0)] * 200 + [("c", "b", 0.0)] * 200

    board = leaderboard(found, rounds=200)

    ranks = {row["model"]: row["rank_upper"] for row in board["models"]}
    assert ranks["a"] == ranks["b"] == 1
    assert ranks["c"] == 3


def test_fewer_than_two_models_give_an_empty_board() -> None:
    assert leaderboard([])["models"] == []
