"""Pairwise and ranking payloads as comparisons between response ids.

A pairwise payload names positions ("a" is the first response *as served*, from the assignment's recorded,
randomised display order); a ranking payload names response ids in groups, best first, a group of several being a
tie. Both reduce to comparisons between two response ids. Each comparison is oriented by display position (the
response shown first is `first`), so the same records measure position bias.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import combinations
from typing import Any

from annotation.quality.records import KIND_PAIRWISE, KIND_RANKING

# Scores of a comparison, for `first`: a win, a tie (counts half, as in Chatbot Arena), a loss.
WIN = 1.0
TIE = 0.5
LOSS = 0.0


@dataclass(frozen=True)
class Comparison:
    """One preference between two responses; `first` was shown before `second`."""

    first: str
    second: str
    score: float  # WIN if `first` was preferred, TIE, or LOSS

    def winner(self) -> str | None:
        if self.score == WIN:
            return self.first
        if self.score == LOSS:
            return self.second
        return None


def ranking_groups(payload: Mapping[str, Any]) -> list[list[str]]:
    """The ranking's groups of response ids, best first, as lists of strings (empty when malformed)."""
    groups = payload.get("ranking")
    if not isinstance(groups, list):
        return []
    return [[str(rid) for rid in group] for group in groups if isinstance(group, list) and group]


def pairwise_comparison(payload: Mapping[str, Any], display_order: Sequence[str]) -> Comparison | None:
    """The comparison a pairwise payload makes between the first two responses served, or None if malformed."""
    if len(display_order) < 2:
        return None
    choice = payload.get("choice")
    score = {"a": WIN, "tie": TIE, "b": LOSS}.get(str(choice))
    if score is None:
        return None
    return Comparison(first=str(display_order[0]), second=str(display_order[1]), score=score)


def ranking_comparisons(payload: Mapping[str, Any], display_order: Sequence[str]) -> list[Comparison]:
    """Every pair of ranked responses as a comparison: different groups give a win, one group a tie.

    Responses missing from the display order (which should not happen) are placed after the shown ones, in the
    order the ranking lists them, so the comparison is still counted for consensus.
    """
    groups = ranking_groups(payload)
    level = {rid: depth for depth, group in enumerate(groups) for rid in group}
    shown = {str(rid): position for position, rid in enumerate(display_order)}
    ranked = [rid for group in groups for rid in group]
    position = {rid: shown.get(rid, len(shown) + index) for index, rid in enumerate(ranked)}
    comparisons = []
    for one, other in combinations(sorted(ranked, key=position.__getitem__), 2):
        if level[one] < level[other]:
            score = WIN
        elif level[one] > level[other]:
            score = LOSS
        else:
            score = TIE
        comparisons.append(Comparison(first=one, second=other, score=score))
    return comparisons


def comparisons_of(kind: str, payload: Mapping[str, Any], display_order: Sequence[str]) -> list[Comparison]:
    """The comparisons a pairwise or ranking judgement makes (none for other kinds)."""
    if kind == KIND_PAIRWISE:
        comparison = pairwise_comparison(payload, display_order)
        return [comparison] if comparison else []
    if kind == KIND_RANKING:
        return ranking_comparisons(payload, display_order)
    return []


def preference_relations(
    kind: str, payload: Mapping[str, Any], display_order: Sequence[str]
) -> dict[tuple[str, str], int]:
    """For each unordered pair of response ids (sorted), +1 if the smaller id was preferred, -1 if the other, 0 tie.

    Orienting by id rather than by display position lets two annotators who were shown different orders be compared.
    """
    relations = {}
    for comparison in comparisons_of(kind, payload, display_order):
        low, high = sorted((comparison.first, comparison.second))
        if comparison.score == TIE:
            relations[(low, high)] = 0
        else:
            relations[(low, high)] = 1 if comparison.winner() == low else -1
    return relations


def rank_positions(kind: str, payload: Mapping[str, Any], display_order: Sequence[str]) -> dict[str, float]:
    """Each response's rank (0 is best; tied responses share a rank), for Kendall's tau between orders."""
    if kind == KIND_RANKING:
        return {rid: float(depth) for depth, group in enumerate(ranking_groups(payload)) for rid in group}
    comparison = pairwise_comparison(payload, display_order) if kind == KIND_PAIRWISE else None
    if comparison is None:
        return {}
    first_rank = {WIN: 0.0, TIE: 0.0, LOSS: 1.0}[comparison.score]
    second_rank = {WIN: 1.0, TIE: 0.0, LOSS: 0.0}[comparison.score]
    return {comparison.first: first_rank, comparison.second: second_rank}
