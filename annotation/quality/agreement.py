"""Agreement between annotators: per project, per criterion, per item and per annotator against the others.

Methods and libraries:
- Krippendorff's alpha (Krippendorff, "Computing Krippendorff's Alpha-Reliability", 2011), computed by the
  `krippendorff` package from a units x values count matrix: ordinal for Likert ratings, nominal for labels and
  pairwise choices. Units with fewer than two values are not pairable and are not counted.
- Fleiss' kappa (Fleiss 1971) for labels, by `statsmodels.stats.inter_rater.fleiss_kappa`. Fleiss needs the same
  number of raters per item, so it is computed on the items that have the most common number of raters.
- Kendall's tau-b (`scipy.stats.kendalltau`, which handles ties) between two annotators' orders of one item's
  responses, averaged over annotator pairs and items; and pairwise agreement: the share of response pairs that two
  annotators order the same way (a tie being a third answer).

Every figure carries the number of items it rests on. A unit's identity is `(item_id, criterion or label)`.

Per-item agreement (for routing) and per-annotator agreement (for trust) use one observed measure in [0, 1], the
mean over pairs of annotators of `pair_agreement`: Likert, the share of criteria rated within the tolerance;
labels, equality (single label) or the Jaccard index of the label sets (multi-label); pairwise, the same choice by
response id; ranking, the share of response pairs ordered the same way.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from itertools import combinations
from typing import Any

import krippendorff
import numpy as np
from scipy.stats import kendalltau
from statsmodels.stats.inter_rater import fleiss_kappa

from annotation.quality.preferences import pairwise_comparison, preference_relations, rank_positions
from annotation.quality.records import (
    KIND_LABEL,
    KIND_LIKERT,
    KIND_PAIRWISE,
    KIND_RANKING,
    ItemInfo,
    Judgement,
    likert_cells,
)

ALPHA = "krippendorff_alpha"
FLEISS = "fleiss_kappa"
KENDALL = "kendall_tau"
PAIRWISE_AGREEMENT = "pairwise_agreement"
ORDINAL = "ordinal"
NOMINAL = "nominal"
# Pairwise choices as nominal values: the index of the winner in the item's response order, or this for a tie.
TIE_VALUE = -1

Unit = tuple[Hashable, ...]


@dataclass(frozen=True)
class Agreement:
    """One agreement figure and what it rests on; `value` is None when the data cannot define it."""

    metric: str
    value: float | None
    n_items: int
    level: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Scheme:
    """How a project's payloads become comparable values: its kind and the settings that shape its payloads."""

    kind: str
    criteria: Sequence[str] = ()
    labels: Sequence[str] = ()
    multi_label: bool = False
    scale: int = 5
    tolerance: int = 0


def _rounded(value: float | None) -> float | None:
    if value is None or not np.isfinite(value):
        return None
    return float(value)


# -- the statistics themselves ----------------------------------------------------------------------------------


def krippendorff_alpha(
    units: Iterable[Sequence[Hashable]], level: str, domain: Sequence[Hashable] | None = None
) -> Agreement:
    """Krippendorff's alpha over units, each the list of values its coders gave (missing values left out).

    `domain` orders the values for the ordinal level (e.g. 1..7); nominal values need no order.
    """
    pairable = [list(values) for values in units if len(values) >= 2]
    if domain is None:
        domain = sorted({value for values in pairable for value in values}, key=repr)
    index = {value: position for position, value in enumerate(domain)}
    if not pairable or len({value for values in pairable for value in values}) < 2:
        # One value everywhere: expected disagreement is zero and alpha is undefined.
        return Agreement(ALPHA, None, len(pairable), level)
    counts = np.zeros((len(pairable), len(domain)), dtype=float)
    for row, values in enumerate(pairable):
        for value in values:
            counts[row, index[value]] += 1
    value = krippendorff.alpha(
        value_counts=counts, value_domain=list(range(len(domain))), level_of_measurement=level  # type: ignore[arg-type]
    )
    return Agreement(ALPHA, _rounded(value), len(pairable), level)


def fleiss(units: Iterable[Sequence[Hashable]], categories: Sequence[Hashable]) -> Agreement:
    """Fleiss' kappa on the units that have the most common number of raters (at least two)."""
    rated = [list(values) for values in units if len(values) >= 2]
    if not rated:
        return Agreement(FLEISS, None, 0, NOMINAL)
    raters = Counter(len(values) for values in rated).most_common(1)[0][0]
    kept = [values for values in rated if len(values) == raters]
    index = {category: position for position, category in enumerate(categories)}
    table = np.zeros((len(kept), len(categories)), dtype=float)
    for row, values in enumerate(kept):
        for value in values:
            table[row, index[value]] += 1
    if np.count_nonzero(table.sum(axis=0)) < 2:
        return Agreement(FLEISS, None, len(kept), NOMINAL)
    return Agreement(FLEISS, _rounded(fleiss_kappa(table, method="fleiss")), len(kept), NOMINAL)


