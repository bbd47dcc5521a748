"""Run one export: rows -> decontamination -> PII scan -> spool -> split -> sharded files -> dataset card.

Memory stays bounded whatever the size: rows stream from the source through the checks into a spool file on local
disk (each row's finished JSON line plus the index of its prompt), while only compact per-prompt state is kept for the
split (see `split`). A second pass reads the spool and sends each row to its split's writer. The card is written
last: an export folder with `card.json` is complete, one without it is not an export.

A re-run into the same folder after a crash clears what the crashed run left and writes the same bytes; a folder
holding a finished export is never written again (`ExportExistsError`): exports are immutable.
"""

from __future__ import annotations

import os
import posixpath
import struct
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import IO, Any

import orjson
from fsspec.core import url_to_fs  # type: ignore[import-untyped]

from exports.formats.builders import BuildStats, BuiltRow
from exports.formats.card import render_readme
from exports.formats.decontam import Decontaminator
from exports.formats.pii import PiiScanner
from exports.formats.spec import FILE_JSONL, ExportSpec
from exports.formats.split import TEST, TRAIN, PromptGroups
from exports.formats.writers import DATA_DIR, SplitFiles, SplitWriter, content_hash, json_line, row_schema

CARD_JSON = "card.json"
README = "README.md"
REMOVED_DIR = "removed"
DECONTAM_LIST = f"{REMOVED_DIR}/decontamination.jsonl"
PROGRESS_EVERY = 5_000

Progress = Callable[[str, int, int | None], None]

# A spooled row: its prompt's index and its JSON line's length, then the line.
_HEADER = struct.Struct("<II")
_SPOOL_CHUNK = 8 << 20
_NO_ROW: dict[str, Any] = {}


class ExportExistsError(RuntimeError):
    """The output folder already holds a finished export (exports are immutable)."""


@dataclass
class ExportResult:
    content_hash: str
    card: dict[str, Any]
    splits: dict[str, SplitFiles]


def _no_progress(stage: str, done: int, total: int | None) -> None:
    return None


def _write_text(fs: Any, path: str, data: bytes) -> None:
    temporary = f"{path}.tmp-{os.getpid()}"
    with fs.open(temporary, "wb") as handle:
        handle.write(data)
    fs.mv(temporary, path)


def _spooled(spool: IO[bytes]) -> Iterator[tuple[int, bytes]]:
    """Yield the spool's (prompt index, JSON line) records in order, reading it in large chunks."""
    buffer = b""
    offset = 0
    header = _HEADER.size
    while chunk := spool.read(_SPOOL_CHUNK):
        buffer = buffer[offset:] + chunk
        offset = 0
        end = len(buffer)
        while offset + header <= end:
            index, length = _HEADER.unpack_from(buffer, offset)
            if offset + header + length > end:
                break
            yield index, buffer[offset + header:offset + header + length]
            offset += header + length
    if offset != len(buffer):
        raise RuntimeError("the export's spool file ends in the middle of a row")


def prepare_output(output: str) -> tuple[Any, str]:
    """Return the output's filesystem and path; refuse a finished export; clear what a crashed run left."""
    fs, path = url_to_fs(output)
    path = path.rstrip("/")
    if fs.exists(posixpath.join(path, CARD_JSON)):
        raise ExportExistsError(f"{output} already holds a finished export; exports are never overwritten")
    for leftover in (DATA_DIR, REMOVED_DIR, README):
        target = posixpath.join(path, leftover)
        if fs.exists(target):
            fs.rm(target, recursive=True)
    fs.makedirs(path, exist_ok=True)
    return fs, path


