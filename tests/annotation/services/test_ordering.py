"""Display orders, ranking rounds (each response equally often, at most round_size a screen) and their merge."""

from __future__ import annotations

import random
from collections import Counter

import pytest

from annotation.services.ordering import merge_rounds, ranking_rounds, shuffled


def test_display_orders_are_random_permutations():
    ids = [f"r{i}" for i in range(5)]
    orders = {tuple(shuffled(ids, random.Random(seed))) for seed in range(40)}
    assert all(sorted(order) == sorted(ids) for order in orders)
    assert len(orders) > 10


def test_responses_that_fit_one_screen_need_no_rounds():
    assert ranking_rounds(["a", "b", "c", "d", "e"], 5) is None


@pytest.mark.parametrize("n", [6, 7, 9, 10, 11, 17, 30])
@pytest.mark.parametrize("round_size", [3, 5])
def test_rounds_show_each_response_twice_and_connect_them_all(n, round_size):
    ids = [f"r{i}" for i in range(n)]

    rounds = ranking_rounds(ids, round_size)

    assert rounds is not None
    assert all(2 <= len(r) <= round_size and len(set(r)) == len(r) for r in rounds)
    assert Counter(i for r in rounds for i in r) == {i: 2 for i in ids}
    # connected: every response can be compared with every other through shared rounds
    reached, frontier = {ids[0]}, [ids[0]]
    while frontier:
        current = frontier.pop()
        for r in rounds:
            if current in r:
                for other in r:
                    if other not in reached:
                        reached.add(other)
                        frontier.append(other)
    assert reached == set(ids)


def test_merging_rounds_recovers_a_consistent_order():
    truth = [f"r{i}" for i in range(9)]  # r0 best
    rounds = ranking_rounds(shuffled(truth, random.Random(3)), 5)
    assert rounds is not None
    rankings = [[[i] for i in sorted(r, key=truth.index)] for r in rounds]

    merged = merge_rounds(rankings, truth)

    assert [group[0] for group in merged] == truth


def test_merging_all_ties_gives_one_group():
    merged = merge_rounds([[["a", "b", "c"]]], ["a", "b", "c"])
    assert merged == [["a", "b", "c"]]