def kendall_tau(first: Mapping[str, float], second: Mapping[str, float]) -> float | None:
    """Kendall's tau-b between two rank maps on their common responses (None if fewer than 2 or no variation).

    `scipy.stats.kendalltau` defines the figure; a project has tens of thousands of these 2-9 element orders and
    scipy's per-call overhead (~1 ms) would dominate, so tau-b is computed here directly from its definition,
    (concordant - discordant) / sqrt((n0 - ties in x) (n0 - ties in y)) over all pairs, and tested equal to scipy.
    """
    common = sorted(set(first) & set(second))
    if len(common) < 2:
        return None
    if len(common) > 12:  # long orders: scipy's O(n log n) algorithm
        result = kendalltau([first[rid] for rid in common], [second[rid] for rid in common])
        return _rounded(float(result.statistic))
    concordant = discordant = tied_x = tied_y = pairs = 0
    for one, other in combinations(common, 2):
        dx = first[one] - first[other]
        dy = second[one] - second[other]
        pairs += 1
        if dx == 0 and dy == 0:
            tied_x += 1
            tied_y += 1
        elif dx == 0:
            tied_x += 1
        elif dy == 0:
            tied_y += 1
        elif (dx > 0) == (dy > 0):
            concordant += 1
        else:
            discordant += 1
    denominator = math.sqrt((pairs - tied_x) * (pairs - tied_y))
    return (concordant - discordant) / denominator if denominator else None


def relation_agreement(first: Mapping[tuple[str, str], int], second: Mapping[tuple[str, str], int]) -> float | None:
    """The share of response pairs both annotators judged that they judged alike (None without a common pair)."""
    common = set(first) & set(second)
    if not common:
        return None
    return sum(first[pair] == second[pair] for pair in common) / len(common)


# -- payloads as values ---------------------------------------------------------------------------------------


def _labels(judgement: Judgement) -> list[str]:
    labels = judgement.payload.get("labels")
    return [str(label) for label in labels] if isinstance(labels, list) else []


def pairwise_value(judgement: Judgement, item: ItemInfo | None) -> int | None:
    """A pairwise choice as a nominal value comparable across annotators: the winner's index in the item's
    response order (display order differs per annotator), or TIE_VALUE."""
    comparison = pairwise_comparison(judgement.payload, judgement.display_order)
    if comparison is None:
        return None
    winner = comparison.winner()
    if winner is None:
        return TIE_VALUE
    order = list(item.response_ids) if item and item.response_ids else sorted((comparison.first, comparison.second))
    return order.index(winner) if winner in order else None


def unit_values(scheme: Scheme, judgement: Judgement, item: ItemInfo | None = None) -> list[tuple[Unit, Hashable]]:
    """The (unit, value) pairs one judgement contributes: one per Likert criterion, per label (multi-label) or one
    per item (single label, pairwise). Rankings are compared by Kendall's tau instead and give none."""
    if scheme.kind == KIND_LIKERT:
        return [((judgement.item_id, *cell), value) for cell, value in likert_cells(judgement.payload).items()]
    if scheme.kind == KIND_LABEL:
        chosen = _labels(judgement)
        if scheme.multi_label:
            return [((judgement.item_id, label), int(label in chosen)) for label in scheme.labels]
        return [((judgement.item_id,), chosen[0])] if chosen else []
    if scheme.kind == KIND_PAIRWISE:
        value = pairwise_value(judgement, item)
        return [] if value is None else [((judgement.item_id,), value)]
    return []


def level_of(scheme: Scheme) -> str:
    return ORDINAL if scheme.kind == KIND_LIKERT else NOMINAL


def domain_of(scheme: Scheme, values: Iterable[Hashable]) -> list[Hashable]:
    if scheme.kind == KIND_LIKERT:
        return list(range(1, scheme.scale + 1))
    if scheme.kind == KIND_LABEL and scheme.multi_label:
        return [0, 1]
    if scheme.kind == KIND_LABEL:
        return list(dict.fromkeys([*scheme.labels, *sorted({str(v) for v in values})]))
    return sorted(set(values), key=repr)


def _units(
    scheme: Scheme, judgements: Iterable[Judgement], items: Mapping[int, ItemInfo], *, criterion: str | None = None
) -> dict[Unit, list[Hashable]]:
    units: dict[Unit, list[Hashable]] = defaultdict(list)
    for judgement in judgements:
        for unit, value in unit_values(scheme, judgement, items.get(judgement.item_id)):
            if criterion is None or unit[-1] == criterion:
                units[unit].append(value)
    return units


