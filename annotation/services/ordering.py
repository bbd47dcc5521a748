"""The order responses are served in, ranking rounds, and merging the rounds into one ranking. Pure code.

Position bias is measured later (QC), so every assignment serves its responses in its own random order and records
it (`Assignment.display_order`).

Ranking more responses than fit one screen (`round_size`, about 5, as the issue asks after InstructGPT's labelling
set-up of up to 9 responses): every response appears in exactly two rounds. The responses, in the assignment's
random order, are cut into `g = ceil(n / round_size)` near-equal rounds; a second pass cuts the same order rotated by
half a round, so each second-pass round straddles two first-pass rounds and the comparisons connect every response
to every other (a chain), which a merged order needs. Each screen therefore holds at most `round_size` responses
and each response is judged equally often.

Merging: each round's ranking (groups best first, a group being a tie) gives pairwise outcomes (the better group
beats the worse; a tie counts as one win each way), and a Bradley-Terry model fitted to them by `choix`'s
iterative Luce spectral ranking (Maystre & Grossglauser 2015, `choix.ilsr_pairwise`, with a small L2
regularisation so that responses that never lose still get finite strengths) gives one strength per response.
Responses are ordered by strength; equal strengths (within 1e-6) form one tie group. Bradley-Terry rather than
Copeland (count of wins) because the rounds overlap only partly: Copeland treats a win over a strong response and
a win over a weak one alike, Bradley-Terry does not.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence

import choix
import numpy as np

TIE_TOLERANCE = 1e-6
REGULARISATION = 0.01


def shuffled(ids: Sequence[str], rng: random.Random | None = None) -> list[str]:
    """Return the ids in a new random order (the display order of one assignment)."""
    order = list(ids)
    (rng or random.SystemRandom()).shuffle(order)
    return order


def _cut(order: Sequence[str], parts: int) -> list[list[str]]:
    """Cut `order` into `parts` consecutive pieces whose sizes differ by at most one."""
    size, extra = divmod(len(order), parts)
    pieces, start = [], 0
    for part in range(parts):
        end = start + size + (1 if part < extra else 0)
        pieces.append(list(order[start:end]))
        start = end
    return pieces


def ranking_rounds(order: Sequence[str], round_size: int) -> list[list[str]] | None:
    """Return the rounds (screens) for ranking `order`, or None when all fit one screen.

    Every id appears in exactly two rounds; no round holds more than `round_size` ids or the same id twice.
    """
    n = len(order)
    if n <= round_size:
        return None
    parts = math.ceil(n / round_size)
    first = _cut(order, parts)
    shift = max(1, math.ceil(n / parts) // 2)
    rotated = list(order[shift:]) + list(order[:shift])
    return first + _cut(rotated, parts)


def pairwise_outcomes(ranking: Sequence[Sequence[str]]) -> list[tuple[str, str]]:
    """Return (winner, loser) pairs implied by one ranking of groups, best first; a tie gives both directions."""
    outcomes: list[tuple[str, str]] = []
    for position, group in enumerate(ranking):
        for a_index, a in enumerate(group):
            for b in group[a_index + 1 :]:
                outcomes += [(a, b), (b, a)]
            for worse in ranking[position + 1 :]:
                outcomes += [(a, b) for b in worse]
    return outcomes


def merge_rounds(rankings: Sequence[Sequence[Sequence[str]]], ids: Sequence[str]) -> list[list[str]]:
    """Merge the rankings of several rounds into one ranking of `ids` (groups, best first) by Bradley-Terry."""
    index = {response_id: position for position, response_id in enumerate(ids)}
    data = [(index[w], index[lose]) for ranking in rankings for w, lose in pairwise_outcomes(ranking)]
    if not data:
        return [list(ids)]
    strengths = np.asarray(choix.ilsr_pairwise(len(ids), data, alpha=REGULARISATION))
    by_strength = sorted(range(len(ids)), key=lambda i: (-strengths[i], i))
    merged: list[list[str]] = []
    previous: float | None = None
    for i in by_strength:
        if previous is not None and abs(previous - strengths[i]) <= TIE_TOLERANCE:
            merged[-1].append(ids[i])
        else:
            merged.append([ids[i]])
            previous = float(strengths[i])
    return merged
