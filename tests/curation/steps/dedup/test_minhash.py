"""MinHash signatures: datasketch semantics, the accuracy of the Jaccard estimate, shingles, plain functions."""

from __future__ import annotations

import random

import numpy as np
import pytest
from datasketch import MinHash

from curation.steps.dedup.minhash import (
    EMPTY_SLOT,
    MinHashParams,
    estimate_similarity,
    is_empty_signature,
    pair_similarities,
    shingle_hashes,
    shingle_hashes_32,
    shingles,
    signature,
    signatures,
    to_lean_minhash,
)
from curation.steps.dedup.normalize import tokenize_batch


def _word(index: int) -> str:
    """A letters-only word (digits would all normalise to "0")."""
    letters = "abcdefghijklmnopqrstuvwxyz"
    out = ""
    index += 26
    while index:
        index, digit = divmod(index, 26)
        out += letters[digit]
    return out


WORDS = [_word(index) for index in range(5000)]


def _pairs_with_known_jaccard(rng: random.Random, count: int) -> tuple[list[str], list[str], list[float]]:
    """Pairs of texts from shared and private random words; true Jaccard over their 5-shingle hash sets."""
    lefts, rights, truths = [], [], []
    for _ in range(count):
        length = rng.randint(100, 400)
        base = [rng.choice(WORDS) for _ in range(length)]
        other = list(base)
        # Rewrite the fraction of positions that gives a target Jaccard drawn uniformly from [0, 1]: a shingle
        # survives when its 5 words do, so J ~ s / (2 - s) with s = (1 - fraction) ** 5.
        target = rng.random()
        fraction = 1 - (2 * target / (1 + target)) ** 0.2
        for position in rng.sample(range(length), int(length * fraction)):
            other[position] = rng.choice(WORDS)
        left, right = " ".join(base), " ".join(other)
        a = set(shingle_hashes(tokenize_batch([left]), 5)[0].tolist())
        b = set(shingle_hashes(tokenize_batch([right]), 5)[0].tolist())
        lefts.append(left)
        rights.append(right)
        truths.append(len(a & b) / len(a | b))
    return lefts, rights, truths


@pytest.mark.parametrize("kernel,count", [("rensa", 2000), ("datasketch", 600)])
def test_jaccard_estimate_within_0_1_for_99_percent_of_pairs(kernel: str, count: int) -> None:
    params = MinHashParams(num_perm=128, kernel=kernel)
    lefts, rights, truths = _pairs_with_known_jaccard(random.Random(11), count)
    estimates = pair_similarities(signatures(lefts, params), signatures(rights, params))
    errors = np.abs(estimates - np.array(truths))
    assert np.mean(errors <= 0.1) >= 0.99
    assert np.histogram(truths, bins=5, range=(0, 1))[0].min() > count / 10  # every range of similarity is tested


def test_datasketch_kernel_is_bit_identical_to_datasketch_minhash() -> None:
    params = MinHashParams(kernel="datasketch", num_perm=64, seed=3)
    texts = ["The quick brown fox jumps over the lazy dog, twice.", "你好，世界！这是一个测试文本。", "two words", ""]
    ours = signatures(texts, params)
    for text, sig in zip(texts, ours, strict=True):
        reference = MinHash(num_perm=64, seed=3, hashfunc=lambda value: value)
        reference.update_batch(shingle_hashes_32(text).tolist())
        assert (reference.hashvalues == sig).all()
        assert to_lean_minhash(sig, params).jaccard(to_lean_minhash(sig, params)) == 1.0


def test_estimate_similarity_is_the_fraction_of_equal_slots() -> None:
    a = np.arange(128, dtype=np.uint32)
    b = a.copy()
    b[:32] += 1
    assert estimate_similarity(a, b) == 0.75
    with pytest.raises(ValueError):
        estimate_similarity(a, b[:64])


def test_word_shingles_for_latin_text_and_character_shingles_for_chinese() -> None:
    assert shingles("The quick brown fox jumps over", 5) == ["the quick brown fox jumps", "quick brown fox jumps over"]
    assert shingles("我爱北京天安门", 5) == ["我 爱 北 京 天", "爱 北 京 天 安", "北 京 天 安 门"]
    assert shingles("only three words", 5) == ["only three words"]
    assert shingles("!!!", 5) == []


def test_short_document_has_one_shingle_and_empty_document_none() -> None:
    hashes, offsets = shingle_hashes(tokenize_batch(["one two", "", "a b c d e f"]), 5)
    assert list(np.diff(offsets)) == [1, 0, 2]
    assert len(hashes) == 3


def test_signature_of_one_text_equals_its_row_in_a_batch() -> None:
    texts = ["alpha beta gamma delta epsilon zeta", "中文文本的签名测试一下", "x"]
    batch = signatures(texts)
    for text, row in zip(texts, batch, strict=True):
        assert (signature(text) == row).all()


def test_near_copies_are_similar_and_different_texts_are_not() -> None:
    rng = random.Random(3)
    text = " ".join(rng.choice(WORDS) for _ in range(300))
    copy = text.upper().replace(" ", "  ") + " SHARE THIS ARTICLE"
    other = " ".join(rng.choice(WORDS) for _ in range(300))
    assert estimate_similarity(signature(text), signature(copy)) > 0.85
    assert estimate_similarity(signature(text), signature(other)) < 0.1


def test_empty_text_has_the_empty_signature() -> None:
    sig = signature("¡¿…!?")
    assert is_empty_signature(sig)
    assert (sig == EMPTY_SLOT).all()
    assert not is_empty_signature(signature("word"))


def test_params_are_validated() -> None:
    with pytest.raises(ValueError):
        MinHashParams(kernel="simd")
    with pytest.raises(ValueError):
        MinHashParams(shingle_size=0)
    with pytest.raises(ValueError):
        MinHashParams(num_perm=0)
