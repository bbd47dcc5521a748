"""Run one export: rows -> decontamination -> PII scan -> spool -> split -> sharded files -> dataset card.

Memory stays bounded whatever the size: rows stream from the source through the checks into a spool file on local
disk (each row's finished JSON line plus the index of its prompt), while only compact per-prompt state is kept for the
split (see `split`). A second pass reads the spool and sends each row to its split's writer. The card is written
last: an export folder with `card.json` is complete, one without it is not an export.

Rows may come in parts, runs of the rows in order (`run_export_parts`): each part's first pass (building its rows,
the checks, its spool and its prompts' MinHash signatures, nearly all of the work) runs in a forked process of its
own, and the parent merges what they counted and their prompts before the second pass reads the spools in order.
The rows, their order and so the bytes and the hash are those of one part.

A re-run into the same folder after a crash clears what the crashed run left and writes the same bytes; a folder
holding a finished export is never written again (`ExportExistsError`): exports are immutable.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import mmap
import os
import pickle
import posixpath
import signal
import struct
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import IO, Any

import numpy as np
import orjson
from fsspec.core import url_to_fs  # type: ignore[import-untyped]

from exports.formats.builders import BuildStats, BuiltRow
from exports.formats.card import render_readme
from exports.formats.decontam import Decontaminator, DecontamStats
from exports.formats.pii import PiiScanner, PiiStats
from exports.formats.spec import FILE_JSONL, ExportSpec
from exports.formats.split import TEST, TRAIN, PromptGroups
from exports.formats.writers import DATA_DIR, SplitFiles, SplitWriter, content_hash, json_line, row_schema

CARD_JSON = "card.json"
README = "README.md"
REMOVED_DIR = "removed"
DECONTAM_LIST = f"{REMOVED_DIR}/decontamination.jsonl"
PROGRESS_EVERY = 5_000

Progress = Callable[[str, int, int | None], None]
# The stages `progress(stage, done, total)` reports: items (or documents) read and checked, then rows written.
STAGE_READ = "rows"
STAGE_WRITE = "write"

# A spooled record: the rows of one prompt that came one after the other (an item's pairs, say): the prompt's
# index, the number of rows and the length of their JSON lines, then the lines. One record per item rather than per
# row: a million-annotation export spools 250,000 records instead of 1.5 million.
_HEADER = struct.Struct("<III")
_SPOOL_CHUNK = 8 << 20
_SPOOL_WRITE = 1 << 20
# Each child process of a parallel export counts the items (or documents) it has read in its own slot of a shared
# page; the parent sums the slots for the progress bar every `_POLL_SECONDS`.
_COUNTER = struct.Struct("<Q")
_POLL_SECONDS = 0.2


class ExportExistsError(RuntimeError):
    """The output folder already holds a finished export (exports are immutable)."""


@dataclass
class ExportResult:
    content_hash: str
    card: dict[str, Any]
    splits: dict[str, SplitFiles]
    stats: BuildStats


def _no_progress(stage: str, done: int, total: int | None) -> None:
    return None


def _write_text(fs: Any, path: str, data: bytes) -> None:
    temporary = f"{path}.tmp-{os.getpid()}"
    with fs.open(temporary, "wb") as handle:
        handle.write(data)
    fs.mv(temporary, path)


class _Spool:
    """Pass 1's output: runs of rows of one prompt, each written as one record (see `_HEADER`).

    Records reach the file in writes of about `_SPOOL_WRITE` bytes: a write per record (a few KB) costs the kernel
    several times more per byte.
    """

    def __init__(self, handle: IO[bytes]) -> None:
        self.handle = handle
        self.index = -1
        self.lines: list[bytes] = []
        self.records: list[bytes] = []
        self.records_size = 0

    def add(self, index: int, line: bytes) -> None:
        if index != self.index:
            self._end_record()
            self.index = index
        self.lines.append(line)

    def _end_record(self) -> None:
        if self.lines:
            data = b"".join(self.lines)
            self.records.append(_HEADER.pack(self.index, len(self.lines), len(data)))
            self.records.append(data)
            self.records_size += _HEADER.size + len(data)
            self.lines = []
            if self.records_size >= _SPOOL_WRITE:
                self._write()

    def _write(self) -> None:
        self.handle.write(b"".join(self.records))
        self.records, self.records_size = [], 0

    def flush(self) -> None:
        """Write out every record, the last one included."""
        self._end_record()
        self._write()


# fallocate(2)'s flags: free a range of a file's blocks (and page-cache pages) without changing its size.
_FALLOC_FL_KEEP_SIZE = 0x01
_FALLOC_FL_PUNCH_HOLE = 0x02


@functools.cache
def _fallocate() -> Callable[[int, int, int, int], int] | None:
    """libc's fallocate (Linux), or None where there is none."""
    function = getattr(ctypes.CDLL(None, use_errno=True), "fallocate", None)
    if function is None:
        return None
    function.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int64, ctypes.c_int64]
    function.restype = ctypes.c_int
    return function  # type: ignore[no-any-return]


