"""Banding, candidate pairs, clusters and the in-memory NearDuplicateIndex."""

from __future__ import annotations

import random

import numpy as np
import pytest
from datasketch.lsh import _optimal_param

from curation.steps.dedup.lsh import (
    NearDuplicateIndex,
    band_hashes,
    candidate_probability,
    choose_bands,
    clusters,
)
from curation.steps.dedup.minhash import MinHashParams


def test_default_bands_make_pairs_at_the_threshold_candidates_with_99_percent() -> None:
    bands, rows = choose_bands(0.8, 128)
    assert (bands, rows) == (21, 6)
    assert candidate_probability(0.8, bands, rows) >= 0.99
    assert candidate_probability(0.3, bands, rows) < 0.02
    # datasketch's own choice for 0.8 (minimum weighted error, no verification) misses most pairs at 0.8.
    ds_bands, ds_rows = _optimal_param(0.8, 128, 0.5, 0.5)
    assert candidate_probability(0.8, ds_bands, ds_rows) < 0.5


def test_band_hashes_are_equal_exactly_when_the_band_is() -> None:
    rng = np.random.default_rng(1)
    sigs = rng.integers(0, 2**32, size=(3, 128), dtype=np.uint32)
    sigs[1, :6] = sigs[0, :6]  # first band equal
    hashes = band_hashes(sigs, 21, 6)
    assert hashes.shape == (3, 21)
    assert hashes[0, 0] == hashes[1, 0]
    assert (hashes[0, 1:] != hashes[1, 1:]).all()
    assert (band_hashes(sigs, 21, 6) == hashes).all()


def test_clusters_are_connected_components() -> None:
    labels = clusters(6, np.array([0, 1, 4]), np.array([1, 2, 5]))
    assert labels[0] == labels[1] == labels[2]
    assert labels[4] == labels[5]
    assert len({labels[0], labels[3], labels[4]}) == 3


def test_near_duplicate_index_finds_near_copies_of_english_and_chinese() -> None:
    rng = random.Random(5)
    words = ["".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(6)) for _ in range(3000)]
    english = " ".join(rng.choice(words) for _ in range(200))
    chinese = "".join(chr(rng.randrange(0x4E00, 0x9FA5)) for _ in range(300))
    index = NearDuplicateIndex()
    assert index.add("en", english)
    assert index.add("zh", chinese)
    assert not index.add("empty", "!!! 😀")
    assert len(index) == 2
    hits = index.query(english.upper() + " Read more.")
    assert [key for key, _ in hits] == ["en"] and hits[0][1] >= 0.8
    assert [key for key, _ in index.query("，".join(chinese[i : i + 20] for i in range(0, 300, 20)))] == ["zh"]
    assert index.query(" ".join(rng.choice(words) for _ in range(200))) == []
    assert index.query("") == []


def test_near_duplicate_index_rejects_bad_parameters() -> None:
    with pytest.raises(ValueError):
        NearDuplicateIndex(threshold=0)
    with pytest.raises(ValueError):
        NearDuplicateIndex(params=MinHashParams(num_perm=64), bands=20, rows=6)
