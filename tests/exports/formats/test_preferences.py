"""Rankings, pairwise choices and Likert ratings become the right ordered pairs with the right margins."""

from __future__ import annotations

import itertools

import pytest

from exports.formats.builders import BuildStats, preference_rows
from exports.formats.preferences import (
    Pair,
    item_agreement,
    majority_pairs,
    pairs_from_scores,
    ranking_scores,
)
from exports.formats.records import AnnotationRecord, Consensus, ItemRecord
from exports.formats.spec import ExportSpec
from tests.support.export_records import ranking_item


def test_a_strict_ranking_of_k_responses_expands_to_k_choose_2_pairs_with_rank_distance_margins() -> None:
    # given a strict ranking of five responses
    scores = ranking_scores({"ranking": [["e"], ["b"], ["a"], ["d"], ["c"]]})
    # when it is expanded
    pairs = pairs_from_scores(scores)
    # then every unordered pair appears once, better first, margin = rank distance
    assert len(pairs) == 5 * 4 // 2
    order = ["e", "b", "a", "d", "c"]
    expected = {Pair(order[i], order[j], float(j - i)) for i, j in itertools.combinations(range(5), 2)}
    assert set(pairs) == expected


def test_tied_responses_give_no_pair() -> None:
    # given r2 and r3 tied in the middle of a ranking of four
    pairs = pairs_from_scores(ranking_scores({"ranking": [["r1"], ["r3", "r2"], ["r4"]]}))
    # then 6 - 1 pairs remain, none between r2 and r3
    assert len(pairs) == 5
    assert not {frozenset((p.chosen, p.rejected)) for p in pairs} & {frozenset(("r2", "r3"))}
    assert Pair("r1", "r4", 2.0) in pairs and Pair("r2", "r4", 1.0) in pairs


def test_majority_keeps_what_most_annotators_preferred_and_drops_split_votes() -> None:
    # given three annotators: two say a > b, one says b > a; a and c split one-one with one tie
    per_annotator = [{"a": 0.0, "b": -1.0, "c": -2.0}, {"a": 0.0, "b": -2.0, "c": 0.0}, {"b": 0.0, "a": -1.0,
                                                                                          "c": -1.0}]
    # when merged by majority
    pairs = majority_pairs(per_annotator, ["a", "b", "c"])
    # then a > b with the mean margin of its two voters; a-c is 1 vs 0 (a tie does not vote) -> a > c;
    # b > c two votes to one
    assert sorted(pairs, key=lambda p: (p.chosen, p.rejected)) == [Pair("a", "b", 1.5), Pair("a", "c", 2.0),
                                                                   Pair("b", "c", 1.0)]


def test_a_perfectly_split_pair_is_dropped_by_majority() -> None:
    pairs = majority_pairs([{"a": 0.0, "b": -1.0}, {"a": -1.0, "b": 0.0}], ["a", "b"])
    assert pairs == []


def test_consensus_uses_the_stored_quality_scores_when_there_are_any() -> None:
    # given annotators who say r1 > r2 but a stored consensus saying r2 > r1 by 0.8
    item = ranking_item("i", "p", [[["r1"], ["r2"]]], responses=("r1", "r2"),
                        consensus=Consensus(scores={"r1": 0.1, "r2": 0.9}, agreement=0.9))
    spec = ExportSpec(format="reward", merge="consensus")
    rows = list(preference_rows([item], spec, BuildStats()))
    # then the pair follows the consensus, with its score difference as margin
    assert [(r.row["chosen"][0]["content"], r.row["rejected"][0]["content"]) for r in rows] == [("i:r2", "i:r1")]
    assert rows[0].row["margin"] == pytest.approx(0.8)


def test_consensus_without_stored_scores_is_the_mean_rank() -> None:
    # given two annotators who disagree only on r2 vs r3
    item = ranking_item("i", "p", [[["r1"], ["r2"], ["r3"]], [["r1"], ["r3"], ["r2"]]], responses=("r1", "r2", "r3"))
    rows = list(preference_rows([item], ExportSpec(format="reward", merge="consensus"), BuildStats()))
    pairs = {(r.row["chosen"][0]["content"], r.row["rejected"][0]["content"]): r.row["margin"] for r in rows}
    # then r2 and r3 tie on mean rank (no pair) and r1 beats both by 1.5
    assert pairs == {("i:r1", "i:r2"): 1.5, ("i:r1", "i:r3"): 1.5}


def test_merge_none_keeps_every_annotators_pairs() -> None:
    item = ranking_item("i", "p", [[["r1"], ["r2"]], [["r2"], ["r1"]]], responses=("r1", "r2"))
    rows = list(preference_rows([item], ExportSpec(format="reward", merge="none"), BuildStats()))
    assert sorted((r.row["chosen"][0]["content"], r.row["rejected"][0]["content"]) for r in rows) == [
        ("i:r1", "i:r2"), ("i:r2", "i:r1")]