def _release(spool: IO[bytes], offset: int, length: int) -> None:
    """Give back the pages of a part of the spool that pass 2 has read (punch a hole in the file).

    Pass 2 writes as many bytes as it reads. Pages freed as it reads are taken again by its writes at once, while
    new pages cost several times more where the host hands memory to a virtual machine as it is first touched
    (measured here, 1.4 GB from a spool to a new file: 3.2-4.0 s, and 1.05-1.16 s releasing as it read). The spool
    and the files it becomes never take the page cache (or the disk) twice over either. Where the system or the
    file system cannot punch holes, nothing is released.
    """
    fallocate = _fallocate()
    if fallocate is not None:
        fallocate(spool.fileno(), _FALLOC_FL_KEEP_SIZE | _FALLOC_FL_PUNCH_HOLE, offset, length)


def _spooled(spool: IO[bytes]) -> Iterator[tuple[int, int, bytes]]:
    """Yield the spool's (prompt index, rows, JSON lines) records in order, reading it in large chunks and
    releasing each chunk once read: the spool is read once."""
    buffer = b""
    offset = 0
    header = _HEADER.size
    read = 0
    while chunk := spool.read(_SPOOL_CHUNK):
        _release(spool, read, len(chunk))
        read += len(chunk)
        buffer = buffer[offset:] + chunk
        offset = 0
        end = len(buffer)
        while offset + header <= end:
            index, count, length = _HEADER.unpack_from(buffer, offset)
            if offset + header + length > end:
                break
            yield index, count, buffer[offset + header:offset + header + length]
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


PartRows = Callable[[BuildStats], Iterable[BuiltRow]]


def _write_part(spool: IO[bytes], mapping: np.ndarray | None, is_test: np.ndarray | None,
                writers: dict[str, SplitWriter], spec: ExportSpec, written: int, rows: int, report: Progress) -> int:
    """Pass 2 over one part: send each spooled run of rows to its split's writer; return the rows written so far
    (of `rows` in all the parts)."""
    needs_rows = any(kind != FILE_JSONL for kind in spec.files)
    train = writers[TRAIN]
    # Per prompt index of this part, the writer of its split (a list lookup per run of rows).
    if is_test is not None:
        in_test = is_test if mapping is None else is_test[mapping]
        by_index: list[SplitWriter] | None = [writers[TEST] if test else train for test in in_test.tolist()]
    else:
        by_index = None
    reported = written
    spool.seek(0)
    for index, count, lines in _spooled(spool):
        writer = by_index[index] if by_index is not None else train
        if needs_rows:
            # JSON lines hold no raw line breaks (orjson escapes them in strings): one row per line.
            for line in lines.splitlines(keepends=True):
                writer.write(orjson.loads(line), line)
        else:
            writer.write_lines(lines, count)
        written += count
        if written - reported >= PROGRESS_EVERY:
            report(STAGE_WRITE, written, rows)
            reported = written
    return written


