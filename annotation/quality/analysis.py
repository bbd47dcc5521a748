"""A whole project's quality analysis from its judgements: the one function the services call.

Order matters and is fixed here: gold accuracy and agreement first, trust from them, then consensus (weighted by
trust when the project asks), flags, bias and the leaderboard. Routing decides, per item, whether low agreement
calls for more annotators or a reviewer.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from annotation.quality import leaderboard as leaderboard_module
from annotation.quality.agreement import (
    Scheme,
    agreement_over_time,
    annotator_agreement,
    headline,
    item_agreement,
    project_agreement,
)
from annotation.quality.consensus import item_consensus, preference_consensus_many, trust_weights
from annotation.quality.flags import FlagParams, annotator_figures, project_bias, trust_score
from annotation.quality.gold import GoldParams, gold_accuracy_by_annotator
from annotation.quality.records import JUDGED_KINDS, PREFERENCE_KINDS, ItemInfo, Judgement

ROUTE_MORE_ANNOTATORS = "more_annotators"
ROUTE_REVIEW = "review"


@dataclass(frozen=True)
class QualityParams:
    gold: GoldParams = field(default_factory=GoldParams)
    flags: FlagParams = field(default_factory=FlagParams)
    weight_by_trust: bool = False
    leaderboard_rounds: int = leaderboard_module.BOOTSTRAP_ROUNDS


@dataclass
class ItemResult:
    agreement: float | None
    consensus: dict[str, Any] | None
    n_judgements: int


@dataclass
class ProjectAnalysis:
    agreement: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    headline: dict[str, Any] | None = None
    agreement_over_time: list[dict[str, Any]] = field(default_factory=list)
    annotators: dict[int, dict[str, Any]] = field(default_factory=dict)
    items: dict[int, ItemResult] = field(default_factory=dict)
    bias: dict[str, Any] = field(default_factory=dict)
    leaderboard: dict[str, Any] | None = None


def route_item(
    agreement: float | None, submitted: int, target_overlap: int, max_overlap: int, threshold: float | None
) -> str | None:
    """What an item whose annotations are all in needs: more annotators while below the cap, then a reviewer.

    Only an item that has reached its target overlap is judged (its agreement would change with the next
    annotation anyway); with no threshold or no measurable agreement nothing is routed.
    """
    if threshold is None or agreement is None or submitted < target_overlap or agreement >= threshold:
        return None
    if target_overlap < max_overlap:
        return ROUTE_MORE_ANNOTATORS
    return ROUTE_REVIEW


def analyse_project(
    scheme: Scheme,
    judgements: Sequence[Judgement],
    items: Mapping[int, ItemInfo],
    params: QualityParams | None = None,
    *,
    buckets: Mapping[int, str] | None = None,
    with_items: bool = True,
) -> ProjectAnalysis:
    """Everything quality control reports for one project. Pure; deterministic (the bootstrap is seeded)."""
    params = params or QualityParams()
    analysis = ProjectAnalysis()
    kind = scheme.kind
    gold = gold_accuracy_by_annotator(kind, judgements, items, params.gold)
    figures = annotator_figures(kind, judgements, items, gold, params.flags)
    if kind in JUDGED_KINDS:
        agreement = project_agreement(scheme, judgements, items)
        analysis.agreement = {part: [figure.as_dict() for figure in values] for part, values in agreement.items()}
        top = headline(scheme, agreement)
        analysis.headline = top.as_dict() if top else None
        if buckets:
            analysis.agreement_over_time = agreement_over_time(scheme, judgements, items, buckets)
        versus = annotator_agreement(scheme, judgements, items)
    else:
        versus = {}
    trust = {}
    for annotator, figure in figures.items():
        mine = versus.get(annotator)
        trust[annotator] = trust_score(gold.get(annotator), mine.rate if mine else None)
        analysis.annotators[annotator] = {
            **figure.as_dict(),
            "gold": gold[annotator].as_dict() if annotator in gold else None,
            "agreement": mine.as_dict() if mine else None,
            "trust": trust[annotator].as_dict(),
        }
    analysis.bias = project_bias(kind, judgements, items)
    if kind in PREFERENCE_KINDS:
        found = leaderboard_module.battles(kind, judgements, items)
        if found:
            analysis.leaderboard = leaderboard_module.leaderboard(found, rounds=params.leaderboard_rounds)
    if with_items and kind in JUDGED_KINDS:
        weights = trust_weights({a: t.score for a, t in trust.items()}) if params.weight_by_trust else {}
        by_item: dict[int, list[Judgement]] = defaultdict(list)
        for judgement in judgements:
            by_item[judgement.item_id].append(judgement)
        batched = preference_consensus_many(kind, by_item, weights, items) if kind in PREFERENCE_KINDS else {}
        for item_id, group in by_item.items():
            consensus = batched.get(item_id) or item_consensus(
                kind, item_id, group, item=items.get(item_id), weights=weights,
                labels=scheme.labels, multi_label=scheme.multi_label,
            )
            analysis.items[item_id] = ItemResult(
                agreement=item_agreement(scheme, group, items),
                consensus=consensus.value if consensus else None,
                n_judgements=len(group),
            )
    return analysis
