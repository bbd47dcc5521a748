"""Train/test split by prompt group: no prompt, nor a near-duplicate of it, on both sides.

Rows are grouped by the text of their prompt. Identical prompts are one group at once; near-duplicates are found with
the curation MinHash (`curation.steps.dedup.signatures`, 5-shingles, 128 permutations) and LSH banding: two prompts
sharing a band are candidates, a candidate pair whose estimated Jaccard similarity reaches the threshold is an edge,
and groups are the connected components of the edges (a union-find over verified candidates). A chain of
near-duplicates is one group, as it is in curation's dedup.

State is compact, so a million rows fit in little memory: per distinct prompt a 64-bit hash (a dict key), the band
keys (32 bits each; a rare collision only adds a candidate that verification rejects), a row count, and b-bit
MinHash values (the low 8 bits of each slot; Li and König, "b-Bit Minwise Hashing", WWW 2010): equal slots are
counted and the chance agreement of random 8-bit values is removed, J = (P - 2**-8) / (1 - 2**-8).

Assignment is deterministic and independent of the rows' order: each group is named by the smallest hash of its
prompts, groups are ordered by a hash of (seed, name), and whole groups go to `test` in that order until it holds
`test_fraction` of the rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import xxhash

from curation.steps.dedup import MinHashParams, choose_bands, signatures
from curation.steps.dedup.lsh import ALL_PAIRS_BUCKET, small_bucket_pairs, star_and_chain

TRAIN = "train"
TEST = "test"

_BATCH = 4096
_B_BITS_CHANCE = 1.0 / 256.0
_EMPTY_SLOT = np.uint32(0xFFFFFFFF)


_WEIGHTS = np.random.RandomState(0x5EED).randint(1, 2**62, size=(1024,), dtype=np.int64).astype(np.uint64) | 1


def _mix64(values: np.ndarray) -> np.ndarray:
    """MurmurHash3's 64-bit finaliser, element-wise."""
    values = values ^ (values >> np.uint64(33))
    values = values * np.uint64(0xFF51AFD7ED558CCD)
    values = values ^ (values >> np.uint64(33))
    values = values * np.uint64(0xC4CEB9FE1A85EC53)
    return values ^ (values >> np.uint64(33))


def _band_keys(sigs: np.ndarray, bands: int, rows: int) -> np.ndarray:
    """Return the (n, bands) uint32 key of each band of each signature (a mixed weighted sum of its rows)."""
    keys = np.empty((len(sigs), bands), dtype=np.uint32)
    for band in range(bands):
        combined = np.full(len(sigs), _WEIGHTS[-1 - band], dtype=np.uint64)
        for row in range(rows):
            combined += sigs[:, band * rows + row].astype(np.uint64) * _WEIGHTS[row]
        keys[:, band] = (_mix64(combined) >> np.uint64(32)).astype(np.uint32)
    return keys


class _UnionFind:
    def __init__(self, size: int) -> None:
        self.parent = list(range(size))

    def find(self, node: int) -> int:
        parent = self.parent
        while parent[node] != node:
            parent[node] = parent[parent[node]]  # path halving
            node = parent[node]
        return node

    def union(self, a: int, b: int) -> None:
        root_a, root_b = self.find(a), self.find(b)
        if root_a != root_b:
            self.parent[max(root_a, root_b)] = min(root_a, root_b)


@dataclass
class SplitSummary:
    groups: int
    prompts: int
    near_duplicate_links: int
    test_groups: int