@dataclass
class _Checks:
    """The checks every row passes before it is spooled, and the prompt groups it is counted in."""

    decontaminator: Decontaminator | None
    scanner: PiiScanner
    groups: PromptGroups | None


@dataclass
class _Part:
    """What pass 1 of one part of the rows counted, for the merge (its rows are in its spool file)."""

    stats: BuildStats
    pii: PiiStats
    decontam: DecontamStats | None
    groups: PromptGroups | None
    rows: int  # spooled: built and through the checks


def _checks(spec: ExportSpec) -> _Checks:
    return _Checks(
        decontaminator=Decontaminator(spec.eval_paths, spec.ngram) if spec.eval_paths else None,
        scanner=PiiScanner(spec.pii_action, names=spec.pii_names),
        groups=PromptGroups(spec.near_duplicate_threshold) if spec.test_fraction > 0 else None,
    )


def _spool_rows(rows: Iterable[BuiltRow], checks: _Checks, spool: IO[bytes],
                on_progress: Callable[[], None]) -> int:
    """Pass 1 over one part: check and clean every row, spool it with its prompt's index; return how many were
    spooled."""
    decontaminator, scanner, groups = checks.decontaminator, checks.scanner, checks.groups
    spooled = _Spool(spool)
    built = kept = 0
    for item in rows:
        built += 1
        if built % PROGRESS_EVERY == 0:
            on_progress()
        if decontaminator is not None and not decontaminator.check(item.row, item.source):
            continue
        row = scanner.clean(item.row)
        if row is None:
            continue
        index = groups.add(item.group) if groups is not None else 0
        # The builder's line is the row's as built; a row the scan redacted is encoded again.
        spooled.add(index, item.line if item.line is not None and row is item.row else json_line(row))
        kept += 1
    spooled.flush()
    on_progress()
    return kept


def _spool_part(part: PartRows, stats: BuildStats, checks: _Checks, spool: IO[bytes],
                on_progress: Callable[[BuildStats], None]) -> _Part:
    rows = _spool_rows(part(stats), checks, spool, lambda: on_progress(stats))
    spool.flush()
    if checks.groups is not None:
        checks.groups.flush()
    return _Part(stats, checks.scanner.stats,
                 checks.decontaminator.stats if checks.decontaminator is not None else None, checks.groups, rows)


def _progress_slot(counters: mmap.mmap, slot: int, parent: int) -> Callable[[BuildStats], None]:
    def write(stats: BuildStats) -> None:
        if os.getppid() != parent:
            os._exit(1)  # the parent died (a worker killed): nobody will read this part
        _COUNTER.pack_into(counters, slot * _COUNTER.size, stats.items or stats.documents)
    return write


