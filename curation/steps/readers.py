"""Read input files into documents: WARC and WET (fastwarc), JSON Lines (plain, gzip, zstd) and Parquet.

The job engine calls `plan_splits` once per job, which checks every input before any work starts and cuts big files
into splits, then `read_split` once per shard. Reading never raises on bad content: each problem is counted in
`ReadErrors` with what was wrong and where, and every readable document is kept, including those after a damaged
region wherever the format lets the reader find the next record again.

Choices, and why:
- WARC `response` and `resource` records with an HTML payload become documents carrying the raw payload in `html`;
  the `extract` step decodes and extracts them (decoding there keeps reading cheap). WET `conversion` records become
  text documents. Other payloads (images, PDFs, plain text) are skipped as "not_html", responses with a status
  outside 2xx (redirects, error pages) as "http_status". Request, metadata, revisit and warcinfo records are ignored.
- A damaged uncompressed WARC is resynchronised at the next `WARC/1.` (or `WARC/0.`) header whose Content-Length
  leads to the record separator and the next header; a damaged `.warc.gz` at the next gzip member
  (`\\x1f\\x8b\\x08`) that decompresses to a WARC header. Byte-range splits of a plain WARC find their first record
  the same way, so a record is read by exactly one split. Every record is checked against its framing (plain
  files) or its gzip member's checksum (compressed files) before it is emitted, so a record cut short by damage is
  dropped rather than emitted with the next record's bytes inside it.
- A truncated file keeps every record decoded before the end, including the last, partial one: a page cut short is
  still a page, as crawlers' own `WARC-Truncated` records are.
- JSON Lines must be UTF-8 (RFC 8259). A line that is not is skipped and counted as "bad_encoding" instead of being
  decoded with replacement characters, which would put U+FFFD into training text without anyone noticing.
- Lines and records are read with a bounded buffer: anything over `max_record_bytes` is skipped as "too_large"
  without being held in memory.
- `source.offset` is the uncompressed byte offset of the record (WARC, WET) or line (JSON Lines). JSON Lines
  documents also carry the 1-based `source.line` when their split starts at the beginning of the file (every
  compressed file and every file up to `target_bytes`); a split starting mid-file cannot know its line numbers
  without reading everything before it.
- Document ids are stable across re-runs: the input's own id, else the WARC-Record-ID, else a hash of the path and
  the record's position (byte offset for WARC and JSON Lines, which every split knows; row for Parquet).
"""

from __future__ import annotations

import bisect
import datetime
import decimal
import gzip
import io
import json
import math
import os
import re
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, BinaryIO, cast

import brotli  # type: ignore[import-untyped]
import fsspec  # type: ignore[import-untyped]
import pyarrow.parquet as pq  # type: ignore[import-untyped]
import xxhash
import zstandard
from fastwarc.warc import ArchiveIterator, WarcRecord, WarcRecordType
from isal import isal_zlib  # ISA-L inflate: about 1.7x zlib's speed here, the same API and errors

from curation.steps import jsoncodec
from curation.steps.document import Document, Source

FORMATS = ("auto", "warc", "wet", "jsonl", "parquet")

# File name endings and the format they imply, longest first so that ".warc.wet.gz" wins over ".gz"-less matches.
SUFFIX_FORMATS: tuple[tuple[str, str], ...] = (
    (".warc.wet.gz", "wet"),
    (".wet.gz", "wet"),
    (".wet", "wet"),
    (".warc.gz", "warc"),
    (".warc", "warc"),
    (".jsonl.gz", "jsonl"),
    (".jsonl.zst", "jsonl"),
    (".json.gz", "jsonl"),
    (".jsonl", "jsonl"),
    (".parquet", "parquet"),
)

# Error kinds counted in ReadErrors.
ERROR_TRUNCATED = "truncated"
ERROR_CORRUPT = "corrupt"
ERROR_TOO_LARGE = "too_large"
ERROR_NOT_HTML = "not_html"
ERROR_HTTP_STATUS = "http_status"
ERROR_CONTENT_ENCODING = "content_encoding"
ERROR_BAD_ENCODING = "bad_encoding"
ERROR_BAD_JSON = "bad_json"
ERROR_MISSING_TEXT = "missing_text"
ERROR_LONE_SURROGATE = "lone_surrogate"  # the document is kept, with U+FFFD in place of each lone surrogate

HTML_MEDIA_TYPES = frozenset({"text/html", "application/xhtml+xml"})

# Payloads that start like this are not HTML whatever their Content-Type says.
_BINARY_MAGIC = (
    b"\x89PNG",
    b"GIF87a",
    b"GIF89a",
    b"\xff\xd8\xff",
    b"%PDF",
    b"PK\x03\x04",
    b"RIFF",
    b"\x1f\x8b",
    b"\x00\x00\x01\x00",
    b"wOFF",
    b"wOF2",
    b"OggS",
    b"ID3",
    b"\x00\x00\x00",
)

_InflateError = cast(type[Exception], isal_zlib.error)  # its stub declares an instance, not the class

_GZIP_MAGIC = b"\x1f\x8b"
_GZIP_MEMBER_MAGIC = b"\x1f\x8b\x08"
_ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
_PARQUET_MAGIC = b"PAR1"
_UTF8_BOM = b"\xef\xbb\xbf"

_CHUNK = 1 << 16  # bytes read from a file at a time
_SCAN_CHUNK = 1 << 20  # bytes scanned at a time when looking for the next record
_WARC_HEADER_LIMIT = 1 << 16  # a WARC header block longer than this is treated as damage
_FRAMING_SLACK = 64  # how far past a record's declared end the next header may begin
_PARQUET_BATCH_ROWS = 1024
_MAX_MESSAGES = 5  # first messages kept per (file, kind)

_WARC_MARKER_RE = re.compile(rb"WARC/[01]\.")
_CONTENT_LENGTH_RE = re.compile(rb"(?:^|\r?\n)content-length[ \t]*:[ \t]*(\d+)", re.IGNORECASE)


