"""Read input files into documents: WARC and WET (fastwarc), JSON Lines (plain, gzip, zstd) and Parquet.

The job engine calls `plan_splits` once per job, which checks every input before any work starts and cuts big files
into splits, then `read_split` once per shard. Reading never raises on bad content: each problem is counted in
`ReadErrors` with what was wrong and where, and every readable document is kept, including those after a damaged
region wherever the format lets the reader find the next record again.

One format per module, each saying what it chooses and why: `warc` (WARC and WET), `jsonl`, `parquet`. Beside
them: `formats` (`FORMATS`, the one list of input formats; recognising a file's format; `ReaderOptions`),
`planning` (`plan_splits`), `errors` (`InputError`, `ReadErrors`), `files` (opening paths and fsspec URLs) and
`records` (records to documents, stable document ids).
"""

from __future__ import annotations

from collections.abc import Iterator

from curation.steps.document import Document
from curation.steps.readers.errors import ERROR_CORRUPT, InputError, ReadErrors
from curation.steps.readers.files import StopCheck, read_head
from curation.steps.readers.formats import FORMATS, SUFFIX_FORMATS, InputSplit, ReaderOptions, detect_format
from curation.steps.readers.jsonl import read_jsonl
from curation.steps.readers.parquet import read_parquet
from curation.steps.readers.planning import plan_splits
from curation.steps.readers.warc import read_warc_gzip, read_warc_plain

__all__ = [
    "FORMATS",
    "SUFFIX_FORMATS",
    "InputError",
    "InputSplit",
    "ReadErrors",
    "ReaderOptions",
    "plan_splits",
    "read_split",
]


def read_split(split: InputSplit, options: ReaderOptions, errors: ReadErrors,
               check_stop: StopCheck | None = None) -> Iterator[Document]:
    """Yield the documents of one split; count every problem in `errors` instead of raising.

    Raises InputError only when the file itself has gone (deleted or unreadable since planning): an empty shard
    would otherwise hide the loss. `check_stop` is called every few megabytes read (JSON Lines and WARC; a
    Parquet row group is bounded) and raises to end reading, so even input with no record boundary ends.
    """
    head = read_head(split.path)
    if not head:
        return
    fmt, compression = detect_format(split.path, head, options)
    if fmt is None:
        errors.add(split.path, ERROR_CORRUPT, f"{split.path}: unknown format, nothing read")
        return
    if compression is not None and fmt != "parquet" and (split.start != 0 or split.end is not None):
        raise ValueError(f"{split.path} is compressed: it cannot be read from byte {split.start}")
    if fmt in ("warc", "wet"):
        if compression == "gzip":
            yield from read_warc_gzip(split, options, errors, check_stop)
        elif compression is None:
            yield from read_warc_plain(split, options, errors, check_stop)
        else:
            errors.add(split.path, ERROR_CORRUPT, f"{split.path}: zstd-compressed WARC is not supported")
    elif fmt == "jsonl":
        yield from read_jsonl(split, options, errors, compression, check_stop)
    else:
        yield from read_parquet(split, options, errors)