# -- per project, per criterion ----------------------------------------------------------------------------------


def _by_item(judgements: Iterable[Judgement]) -> dict[int, list[Judgement]]:
    grouped: dict[int, list[Judgement]] = defaultdict(list)
    for judgement in judgements:
        grouped[judgement.item_id].append(judgement)
    return grouped


def ranking_agreement(
    scheme: Scheme, judgements: Iterable[Judgement], *, with_tau: bool = True
) -> list[Agreement]:
    """Mean Kendall's tau-b and mean pairwise agreement over annotator pairs, and the items they rest on."""
    taus: list[float] = []
    shares: list[float] = []
    tau_items: set[int] = set()
    share_items: set[int] = set()
    for item_id, group in _by_item(judgements).items():
        for one, other in combinations(group, 2):
            tau = kendall_tau(
                rank_positions(scheme.kind, one.payload, one.display_order),
                rank_positions(scheme.kind, other.payload, other.display_order),
            ) if with_tau else None
            if tau is not None:
                taus.append(tau)
                tau_items.add(item_id)
            share = relation_agreement(
                preference_relations(scheme.kind, one.payload, one.display_order),
                preference_relations(scheme.kind, other.payload, other.display_order),
            )
            if share is not None:
                shares.append(share)
                share_items.add(item_id)
    return [
        Agreement(KENDALL, float(np.mean(taus)) if taus else None, len(tau_items), ORDINAL),
        Agreement(PAIRWISE_AGREEMENT, float(np.mean(shares)) if shares else None, len(share_items), None),
    ]


def project_agreement(
    scheme: Scheme, judgements: Sequence[Judgement], items: Mapping[int, ItemInfo]
) -> dict[str, list[Agreement]]:
    """Agreement over the whole project ("overall") and per criterion (Likert) or per label (multi-label).

    Likert: ordinal alpha; labels: nominal alpha and Fleiss' kappa; pairwise: nominal alpha and pairwise agreement;
    ranking: Kendall's tau and pairwise agreement.
    """
    if scheme.kind == KIND_RANKING:
        return {"overall": ranking_agreement(scheme, judgements)}
    units = _units(scheme, judgements, items)
    domain = domain_of(scheme, (value for values in units.values() for value in values))
    overall = [krippendorff_alpha(units.values(), level_of(scheme), domain)]
    if scheme.kind == KIND_LABEL:
        overall.append(fleiss(units.values(), domain))
    if scheme.kind == KIND_PAIRWISE:
        overall.append(ranking_agreement(scheme, judgements, with_tau=False)[1])
    result = {"overall": overall}
    parts: Sequence[str] = ()
    if scheme.kind == KIND_LIKERT:
        parts = scheme.criteria
    elif scheme.kind == KIND_LABEL and scheme.multi_label:
        parts = scheme.labels
    for part in parts:
        part_units = [values for unit, values in units.items() if unit[-1] == part]
        figures = [krippendorff_alpha(part_units, level_of(scheme), domain)]
        if scheme.kind == KIND_LABEL:
            figures.append(fleiss(part_units, domain))
        result[part] = figures
    return result


def headline(scheme: Scheme, figures: Mapping[str, Sequence[Agreement]]) -> Agreement | None:
    """The one figure a dashboard shows for the project: alpha, or Kendall's tau for rankings."""
    overall = figures.get("overall", [])
    return overall[0] if overall else None


def agreement_over_time(
    scheme: Scheme, judgements: Sequence[Judgement], items: Mapping[int, ItemInfo], buckets: Mapping[int, str]
) -> list[dict[str, Any]]:
    """The headline figure per time bucket; `buckets` maps each item to the bucket (e.g. the day) it was finished in."""
    grouped: dict[str, list[Judgement]] = defaultdict(list)
    for judgement in judgements:
        bucket = buckets.get(judgement.item_id)
        if bucket is not None:
            grouped[bucket].append(judgement)
    series = []
    for bucket in sorted(grouped):
        figure = headline(scheme, project_agreement(scheme, grouped[bucket], items))
        if figure is not None:
            series.append({"bucket": bucket, **figure.as_dict()})
    return series


# -- per item and per annotator -----------------------------------------------------------------------------------