@dataclass(frozen=True)
class ReaderOptions:
    """How to read a job's inputs; a recipe's `reader:` mapping overrides these defaults."""

    format: str = "auto"  # auto|warc|wet|jsonl|parquet; auto = by file name, failing that by the first bytes
    text_field: str = "text"  # JSON Lines / Parquet field holding the text
    id_field: str = "id"  # the input's own id, used as the document id when present
    max_record_bytes: int = 64 * 1024 * 1024  # longer records are skipped and counted as "too_large"

    def __post_init__(self) -> None:
        if self.format not in FORMATS:
            raise ValueError(f"unknown input format {self.format!r} (expected one of: {', '.join(FORMATS)})")
        if not self.text_field:
            raise ValueError("text_field must not be empty")
        if not self.id_field:
            raise ValueError("id_field must not be empty")
        if self.max_record_bytes <= 0:
            raise ValueError("max_record_bytes must be positive")


@dataclass(frozen=True)
class InputSplit:
    """A piece of one input file that one shard reads; a record belongs to the split in which it starts."""

    path: str  # local path or fsspec URL as given by the user
    start: int = 0  # byte offset (uncompressed WARC/JSONL) or first row (Parquet)
    end: int | None = None  # exclusive; None = to the end


class InputError(ValueError):
    """An input cannot be read at all: missing, unreadable, or of unknown format. The message is one line."""


@dataclass
class _ErrorEntry:
    count: int = 0
    messages: list[str] = field(default_factory=list)


class ReadErrors:
    """Count read problems per (file, kind), keeping the first few messages of each kind."""

    def __init__(self) -> None:
        self._entries: dict[tuple[str, str], _ErrorEntry] = {}

    def add(self, file: str, kind: str, message: str) -> None:
        entry = self._entries.get((file, kind))
        if entry is None:
            entry = self._entries[(file, kind)] = _ErrorEntry()
        entry.count += 1
        if len(entry.messages) < _MAX_MESSAGES:
            entry.messages.append(message)

    def count(self, kind: str | None = None, file: str | None = None) -> int:
        """Return how many problems were counted, optionally of one kind and/or in one file."""
        return sum(
            entry.count
            for (entry_file, entry_kind), entry in self._entries.items()
            if (kind is None or entry_kind == kind) and (file is None or entry_file == file)
        )

    def messages(self, kind: str | None = None) -> list[str]:
        """Return the kept messages, optionally of one kind."""
        return [
            message
            for (_, entry_kind), entry in sorted(self._entries.items())
            if kind is None or entry_kind == kind
            for message in entry.messages
        ]

    @property
    def total(self) -> int:
        return self.count()

    def __bool__(self) -> bool:
        return bool(self._entries)

    def merge(self, other: ReadErrors) -> None:
        """Add another shard's counts and messages to these."""
        for (file, kind), theirs in other._entries.items():
            entry = self._entries.get((file, kind))
            if entry is None:
                entry = self._entries[(file, kind)] = _ErrorEntry()
            entry.count += theirs.count
            room = _MAX_MESSAGES - len(entry.messages)
            if room > 0:
                entry.messages.extend(theirs.messages[:room])

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-able summary: totals per kind and, per file and kind, the count and first messages."""
        by_kind: dict[str, int] = {}
        files: dict[str, dict[str, dict[str, Any]]] = {}
        for (file, kind), entry in sorted(self._entries.items()):
            by_kind[kind] = by_kind.get(kind, 0) + entry.count
            files.setdefault(file, {})[kind] = {"count": entry.count, "messages": list(entry.messages)}
        return {"total": self.total, "by_kind": by_kind, "files": files}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ReadErrors:
        """Rebuild errors saved with `to_dict`, so that shards' errors can be merged later."""
        errors = cls()
        for file, kinds in data.get("files", {}).items():
            for kind, entry in kinds.items():
                errors._entries[(file, kind)] = _ErrorEntry(int(entry["count"]), list(entry["messages"]))
        return errors

    def __repr__(self) -> str:
        return f"ReadErrors({self.to_dict()['by_kind']})"


# ---------------------------------------------------------------------------------------------------------------
# Planning


def plan_splits(
    paths: Sequence[str], options: ReaderOptions, target_bytes: int = 64 * 1024 * 1024
) -> list[InputSplit]:
    """Check every input and cut it into splits of about `target_bytes`; raise InputError before any work starts.

    A directory expands to the supported files inside it (recursive, sorted, hidden files skipped). Uncompressed
    JSON Lines, WARC and WET files bigger than `target_bytes` are cut into byte ranges; compressed files are one
    split each (a compressed stream cannot be entered in the middle); Parquet files are split by row groups.
    An empty file gives one split, which yields nothing.
    """
    if target_bytes <= 0:
        raise ValueError("target_bytes must be positive")
    if isinstance(paths, str):
        paths = [paths]
    if not paths:
        raise InputError("no input paths given")
    files: dict[str, None] = {}  # ordered and without repeats: a file named twice is read once
    for path in paths:
        files.update(dict.fromkeys(_expand(path)))
    splits: list[InputSplit] = []
    for file in files:
        splits.extend(_plan_file(file, options, target_bytes))
    return splits


def _is_url(path: str) -> bool:
    return "://" in path


def _expand(path: str) -> list[str]:
    """Return the input files `path` names: itself, or the supported files under it if it is a directory."""
    if _is_url(path):
        try:
            fs, root = fsspec.core.url_to_fs(path)
            exists = fs.exists(root)
            is_dir = exists and fs.isdir(root)
        except (OSError, ValueError, ImportError) as error:
            raise InputError(f"input not readable: {path} ({_one_line(error)})") from error
        if not exists:
            raise InputError(f"input not found: {path}")
        if not is_dir:
            return [path]
        root = root.rstrip("/")
        found = [
            fs.unstrip_protocol(name)
            for name in sorted(fs.find(root))
            if _format_from_name(name) and not _is_hidden(name[len(root) :])
        ]
    else:
        if not os.path.exists(path):
            raise InputError(f"input not found: {path}")
        if not os.path.isdir(path):
            return [path]
        found = []
        for directory, subdirectories, names in os.walk(path):
            subdirectories[:] = sorted(name for name in subdirectories if not _is_hidden(name))
            found.extend(
                os.path.join(directory, name)
                for name in names
                if _format_from_name(name) and not _is_hidden(name)
            )
        found.sort()
    if not found:
        suffixes = ", ".join(suffix for suffix, _ in SUFFIX_FORMATS)
        raise InputError(f"no supported input files in {path} (looked for {suffixes})")
    return found


def _is_hidden(relative: str) -> bool:
    # Skip dot files and the markers Spark and Hadoop leave next to data (_SUCCESS, _metadata, .crc).
    return any(part.startswith((".", "_")) for part in relative.split("/") if part)


