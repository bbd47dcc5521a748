"""The input formats, how a file's format and compression are recognised, and the reader's options.

`FORMATS` is the one list of input formats: the readers, the job form and the API offer exactly these. A file's
format comes from the recipe's `reader.format`, else from its name (`SUFFIX_FORMATS`), else from its first bytes.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

import zstandard

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


GZIP_MAGIC = b"\x1f\x8b"
_ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
_PARQUET_MAGIC = b"PAR1"
UTF8_BOM = b"\xef\xbb\xbf"


@dataclass(frozen=True)
class ReaderOptions:
    """How to read a job's inputs; a recipe's `reader:` mapping overrides these defaults."""

    format: str = "auto"  # auto|warc|wet|jsonl|parquet; auto = by file name, failing that by the first bytes
    text_field: str = "text"  # JSON Lines / Parquet field holding the text
    id_field: str = "id"  # the input's own id, used as the document id when present
    max_record_bytes: int = 64 * 1024 * 1024  # longer records are skipped and counted as "too_large"

    def __post_init__(self) -> None:
        # Options come from recipes and requests: check types first, so a wrong one fails here in one line.
        for name in ("format", "text_field", "id_field"):
            if not isinstance(getattr(self, name), str):
                raise ValueError(f"{name} must be a string, not {type(getattr(self, name)).__name__}")
        if not isinstance(self.max_record_bytes, int) or isinstance(self.max_record_bytes, bool):
            raise ValueError(f"max_record_bytes must be an integer, not {type(self.max_record_bytes).__name__}")
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


def format_from_name(path: str) -> str | None:
    name = path.lower()
    for suffix, fmt in SUFFIX_FORMATS:
        if name.endswith(suffix):
            return fmt
    return None


def _compression(head: bytes) -> str | None:
    if head.startswith(GZIP_MAGIC):
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
    if content.lstrip(UTF8_BOM + b" \t\r\n").startswith(b"{"):
        return "jsonl"
    return None


def detect_format(path: str, head: bytes, options: ReaderOptions) -> tuple[str | None, str | None]:
    """Return (format, compression) of a file from the options, its name, or failing both its first bytes."""
    compression = _compression(head)
    if options.format != "auto":
        return options.format, compression
    fmt = format_from_name(path)
    if fmt is None:
        fmt = _sniff_format(_peek_content(head, compression))
    return fmt, compression
