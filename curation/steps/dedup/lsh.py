"""Banding (locality-sensitive hashing) of MinHash signatures, candidate verification and clustering.

Banding follows datasketch's `MinHashLSH` (Leskovec, Rajaraman and Ullman, "Mining of Massive Datasets", ch. 3):
a signature is cut into `bands` bands of `rows` slots, and two documents are candidates when any band is equal;
the probability of that is 1 - (1 - J**rows)**bands. Unlike `MinHashLSH`, every candidate pair is then verified:
it becomes a duplicate edge only when its estimated similarity reaches the threshold, which removes the false
positives that banding lets through. So the bands are chosen for recall: by default the fewest bands (the longest
rows, the fewest spurious candidates) that still make a pair at the threshold a candidate with probability
>= 0.99. At 128 permutations and threshold 0.8 that is 21 bands of 6 rows (S-curve midpoint (1/21)**(1/6) ~ 0.60;
P(candidate) is 0.998 at J = 0.8, 0.28 at J = 0.5, 0.0015 at J = 0.2). datasketch's own choice for 0.8, 9 bands
of 13 rows, makes only 40% of the pairs at J = 0.8 candidates.

Clusters are the connected components of the verified edges (union-find semantics: a chain of near-duplicates is
one cluster).
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass, field

import numpy as np

from curation.steps.dedup.hashing import fmix64, odd_constants
from curation.steps.dedup.minhash import MinHashParams, is_empty_signature, pair_similarities, signature

_ROW_WEIGHTS = odd_constants(0xBA7D0001, 1024)
_BAND_SALTS = odd_constants(0xBA7D0002, 1024)

# A bucket with more members than this is linked as a star around its first member plus a chain in canonical
# order, not all pairs, so one boilerplate page copied 100,000 times costs 200,000 comparisons, not 5 billion.
ALL_PAIRS_BUCKET = 16


def candidate_probability(similarity: float, bands: int, rows: int) -> float:
    """Return the probability that two documents of Jaccard `similarity` share at least one band."""
    return 1.0 - (1.0 - similarity**rows) ** bands


def choose_bands(threshold: float, num_perm: int, min_recall: float = 0.99) -> tuple[int, int]:
    """Return (bands, rows): the longest rows whose bands make a pair at `threshold` a candidate with
    probability >= min_recall (see the module docstring)."""
    for rows in range(num_perm, 0, -1):
        bands = num_perm // rows
        if candidate_probability(threshold, bands, rows) >= min_recall:
            return bands, rows
    return num_perm, 1


def band_hashes(sigs: np.ndarray, bands: int, rows: int) -> np.ndarray:
    """Return the (n, bands) uint64 hash of each band of each signature."""
    combined = np.tile(_BAND_SALTS[:bands], (len(sigs), 1))
    # Row j of every band at once (a strided view), so no full-size 64-bit copy of the signatures is made.
    for row in range(rows):
        combined += sigs[:, row : bands * rows : rows].astype(np.uint64) * _ROW_WEIGHTS[row]
    return fmix64(combined)


def small_bucket_pairs(firsts: np.ndarray, sizes: np.ndarray) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Every pair inside each bucket of 2 to ALL_PAIRS_BUCKET members, as positions in the sorted order.

    Buckets are runs of a sorted order: bucket b starts at `firsts[b]` and holds `sizes[b]` members. The pairs are
    enumerated per bucket size (one `triu_indices` each), in increasing size.
    """
    left: list[np.ndarray] = []
    right: list[np.ndarray] = []
    for size in np.unique(sizes[(sizes >= 2) & (sizes <= ALL_PAIRS_BUCKET)]).tolist():
        starts = firsts[sizes == size]
        i, j = np.triu_indices(size, k=1)
        left.append((starts[:, None] + i[None, :]).ravel())
        right.append((starts[:, None] + j[None, :]).ravel())
    return left, right