def _format_from_name(path: str) -> str | None:
    name = path.lower()
    for suffix, fmt in SUFFIX_FORMATS:
        if name.endswith(suffix):
            return fmt
    return None


def _open_binary(path: str) -> BinaryIO:
    if _is_url(path):
        # fsspec's remote files take no size in readline(); a BufferedReader gives the bounded readline we need.
        return io.BufferedReader(fsspec.open(path, "rb").open(), buffer_size=1 << 20)
    return open(path, "rb")


def _file_size(path: str) -> int:
    if _is_url(path):
        fs, root = fsspec.core.url_to_fs(path)
        return int(fs.size(root))
    return os.path.getsize(path)


def _one_line(error: BaseException) -> str:
    return " ".join(str(error).split()) or type(error).__name__


def _compression(head: bytes) -> str | None:
    if head.startswith(_GZIP_MAGIC):
        return "gzip"
    if head.startswith(_ZSTD_MAGIC):
        return "zstd"
    return None


def _peek_content(head: bytes, compression: str | None) -> bytes:
    """Return the first bytes of the (decompressed) content, for sniffing a format."""
    try:
        if compression == "gzip":
            return zlib.decompressobj(31).decompress(head, 512)
        if compression == "zstd":
            return zstandard.ZstdDecompressor().decompressobj().decompress(head)[:512]
    except (zlib.error, zstandard.ZstdError):
        return b""
    return head


def _sniff_format(content: bytes) -> str | None:
    if content.startswith(b"WARC/"):
        return "warc"
    if content.startswith(_PARQUET_MAGIC):
        return "parquet"
    if content.lstrip(_UTF8_BOM + b" \t\r\n").startswith(b"{"):
        return "jsonl"
    return None


def _detect(path: str, head: bytes, options: ReaderOptions) -> tuple[str | None, str | None]:
    """Return (format, compression) of a file from the options, its name, or failing both its first bytes."""
    compression = _compression(head)
    if options.format != "auto":
        return options.format, compression
    fmt = _format_from_name(path)
    if fmt is None:
        fmt = _sniff_format(_peek_content(head, compression))
    return fmt, compression


def _read_head(path: str) -> bytes:
    try:
        with _open_binary(path) as stream:
            return stream.read(4096)
    except IsADirectoryError as error:
        raise InputError(f"input not readable: {path} (is a directory)") from error
    except FileNotFoundError as error:
        raise InputError(f"input not found: {path}") from error
    except OSError as error:
        raise InputError(f"input not readable: {path} ({_one_line(error)})") from error


def _plan_file(path: str, options: ReaderOptions, target_bytes: int) -> list[InputSplit]:
    head = _read_head(path)
    if not head:
        return [InputSplit(path)]
    fmt, compression = _detect(path, head, options)
    if fmt is None:
        raise InputError(
            f"unknown input format: {path} (name it .warc[.gz], .wet[.gz], .jsonl[.gz|.zst], .json.gz or "
            f".parquet, or set the reader format)"
        )
    if fmt == "parquet":
        return _plan_parquet(path, options, target_bytes)
    if fmt in ("warc", "wet") and compression == "zstd":
        raise InputError(f"zstd-compressed WARC is not supported: {path} (recompress it as .warc.gz)")
    if compression is not None:
        return [InputSplit(path)]
    size = _file_size(path)
    if size <= target_bytes:
        return [InputSplit(path)]
    starts = list(range(0, size, target_bytes))
    return [InputSplit(path, start, start + target_bytes if start + target_bytes < size else None) for start in starts]


def _plan_parquet(path: str, options: ReaderOptions, target_bytes: int) -> list[InputSplit]:
    try:
        with _open_binary(path) as stream:
            parquet = pq.ParquetFile(stream)
            metadata = parquet.metadata
            columns = parquet.schema_arrow.names
    except Exception as error:  # pyarrow raises several unrelated types for a damaged footer
        raise InputError(f"input not readable as Parquet: {path} ({_one_line(error)})") from error
    if options.text_field not in columns:
        raise InputError(
            f"Parquet input {path} has no column {options.text_field!r} (columns: {', '.join(columns)}); "
            f"set the reader's text_field"
        )
    splits: list[InputSplit] = []
    first_row = row = size = 0
    for index in range(metadata.num_row_groups):
        group = metadata.row_group(index)
        row += group.num_rows
        size += group.total_byte_size
        if size >= target_bytes:
            splits.append(InputSplit(path, first_row, row))
            first_row, size = row, 0
    if row > first_row or not splits:
        splits.append(InputSplit(path, first_row, None))
    else:
        last = splits[-1]
        splits[-1] = InputSplit(path, last.start, None)
    return splits


# ---------------------------------------------------------------------------------------------------------------
# Reading


def read_split(split: InputSplit, options: ReaderOptions, errors: ReadErrors) -> Iterator[Document]:
    """Yield the documents of one split; count every problem in `errors` instead of raising.

    Raises InputError only when the file itself has gone (deleted or unreadable since planning): an empty shard
    would otherwise hide the loss.
    """
    head = _read_head(split.path)
    if not head:
        return
    fmt, compression = _detect(split.path, head, options)
    if fmt is None:
        errors.add(split.path, ERROR_CORRUPT, f"{split.path}: unknown format, nothing read")
        return
    if compression is not None and fmt != "parquet" and (split.start != 0 or split.end is not None):
        raise ValueError(f"{split.path} is compressed: it cannot be read from byte {split.start}")
    if fmt in ("warc", "wet"):
        if compression == "gzip":
            yield from _read_warc_gzip(split, options, errors)
        elif compression is None:
            yield from _read_warc_plain(split, options, errors)
        else:
            errors.add(split.path, ERROR_CORRUPT, f"{split.path}: zstd-compressed WARC is not supported")
    elif fmt == "jsonl":
        yield from _read_jsonl(split, options, errors, compression)
    else:
        yield from _read_parquet(split, options, errors)


def _document_id(path: str, position: int) -> str:
    return xxhash.xxh3_128_hexdigest(f"{path}:{position}".encode())


# --- WARC -------------------------------------------------------------------------------------------------------


@dataclass
class _Record:
    """One WARC record read and judged, waiting until its bytes are known to be intact."""

    offset: int
    complete: bool  # the block has all Content-Length bytes
    document: Document | None = None
    skip: tuple[str, str] | None = None  # (kind, message) when the record is not kept
    warning: tuple[str, str] | None = None  # (kind, message) counted although the document is kept