def test_pairwise_choice_follows_the_display_order_the_annotator_saw() -> None:
    # given responses x, y shown as (y, x) and the annotator chose "a" (y) with strength 3
    item = ItemRecord(project=1, item="pw", kind="pairwise", prompt="Which is better?",
                      responses=[{"id": "x", "text": "X answer"}, {"id": "y", "text": "Y answer"}],
                      annotations=[AnnotationRecord("u1", {"choice": "a", "strength": 3}, display_order=["y", "x"])])
    rows = list(preference_rows([item], ExportSpec(format="dpo", merge="none"), BuildStats()))
    # then y is chosen, with the strength as margin
    assert [(r.row["chosen"][0]["content"], r.row["rejected"][0]["content"], r.row["margin"]) for r in rows] == [
        ("Y answer", "X answer", 3.0)]


def test_likert_items_sharing_a_prompt_pair_up_by_rating_difference() -> None:
    # given three Likert items on one prompt rated (medians) 5, 2 and 5
    def likert(item: str, text: str, ratings: list[int]) -> ItemRecord:
        return ItemRecord(project=3, item=item, kind="likert", prompt="Explain tides.", scale=5,
                          responses=[{"id": "r", "text": text}],
                          annotations=[AnnotationRecord(f"u{n}", {"ratings": {"helpful": v}})
                                       for n, v in enumerate(ratings)])
    items = [likert("a", "good", [5, 5, 4]), likert("b", "bad", [2, 1, 2]), likert("c", "also good", [5, 4, 5])]
    rows = list(preference_rows(items, ExportSpec(format="reward", merge="consensus"), BuildStats()))
    # then the two good answers each beat the bad one by 3, and the tie between them gives nothing
    pairs = sorted((r.row["chosen"][0]["content"], r.row["rejected"][0]["content"], r.row["margin"]) for r in rows)
    assert pairs == [("also good", "bad", 3.0), ("good", "bad", 3.0)]


def test_likert_with_merge_none_is_refused_with_a_reason() -> None:
    item = ItemRecord(project=3, item="a", kind="likert", prompt="p", responses=[{"id": "r", "text": "t"}],
                      annotations=[AnnotationRecord("u", {"ratings": {"h": 3}})])
    with pytest.raises(ValueError, match="not defined for Likert"):
        list(preference_rows([item], ExportSpec(format="reward", merge="none"), BuildStats()))


def test_agreement_of_identical_rankings_is_one_and_of_reversed_rankings_zero() -> None:
    forward = ranking_scores({"ranking": [["a"], ["b"], ["c"]]})
    backward = ranking_scores({"ranking": [["c"], ["b"], ["a"]]})
    assert item_agreement([forward, forward], "ranking", 5) == 1.0
    assert item_agreement([forward, backward], "ranking", 5) == 0.0
    assert item_agreement([forward], "ranking", 5) is None


def test_filters_drop_gold_rejected_low_trust_and_low_agreement_and_count_each() -> None:
    good = ranking_item("good", "p1", [[["r1"], ["r2"]], [["r1"], ["r2"]]], responses=("r1", "r2"),
                        trusts=[0.9, 0.9])
    gold = ranking_item("gold", "p2", [[["r1"], ["r2"]]], responses=("r1", "r2"), is_gold=True, trusts=[0.9])
    rejected = ranking_item("rej", "p3", [[["r1"], ["r2"]], [["r1"], ["r2"]]], responses=("r1", "r2"),
                            statuses=["rejected", "submitted"], trusts=[0.9, 0.9])
    distrusted = ranking_item("low", "p4", [[["r1"], ["r2"]], [["r2"], ["r1"]]], responses=("r1", "r2"),
                              trusts=[0.9, 0.1])
    split = ranking_item("split", "p5", [[["r1"], ["r2"]], [["r2"], ["r1"]]], responses=("r1", "r2"),
                         trusts=[0.9, 0.9])
    spec = ExportSpec(format="reward", merge="majority", min_agreement=0.5, min_trust=0.5)
    stats = BuildStats()
    rows = list(preference_rows([good, gold, rejected, distrusted, split], spec, stats))
    # then only the good item's pair is left; each filter counted what it removed
    assert [r.source for r in rows] == ["project 1 item good"]
    assert stats.removed == {"gold_items": 1, "rejected_annotations": 1, "low_trust_annotations": 1,
                             "no_agreement_items": 2, "low_agreement_items": 1}


def test_likert_ratings_of_several_responses_on_one_item_pair_within_the_item() -> None:
    # given an item whose three responses were rated one by one by two annotators
    item = ItemRecord(project=3, item="m", kind="likert", prompt="Explain tides.", scale=5,
                      responses=[{"id": "x", "text": "X"}, {"id": "y", "text": "Y"}, {"id": "z", "text": "Z"}],
                      annotations=[AnnotationRecord(f"u{n}", {"ratings": {"x": {"h": 5}, "y": {"h": v}, "z": {"h": 1}}})
                                   for n, v in enumerate([3, 4])])
    rows = list(preference_rows([item], ExportSpec(format="reward", merge="consensus"), BuildStats()))
    # then the medians 5, 3.5 and 1 give three pairs with their differences as margins
    pairs = {(r.row["chosen"][0]["content"], r.row["rejected"][0]["content"]): r.row["margin"] for r in rows}
    assert pairs == {("X", "Y"): 1.5, ("X", "Z"): 4.0, ("Y", "Z"): 2.5}
