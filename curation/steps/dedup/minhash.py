"""MinHash signatures of many documents at once, and of one text for callers outside the pipeline.

Semantics are datasketch's (Broder 1997, as implemented by `datasketch.MinHash` 2.0): a document is the set of
its k-shingles (k consecutive tokens of its canonical form, see `normalize`), a signature holds `num_perm`
32-bit minima, and the Jaccard similarity of two documents is estimated by the fraction of equal slots
(`MinHash.jaccard`). A document shorter than k tokens has one shingle, all of its tokens.

Defaults: 5-shingles and 128 permutations, as in Gopher's and datatrove's MinHash deduplication (Rae et al. 2021,
appendix A.1.1; datatrove `MinhashConfig`). Classic MinHash then has a standard deviation sqrt(J(1-J)/128) <= 0.044,
so the estimate is within 0.1 of the true Jaccard for >= 97.7% of pairs at any one similarity and ~99% of pairs
spread over all similarities; rensa's sketch varies less (tests/curation/steps/dedup/test_minhash.py).

Shingling is vectorised over a batch: token hashes from `normalize.tokenize_batch`, combined k at a time by the
same prefix-sum polynomial hash as tokens, and a 64-bit mixer. Two kernels turn shingle hashes into signatures:

- "rensa" (default): rensa's R-MinHash over pre-hashed shingles, ~5 us a 2 KB document. It is a min-wise sketch
  with the same estimator (fraction of equal slots), not bit-identical to datasketch's permutations.
- "datasketch": datasketch 2.0's default "affine32" permutations in numpy, bit-identical to
  `datasketch.MinHash(num_perm, seed, hashfunc=identity).update_batch(shingle_hashes_32(text))`, for checking the
  semantics and for interchange; about 100x slower.

Signatures of different kernels, seeds or sizes are not comparable; persistent indexes record all three.
"""

from __future__ import annotations

import array
import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import rensa

from curation.steps.dedup.hashing import fmix64
from curation.steps.dedup.normalize import TokenBatch, prefix_hashes, tokenize, tokenize_batch

if TYPE_CHECKING:
    from datasketch import LeanMinHash

KERNELS = ("rensa", "datasketch")
EMPTY_SLOT = np.uint32(0xFFFFFFFF)  # a slot no shingle has filled (datasketch's initial hash value)

_SHINGLE_WIDTH_WEIGHT = np.uint64(0xA0761D6478BD642F)
_MAX_SHINGLE_SIZE = 64
_UINT32_CODE = "I" if array.array("I").itemsize == 4 else "L"  # the array.array type code of a 32-bit unsigned


@dataclass(frozen=True)
class MinHashParams:
    """How documents become signatures."""

    shingle_size: int = 5
    num_perm: int = 128
    seed: int = 1
    kernel: str = "rensa"

    def __post_init__(self) -> None:
        if not isinstance(self.shingle_size, int) or not 1 <= self.shingle_size <= _MAX_SHINGLE_SIZE:
            raise ValueError(f"shingle_size must be an integer from 1 to {_MAX_SHINGLE_SIZE}")
        if not isinstance(self.num_perm, int) or not 1 <= self.num_perm <= 1024:
            raise ValueError("num_perm must be an integer from 1 to 1024")
        if not isinstance(self.seed, int) or not 0 <= self.seed < 2**32:
            raise ValueError("seed must be an integer from 0 to 2**32 - 1")
        if self.kernel not in KERNELS:
            raise ValueError(f"kernel must be one of {', '.join(KERNELS)}")


def shingle_hashes(batch: TokenBatch, shingle_size: int) -> tuple[np.ndarray, np.ndarray]:
    """Return the 64-bit hashes of every document's k-shingles, flat, and per-document offsets into them.

    A document with no token has no shingle; one with fewer than k tokens has one shingle of all of them. A shingle
    hash is a polynomial over its token hashes (one prefix sum for the whole batch), mixed with its width.
    """
    counts = batch.token_counts()
    per_doc = np.where(counts >= shingle_size, counts - shingle_size + 1, np.minimum(counts, 1))
    offsets = np.zeros(len(per_doc) + 1, dtype=np.int64)
    np.cumsum(per_doc, out=offsets[1:])
    token_count = len(batch.token_hash)
    if offsets[-1] == 0:
        return np.zeros(0, dtype=np.uint64), offsets
    # A window of k tokens starts at every token but the last k - 1 of each document; a document shorter than k
    # has one window, of all its tokens, at its first token.
    doc_starts = batch.doc_offsets[:-1]
    doc_ends = batch.doc_offsets[1:]
    starts_window = np.ones(token_count, dtype=bool)
    for back in range(1, shingle_size):
        ends = doc_ends[counts >= back]
        starts_window[ends - back] = False
    short = (counts > 0) & (counts < shingle_size)
    starts_window[doc_starts[short]] = True
    first = np.flatnonzero(starts_window)
    width = np.full(len(first), shingle_size, dtype=np.int64)
    if short.any():
        width[np.searchsorted(first, doc_starts[short])] = counts[short]
    raw = prefix_hashes(batch.token_hash, first, first + width - 1)
    return fmix64(raw + width.astype(np.uint64) * _SHINGLE_WIDTH_WEIGHT), offsets