def _strip_record_id(record_id: str | None) -> str | None:
    if not record_id:
        return None
    record_id = record_id.strip()
    if record_id.startswith("<") and record_id.endswith(">"):
        record_id = record_id[1:-1]
    if record_id.startswith("urn:uuid:"):
        record_id = record_id[len("urn:uuid:") :]
    return record_id or None


def _clean_uri(uri: str | None) -> str | None:
    if not uri:
        return None
    uri = uri.strip()
    if uri.startswith("<") and uri.endswith(">"):  # WARC/1.0 writers such as wget wrap the URI
        uri = uri[1:-1].strip()
    return uri or None


def _judge_record(record: WarcRecord, offset: int, path: str, options: ReaderOptions) -> _Record | None:
    """Read one record and decide what it yields; None for record types that carry no document."""
    record_type = record.record_type
    if record_type not in (WarcRecordType.response, WarcRecordType.resource, WarcRecordType.conversion):
        return None
    length = record.content_length
    where = f"{path}: WARC record at byte {offset}"
    if length > options.max_record_bytes:
        return _Record(
            offset,
            complete=True,
            skip=(ERROR_TOO_LARGE, f"{where} has {length} bytes, over max_record_bytes={options.max_record_bytes}"),
        )
    block = record.reader.read()
    judged = _Record(offset, complete=len(block) >= length)
    headers = record.headers
    record_id = _strip_record_id(headers.get("WARC-Record-ID"))
    source: Source = {"file": path, "offset": offset}
    if record_id:
        source["warc_record_id"] = record_id
    fetched_at = headers.get("WARC-Date")
    if fetched_at:
        source["fetched_at"] = fetched_at.strip()
    document: Document = {"id": record_id or _document_id(path, offset), "source": source}
    url = _clean_uri(headers.get("WARC-Target-URI"))
    if url:
        document["url"] = url

    if record_type == WarcRecordType.conversion:
        source["content_type"] = (headers.get("Content-Type") or "text/plain").strip()
        try:
            document["text"] = block.decode("utf-8")
        except UnicodeDecodeError as error:
            # WET text is written as UTF-8 by the converter; a bad byte here is damage, not another encoding.
            document["text"] = block.decode("utf-8", "replace")
            judged.warning = (ERROR_BAD_ENCODING, f"{where}: text is not valid UTF-8 ({error.reason}); replaced")
        source["charset"] = "utf-8"
        language = headers.get("WARC-Identified-Content-Language")
        if language:
            document["meta"] = {"identified_content_language": language.strip()}
        judged.document = document
        return judged

    if record_type == WarcRecordType.response:
        response = _parse_http(block)
        if response is None:
            if judged.complete:
                judged.skip = (ERROR_NOT_HTML, f"{where} holds no HTTP response")
            else:
                judged.skip = (ERROR_TRUNCATED, f"{where} is cut off inside its HTTP headers")
            return judged
        status, http_headers, body = response
        if status is None or not 200 <= status < 300:
            judged.skip = (ERROR_HTTP_STATUS, f"{where} has HTTP status {status}")
            return judged
        content_type = http_headers.get(b"content-type", b"").decode("latin-1").strip()
        try:
            body = _decode_transfer(http_headers, body, options.max_record_bytes)
        except _PayloadError as error:
            judged.skip = (error.kind, f"{where}: {error}")
            return judged
    else:
        content_type = (headers.get("Content-Type") or "").strip()
        body = block
    identified = (headers.get("WARC-Identified-Payload-Type") or "").strip().lower()
    if not _is_html(content_type, identified, body):
        shown = content_type or identified or "no Content-Type"
        judged.skip = (ERROR_NOT_HTML, f"{where} ({url or 'no URI'}) is {shown}, not HTML")
        return judged
    source["content_type"] = content_type or "text/html"
    document["html"] = body
    judged.document = document
    return judged


def _parse_http(block: bytes) -> tuple[int | None, dict[bytes, bytes], bytes] | None:
    """Split an HTTP response into (status, lower-cased headers, body); None if it is not one."""
    if not block.startswith(b"HTTP/"):
        return None
    end = block.find(b"\r\n\r\n", 0, _WARC_HEADER_LIMIT)
    bare = block.find(b"\n\n", 0, end if end >= 0 else _WARC_HEADER_LIMIT)
    if end < 0 or 0 <= bare < end:
        if bare < 0:
            return None
        end, separator = bare, 2
    else:
        separator = 4
    lines = block[:end].split(b"\n")
    parts = lines[0].split(None, 2)
    status = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else None
    headers: dict[bytes, bytes] = {}
    for line in lines[1:]:
        name, colon, value = line.partition(b":")
        if colon:
            headers[name.strip().lower()] = value.strip()
    return status, headers, block[end + separator :]


class _PayloadError(ValueError):
    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


def _decode_transfer(headers: dict[bytes, bytes], body: bytes, limit: int) -> bytes:
    """Undo chunked transfer coding and gzip/deflate/br content coding, when the payload still has them.

    Common Crawl stores payloads already decoded (and renames the headers to X-Crawler-*); other crawlers such
    as wget store them as received.
    """
    if b"chunked" in headers.get(b"transfer-encoding", b"").lower():
        body = _dechunk(body)
    coding = headers.get(b"content-encoding", b"").strip().lower()
    if coding in (b"", b"identity", b"none", b"utf-8", b"utf8"):
        return body
    if coding in (b"gzip", b"x-gzip"):
        if not body.startswith(_GZIP_MAGIC):
            return body
        return _inflate(body, 31, limit)
    if coding == b"deflate":
        try:
            return _inflate(body, 15, limit)
        except _PayloadError:
            return _inflate(body, -15, limit)
    if coding == b"br":
        decompressor = brotli.Decompressor()
        try:
            decoded = decompressor.process(body, output_buffer_limit=limit + 1)
        except brotli.error as error:
            raise _PayloadError(ERROR_CONTENT_ENCODING, f"brotli payload does not decode ({error})") from error
        if len(decoded) > limit:
            raise _PayloadError(ERROR_TOO_LARGE, f"decoded payload is over max_record_bytes={limit}")
        return decoded  # type: ignore[no-any-return]
    raise _PayloadError(ERROR_CONTENT_ENCODING, f"unknown Content-Encoding {coding.decode('latin-1')!r}")