def star_and_chain(members: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The pairs that link a bucket of more than ALL_PAIRS_BUCKET members: each to the first, and each to the next."""
    return (np.concatenate([np.full(len(members) - 1, members[0]), members[1:-1]]),
            np.concatenate([members[1:], members[2:]]))


def clusters(node_count: int, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Return a component label per node for the undirected edges (left[i], right[i]).

    Components are numbered in the order of their smallest node (as scipy's `connected_components` numbers them).
    Union-find in numpy: every round hooks each edge's two roots onto the smaller one, then halves paths until
    every node points at its root; the rounds stop when no edge joins two roots. No scipy: importing
    `scipy.sparse.csgraph` costs a job ~0.2 s of start-up, more than this costs on a million edges.
    """
    parent = np.arange(node_count, dtype=np.int64)
    if node_count == 0 or len(left) == 0:
        return parent
    left = np.asarray(left, dtype=np.int64)
    right = np.asarray(right, dtype=np.int64)
    while True:
        left_root, right_root = parent[left], parent[right]
        apart = left_root != right_root
        if not apart.any():
            break
        left_root, right_root = left_root[apart], right_root[apart]
        smaller = np.minimum(left_root, right_root)
        np.minimum.at(parent, left_root, smaller)
        np.minimum.at(parent, right_root, smaller)
        while True:
            jumped = parent[parent]
            if np.array_equal(jumped, parent):
                break
            parent = jumped
    # Each root is its component's smallest node: numbering roots in order numbers components by smallest node.
    return np.unique(parent, return_inverse=True)[1].reshape(-1).astype(np.int64)


@dataclass
class _Entry:
    key: Hashable
    sig: np.ndarray


@dataclass
class NearDuplicateIndex:
    """A small in-memory MinHash LSH index over texts, for callers outside the pipeline (e.g. annotation).

        index = NearDuplicateIndex()
        index.add("a", "The quick brown fox jumps over the lazy dog")
        index.query("the quick brown fox jumps over the lazy dog!")  # [("a", 1.0)]

    Queries return keys whose estimated Jaccard similarity reaches the threshold, most similar first. Empty texts
    (nothing left after normalisation) are never added and never match.
    """

    threshold: float = 0.8
    params: MinHashParams = field(default_factory=MinHashParams)
    bands: int = 0
    rows: int = 0
    _entries: list[_Entry] = field(default_factory=list, init=False, repr=False)
    _buckets: list[dict[int, list[int]]] = field(default_factory=list, init=False, repr=False)

    def __post_init__(self) -> None:
        if not 0.0 < self.threshold <= 1.0:
            raise ValueError("threshold must be in (0, 1]")
        if not self.bands or not self.rows:
            self.bands, self.rows = choose_bands(self.threshold, self.params.num_perm)
        if self.bands * self.rows > self.params.num_perm:
            raise ValueError("bands * rows must not exceed num_perm")
        self._buckets = [{} for _ in range(self.bands)]

    def __len__(self) -> int:
        return len(self._entries)

    def add(self, key: Hashable, text: str) -> bool:
        """Index `text` under `key`; return False (and index nothing) when the text is empty."""
        return self.add_signature(key, signature(text, self.params))

    def add_signature(self, key: Hashable, sig: np.ndarray) -> bool:
        """Index a signature computed with this index's params; return False for an empty one."""
        if is_empty_signature(sig):
            return False
        position = len(self._entries)
        self._entries.append(_Entry(key, sig))
        for band, value in enumerate(band_hashes(sig[None, :], self.bands, self.rows)[0].tolist()):
            self._buckets[band].setdefault(value, []).append(position)
        return True

    def query(self, text: str) -> list[tuple[Hashable, float]]:
        """Return (key, estimated similarity) of indexed texts at or above the threshold, most similar first."""
        return self.query_signature(signature(text, self.params))

    def query_signature(self, sig: np.ndarray) -> list[tuple[Hashable, float]]:
        if is_empty_signature(sig) or not self._entries:
            return []
        found: set[int] = set()
        for band, value in enumerate(band_hashes(sig[None, :], self.bands, self.rows)[0].tolist()):
            found.update(self._buckets[band].get(value, ()))
        if not found:
            return []
        positions = sorted(found)
        stacked = np.stack([self._entries[p].sig for p in positions])
        sims = pair_similarities(stacked, np.broadcast_to(sig, stacked.shape))
        hits = [(self._entries[p].key, float(s)) for p, s in zip(positions, sims.tolist(), strict=True)]
        hits = [hit for hit in hits if hit[1] >= self.threshold]
        hits.sort(key=lambda hit: -hit[1])
        return hits
