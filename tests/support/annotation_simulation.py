"""Simulated annotators for quality-control tests: careful, fast, straight-lining, position- and length-biased.

Items have a latent quality per response; a careful annotator prefers the better response with a logistic
probability and rates Likert near the latent value. Each bias replaces that behaviour as its name says. Seeded.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

from annotation.quality.records import ItemInfo, Judgement

CAREFUL = "careful"
FAST = "fast"
STRAIGHT = "straight"
FIRST = "first"
LONGER = "longer"


@dataclass
class SimulatedProject:
    items: dict[int, ItemInfo]
    judgements: list[Judgement]
    quality: dict[int, dict[str, float]]


def _items(rng: random.Random, n_items: int) -> tuple[dict[int, ItemInfo], dict[int, dict[str, float]]]:
    items, quality = {}, {}
    for item_id in range(n_items):
        # Lengths independent of quality: a preference for length is then a bias, not good taste.
        lengths = {"r1": rng.randint(50, 800), "r2": rng.randint(50, 800)}
        items[item_id] = ItemInfo(item_id, response_ids=["r1", "r2"], response_lengths=lengths)
        quality[item_id] = {"r1": rng.gauss(0, 1.5), "r2": rng.gauss(0, 1.5)}
    return items, quality


def simulate_pairwise(behaviours: dict[int, str], n_items: int = 60, seed: int = 0) -> SimulatedProject:
    """Every annotator judges every item once, shown a random order."""
    rng = random.Random(seed)
    items, quality = _items(rng, n_items)
    judgements = []
    for item_id, item in items.items():
        for annotator, behaviour in behaviours.items():
            order = ["r1", "r2"]
            rng.shuffle(order)
            first, second = order
            if behaviour == FIRST:
                choice = "a"
            elif behaviour == LONGER:
                lengths = item.response_lengths
                choice = "a" if lengths[first] > lengths[second] else "b"
            else:
                gap = quality[item_id][first] - quality[item_id][second]
                choice = "a" if rng.random() < 1 / (1 + math.exp(-2 * gap)) else "b"
            seconds = rng.uniform(1, 3) if behaviour == FAST else rng.uniform(20, 90)
            judgements.append(Judgement(item_id, annotator, {"choice": choice, "strength": 2}, order, seconds))
    return SimulatedProject(items, judgements, quality)


def simulate_likert(behaviours: dict[int, str], n_items: int = 40, seed: int = 0) -> SimulatedProject:
    """Every annotator rates every item on two criteria of a 5-point scale."""
    rng = random.Random(seed)
    items, quality = _items(rng, n_items)
    judgements = []
    for item_id in items:
        latent = 3 + quality[item_id]["r1"]
        for annotator, behaviour in behaviours.items():
            if behaviour == STRAIGHT:
                ratings = {"helpful": 4, "honest": 4}
            else:
                ratings = {
                    name: min(5, max(1, round(latent + rng.gauss(0, 0.6)))) for name in ("helpful", "honest")
                }
            seconds = rng.uniform(1, 3) if behaviour == FAST else rng.uniform(20, 90)
            judgements.append(Judgement(item_id, annotator, {"ratings": ratings}, (), seconds))
    return SimulatedProject(items, judgements, quality)
