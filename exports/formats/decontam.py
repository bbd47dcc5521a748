"""Decontamination: remove rows that share an n-gram with an evaluation set, and list what was removed.

Method (GPT-3, Brown et al. 2020, appendix C; Llama 2, Touvron et al. 2023, appendix A.6): both sides are cut into
tokens, a row is contaminated when any of its 13-grams (by default) also occurs in an evaluation record. Tokens are
curation's canonical tokens (`curation.steps.dedup.tokenize`: case-folded words without punctuation, digits folded,
one token per Chinese or Japanese character), so spacing, case and punctuation changes do not hide a copy.
Evaluation records shorter than n tokens cannot be matched this way; they are counted as `too_short` in the card
rather than silently ignored.

Evaluation files: JSON Lines (plain, .gz or .zst), a JSON array, Parquet, or plain text (one record a line). Every
string inside a record counts (prompt, answer, the contents of messages ...). A record's id is its `id` field, else
`<file>:<line>`.
"""

from __future__ import annotations

import gzip
import io
import json
import posixpath
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import fsspec  # type: ignore[import-untyped]
import pyarrow.parquet as pq  # type: ignore[import-untyped]
import xxhash
import zstandard

from curation.steps.dedup import tokenize

Row = dict[str, Any]

# The removed list keeps every entry up to this many; the count beyond is still exact.
_MAX_LISTED = 100_000


class EvalFileError(ValueError):
    """An evaluation file cannot be read; the message names it and says why."""


def _ngram_hashes(tokens: list[str], n: int) -> Iterator[tuple[int, int]]:
    """Yield (hash, start token) of each n-gram of `tokens`."""
    for start in range(len(tokens) - n + 1):
        yield xxhash.xxh3_64_intdigest("\x1f".join(tokens[start : start + n]).encode("utf-8")), start


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _strings(item)


def _open_text(path: str) -> io.TextIOBase:
    raw = fsspec.open(path, "rb").open()
    head = raw.read(4)
    raw.seek(0)
    if head[:2] == b"\x1f\x8b":
        stream: Any = gzip.GzipFile(fileobj=raw)
    elif head == b"\x28\xb5\x2f\xfd":
        stream = zstandard.ZstdDecompressor().stream_reader(raw)
    else:
        stream = raw
    return io.TextIOWrapper(stream, encoding="utf-8")


def read_eval_records(path: str) -> Iterator[tuple[str, list[str]]]:
    """Yield (record id, its strings) of an evaluation file; raise EvalFileError when it cannot be read."""
    name = posixpath.basename(path)
    try:
        if path.endswith(".parquet"):
            with fsspec.open(path, "rb") as handle:
                table = pq.ParquetFile(handle)
                row_number = 0
                for batch in table.iter_batches(batch_size=1024):
                    for record in batch.to_pylist():
                        row_number += 1
                        yield str(record.get("id", f"{name}:{row_number}")), list(_strings(record))
            return
        with _open_text(path) as text:
            if path.endswith(".json"):
                data = json.load(text)
                records = data if isinstance(data, list) else [data]
                for number, record in enumerate(records, start=1):
                    record_id = record.get("id") if isinstance(record, dict) else None
                    yield str(record_id if record_id is not None else f"{name}:{number}"), list(_strings(record))
                return
            for number, line in enumerate(text, start=1):
                if not line.strip():
                    continue
                if path.endswith(".txt"):
                    yield f"{name}:{number}", [line]
                    continue
                try:
                    record = json.loads(line)
                except json.JSONDecodeError as error:
                    raise EvalFileError(f"{path}: line {number} is not JSON ({error.msg})") from error
                record_id = record.get("id") if isinstance(record, dict) else None
                yield str(record_id if record_id is not None else f"{name}:{number}"), list(_strings(record))
    except FileNotFoundError as error:
        raise EvalFileError(f"evaluation file not found: {path}") from error
    except UnicodeDecodeError as error:
        raise EvalFileError(f"{path}: not UTF-8 text ({error.reason})") from error
    except (OSError, json.JSONDecodeError, zstandard.ZstdError) as error:
        raise EvalFileError(f"{path}: cannot be read ({error})") from error


@dataclass
class DecontamStats:
    eval_records: int = 0
    eval_too_short: int = 0
    eval_ngrams: int = 0
    rows_checked: int = 0
    rows_removed: int = 0
    removed: list[dict[str, Any]] = field(default_factory=list)

    def merge(self, other: DecontamStats) -> None:
        """Add another part's checks (the evaluation side is the same in every part)."""
        self.rows_checked += other.rows_checked
        self.rows_removed += other.rows_removed
        self.removed.extend(other.removed[:max(_MAX_LISTED - len(self.removed), 0)])

    def to_dict(self) -> dict[str, Any]:
        return {
            "eval_records": self.eval_records,
            "too_short": self.eval_too_short,
            "eval_ngrams": self.eval_ngrams,
            "rows_checked": self.rows_checked,
            "rows_removed": self.rows_removed,
        }


class Decontaminator:
    """An n-gram index of evaluation records; `check` says which one a row copies from, if any."""

    def __init__(self, paths: Iterable[str], n: int = 13) -> None:
        self.n = n
        self.stats = DecontamStats()
        self._index: dict[int, str] = {}  # n-gram hash -> the first evaluation record holding it
        for path in paths:
            for record_id, strings in read_eval_records(path):
                self.stats.eval_records += 1
                added = 0
                for text in strings:
                    for key, _ in _ngram_hashes(tokenize(text), n):
                        self._index.setdefault(key, record_id)
                        added += 1
                if not added:
                    self.stats.eval_too_short += 1
        self.stats.eval_ngrams = len(self._index)

    def check(self, row: Row, source: str) -> bool:
        """Return True to keep the row; a contaminated row is counted and listed with the n-gram it shares."""
        self.stats.rows_checked += 1
        for text in _strings(row):
            tokens = tokenize(text)
            for key, start in _ngram_hashes(tokens, self.n):
                record_id = self._index.get(key)
                if record_id is not None:
                    self.stats.rows_removed += 1
                    if len(self.stats.removed) < _MAX_LISTED:
                        self.stats.removed.append(
                            {"source": source, "eval_record": record_id,
                             "ngram": " ".join(tokens[start : start + self.n])}
                        )
                    return False
        return True
