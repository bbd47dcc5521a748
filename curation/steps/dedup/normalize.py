"""Text normalisation and tokenisation for deduplication, vectorised over a whole batch of documents.

Two copies of a page should hash the same when they differ only in ways a reader does not care about. The
canonical form of a text is built like this (`normalize_text` returns it):

1. Unicode NFKC, then case folding (`str.casefold`): full-width Latin, digits and punctuation become ASCII,
   ligatures split, compatibility characters fold, case disappears.
2. Format characters (soft hyphen, zero-width characters, bidi marks, byte-order mark) and variation selectors are
   deleted: they are invisible and come and go between copies of a page.
3. Apostrophes, hyphens, dots and underscores between two letters or digits, and commas between two digits, are
   deleted, joining the word: "it's" and "its", "e-mail" and "email", "U.S." and "US", "1,000" and "1000" are the
   same (copies that strip punctuation would otherwise differ in every such word). Any other punctuation, symbols
   (emoji included), whitespace and control characters separate tokens and are otherwise dropped, so
   "Hello, world!", "hello   world" and "Ｈｅｌｌｏ，ｗｏｒｌｄ！" are the same.
4. Every decimal digit, in any script, becomes "0" (dates, prices and counters change between copies).
5. Chinese and Japanese characters (Han, kana, bopomofo) are one token each, since those languages put no spaces
   between words; any other run of letters, marks and digits is one word token. No segmenter is needed:
   character shingles find near-duplicate Chinese pages as well as word shingles do.
6. Tokens are joined by one space, except between two CJK characters.

A text whose canonical form is empty (only punctuation, emoji or whitespace) is "empty" for deduplication.

Speed: `unicodedata.normalize` costs 15-80 ns a character on real English and Chinese pages (any curly quote or
full-width comma sends it off its quick path), more than the rest of MinHash together. Nearly every character's
NFKC + case fold does not depend on its neighbours, so a batch is normalised with one table lookup per code point,
with tables built once per process from `unicodedata`. Only characters that can compose or reorder with a
neighbour (non-zero combining class, the second half of a canonical composition, Hangul jamo) make a document
"complex"; such documents, rare in English and Chinese, go through `unicodedata.normalize` whole, so the result
always equals whole-text NFKC. The tables follow the running Python's Unicode version (14.0 for Python 3.11);
`NORMALIZATION_VERSION` is stored in every persistent index so that differently normalised signatures never mix.

Token hashes are polynomial hashes modulo 2**64 over each token's code points, computed for the whole batch with
one prefix sum (Karp and Rabin 1987) and finished with MurmurHash3's 64-bit mixer.
"""

from __future__ import annotations

import dataclasses
import functools
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import xxhash

from curation.steps.dedup.hashing import fmix64

# Bump whenever the canonical form or the token hash changes: persistent indexes refuse a different version.
NORMALIZATION_VERSION = 1

# Token class of a code point as it appears in normalised text.
SEP = 0  # separates tokens: whitespace, punctuation, symbols, controls, unassigned
WORD = 1  # part of a word token: letters, marks, letter-like numbers, digits
CJK = 2  # a Chinese or Japanese character: a token by itself
JOIN = 3  # apostrophe, hyphen, dot, underscore: skipped between two word characters, else a separator
NUMBER_JOIN = 4  # comma: skipped between two digits, else a separator

_UNICODE_SIZE = 0x110000
_NUL = 0  # joins the documents of a batch; a control character, so never part of a token
_SPACE = 0x20
_ZERO = 0x30