def _inflate(body: bytes, wbits: int, limit: int) -> bytes:
    decompressor = zlib.decompressobj(wbits)
    try:
        decoded = decompressor.decompress(body, limit + 1)
    except zlib.error as error:
        raise _PayloadError(ERROR_CONTENT_ENCODING, f"compressed payload does not decode ({error})") from error
    if len(decoded) > limit:
        raise _PayloadError(ERROR_TOO_LARGE, f"decoded payload is over max_record_bytes={limit}")
    return decoded


def _dechunk(body: bytes) -> bytes:
    """Undo chunked transfer coding; return the body unchanged if it is not validly chunked."""
    pieces: list[bytes] = []
    position = 0
    while True:
        line_end = body.find(b"\n", position)
        if line_end < 0:
            return body
        size_text = body[position:line_end].split(b";", 1)[0].strip()
        try:
            size = int(size_text, 16)
        except ValueError:
            return body
        if size == 0:
            return b"".join(pieces)
        start = line_end + 1
        pieces.append(body[start : start + size])
        position = start + size
        if position >= len(body):
            return b"".join(pieces)  # cut short: keep what arrived
        if body.startswith(b"\r\n", position):
            position += 2
        elif body.startswith(b"\n", position):
            position += 1


def _is_html(content_type: str, identified: str, body: bytes) -> bool:
    head = body[:1024]
    if head.startswith(_BINARY_MAGIC) or (b"\x00" in head and not head.startswith((b"\xff\xfe", b"\xfe\xff"))):
        return False
    media_type = content_type.split(";", 1)[0].strip().lower()
    if media_type in HTML_MEDIA_TYPES:
        return True
    if media_type and media_type not in ("application/octet-stream", "unknown/unknown", "application/unknown"):
        return False
    if identified in HTML_MEDIA_TYPES:
        return True
    start = head.lstrip(_UTF8_BOM + b" \t\r\n").lower()
    return start.startswith((b"<!doctype html", b"<html")) or b"<html" in start


def _warc_iterator(stream: Any) -> Iterator[WarcRecord]:
    # Payloads are parsed here (not by fastwarc) so that a record's block can be checked against its length.
    return iter(ArchiveIterator(stream, parse_http=False))


def _probe_record(stream: BinaryIO, position: int) -> int | None:
    """Return where the record after the WARC record at `position` begins if its framing holds, else None.

    The framing holds when a `WARC/` header with a Content-Length is followed, after the block, by the CRLF CRLF
    separator, or by the next `WARC/` header within a few bytes (some writers miscount by a byte or two), or by
    the end of the file. A record whose length runs into the middle of the next one fails.
    """
    stream.seek(position)
    head = stream.read(8192)
    if not head.startswith(b"WARC/"):
        return None
    header_end = head.find(b"\r\n\r\n")
    if header_end < 0:
        head += stream.read(_WARC_HEADER_LIMIT - len(head))
        header_end = head.find(b"\r\n\r\n")
        if header_end < 0:
            return None
    match = _CONTENT_LENGTH_RE.search(head, 0, header_end + 2)
    if match is None:
        return None
    block_end = position + header_end + 4 + int(match.group(1))
    stream.seek(block_end)
    window = stream.read(_FRAMING_SLACK)
    if window.startswith(b"\r\n\r\n"):
        return block_end + 4
    next_header = window.find(b"\nWARC/")
    if next_header >= 0:
        return block_end + next_header + 1
    if len(window) < _FRAMING_SLACK and not window.strip(b"\r\n\x00"):
        return block_end + len(window)  # the last record, with its separator missing
    return None


def _cut_off_by_end(stream: BinaryIO, position: int) -> bool:
    """Whether the file ends inside the header of the record at `position` (a truncated file, not damage)."""
    stream.seek(position)
    rest = stream.read(_WARC_HEADER_LIMIT)
    return len(rest) < _WARC_HEADER_LIMIT and rest.startswith(b"WARC/") and b"\r\n\r\n" not in rest


def _find_record_start(stream: BinaryIO, start: int, end: int | None) -> int | None:
    """Return the first offset >= start where a WARC record with intact framing begins, or None."""
    position = start
    while end is None or position < end:
        stream.seek(position)
        chunk = stream.read(_SCAN_CHUNK)
        if not chunk:
            return None
        for match in _WARC_MARKER_RE.finditer(chunk):
            candidate = position + match.start()
            if end is not None and candidate >= end:
                return None
            if _probe_record(stream, candidate) is not None:
                return candidate
        if len(chunk) < _SCAN_CHUNK:
            return None
        position += len(chunk) - 8  # overlap so that a marker cut by the chunk edge is still found
    return None


def _read_warc_plain(split: InputSplit, options: ReaderOptions, errors: ReadErrors) -> Iterator[Document]:
    path, end = split.path, split.end
    with _open_binary(path) as stream, _open_binary(path) as probe:
        position = _find_record_start(probe, split.start, end)
        if split.start == 0 and position != 0:
            if position is None:
                errors.add(path, ERROR_CORRUPT, f"{path}: no WARC record found")
                return
            errors.add(path, ERROR_CORRUPT, f"{path}: no WARC record at byte 0; skipped {position} bytes")
        while position is not None and (end is None or position < end):
            stream.seek(position)
            records = _warc_iterator(stream)
            pass_start = position
            resume_from = position
            while True:
                try:
                    record = next(records)
                except StopIteration:
                    return
                except OSError as error:
                    errors.add(
                        path,
                        ERROR_CORRUPT,
                        f"{path}: unreadable WARC data at byte {position} ({_one_line(error)}); "
                        f"skipped to the next record",
                    )
                    # Resume where the last intact record ended; if none was read in this pass, step past its start.
                    resume_from = position if position > pass_start else position + 1
                    break
                offset = record.stream_pos
                if end is not None and offset >= end:
                    return
                record_end = _probe_record(probe, offset)
                if record_end is None:
                    if _cut_off_by_end(probe, offset):
                        errors.add(
                            path, ERROR_TRUNCATED, f"{path}: the file ends inside the WARC header at byte {offset}"
                        )
                        return
                    errors.add(
                        path,
                        ERROR_CORRUPT,
                        f"{path}: damaged WARC record at byte {offset} (its length does not lead to the next "
                        f"record); skipped to the next record",
                    )
                    resume_from = offset + 1
                    break
                judged = _judge_record(record, offset, path, options)
                position = record_end
                if judged is not None:
                    if not judged.complete:
                        errors.add(
                            path,
                            ERROR_TRUNCATED,
                            f"{path}: the file ends inside the WARC record at byte {offset}; kept what there is",
                        )
                    yield from _release(judged, path, errors)
            position = _find_record_start(probe, resume_from, end)