def pair_agreement(scheme: Scheme, one: Judgement, other: Judgement, items: Mapping[int, ItemInfo]) -> float | None:
    """How alike two judgements of one item are, in [0, 1] (see the module docstring); None if not comparable."""
    if scheme.kind == KIND_LIKERT:
        first, second = likert_cells(one.payload), likert_cells(other.payload)
        common = set(first) & set(second)
        if not common:
            return None
        return sum(abs(first[name] - second[name]) <= scheme.tolerance for name in common) / len(common)
    if scheme.kind == KIND_LABEL:
        first_labels, second_labels = set(_labels(one)), set(_labels(other))
        if not scheme.multi_label:
            return float(first_labels == second_labels)
        union = first_labels | second_labels
        return len(first_labels & second_labels) / len(union) if union else 1.0
    if scheme.kind == KIND_PAIRWISE:
        item = items.get(one.item_id)
        first_value, second_value = pairwise_value(one, item), pairwise_value(other, item)
        if first_value is None or second_value is None:
            return None
        return float(first_value == second_value)
    if scheme.kind == KIND_RANKING:
        return relation_agreement(
            preference_relations(scheme.kind, one.payload, one.display_order),
            preference_relations(scheme.kind, other.payload, other.display_order),
        )
    return None


def item_agreement(scheme: Scheme, group: Sequence[Judgement], items: Mapping[int, ItemInfo]) -> float | None:
    """The mean agreement over the pairs of annotators of one item (None with fewer than two comparable)."""
    scores = [pair_agreement(scheme, one, other, items) for one, other in combinations(group, 2)]
    known = [score for score in scores if score is not None]
    return float(np.mean(known)) if known else None


@dataclass(frozen=True)
class AnnotatorAgreement:
    """One annotator against the others: the observed agreement rate, and alpha (mean tau for rankings) over the
    pairs of this annotator's value with each other annotator's value of the same unit; each with its items."""

    rate: float | None
    n_items: int
    versus_others: Agreement

    def as_dict(self) -> dict[str, Any]:
        return {"rate": self.rate, "n_items": self.n_items, "versus_others": self.versus_others.as_dict()}


def annotator_agreement(
    scheme: Scheme, judgements: Sequence[Judgement], items: Mapping[int, ItemInfo]
) -> dict[int, AnnotatorAgreement]:
    """Each annotator's agreement with the others on the items they share with at least one other annotator."""
    by_item = _by_item(judgements)
    rates: dict[int, list[float]] = defaultdict(list)
    for group in by_item.values():
        for judgement in group:
            scores = [pair_agreement(scheme, judgement, other, items) for other in group if other is not judgement]
            known = [score for score in scores if score is not None]
            if known:
                rates[judgement.annotator_id].append(float(np.mean(known)))

    versus: dict[int, Agreement] = {}
    if scheme.kind == KIND_RANKING:
        taus: dict[int, list[float]] = defaultdict(list)
        tau_items: dict[int, set[int]] = defaultdict(set)
        for item_id, group in by_item.items():
            for judgement in group:
                mine = rank_positions(scheme.kind, judgement.payload, judgement.display_order)
                for other in group:
                    if other is judgement:
                        continue
                    tau = kendall_tau(mine, rank_positions(scheme.kind, other.payload, other.display_order))
                    if tau is not None:
                        taus[judgement.annotator_id].append(tau)
                        tau_items[judgement.annotator_id].add(item_id)
        for annotator, values in taus.items():
            versus[annotator] = Agreement(KENDALL, float(np.mean(values)), len(tau_items[annotator]), ORDINAL)
    else:
        units: dict[Unit, list[tuple[int, Hashable]]] = defaultdict(list)
        for judgement in judgements:
            for unit, value in unit_values(scheme, judgement, items.get(judgement.item_id)):
                units[unit].append((judgement.annotator_id, value))
        level = level_of(scheme)
        domain = domain_of(scheme, (value for pairs in units.values() for _, value in pairs))
        paired: dict[int, list[list[Hashable]]] = defaultdict(list)
        paired_items: dict[int, set[Hashable]] = defaultdict(set)
        for unit, pairs in units.items():
            for annotator, value in pairs:
                for other_annotator, other_value in pairs:
                    if other_annotator != annotator:
                        paired[annotator].append([value, other_value])
                        paired_items[annotator].add(unit[0])
        for annotator, pairs_of_values in paired.items():
            figure = krippendorff_alpha(pairs_of_values, level, domain)
            versus[annotator] = Agreement(ALPHA, figure.value, len(paired_items[annotator]), level)

    annotators = {judgement.annotator_id for judgement in judgements}
    return {
        annotator: AnnotatorAgreement(
            rate=float(np.mean(rates[annotator])) if rates.get(annotator) else None,
            n_items=len(rates.get(annotator, [])),
            versus_others=versus.get(annotator, Agreement(ALPHA if scheme.kind != KIND_RANKING else KENDALL, None, 0)),
        )
        for annotator in annotators
    }
