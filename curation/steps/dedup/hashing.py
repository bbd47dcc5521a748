"""Integer hashing helpers shared by the dedup modules: a 64-bit finaliser and reproducible constants.

Everything here is pure numpy on uint64 arrays, where multiplication and addition wrap modulo 2**64 by design.
The constants come from splitmix64 (Steele, Lea and Flood 2014) with fixed seeds rather than from numpy's random
generators, so the hashes written into a persistent index never change with a numpy upgrade.
"""

from __future__ import annotations

import numpy as np

_MASK64 = (1 << 64) - 1


def splitmix64(seed: int, count: int) -> np.ndarray:
    """Return `count` pseudo-random 64-bit integers from splitmix64 started at `seed`."""
    values = np.empty(count, dtype=np.uint64)
    state = seed & _MASK64
    for index in range(count):
        state = (state + 0x9E3779B97F4A7C15) & _MASK64
        z = state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK64
        values[index] = z ^ (z >> 31)
    return values


def odd_constants(seed: int, count: int) -> np.ndarray:
    """Return `count` odd 64-bit multipliers (odd, so multiplication modulo 2**64 is a bijection)."""
    return splitmix64(seed, count) | np.uint64(1)


_FMIX_C1 = np.uint64(0xFF51AFD7ED558CCD)
_FMIX_C2 = np.uint64(0xC4CEB9FE1A85EC53)
_S33 = np.uint64(33)


def fmix64(values: np.ndarray) -> np.ndarray:
    """Apply MurmurHash3's 64-bit finaliser, an avalanching bijection, element-wise (returns a new array)."""
    x = values ^ (values >> _S33)
    x *= _FMIX_C1
    x ^= x >> _S33
    x *= _FMIX_C2
    x ^= x >> _S33
    return x