class _StreamFailure:
    def __init__(self, kind: str, compressed: int, uncompressed: int, detail: str) -> None:
        self.kind = kind
        self.compressed = compressed  # offset of the damaged gzip member (or stray bytes) in the file
        self.uncompressed = uncompressed  # where that member's output would have started
        self.detail = detail


class _GzipMembers:
    """Decompress consecutive gzip members as one stream, ending it cleanly at the first damaged or cut member.

    fastwarc reads it like a file; `tell()` gives uncompressed offsets, so record offsets are uncompressed
    offsets in the file. After the stream ends, `failure` says why it ended early, if it did.
    """

    def __init__(self, raw: BinaryIO, compressed_start: int, uncompressed_start: int) -> None:
        raw.seek(compressed_start)
        self._raw = raw
        self._input = b""
        self._input_offset = compressed_start  # file offset of self._input[0]
        self._inflater: Any = None  # zlib object of the member being decoded
        self._member_compressed = compressed_start
        self._member_uncompressed = uncompressed_start
        self._member_starts: list[int] = []  # uncompressed starts of members, for member_containing()
        self._member_offsets: list[int] = []  # their compressed offsets
        self._output = b""
        self._decoded = uncompressed_start  # uncompressed offset just after self._output
        self._position = uncompressed_start  # uncompressed offset of the next byte read() returns
        self._done = False
        self.failure: _StreamFailure | None = None

    def tell(self) -> int:
        return self._position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        if (whence == io.SEEK_CUR and offset == 0) or (whence == io.SEEK_SET and offset == self._position):
            return self._position
        raise io.UnsupportedOperation("a gzip stream can only be read forward")

    def close(self) -> None:
        pass

    def read(self, size: int = -1) -> bytes:
        if size is None or size < 0:
            size = 1 << 62
        while len(self._output) < size and not self._done:
            self._fill()
        chunk = self._output[:size]
        self._output = self._output[size:]
        self._position += len(chunk)
        return chunk

    def member_containing(self, uncompressed: int) -> int:
        """Return the compressed offset of the member whose output holds `uncompressed`."""
        index = bisect.bisect_right(self._member_starts, uncompressed) - 1
        return self._member_offsets[max(index, 0)] if self._member_offsets else self._member_compressed

    def _fail(self, kind: str, compressed: int, detail: str) -> None:
        self.failure = _StreamFailure(kind, compressed, self._member_uncompressed, detail)
        self._done = True

    def _fill(self) -> None:
        if len(self._input) < 16:
            more = self._raw.read(_CHUNK)
            self._input += more
            if not self._input:
                if self._inflater is not None:
                    self._fail(ERROR_TRUNCATED, self._member_compressed, "the file ends inside a gzip member")
                self._done = True
                return
        if self._inflater is None:
            if not self._input.startswith(_GZIP_MAGIC):
                if self._rest_is_padding():
                    self._done = True
                    return
                self._member_uncompressed = self._decoded
                self._fail(ERROR_CORRUPT, self._input_offset, "bytes between gzip members are not a gzip member")
                return
            self._inflater = isal_zlib.decompressobj(31)
            self._member_compressed = self._input_offset
            self._member_uncompressed = self._decoded
            self._member_starts.append(self._decoded)
            self._member_offsets.append(self._input_offset)
        try:
            data = self._inflater.decompress(self._input, _CHUNK)
        except _InflateError as error:
            self._fail(ERROR_CORRUPT, self._member_compressed, f"gzip member does not decode ({error})")
            return
        if self._inflater.eof:
            rest = self._inflater.unused_data
            self._inflater = None
        else:
            rest = self._inflater.unconsumed_tail  # empty when zlib wants more input: the next call reads it
        self._input_offset += len(self._input) - len(rest)
        self._input = rest
        self._output += data
        self._decoded += len(data)

    def _rest_is_padding(self) -> bool:
        # Some writers pad the end of a file with NUL bytes; that is not damage.
        if self._input.strip(b"\x00\r\n "):
            return False
        while True:
            more = self._raw.read(_CHUNK)
            if not more:
                return True
            if more.strip(b"\x00\r\n "):
                self._input += more
                return False


def _member_holds_warc_header(raw: BinaryIO, offset: int) -> bool:
    raw.seek(offset)
    data = raw.read(_CHUNK)
    try:
        content = isal_zlib.decompressobj(31).decompress(data, _WARC_HEADER_LIMIT)
    except _InflateError:
        return False
    if not content.startswith(b"WARC/"):
        return False
    header_end = content.find(b"\r\n\r\n")
    if header_end < 0:
        return len(content) >= _WARC_HEADER_LIMIT  # a header longer than we decoded: give it the benefit
    return _CONTENT_LENGTH_RE.search(content, 0, header_end + 2) is not None


def _find_gzip_member(raw: BinaryIO, start: int) -> int | None:
    """Return the offset of the first gzip member at or after `start` that decompresses to a WARC header."""
    position = start
    while True:
        raw.seek(position)
        chunk = raw.read(_SCAN_CHUNK)
        if len(chunk) < len(_GZIP_MEMBER_MAGIC):
            return None
        index = chunk.find(_GZIP_MEMBER_MAGIC)
        while index >= 0:
            if _member_holds_warc_header(raw, position + index):
                return position + index
            index = chunk.find(_GZIP_MEMBER_MAGIC, index + 1)
        if len(chunk) < _SCAN_CHUNK:
            return None
        position += len(chunk) - (len(_GZIP_MEMBER_MAGIC) - 1)


