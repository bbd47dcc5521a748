"""Sample sizes, allocation and stratified sampling (loop/figures.py)."""

from __future__ import annotations

import numpy as np
import pytest

from loop.figures import allocate, proportion, sample_size, stratified_sample


def test_sample_size_follows_cochran_with_finite_population_correction() -> None:
    # 1.96^2 * 0.25 / 0.1^2 = 96.04 -> 97 for a large population; 97 / (1 + 96 / 200) = 65.5 -> 66.
    assert sample_size(0.1, 10_000_000) == 97
    assert sample_size(0.1, 200) == 66
    assert sample_size(0.05, 30) == 28
    assert sample_size(0.1, 0) == 0


def test_sample_size_refuses_a_meaningless_half_width() -> None:
    with pytest.raises(ValueError):
        sample_size(0.0, 100)


def test_proportion_gives_the_wilson_interval() -> None:
    # Wilson interval of 8/10 at 95 %: (0.4902, 0.9433) (Newcombe 1998, table I, method 3).
    figure = proportion(8, 10)
    assert figure["value"] == 0.8
    assert (figure["low"], figure["high"]) == (0.4902, 0.9433)
    assert proportion(0, 0)["value"] is None


def test_allocation_gives_every_group_one_then_proportional_shares() -> None:
    shares = allocate({("en", "a"): 90, ("zh", "a"): 9, ("fr", "b"): 1}, 20)
    assert sum(shares.values()) == 20
    assert shares[("fr", "b")] == 1
    assert shares[("en", "a")] > shares[("zh", "a")] >= 1


def _sample(seed: int, rows: np.ndarray, langs: list[str], reasons: list[str]) -> list[int]:
    drawn = stratified_sample(seed=seed, step="gopher_quality", position=1, decision="removed", rows=rows,
                              langs=langs, reasons=reasons, size=12)
    return [d.row for d in drawn]


def test_stratified_sample_is_reproducible_for_a_seed_and_covers_every_stratum() -> None:
    rows = np.arange(1000)
    langs = ["en"] * 700 + ["zh"] * 290 + ["fr"] * 10
    reasons = ["short"] * 500 + ["symbols"] * 200 + ["short"] * 290 + ["short"] * 10
    first = _sample(7, rows, langs, reasons)
    assert first == _sample(7, rows, langs, reasons)
    assert first != _sample(8, rows, langs, reasons)
    strata = {(langs[r], reasons[r]) for r in first}
    assert strata == {("en", "short"), ("en", "symbols"), ("zh", "short"), ("fr", "short")}
    assert len(set(first)) == 12
    # Visiting the documents in another order draws the same documents.
    order = np.random.default_rng(0).permutation(1000)
    shuffled = _sample(7, rows[order], [langs[i] for i in order], [reasons[i] for i in order])
    assert sorted(shuffled) == sorted(first)
