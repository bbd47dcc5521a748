"""Audit statistics: Wilson intervals, sample sizes for a target interval, stratified reproducible samples.

Pure (numpy and statsmodels, which quality control uses for its gold accuracy intervals too); no Django.

Sample size. For a proportion estimated from n labelled documents, the Wilson 95 % interval's half-width is at most
about z * sqrt(p (1 - p) / n), largest at p = 0.5, so n = ceil(z^2 * 0.25 / h^2) labels give a half-width of at
most `h` (Cochran's formula), reduced by the finite-population correction n / (1 + (n - 1) / N) when the stratum
holds only N documents (sampling without replacement). h = 0.1 asks 97 documents per decision of a large step.

Strata. Within one (step, decision) cell (kept or removed by the step), documents are grouped by (language,
reason); the cell's sample is allocated to groups in proportion to their size (largest remainders), at least one
per non-empty group while the sample allows, so a rare language or reason is never left out. Each group is
sampled without replacement by a generator seeded from (seed, step, decision, language, reason): the same seed
gives the same sample whatever order the groups are visited in.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray
from statsmodels.stats.proportion import proportion_confint

Z_95 = 1.959963984540054


def proportion(successes: int, n: int) -> dict[str, Any]:
    """`successes / n` with its Wilson 95 % interval; value and bounds are None when n is 0."""
    if n <= 0:
        return {"value": None, "low": None, "high": None, "k": successes, "n": n}
    low, high = proportion_confint(successes, n, alpha=0.05, method="wilson")
    return {"value": round(successes / n, 4), "low": round(float(low), 4), "high": round(float(high), 4),
            "k": successes, "n": n}


def sample_size(half_width: float, population: int) -> int:
    """Labelled documents needed for a 95 % interval of at most `half_width` on a proportion (see module)."""
    if not 0.0 < half_width < 0.5:
        raise ValueError("the target half-width must be between 0 and 0.5")
    if population <= 0:
        return 0
    n = math.ceil(Z_95**2 * 0.25 / half_width**2)
    return min(population, math.ceil(n / (1 + (n - 1) / population)))


def _seed(*parts: object) -> int:
    digest = hashlib.sha256("\x1f".join(map(str, parts)).encode()).digest()
    return int.from_bytes(digest[:8], "big")


def allocate(sizes: Mapping[tuple[str, str], int], total: int) -> dict[tuple[str, str], int]:
    """Split `total` over groups in proportion to their sizes, at least one per group while `total` allows."""
    groups = sorted(key for key, size in sizes.items() if size > 0)
    population = sum(sizes[key] for key in groups)
    total = min(total, population)
    if total <= 0:
        return {key: 0 for key in groups}
    share = {key: 1 if total >= len(groups) else 0 for key in groups}
    if total < len(groups):  # fewer draws than groups: the largest groups get one each
        for key in sorted(groups, key=lambda k: (-sizes[k], k))[:total]:
            share[key] = 1
        return share
    rest = total - len(groups)
    exact = {key: rest * (sizes[key] - 1) / max(population - len(groups), 1) for key in groups}
    for key in groups:
        share[key] += min(int(exact[key]), sizes[key] - 1)
    left = total - sum(share.values())
    for key in sorted(groups, key=lambda k: (-(exact[k] - int(exact[k])), k)):
        if left <= 0:
            break
        if share[key] < sizes[key]:
            share[key] += 1
            left -= 1
    return share


@dataclass(frozen=True)
class Drawn:
    """One sampled document and the stratum it came from."""

    row: int
    step: str
    position: int
    decision: str  # "kept" or "removed" (by that step)
    lang: str
    reason: str


def stratified_sample(
    *,
    seed: int,
    step: str,
    position: int,
    decision: str,
    rows: NDArray[np.intp],
    langs: Sequence[str] | NDArray[np.object_],
    reasons: Sequence[str] | NDArray[np.object_],
    size: int,
) -> list[Drawn]:
    """Draw `size` of `rows` stratified by (language, reason); reproducible for a seed (see module docstring)."""
    groups: dict[tuple[str, str], list[int]] = {}
    for row, lang, reason in zip(rows.tolist(), langs, reasons, strict=True):
        groups.setdefault((str(lang), str(reason)), []).append(int(row))
    shares = allocate({key: len(members) for key, members in groups.items()}, size)
    drawn: list[Drawn] = []
    for key in sorted(groups):
        count = shares.get(key, 0)
        if not count:
            continue
        members = np.asarray(sorted(groups[key]))
        rng = np.random.default_rng(_seed(seed, step, position, decision, *key))
        picked = np.sort(rng.choice(members, size=count, replace=False))
        drawn.extend(Drawn(int(row), step, position, decision, key[0], key[1]) for row in picked)
    return drawn