def _read_warc_gzip(split: InputSplit, options: ReaderOptions, errors: ReadErrors) -> Iterator[Document]:
    """Read a .warc.gz file; a record is emitted once its gzip member is known to have decoded intact.

    The member's checksum is only checked at its end, so each record is held back until the next record has been
    parsed (which means the stream got past its member) or the stream has ended.
    """
    path = split.path
    with _open_binary(path) as raw:
        compressed, uncompressed = 0, 0
        while True:
            stream = _GzipMembers(raw, compressed, uncompressed)
            records = _warc_iterator(stream)
            pending: _Record | None = None
            parse_error: OSError | None = None
            last_offset: int | None = None  # of the last record parsed in this pass, of any type
            while True:
                try:
                    record = next(records)
                except StopIteration:
                    break
                except OSError as error:
                    parse_error = error
                    break
                last_offset = record.stream_pos
                if pending is not None:
                    yield from _release(pending, path, errors)
                    pending = None
                try:
                    pending = _judge_record(record, record.stream_pos, path, options)
                except OSError as error:
                    parse_error = error
                    break
            failure = stream.failure
            if pending is not None:
                if failure is not None and failure.kind == ERROR_TRUNCATED and pending.offset >= failure.uncompressed:
                    pending.skip = None  # a record cut off with the file: the truncation is counted once, below
                if failure is None or _survives(pending, failure):
                    if not pending.complete and failure is None:
                        errors.add(
                            path,
                            ERROR_TRUNCATED,
                            f"{path}: WARC record at byte {pending.offset} is shorter than its Content-Length; "
                            f"kept what there is",
                        )
                    yield from _release(pending, path, errors)
            last_member = compressed if last_offset is None else stream.member_containing(last_offset)
            if failure is not None:
                where = f"compressed byte {failure.compressed} (uncompressed {failure.uncompressed})"
                if failure.kind == ERROR_TRUNCATED:
                    errors.add(
                        path,
                        ERROR_TRUNCATED,
                        f"{path}: truncated gzip: {failure.detail} at {where}; kept the records before it",
                    )
                    return
                errors.add(path, ERROR_CORRUPT, f"{path}: {failure.detail} at {where}; skipped to the next record")
                search_from = failure.compressed + 1
                uncompressed = failure.uncompressed
            elif parse_error is not None:
                errors.add(
                    path,
                    ERROR_CORRUPT,
                    f"{path}: unreadable WARC data after the record in the gzip member at compressed byte "
                    f"{last_member} ({_one_line(parse_error)}); skipped to the next record",
                )
                search_from = max(last_member, compressed) + 1
                uncompressed = stream.tell()
            else:
                return
            next_member = _find_gzip_member(raw, search_from)
            if next_member is None:
                return
            compressed = next_member


def _survives(pending: _Record, failure: _StreamFailure) -> bool:
    """Whether a record read before the stream failed is intact."""
    if failure.kind == ERROR_TRUNCATED:
        return True  # keep the partial last record too
    return pending.complete and pending.offset < failure.uncompressed


def _release(judged: _Record, path: str, errors: ReadErrors) -> Iterator[Document]:
    if judged.warning is not None:
        errors.add(path, *judged.warning)
    if judged.skip is not None:
        errors.add(path, *judged.skip)
    elif judged.document is not None:
        yield judged.document


# --- JSON Lines ---------------------------------------------------------------------------------------------------

# Fields of our own document records: reading a previous job's output keeps them where they were, so that
# signals computed then are not computed again.
_DOCUMENT_FIELDS: dict[str, type] = {"url": str, "lang": str, "signals": dict, "pii": list}


class _ZstdFrames(io.RawIOBase):
    """Decompress consecutive zstd frames, noting whether the file ends inside one (truncation)."""

    def __init__(self, raw: BinaryIO) -> None:
        self._raw = raw
        self._decompressor = zstandard.ZstdDecompressor()
        self._frame: Any = None
        self._input = b""
        self._output = b""
        self.truncated = False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while not self._output:
            if not self._input:
                self._input = self._raw.read(16384)  # small feeds bound what one call can expand to
                if not self._input:
                    self.truncated = self._frame is not None
                    return 0
            if self._frame is None:
                self._frame = self._decompressor.decompressobj()
            self._output = self._frame.decompress(self._input)
            if self._frame.eof:
                self._input = self._frame.unused_data
                self._frame = None
            else:
                self._input = b""
        size = min(len(buffer), len(self._output))
        buffer[:size] = self._output[:size]
        self._output = self._output[size:]
        return size


def _open_text_stream(raw: BinaryIO, compression: str | None) -> tuple[Any, _ZstdFrames | None]:
    if compression == "gzip":
        return gzip.GzipFile(fileobj=raw, mode="rb"), None
    if compression == "zstd":
        frames = _ZstdFrames(raw)
        return io.BufferedReader(frames, buffer_size=1 << 20), frames
    return raw, None


def _read_jsonl(
    split: InputSplit, options: ReaderOptions, errors: ReadErrors, compression: str | None
) -> Iterator[Document]:
    path, end, limit = split.path, split.end, options.max_record_bytes
    with _open_binary(path) as raw:
        stream, frames = _open_text_stream(raw, compression)
        offset = split.start
        if offset > 0:
            raw.seek(offset - 1)
            if raw.read(1) != b"\n":  # the line under `start` began in the previous split
                offset += _skip_line(raw)
        line_number: int | None = 1 if split.start == 0 else None
        try:
            while end is None or offset < end:
                line = stream.readline(limit + 1)
                if not line:
                    break
                line_offset = offset
                offset += len(line)
                if len(line) > limit and not line.endswith(b"\n"):
                    skipped = _skip_line(stream)
                    offset += skipped
                    size = len(line) + skipped
                    errors.add(
                        path,
                        ERROR_TOO_LARGE,
                        f"{path}: {_where(line_number, line_offset)} has {size} bytes, over "
                        f"max_record_bytes={limit}",
                    )
                else:
                    document = _parse_line(line, path, line_number, line_offset, options, errors)
                    if document is not None:
                        yield document
                if line_number is not None:
                    line_number += 1
        except EOFError:
            errors.add(
                path,
                ERROR_TRUNCATED,
                f"{path}: truncated gzip after {_where(line_number, offset)}; kept the lines before it",
            )
            return
        except (zlib.error, zstandard.ZstdError, OSError) as error:  # gzip.BadGzipFile is an OSError
            errors.add(
                path,
                ERROR_CORRUPT,
                f"{path}: unreadable data after {_where(line_number, offset)} ({_one_line(error)}); "
                f"the rest of the file was not read",
            )
            return
        if frames is not None and frames.truncated:
            errors.add(
                path,
                ERROR_TRUNCATED,
                f"{path}: truncated zstd after {_where(line_number, offset)}; kept the lines before it",
            )


def _where(line_number: int | None, offset: int) -> str:
    return f"line {line_number} (byte {offset})" if line_number is not None else f"the line at byte {offset}"