def _spool_forked(parts: Sequence[tuple[PartRows, BuildStats]], checks: _Checks, spools: Sequence[IO[bytes]],
                  outcomes: Sequence[IO[bytes]], report: Callable[[int], None]) -> list[_Part]:
    """Run pass 1 of each part in a child process of its own (fork: the children inherit the checks, with the
    evaluation index, as they are); return the parts in order. A failed part raises its error here.

    Each child writes its spool and then its outcome (the counts, or its error, pickled) to anonymous temporary
    files this process made for it: nothing is left on disk whoever dies, and a child whose parent died stops at
    its next progress report.
    """
    counters = mmap.mmap(-1, _COUNTER.size * len(parts))
    children: dict[int, int] = {}
    parent = os.getpid()
    try:
        for slot, (spool, outcome) in enumerate(zip(spools, outcomes, strict=True)):
            pid = os.fork()
            if pid == 0:  # the child: build, spool, pickle its outcome, and leave without the parent's clean-up
                code = 1
                try:
                    part = _spool_part(*parts[slot], checks, spool, _progress_slot(counters, slot, parent))
                    pickle.dump(part, outcome, protocol=pickle.HIGHEST_PROTOCOL)
                    code = 0
                except BaseException as error:  # everything reaches the parent, which raises it
                    outcome.seek(0)
                    outcome.truncate()
                    pickle.dump(_picklable(error), outcome, protocol=pickle.HIGHEST_PROTOCOL)
                finally:
                    outcome.flush()
                    os._exit(code)
            children[pid] = slot
        failed: BaseException | None = None
        while children:
            ended = False
            for pid, slot in list(children.items()):
                done, status = os.waitpid(pid, os.WNOHANG)
                if not done:
                    continue
                ended = True
                del children[pid]
                if status != 0 and failed is None:
                    failed = _part_error(outcomes[slot], slot, status)
                    for other in children:
                        os.kill(other, signal.SIGTERM)
            if not ended:
                report(sum(_COUNTER.unpack_from(counters, i * _COUNTER.size)[0] for i in range(len(parts))))
                time.sleep(_POLL_SECONDS)
        if failed is not None:
            raise failed
        loaded: list[_Part] = []
        for outcome in outcomes:
            outcome.seek(0)
            loaded.append(pickle.load(outcome))  # written by this export's own child process
        return loaded
    finally:
        for pid in children:  # only when this process itself failed: no child outlives it
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        counters.close()


def _picklable(error: BaseException) -> BaseException:
    try:
        pickle.loads(pickle.dumps(error))
    except Exception:  # an exception that cannot travel goes as its text
        return RuntimeError(f"{type(error).__name__}: {error}")
    return error