# (first, last) code point ranges whose letters are shingled one character at a time.
_CJK_RANGES = (
    (0x3005, 0x3007),  # 々 〆 〇
    (0x3021, 0x3029),  # Hangzhou numerals
    (0x3031, 0x3035),  # kana repeat marks
    (0x3038, 0x303C),
    (0x3040, 0x30FF),  # hiragana, katakana (with ー)
    (0x3100, 0x312F),  # bopomofo
    (0x31A0, 0x31BF),  # bopomofo extended
    (0x31F0, 0x31FF),  # katakana phonetic extensions
    (0x3400, 0x4DBF),  # CJK extension A
    (0x4E00, 0x9FFF),  # CJK unified ideographs
    (0xF900, 0xFAFF),  # CJK compatibility ideographs
    (0x1AFF0, 0x1B16F),  # kana extended and supplement
    (0x20000, 0x3FFFF),  # supplementary and tertiary ideographic planes
)
# Han blocks where a code point unassigned in this Python's Unicode still counts as a CJK character, so text in a
# newer CJK extension is not dropped as punctuation.
_HAN_BLOCKS = ((0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0x20000, 0x3FFFF))
_VARIATION_SELECTORS = ((0x180B, 0x180F), (0xFE00, 0xFE0F), (0xE0100, 0xE01EF))
# Vowel and trailing conjoining jamo compose with what precedes them algorithmically (no decomposition data says
# so); leading jamo, which start a syllable, only compose with what follows, which is then flagged itself.
_BACKWARD_JAMO_RANGES = ((0x1160, 0x11FF), (0xD7B0, 0xD7FF))

# Powers of BASE are tabulated up to here; a batch longer than this (a 10 MB document) weighs each further block of
# positions by a power of BASE**T (see `prefix_hashes`).
_POWER_TABLE_SIZE = 1 << 18
_BASE = 0x9E3779B97F4A7C15  # odd, so invertible modulo 2**64
_LENGTH_WEIGHT = np.uint64(0xC2B2AE3D27D4EB4F)


@functools.cache
def _powers() -> tuple[np.ndarray, np.ndarray]:
    """Return BASE**i and BASE**-i modulo 2**64 for i < _POWER_TABLE_SIZE."""
    mask = (1 << 64) - 1
    base = np.full(_POWER_TABLE_SIZE, _BASE, dtype=np.uint64)
    base[0] = 1
    inverse = np.full(_POWER_TABLE_SIZE, pow(_BASE, -1, 1 << 64) & mask, dtype=np.uint64)
    inverse[0] = 1
    return np.cumprod(base, dtype=np.uint64), np.cumprod(inverse, dtype=np.uint64)


@dataclass(frozen=True)
class _Tables:
    """Per-code-point lookup tables, indexed by a raw code point unless said otherwise."""

    fast: np.ndarray  # uint32: class << 24 | normalised code point (digits as "0"); class _SLOW if not one
    interacts: np.ndarray  # bool: the document needs whole-text NFKC
    expansion_start: np.ndarray  # uint32 index into expansion_flat
    expansion_length: np.ndarray  # uint8 (0 for a deleted character)
    expansion_flat: np.ndarray  # uint32 normalised code points (digits not yet folded)
    folded_class: np.ndarray  # uint8: class of a *normalised* code point; 255 marks one to delete
    folded_value: np.ndarray  # uint32: a normalised code point with digits replaced by "0"


# Unicode general categories.
_CATEGORIES = (
    "Cc", "Cf", "Cn", "Co", "Cs", "Ll", "Lm", "Lo", "Lt", "Lu", "Mc", "Me", "Mn", "Nd", "Nl", "No",
    "Pc", "Pd", "Pe", "Pf", "Pi", "Po", "Ps", "Sc", "Sk", "Sm", "So", "Zl", "Zp", "Zs",
)  # fmt: skip
# Ideograph blocks whose every code point is a letter (Lo) that NFKC and case folding leave alone and that never
# composes: filled in directly rather than looked up one by one (90,000 of the 145,000 assigned code points).
_PLAIN_IDEOGRAPHS = ((0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0x20000, 0x2A6DF), (0x2A700, 0x2EBEF), (0x30000, 0x323AF))
# The ranges looked up in `unicodedata`: everything but planes 4 to 13 (unassigned), planes 15 and 16 (private use)
# and the plain ideograph blocks.
_LOOKED_UP = (
    (0x0, 0x33FF), (0x4DC0, 0x4DFF), (0xA000, 0x1FFFF), (0x2A6E0, 0x2A6FF), (0x2EBF0, 0x2FFFF), (0x323B0, 0x3FFFF),
    (0xE0000, 0xE0FFF),
)  # fmt: skip