def _skip_line(stream: Any) -> int:
    """Read past the end of the current line without keeping it; return how many bytes were skipped."""
    skipped = 0
    while True:
        piece = stream.readline(1 << 20)
        skipped += len(piece)
        if not piece or piece.endswith(b"\n"):
            return skipped


def _parse_line(
    line: bytes, path: str, line_number: int | None, offset: int, options: ReaderOptions, errors: ReadErrors
) -> Document | None:
    if offset == 0 and line.startswith(_UTF8_BOM):
        line = line[len(_UTF8_BOM) :]
    where = f"{path}: {_where(line_number, offset)}"
    record = _fast_record(line)
    if record is None:
        record = _careful_record(line, where, path, errors)
        if record is None:
            return None
    source: Source = {"file": path, "offset": offset}
    if line_number is not None:
        source["line"] = line_number
    return _record_document(record, source, _document_id(path, offset), where, path, options, errors)


def _careful_record(line: bytes, where: str, path: str, errors: ReadErrors) -> dict[str, Any] | None:
    """Parse a line orjson refused: say what is wrong with it, or repair lone surrogate escapes."""
    try:
        text_line = line.decode("utf-8")
    except UnicodeDecodeError as error:
        errors.add(path, ERROR_BAD_ENCODING, f"{where} is not UTF-8 ({error.reason} at byte {error.start})")
        return None
    if not text_line.strip():
        return None
    try:
        record = json.loads(text_line)
    except ValueError as error:
        errors.add(path, ERROR_BAD_JSON, f"{where} is not valid JSON ({_one_line(error)})")
        return None
    if not isinstance(record, dict):
        errors.add(path, ERROR_BAD_JSON, f"{where} is a JSON {type(record).__name__}, not an object")
        return None
    if "\\ud" in text_line or "\\uD" in text_line:
        cleaned = _replace_lone_surrogates(record)
        if cleaned != record:
            errors.add(path, ERROR_LONE_SURROGATE, f"{where} has lone UTF-16 surrogate escapes; replaced by U+FFFD")
            record = cleaned
    return record


def _fast_record(line: bytes) -> dict[str, Any] | None:
    """Parse a well-formed JSON object line with orjson; None sends the line to the careful path above.

    orjson rejects invalid UTF-8 and lone surrogate escapes, so a record it accepts needs no cleaning.
    """
    try:
        record = jsoncodec.loads(line)
    except ValueError:
        return None
    return record if isinstance(record, dict) else None


def _record_document(
    record: dict[str, Any],
    source: Source,
    fallback_id: str,
    where: str,
    path: str,
    options: ReaderOptions,
    errors: ReadErrors,
) -> Document | None:
    """Turn one input record (a JSON object or a Parquet row) into a document, or count why not."""
    text = record.pop(options.text_field, None)
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as error:
            errors.add(path, ERROR_BAD_ENCODING, f"{where}: field {options.text_field!r} is not UTF-8 ({error})")
            return None
    if not isinstance(text, str):
        found = "missing" if text is None else f"a {type(text).__name__}, not a string"
        errors.add(path, ERROR_MISSING_TEXT, f"{where}: text field {options.text_field!r} is {found}")
        return None
    if len(text) > options.max_record_bytes // 4 and len(text.encode("utf-8")) > options.max_record_bytes:
        errors.add(path, ERROR_TOO_LARGE, f"{where}: text is over max_record_bytes={options.max_record_bytes}")
        return None
    own_id = record.pop(options.id_field, None)
    document: Document = {"id": str(own_id) if own_id is not None else fallback_id, "text": text}
    for name, kind in _DOCUMENT_FIELDS.items():
        if isinstance(record.get(name), kind):
            document[name] = record.pop(name)  # type: ignore[literal-required]
    document["source"] = source
    if record:
        document["meta"] = record
    return document


def _replace_lone_surrogates(value: Any) -> Any:
    if isinstance(value, str):
        # A valid pair survives the round trip through UTF-16; a lone half becomes U+FFFD.
        return value.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    if isinstance(value, dict):
        return {_replace_lone_surrogates(key): _replace_lone_surrogates(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_replace_lone_surrogates(item) for item in value]
    return value


# --- Parquet ------------------------------------------------------------------------------------------------------


def _read_parquet(split: InputSplit, options: ReaderOptions, errors: ReadErrors) -> Iterator[Document]:
    path = split.path
    with _open_binary(path) as raw:
        try:
            parquet = pq.ParquetFile(raw)
            metadata = parquet.metadata
        except Exception as error:  # a damaged footer: nothing in the file can be located
            errors.add(path, ERROR_CORRUPT, f"{path}: not readable as Parquet ({_one_line(error)})")
            return
        first_row = 0
        for group_index in range(metadata.num_row_groups):
            group_rows = metadata.row_group(group_index).num_rows
            group_start, first_row = first_row, first_row + group_rows
            if first_row <= split.start or (split.end is not None and group_start >= split.end):
                continue
            row = group_start
            try:
                for batch in parquet.iter_batches(batch_size=_PARQUET_BATCH_ROWS, row_groups=[group_index]):
                    for record in batch.to_pylist():
                        if row >= split.start and (split.end is None or row < split.end):
                            document = _parquet_document(record, path, row, options, errors)
                            if document is not None:
                                yield document
                        row += 1
            except Exception as error:  # one damaged row group must not cost the others
                errors.add(
                    path,
                    ERROR_CORRUPT,
                    f"{path}: row group {group_index} is damaged at row {row} ({_one_line(error)}); "
                    f"skipped to the next row group",
                )


def _parquet_document(
    record: dict[str, Any], path: str, row: int, options: ReaderOptions, errors: ReadErrors
) -> Document | None:
    text = record.get(options.text_field)
    record = {key: (value if key == options.text_field else _jsonable(value)) for key, value in record.items()}
    record[options.text_field] = text
    source: Source = {"file": path, "row": row}
    return _record_document(record, source, _document_id(path, row), f"{path}: row {row}", path, options, errors)


def _jsonable(value: Any) -> Any:
    """Convert what pyarrow returns into values that JSON can hold."""
    if value is None or isinstance(value, (str, bool, int)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(key): _jsonable(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(item) for item in value]
    if isinstance(value, (datetime.datetime, datetime.date, datetime.time)):
        return value.isoformat()
    if isinstance(value, datetime.timedelta):
        return value.total_seconds()
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, bytes):
        try:
            return value.decode("utf-8")
        except UnicodeDecodeError:
            return value.hex()
    return str(value)