def _part_error(outcome: IO[bytes], slot: int, status: int) -> BaseException:
    outcome.seek(0)
    if outcome.read(1):
        outcome.seek(0)
        error: BaseException = pickle.load(outcome)
        return error
    if os.WIFSIGNALED(status):
        return RuntimeError(f"part {slot + 1} of the export was killed by signal {os.WTERMSIG(status)}")
    return RuntimeError(f"part {slot + 1} of the export ended with status {os.waitstatus_to_exitcode(status)}")


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

    `rows` is consumed once, in this process; `stats` is filled by the builder that produces them. The other
    arguments are `run_export_parts`'. Safe to re-run into a folder whose earlier run died; refuses a folder that
    holds a finished export.
    """
    return _export(spec, [(lambda part_stats: rows, stats)], output, name=name, command=command, sources=sources,
                   languages=languages, license=license, total_hint=total_hint, progress=progress,
                   spool_dir=spool_dir)


def run_export_parts(
    spec: ExportSpec,
    parts: Sequence[PartRows],
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
    """Write an export whose rows come in `parts`, in order; return its hash and card (with the merged counts).

    Each part is called once with the `BuildStats` its builder fills and returns its rows. One part runs in this
    process; several run pass 1 (build, check, spool, prompt signatures) in a child process each, at the same time,
    and are merged here: the same rows in the same order, so the same bytes and hash as one part would give.
    Parts that read a database must not share this process's connection (the caller closes it before). `total_hint`
    (items or documents to read, when known) only feeds `progress(stage, done, total)`.
    """
    return _export(spec, [(part, BuildStats()) for part in parts], output, name=name, command=command,
                   sources=sources, languages=languages, license=license, total_hint=total_hint, progress=progress,
                   spool_dir=spool_dir)


def _export(
    spec: ExportSpec,
    parts: Sequence[tuple[PartRows, BuildStats]],
    output: str,
    *,
    name: str,
    command: str,
    sources: dict[str, Any] | None,
    languages: Sequence[str],
    license: str,
    total_hint: int | None,
    progress: Progress | None,
    spool_dir: str | None,
) -> ExportResult:
    report = progress or _no_progress
    fs, root = prepare_output(output)
    timings: dict[str, float] = {}
    started = time.perf_counter()
    checks = _checks(spec)
    columns = row_schema(spec).names
    timings["prepare"] = time.perf_counter() - started

    started = time.perf_counter()
    with contextlib.ExitStack() as stack:
        # Anonymous files: a crash leaves nothing behind.
        spools = [stack.enter_context(tempfile.TemporaryFile(dir=spool_dir)) for _ in parts]
        if len(parts) == 1:
            spooled = [_spool_part(*parts[0], checks, spools[0],
                                   lambda part_stats: report(STAGE_READ, part_stats.items or part_stats.documents,
                                                             total_hint))]
        else:
            outcomes = [stack.enter_context(tempfile.TemporaryFile(dir=spool_dir)) for _ in parts]
            spooled = _spool_forked(parts, checks, spools, outcomes, lambda done: report(STAGE_READ, done, total_hint))
        report(STAGE_READ, sum(p.stats.items or p.stats.documents for p in spooled), total_hint)
        timings["read_check_spool"] = time.perf_counter() - started

        # Merge the parts: one set of counts, one set of prompts (each part's prompt indices mapped to the merged).
        started = time.perf_counter()
        stats, pii, decontam = BuildStats(), PiiStats(), DecontamStats() if checks.decontaminator else None
        for part in spooled:
            stats.merge(part.stats)
            pii.merge(part.pii)
            if decontam is not None and part.decontam is not None:
                decontam.merge(part.decontam)
        groups: PromptGroups | None = None
        mappings: list[np.ndarray | None] = [None] * len(spooled)  # None: a part's prompt indices are the merged
        part_groups = [part.groups for part in spooled if part.groups is not None]
        if len(part_groups) == 1:
            groups = part_groups[0]
        elif part_groups:
            groups, merged_indices = PromptGroups.merged(part_groups)
            mappings = list(merged_indices)
        if checks.decontaminator is not None and decontam is not None:
            decontam.eval_records = checks.decontaminator.stats.eval_records
            decontam.eval_too_short = checks.decontaminator.stats.eval_too_short
            decontam.eval_ngrams = checks.decontaminator.stats.eval_ngrams
        is_test, summary = groups.assign(spec.test_fraction, spec.seed) if groups is not None else (None, None)
        timings["split"] = time.perf_counter() - started

        # Pass 2: each part's spooled rows to their split's files, part after part.
        started = time.perf_counter()
        writers = {TRAIN: SplitWriter(output, TRAIN, spec)}
        if is_test is not None:
            writers[TEST] = SplitWriter(output, TEST, spec)
        try:
            written, rows = 0, sum(part.rows for part in spooled)
            report(STAGE_WRITE, written, rows)
            for spool, mapping in zip(spools, mappings, strict=True):
                written = _write_part(spool, mapping, is_test, writers, spec, written, rows, report)
            report(STAGE_WRITE, written, rows)
            splits = {name_: writer.finish() for name_, writer in writers.items()}
        except BaseException:
            for writer in writers.values():
                writer.abort()
            raise
        timings["write"] = time.perf_counter() - started

    digest = content_hash(splits)
    if decontam is not None:
        lines = b"".join(json_line(entry) for entry in decontam.removed)
        fs.makedirs(posixpath.join(root, REMOVED_DIR), exist_ok=True)
        _write_text(fs, posixpath.join(root, DECONTAM_LIST), lines)

    removed = dict(stats.removed)
    if pii.rows_dropped:
        removed["pii_rows_dropped"] = pii.rows_dropped
    if decontam is not None and decontam.rows_removed:
        removed["contaminated_rows"] = decontam.rows_removed
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
        "pii": pii.to_dict(),
        "decontamination": (
            {**decontam.to_dict(), "ngram": spec.ngram, "removed_list": DECONTAM_LIST}
            if decontam is not None else None
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
    return ExportResult(digest, card, splits, stats)