def run_export(
    spec: ExportSpec,
    rows: Iterable[BuiltRow],
    stats: BuildStats,
    output: str,
    *,
    name: str,
    command: str,
    sources: dict[str, Any] | None = None,
    languages: Sequence[str] = (),
    license: str = "",
    total_hint: int | None = None,
    progress: Progress | None = None,
    spool_dir: str | None = None,
) -> ExportResult:
    """Write an export of `rows` to `output` (a folder or fsspec URL) with its card; return its hash and card.

    `rows` is consumed once; `stats` is filled by the builder that produces them. `total_hint` (items or documents
    to read, when known) only feeds `progress(stage, done, total)`. Safe to re-run into a folder whose earlier run
    died; refuses a folder that holds a finished export.
    """
    report = progress or _no_progress
    fs, root = prepare_output(output)
    timings: dict[str, float] = {}
    started = time.perf_counter()
    decontaminator = Decontaminator(spec.eval_paths, spec.ngram) if spec.eval_paths else None
    scanner = PiiScanner(spec.pii_action, names=spec.pii_names)
    splitting = spec.test_fraction > 0
    groups = PromptGroups(spec.near_duplicate_threshold, ) if splitting else None
    columns = row_schema(spec).names
    timings["prepare"] = time.perf_counter() - started

    # Pass 1: check and clean every row, spool it with its prompt's index.
    started = time.perf_counter()
    built = 0
    with tempfile.TemporaryFile(dir=spool_dir) as spool:
        for item in rows:
            built += 1
            if built % PROGRESS_EVERY == 0:
                report("rows", stats.items or stats.documents, total_hint)
            if decontaminator is not None and not decontaminator.check(item.row, item.source):
                continue
            row = scanner.clean(item.row)
            if row is None:
                continue
            index = groups.add(item.group) if groups is not None else 0
            line = json_line(row)
            spool.write(_HEADER.pack(index, len(line)) + line)
        report("rows", stats.items or stats.documents, total_hint)
        timings["read_check_spool"] = time.perf_counter() - started

        started = time.perf_counter()
        if groups is not None:
            is_test, summary = groups.assign(spec.test_fraction, spec.seed)
        else:
            is_test, summary = None, None
        timings["split"] = time.perf_counter() - started

        # Pass 2: each spooled row to its split's files.
        started = time.perf_counter()
        writers = {TRAIN: SplitWriter(output, TRAIN, spec)}
        if splitting:
            writers[TEST] = SplitWriter(output, TEST, spec)
        needs_rows = any(kind != FILE_JSONL for kind in spec.files)
        spool.seek(0)
        written = 0
        # Per prompt index, the writer of its split (a list lookup per row instead of a numpy scalar test).
        by_index = ([writers[TEST] if test else writers[TRAIN] for test in is_test.tolist()]
                    if is_test is not None else None)
        train = writers[TRAIN]
        try:
            for index, line in _spooled(spool):
                writer = by_index[index] if by_index is not None else train
                writer.write(orjson.loads(line) if needs_rows else _NO_ROW, line)
                written += 1
                if written % PROGRESS_EVERY == 0:
                    report("write", written, None)
            splits = {name_: writer.finish() for name_, writer in writers.items()}
        except BaseException:
            for writer in writers.values():
                writer.abort()
            raise
        timings["write"] = time.perf_counter() - started

    digest = content_hash(splits)
    if decontaminator is not None:
        lines = b"".join(json_line(entry) for entry in decontaminator.stats.removed)
        fs.makedirs(posixpath.join(root, REMOVED_DIR), exist_ok=True)
        _write_text(fs, posixpath.join(root, DECONTAM_LIST), lines)

    removed = dict(stats.removed)
    if scanner.stats.rows_dropped:
        removed["pii_rows_dropped"] = scanner.stats.rows_dropped
    if decontaminator is not None and decontaminator.stats.rows_removed:
        removed["contaminated_rows"] = decontaminator.stats.rows_removed
    card: dict[str, Any] = {
        "name": name,
        "format": spec.format,
        "style": spec.style,
        "merge": spec.merge,
        "columns": columns,
        "content_hash": digest,
        "file_formats": list(spec.files),
        "splits": {
            split: {"rows": files.rows, "bytes": files.bytes, "files": files.files, "digest": files.digest}
            for split, files in splits.items()
        },
        "sources": {
            **(sources or {}),
            "items": stats.items,
            "annotations": stats.annotations,
            "documents": stats.documents,
            "annotators": len(stats.annotators),
            "kinds": sorted(stats.kinds),
        },
        "languages": sorted(set(languages)),
        "license": license,
        "agreement": stats.agreement_summary(),
        "margin": {"pairs": stats.margin_count,
                   "mean": round(stats.margin_sum / stats.margin_count, 4) if stats.margin_count else None},
        "filters": spec.filters_summary(),
        "removed": removed,
        "pii": scanner.stats.to_dict(),
        "decontamination": (
            {**decontaminator.stats.to_dict(), "ngram": spec.ngram, "removed_list": DECONTAM_LIST}
            if decontaminator is not None else None
        ),
        "split": {
            "test_fraction": spec.test_fraction,
            "seed": spec.seed,
            "near_duplicate_threshold": spec.near_duplicate_threshold,
            "prompts": summary.prompts if summary else None,
            "groups": summary.groups if summary else None,
            "near_duplicate_links": summary.near_duplicate_links if summary else None,
            "test_groups": summary.test_groups if summary else None,
        },
        "spec": spec.to_dict(),
        "command": command,
        "timings_seconds": {stage: round(seconds, 3) for stage, seconds in timings.items()},
    }
    _write_text(fs, posixpath.join(root, README), render_readme(card).encode("utf-8"))
    # Last: card.json marks the export as complete.
    _write_text(fs, posixpath.join(root, CARD_JSON),
                orjson.dumps(card, option=orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE))
    return ExportResult(digest, card, splits)