def _datasketch_permutations(num_perm: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Return datasketch 2.0's "affine32" permutation parameters (a odd, b) for `seed`, as it draws them."""
    generator = np.random.RandomState(seed)
    a = generator.randint(0, 1 << 31, num_perm, dtype=np.uint32) * np.uint32(2) + np.uint32(1)
    b = generator.randint(0, 1 << 32, num_perm, dtype=np.uint32)
    return a, b


def _fmix32(values: np.ndarray) -> np.ndarray:
    x = values ^ (values >> np.uint32(16))
    x = x * np.uint32(0x85EBCA6B)
    x ^= x >> np.uint32(13)
    x = x * np.uint32(0xC2B2AE35)
    return x ^ (x >> np.uint32(16))


def _datasketch_kernel(hashes: np.ndarray, offsets: np.ndarray, params: MinHashParams) -> np.ndarray:
    a, b = _datasketch_permutations(params.num_perm, params.seed)
    docs = len(offsets) - 1
    out = np.full((docs, params.num_perm), EMPTY_SLOT, dtype=np.uint32)
    mixed = _fmix32((hashes >> np.uint64(32)).astype(np.uint32))
    counts = np.diff(offsets)
    nonempty = np.flatnonzero(counts > 0)
    # Groups of documents with at most ~64k shingles, so the (shingles x permutations) block stays small.
    start = 0
    while start < len(nonempty):
        stop = start + 1
        budget = 1 << 16
        used = int(counts[nonempty[start]])
        while stop < len(nonempty) and used + int(counts[nonempty[stop]]) <= budget:
            used += int(counts[nonempty[stop]])
            stop += 1
        group = nonempty[start:stop]
        first, last = int(offsets[group[0]]), int(offsets[group[-1] + 1])
        block = mixed[first:last, None] * a[None, :] + b[None, :]
        out[group] = np.minimum.reduceat(block, offsets[group] - first, axis=0)
        start = stop
    return out


def _rensa_kernel(hashes: np.ndarray, offsets: np.ndarray, params: MinHashParams) -> np.ndarray:
    docs = len(offsets) - 1
    if docs == 0:
        return np.zeros((0, params.num_perm), dtype=np.uint32)
    matrix = rensa.RMinHash.digest_matrix_from_flat_token_hashes(
        hashes, offsets.astype(np.uint64), params.num_perm, params.seed
    )
    # Through array.array: ~15% faster than np.array on the nested lists `to_rows` returns.
    flat = array.array(_UINT32_CODE, itertools.chain.from_iterable(matrix.to_rows()))
    out = np.frombuffer(flat, dtype=np.uint32).reshape(docs, params.num_perm)
    out[np.diff(offsets) == 0] = EMPTY_SLOT
    return out


def signatures_of_batch(batch: TokenBatch, params: MinHashParams) -> np.ndarray:
    """Return the (n_docs, num_perm) uint32 signatures of a tokenised batch (empty documents: all EMPTY_SLOT)."""
    hashes, offsets = shingle_hashes(batch, params.shingle_size)
    if params.kernel == "rensa":
        return _rensa_kernel(hashes, offsets, params)
    return _datasketch_kernel(hashes, offsets, params)


def signatures(texts: Sequence[str], params: MinHashParams | None = None) -> np.ndarray:
    """Return the signatures of many texts, one row each (empty texts: all EMPTY_SLOT)."""
    return signatures_of_batch(tokenize_batch(texts), params or MinHashParams())


def signature(text: str, params: MinHashParams | None = None) -> np.ndarray:
    """Return the MinHash signature of one text (all EMPTY_SLOT when its canonical form is empty)."""
    return signatures([text], params)[0]


def is_empty_signature(sig: np.ndarray) -> bool:
    """Say whether a signature comes from an empty text (no shingle at all)."""
    return bool((sig == EMPTY_SLOT).all())


def estimate_similarity(sig_a: np.ndarray, sig_b: np.ndarray) -> float:
    """Estimate the Jaccard similarity of two documents from their signatures (datasketch's `jaccard`)."""
    if sig_a.shape != sig_b.shape:
        raise ValueError(f"signatures of different sizes: {sig_a.shape} and {sig_b.shape}")
    return float(np.count_nonzero(sig_a == sig_b)) / len(sig_a)


def pair_similarities(sigs_a: np.ndarray, sigs_b: np.ndarray) -> np.ndarray:
    """Estimate the Jaccard similarity of each row pair (sigs_a[i], sigs_b[i]), as float32."""
    out = np.empty(len(sigs_a), dtype=np.float32)
    step = 1 << 15
    for start in range(0, len(sigs_a), step):
        equal = sigs_a[start : start + step] == sigs_b[start : start + step]
        out[start : start + step] = equal.mean(axis=1, dtype=np.float32)
    return out


def shingles(text: str, shingle_size: int = 5) -> list[str]:
    """Return the k-shingles of one text as readable strings, in order, with repeats (for inspection)."""
    tokens = tokenize(text)
    if not tokens:
        return []
    if len(tokens) < shingle_size:
        return [" ".join(tokens)]
    return [" ".join(tokens[i : i + shingle_size]) for i in range(len(tokens) - shingle_size + 1)]


def shingle_hashes_32(text: str, shingle_size: int = 5) -> np.ndarray:
    """Return one text's 32-bit shingle hashes, the values datasketch's `update_batch` would see."""
    hashes, _ = shingle_hashes(tokenize_batch([text]), shingle_size)
    return (hashes >> np.uint64(32)).astype(np.uint32)


def to_lean_minhash(sig: np.ndarray, params: MinHashParams | None = None) -> LeanMinHash:
    """Wrap a signature as a datasketch LeanMinHash (for storage or `jaccard`; only "datasketch" signatures
    are comparable with MinHashes that datasketch computes itself)."""
    # Imported here: datasketch imports its asyncio client and scipy (~0.2 s), which no job needs.
    from datasketch import LeanMinHash

    params = params or MinHashParams()
    return LeanMinHash(seed=params.seed, hashvalues=sig.astype(np.uint32), scheme="affine32")