# Apostrophes (' ’ ‘ `), hyphens (- ‐ ‑), the full stop, the middle dot and the underscore join words; the comma
# joins digits. NFKC has already folded their full-width forms to these.
_JOINERS = frozenset((0x27, 0x2019, 0x2018, 0x60, 0x2D, 0x2010, 0x2011, 0x2E, 0xB7, 0x5F))
_NUMBER_JOINERS = frozenset((0x2C,))

_DELETE = 255  # folded_class of a code point that normalisation deletes
_SLOW = 5  # class in `fast` of a code point that is deleted, expands to several, or interacts with neighbours


def _ranges_mask(ranges: Sequence[tuple[int, int]]) -> np.ndarray:
    mask = np.zeros(_UNICODE_SIZE, dtype=bool)
    for first, last in ranges:
        mask[first : last + 1] = True
    return mask


@functools.cache
def _tables() -> _Tables:
    """Build the lookup tables from `unicodedata` (about 0.08 s, once per process)."""
    size = _UNICODE_SIZE
    codes = np.arange(size, dtype=np.uint32)
    category_ids = {name: index for index, name in enumerate(_CATEGORIES)}
    # Planes 4 to 13 are unassigned and planes 15 and 16 are private use: only the rest needs `unicodedata`.
    categories = np.full(size, category_ids["Cn"], dtype=np.uint8)
    plain_ideographs = _ranges_mask(_PLAIN_IDEOGRAPHS)
    categories[plain_ideographs] = category_ids["Lo"]
    combining = np.zeros(size, dtype=np.uint8)
    for first, last in _LOOKED_UP:
        span = range(first, last + 1)
        categories[first : last + 1] = np.fromiter(
            map(category_ids.__getitem__, map(unicodedata.category, map(chr, span))), dtype=np.uint8, count=len(span)
        )
        combining[first : last + 1] = np.fromiter(
            map(unicodedata.combining, map(chr, span)), dtype=np.uint8, count=len(span)
        )

    def is_category(*names: str) -> np.ndarray:
        wanted = np.zeros(len(_CATEGORIES), dtype=bool)
        wanted[[category_ids[name] for name in names]] = True
        return wanted[categories]

    # Class of a code point as it appears in normalised text.
    folded_class = np.full(size, SEP, dtype=np.uint8)
    letters = is_category("Lu", "Ll", "Lt", "Lm", "Lo", "Nl")
    folded_class[letters | is_category("Mn", "Mc", "No", "Nd")] = WORD
    cjk = _ranges_mask(_CJK_RANGES)
    folded_class[letters & cjk] = CJK
    folded_class[is_category("Cn") & _ranges_mask(_HAN_BLOCKS)] = CJK
    folded_class[list(_JOINERS)] = JOIN
    folded_class[list(_NUMBER_JOINERS)] = NUMBER_JOIN
    deleted = is_category("Cf") | _ranges_mask(_VARIATION_SELECTORS)
    folded_class[deleted] = _DELETE
    folded_class[_NUL] = SEP
    folded_value = np.where(is_category("Nd"), np.uint32(_ZERO), codes).astype(np.uint32)

    # Which code points can compose or reorder with a neighbour.
    interacts_alone = (combining != 0) | _ranges_mask(_BACKWARD_JAMO_RANGES)
    # Skip NUL (the separator used below) and the plain ideographs (no decomposition, folded to themselves).
    assigned = np.flatnonzero(~is_category("Cn", "Co", "Cs") & ~plain_ideographs)[1:]
    characters = list(map(chr, assigned.tolist()))
    for decomposition in map(unicodedata.decomposition, characters):
        if decomposition and decomposition[0] != "<":
            parts = decomposition.split()
            if len(parts) == 2:
                interacts_alone[int(parts[1], 16)] = True

    # NFKC + case fold of every assigned code point in one call: NUL is a stable starter, so it neither composes
    # nor reorders with its neighbours, and splitting on it gives each code point's own result.
    joined = "\x00".join(characters)
    folded = unicodedata.normalize("NFKC", joined).casefold().split("\x00")
    decomposed = unicodedata.normalize("NFKD", joined).split("\x00")

    interacts = interacts_alone.copy()
    fast_value = folded_value.copy()
    fast_class = folded_class.copy()
    fast_class[deleted] = _SLOW
    expansion_start = np.zeros(size, dtype=np.uint32)
    expansion_length = np.ones(size, dtype=np.uint8)
    expansion_length[deleted] = 0
    flat: list[int] = []
    for character, result, nfkd in zip(characters, folded, decomposed, strict=True):
        if result == character:
            # Maps to itself (Hangul syllables, most accented letters): only its decomposition can interact.
            if nfkd != character and interacts_alone[ord(nfkd[0])]:
                interacts[ord(character)] = True
            continue
        code = ord(character)
        result_codes = [ord(part) for part in result]
        if interacts_alone[ord(nfkd[0])] or any(interacts_alone[part] for part in result_codes):
            interacts[code] = True
        if deleted[code]:
            continue
        kept = [part for part in result_codes if folded_class[part] != _DELETE]
        if len(kept) > 1 and all(folded_class[part] in (SEP, JOIN, NUMBER_JOIN) for part in kept):
            kept = [_SPACE]  # "…" folds to "...", which separates tokens just as one space does
        expansion_start[code] = len(flat)
        expansion_length[code] = len(kept)
        flat.extend(kept)
        if len(kept) == 1:
            fast_value[code] = folded_value[kept[0]]
            fast_class[code] = folded_class[kept[0]]
        else:
            fast_class[code] = _SLOW
    # Only slow code points are ever expanded, and the ones that interact go through whole-text NFKC instead: every
    # other code point maps to itself and needs no expansion entry.
    expansion_flat = np.array(flat, dtype=np.uint32)
    fast_class[interacts] = _SLOW
    fast = fast_class.astype(np.uint32)
    fast <<= np.uint32(24)
    fast |= fast_value
    return _Tables(
        fast=fast,
        interacts=interacts,
        expansion_start=expansion_start,
        expansion_length=expansion_length,
        expansion_flat=expansion_flat,
        folded_class=folded_class,
        folded_value=folded_value,
    )