class PromptGroups:
    """Collect prompts (one call per row), then assign each prompt's group to train or test."""

    def __init__(self, threshold: float = 0.7, params: MinHashParams | None = None) -> None:
        self.threshold = threshold
        self.params = params or MinHashParams()
        self.bands, self.rows = choose_bands(threshold, self.params.num_perm)
        self._ids: dict[int, int] = {}  # prompt hash -> prompt index
        self._hashes: list[int] = []
        self._counts: list[int] = []
        self._pending: list[str] = []
        self._bbit: list[np.ndarray] = []
        self._keys: list[np.ndarray] = []
        self._empty: list[np.ndarray] = []
        self.links = 0
        # The rows of one item share one prompt text object: they are counted without hashing it again.
        self._last_text: str | None = None
        self._last_index = -1

    def __len__(self) -> int:
        return len(self._hashes)

    def add(self, text: str) -> int:
        """Count one row of this prompt and return the prompt's index."""
        if text is self._last_text:
            self._counts[self._last_index] += 1
            return self._last_index
        key = xxhash.xxh3_64_intdigest(text.encode("utf-8", "surrogatepass"))
        index = self._ids.get(key)
        if index is None:
            index = self._ids[key] = len(self._hashes)
            self._hashes.append(key)
            self._counts.append(0)
            self._pending.append(text)
            if len(self._pending) >= _BATCH:
                self.flush()
        self._counts[index] += 1
        self._last_text, self._last_index = text, index
        return index

    def flush(self) -> None:
        if not self._pending:
            return
        sigs = signatures(self._pending, self.params)
        self._pending = []
        self._empty.append((sigs == _EMPTY_SLOT).all(axis=1))
        self._bbit.append((sigs & np.uint32(0xFF)).astype(np.uint8))
        self._keys.append(_band_keys(sigs, self.bands, self.rows))

    @classmethod
    def merged(cls, parts: Sequence[PromptGroups]) -> tuple[PromptGroups, list[np.ndarray]]:
        """Merge the prompts that collectors of consecutive parts of one export counted; return the merged
        collector (for `groups` and `assign` only: no more `add`) and, per part, each of its prompts' index in it.

        A prompt several parts saw is one prompt, its rows counted together, and prompts keep the order in which
        they first appear over the parts in order: the order one collector fed every row would have given, on
        which the linking of crowded buckets depends (curation's `lsh.star_and_chain`).
        """
        first_part = parts[0]
        merged = cls(first_part.threshold, first_part.params)
        for part in parts:
            part.flush()
        hashes = np.concatenate([np.asarray(part._hashes, dtype=np.uint64) for part in parts])
        counts = np.concatenate([np.asarray(part._counts, dtype=np.int64) for part in parts])
        unique, first, inverse = np.unique(hashes, return_index=True, return_inverse=True)
        appearance = np.argsort(first, kind="stable")  # unique prompts in the order they first appear
        rank = np.empty(len(appearance), dtype=np.int64)
        rank[appearance] = np.arange(len(appearance))
        index = rank[inverse.reshape(-1)]
        taken = first[appearance]
        merged._hashes = unique[appearance].tolist()
        merged._counts = np.bincount(index, weights=counts, minlength=len(appearance)).astype(np.int64).tolist()
        if len(taken):
            merged._bbit = [np.concatenate([array for part in parts for array in part._bbit])[taken]]
            merged._keys = [np.concatenate([array for part in parts for array in part._keys])[taken]]
            merged._empty = [np.concatenate([array for part in parts for array in part._empty])[taken]]
        bounds = np.cumsum([len(part._hashes) for part in parts])[:-1]
        return merged, np.split(index, bounds)

    def _link(self, union: _UnionFind, bbit: np.ndarray, left: np.ndarray, right: np.ndarray) -> None:
        if not len(left):
            return
        equal = (bbit[left] == bbit[right]).mean(axis=1)
        similarity = (equal - _B_BITS_CHANCE) / (1.0 - _B_BITS_CHANCE)
        for a, b in zip(left[similarity >= self.threshold].tolist(), right[similarity >= self.threshold].tolist(),
                        strict=True):
            if union.find(a) != union.find(b):
                self.links += 1
                union.union(a, b)

    def groups(self) -> np.ndarray:
        """Return the group (the index of its first prompt) of every prompt."""
        self.flush()
        count = len(self._hashes)
        union = _UnionFind(count)
        if count:
            bbit = np.concatenate(self._bbit)
            keys = np.concatenate(self._keys)
            usable = np.flatnonzero(~np.concatenate(self._empty))
            by_band = np.ascontiguousarray(keys[usable].T)
            position = np.arange(len(usable), dtype=np.uint64)
            for band in range(self.bands):
                # Sorted by key, then by index (so a bucket's members come in index order): one sort of
                # (key << 32 | position), faster than a stable argsort of the keys.
                ordered = np.sort((by_band[band].astype(np.uint64) << np.uint64(32)) | position)
                order = usable[(ordered & np.uint64(0xFFFFFFFF)).astype(np.int64)]
                sorted_keys = ordered >> np.uint64(32)
                bounds = np.flatnonzero(np.diff(sorted_keys)) + 1
                starts = np.concatenate([[0], bounds])
                sizes = np.diff(np.concatenate([starts, [len(order)]]))
                # Small buckets give all their pairs, crowded ones a star and a chain in index order, as curation's
                # LSH links them. The components do not depend on the order in which candidate pairs are checked.
                small_left, small_right = small_bucket_pairs(starts, sizes)
                left = [order[positions] for positions in small_left]
                right = [order[positions] for positions in small_right]
                for start, size in zip(starts[sizes > ALL_PAIRS_BUCKET].tolist(),
                                       sizes[sizes > ALL_PAIRS_BUCKET].tolist(), strict=True):
                    linked = star_and_chain(order[start:start + size])
                    left.append(linked[0])
                    right.append(linked[1])
                if left:
                    self._link(union, bbit, np.concatenate(left).astype(np.int64),
                               np.concatenate(right).astype(np.int64))
        # Every prompt's root (its component's smallest index), by pointer jumping over the whole forest at once.
        roots = np.asarray(union.parent, dtype=np.int64)
        while True:
            jumped = roots[roots]
            if np.array_equal(jumped, roots):
                return roots
            roots = jumped

    def assign(self, test_fraction: float, seed: int) -> tuple[np.ndarray, SplitSummary]:
        """Return, per prompt, True when its group goes to test, and a summary of the grouping."""
        roots = self.groups()
        count = len(roots)
        is_test = np.zeros(count, dtype=bool)
        if count == 0:
            return is_test, SplitSummary(0, 0, self.links, 0)
        hashes = np.asarray(self._hashes, dtype=np.uint64)
        counts = np.asarray(self._counts, dtype=np.int64)
        unique_roots, inverse = np.unique(roots, return_inverse=True)
        names = np.full(len(unique_roots), np.iinfo(np.uint64).max, dtype=np.uint64)
        np.minimum.at(names, inverse, hashes)
        group_rows = np.bincount(inverse, weights=counts).astype(np.int64)
        seed_bytes = seed.to_bytes(4, "little")
        ranks = np.asarray([xxhash.xxh3_64_intdigest(seed_bytes + int(name).to_bytes(8, "little"))
                            for name in names.tolist()], dtype=np.uint64)
        # Ties of the rank (practically never) are broken by the group's name, so the order is total.
        order = np.lexsort((names, ranks))
        target = test_fraction * int(counts.sum())
        test_groups = np.zeros(len(unique_roots), dtype=bool)
        taken = 0
        total = int(counts.sum())
        for group in order.tolist():
            if taken >= target:
                break
            if taken + int(group_rows[group]) >= total:
                continue  # train keeps at least one group
            test_groups[group] = True
            taken += int(group_rows[group])
        is_test = test_groups[inverse]
        return is_test, SplitSummary(len(unique_roots), count, self.links, int(test_groups.sum()))