def reference_fold(text: str) -> str:
    """Return NFKC then case fold of a whole text: the definition that the table path reproduces."""
    return unicodedata.normalize("NFKC", text).casefold()


def _utf32(text: str) -> np.ndarray:
    return np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype="<u4")


def _split(fast: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Split looked-up `fast` entries into normalised code points and classes."""
    return fast & np.uint32(0xFFFFFF), (fast >> np.uint32(24)).astype(np.uint8)


def _fold_codes(
    codes: np.ndarray, tables: _Tables, values: np.ndarray, classes: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Fold code points none of which interacts with a neighbour: a table lookup, plus splices where a code point
    is deleted or expands to several. `values` and `classes` are the looked-up fast entries of `codes`."""
    slow = np.flatnonzero(classes == _SLOW)
    if len(slow) == 0:
        return values, classes
    slow_codes = codes[slow]
    lengths = tables.expansion_length[slow_codes].astype(np.int64)
    counts = np.ones(len(codes), dtype=np.intp)
    counts[slow] = lengths
    values = np.repeat(values, counts)
    classes = np.repeat(classes, counts)
    # Where each slow code point's expansion lands in the output, and what it is.
    extra = lengths - 1
    landing = slow + np.cumsum(extra) - extra
    within = np.arange(int(lengths.sum()), dtype=np.int64) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    targets = np.repeat(landing, lengths) + within
    expanded = tables.expansion_flat[np.repeat(tables.expansion_start[slow_codes].astype(np.int64), lengths) + within]
    values[targets] = tables.folded_value[expanded]
    classes[targets] = tables.folded_class[expanded]
    return values, classes


def _fold(texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return the normalised code points (digits as "0") of the texts joined by NUL, their token classes, and the
    positions of the NULs."""
    tables = _tables()
    joined = "\x00".join(texts)
    if joined.count("\x00") != max(len(texts) - 1, 0):
        texts = [text.replace("\x00", " ") for text in texts]
        joined = "\x00".join(texts)
    codes = _utf32(joined)
    values, classes = _split(np.take(tables.fast, codes))
    if len(codes) == 0 or classes.max() != _SLOW:
        # Nothing moved: document i ends where the lengths say.
        boundaries = np.cumsum(np.fromiter(map(len, texts), dtype=np.int64, count=len(texts)) + 1)[:-1] - 1
        return values, classes, boundaries
    slow = np.flatnonzero(classes == _SLOW)
    interacting = slow[tables.interacts[codes[slow]]]
    if len(interacting) == 0:
        values, classes = _fold_codes(codes, tables, values, classes)
        return values, classes, np.flatnonzero(values == _NUL)
    # Documents holding a code point that composes or reorders with a neighbour get whole-text NFKC.
    boundaries = np.flatnonzero(codes == _NUL)
    whole_text_docs = np.unique(np.searchsorted(boundaries, interacting)).tolist()
    value_pieces: list[np.ndarray] = []
    classes_out: list[np.ndarray] = []
    separator_value = np.zeros(1, dtype=np.uint32)
    separator_class = np.full(1, SEP, dtype=np.uint8)
    previous = 0
    for doc in [*whole_text_docs, len(texts)]:
        if doc > previous:
            piece = _utf32("\x00".join(texts[previous:doc]))
            piece_values, piece_classes = _fold_codes(piece, tables, *_split(np.take(tables.fast, piece)))
            value_pieces += [piece_values, separator_value]
            classes_out += [piece_classes, separator_class]
        if doc < len(texts):
            folded = _utf32(reference_fold(texts[doc])).astype(np.uint32)
            folded = folded[tables.folded_class[folded] != _DELETE]
            value_pieces += [tables.folded_value[folded], separator_value]
            classes_out += [tables.folded_class[folded], separator_class]
        previous = doc + 1
    values = np.concatenate(value_pieces[:-1])
    return values, np.concatenate(classes_out[:-1]), np.flatnonzero(values == _NUL)


def prefix_hashes(values: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """Return sum(values[s + j] * BASE**j) modulo 2**64 for every span [s, e] (inclusive), from one prefix sum."""
    powers, inverses = _powers()
    count = len(values)
    if count <= _POWER_TABLE_SIZE:
        weights = powers[:count]
        start_inverse = np.take(inverses, starts)
    else:
        # Position p weighs BASE**p = BASE**(p mod T) * (BASE**T)**(p div T), T the table size.
        blocks = count // _POWER_TABLE_SIZE + 1
        mask = (1 << 64) - 1
        block_base = pow(_BASE, _POWER_TABLE_SIZE, 1 << 64)
        block_power = np.array([pow(block_base, q, 1 << 64) for q in range(blocks)], dtype=np.uint64)
        block_base_inverse = pow(block_base, -1, 1 << 64) & mask
        block_inverse = np.array([pow(block_base_inverse, q, 1 << 64) for q in range(blocks)], dtype=np.uint64)
        position = np.arange(count, dtype=np.int64)
        weights = powers[position % _POWER_TABLE_SIZE] * block_power[position // _POWER_TABLE_SIZE]
        start_inverse = inverses[starts % _POWER_TABLE_SIZE] * block_inverse[starts // _POWER_TABLE_SIZE]
    prefix = np.empty(count + 1, dtype=np.uint64)
    prefix[0] = 0
    np.multiply(values, weights, out=prefix[1:], dtype=np.uint64)
    np.cumsum(prefix[1:], out=prefix[1:])
    span = np.take(prefix[1:], ends)
    span -= np.take(prefix, starts)
    span *= start_inverse
    return span


def has_tokens(texts: Sequence[str]) -> np.ndarray:
    """Return, per text, whether its canonical form is non-empty (cheaper than tokenising)."""
    values, classes, boundaries = _fold(texts)
    in_token = np.zeros(len(classes) + 1, dtype=np.int64)
    np.cumsum((classes == WORD) | (classes == CJK), out=in_token[1:])
    starts = np.concatenate([[0], boundaries + 1])
    ends = np.concatenate([boundaries, [len(values)]])
    return np.asarray((in_token[ends] - in_token[starts]) > 0, dtype=bool)[: len(texts)]


def _join_words(values: np.ndarray, classes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Classify joining punctuation: inside a word (or a number) it becomes part of the word, to be skipped when
    hashing (returned, sorted); anywhere else it becomes a separator. Returns (classes, inner joiner positions)."""
    joiners = np.flatnonzero(classes >= JOIN)
    if len(joiners) == 0:
        return classes, joiners
    classes = classes.copy()
    joiner_classes = classes[joiners]
    classes[joiners] = SEP
    inside = (joiners > 0) & (joiners < len(classes) - 1)
    candidates = joiners[inside]
    inner = (classes[candidates - 1] == WORD) & (classes[candidates + 1] == WORD)
    number = joiner_classes[inside] == NUMBER_JOIN
    if number.any():
        inner &= ~number | ((values[candidates - 1] == _ZERO) & (values[candidates + 1] == _ZERO))
    skipped = candidates[inner]
    classes[skipped] = WORD
    return classes, skipped


@dataclass(frozen=True)
class TokenBatch:
    """The tokens of a batch of documents, as flat arrays.

    `token_hash[doc_offsets[i]:doc_offsets[i + 1]]` are the hashes of document i's tokens, in order. Token t spans
    `values[token_start[t]:token_end[t] + 1]`, the normalised code points, less the positions in `skipped`
    (punctuation inside a word, which the canonical form deletes).
    """

    doc_offsets: np.ndarray  # int64, n_docs + 1
    token_hash: np.ndarray  # uint64
    token_cjk: np.ndarray  # bool
    token_start: np.ndarray  # int64, index into values
    token_end: np.ndarray  # int64, inclusive
    values: np.ndarray  # uint32 normalised code points of the batch, separators included
    skipped: np.ndarray  # int64, sorted positions inside tokens that are not part of them

    @property
    def doc_count(self) -> int:
        return len(self.doc_offsets) - 1

    def token_counts(self) -> np.ndarray:
        return np.diff(self.doc_offsets)

    def token_chars(self, tokens: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Return the code points of the given tokens back to back, and each token's offset into them."""
        starts, ends = self.token_start[tokens], self.token_end[tokens]
        lengths = ends - starts + 1
        offsets = np.zeros(len(tokens) + 1, dtype=np.int64)
        np.cumsum(lengths, out=offsets[1:])
        positions = np.repeat(starts - offsets[:-1], lengths) + np.arange(int(offsets[-1]), dtype=np.int64)
        if len(self.skipped) and len(positions):
            # Both are sorted: find the skipped positions among the tokens' positions by binary search.
            found = np.minimum(np.searchsorted(positions, self.skipped), len(positions) - 1)
            found = found[positions[found] == self.skipped]
            if len(found):
                keep = np.ones(len(positions), dtype=bool)
                keep[found] = False
                kept_before = np.concatenate([[0], np.cumsum(keep)])
                offsets = kept_before[offsets]
                positions = positions[keep]
        return self.values[positions], offsets


def tokenize_batch(texts: Sequence[str]) -> TokenBatch:
    """Normalise and tokenise many texts at once (see the module docstring for the canonical form)."""
    values, classes, boundaries = _fold(texts)
    classes, skipped = _join_words(values, classes)
    is_word = (classes == WORD).view(np.int8)
    is_cjk = classes == CJK
    # A word starts where a word character follows a non-word one and ends before one; a CJK character is a token.
    starts_mask = is_cjk.copy()
    ends_mask = is_cjk.copy()
    if len(is_word):
        starts_mask[0] |= bool(is_word[0])
        starts_mask[1:] |= is_word[1:] > is_word[:-1]
        ends_mask[-1] |= bool(is_word[-1])
        ends_mask[:-1] |= is_word[:-1] > is_word[1:]
    starts = np.flatnonzero(starts_mask)
    ends = np.flatnonzero(ends_mask)
    # Document i's tokens start before the i-th NUL separator and after the one before it.
    doc_offsets = np.empty(len(texts) + 1, dtype=np.int64)
    doc_offsets[0] = 0
    doc_offsets[1:-1] = np.searchsorted(starts, boundaries)
    doc_offsets[-1] = len(starts)
    batch = TokenBatch(
        doc_offsets=doc_offsets,
        token_hash=np.zeros(0, dtype=np.uint64),
        token_cjk=is_cjk[starts],
        token_start=starts.astype(np.int64),
        token_end=ends.astype(np.int64),
        values=values,
        skipped=skipped.astype(np.int64),
    )
    if len(starts) == 0:
        return batch
    raw = prefix_hashes(values, starts, ends)
    lengths = (ends - starts + 1).astype(np.uint64)
    if len(skipped):
        # The few tokens holding skipped punctuation are hashed again without it.
        holders = np.searchsorted(starts, skipped, side="right") - 1  # sorted, as `skipped` is
        affected = holders[np.concatenate([[True], holders[1:] != holders[:-1]])]
        chars, offsets = batch.token_chars(affected)
        raw[affected] = prefix_hashes(chars, offsets[:-1], offsets[1:] - 1)
        lengths[affected] = np.diff(offsets).astype(np.uint64)
    return dataclasses.replace(batch, token_hash=fmix64(raw + lengths * _LENGTH_WEIGHT))


def canonical_codepoints(batch: TokenBatch) -> tuple[np.ndarray, np.ndarray]:
    """Return the canonical forms of a batch as one uint32 array and per-document offsets into it."""
    token_count = len(batch.token_hash)
    chars, token_char_start = batch.token_chars(np.arange(token_count, dtype=np.int64))
    doc_first = batch.doc_offsets[:-1]
    # A space goes before every token except a document's first and a CJK character that follows another.
    needs_space = np.ones(token_count, dtype=bool)
    needs_space[doc_first[doc_first < token_count]] = False
    needs_space[1:] &= ~(batch.token_cjk[1:] & batch.token_cjk[:-1])
    insert_at = token_char_start[:-1][needs_space]
    canonical = np.insert(chars, insert_at, np.uint32(_SPACE))
    doc_char_start = token_char_start[batch.doc_offsets]
    # Spaces inserted before a document's first code point shift it; none is inserted at the start itself.
    shift = np.searchsorted(insert_at, doc_char_start, side="left")
    return canonical, (doc_char_start + shift).astype(np.int64)


def exact_hashes(batch: TokenBatch) -> np.ndarray:
    """Return the 128-bit xxh3 hash of each document's canonical form, as a (n_docs, 2) uint64 array."""
    canonical, offsets = canonical_codepoints(batch)
    return hash_spans(canonical.astype("<u4", copy=False).tobytes(), offsets * 4)


def hash_spans(buffer: bytes, offsets: np.ndarray) -> np.ndarray:
    """Return the 128-bit xxh3 hash of each byte span buffer[offsets[i]:offsets[i + 1]] as (n, 2) uint64."""
    view = memoryview(buffer)
    bounds = offsets.tolist()
    digests = [xxhash.xxh3_128_intdigest(view[bounds[i] : bounds[i + 1]]) for i in range(len(bounds) - 1)]
    mask = (1 << 64) - 1
    out = np.empty((len(digests), 2), dtype=np.uint64)
    out[:, 0] = [digest >> 64 for digest in digests]
    out[:, 1] = [digest & mask for digest in digests]
    return out


def _decode(codepoints: np.ndarray) -> str:
    return codepoints.astype("<u4", copy=False).tobytes().decode("utf-32-le", "surrogatepass")


def normalize_text(text: str) -> str:
    """Return the canonical form of one text: what deduplication compares (see the module docstring)."""
    canonical, offsets = canonical_codepoints(tokenize_batch([text]))
    return _decode(canonical[offsets[0] : offsets[1]])


def tokenize(text: str) -> list[str]:
    """Return the tokens of one text: words, and single Chinese or Japanese characters."""
    batch = tokenize_batch([text])
    chars, offsets = batch.token_chars(np.arange(len(batch.token_hash), dtype=np.int64))
    bounds = offsets.tolist()
    return [_decode(chars[bounds[i] : bounds[i + 1]]) for i in range(len(bounds) - 1)]


def exact_hash(text: str) -> bytes:
    """Return the 16-byte hash of one text's canonical form (the key of normalised exact deduplication)."""
    hi, lo = exact_hashes(tokenize_batch([text]))[0]
    return int(hi).to_bytes(8, "big") + int(lo).to_bytes(8, "big")
