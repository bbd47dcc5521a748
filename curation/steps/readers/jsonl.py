"""Read JSON Lines (plain, gzip or zstd) into documents.

- JSON Lines must be UTF-8 (RFC 8259). A line that is not is skipped and counted as "bad_encoding" instead of being
  decoded with replacement characters, which would put U+FFFD into training text without anyone noticing.
- Lines are read with a bounded buffer: anything over `max_record_bytes` is skipped as "too_large" without being
  held in memory.
- `source.offset` is the uncompressed byte offset of the line; `source.line` (1-based) is set when the split starts
  at the beginning of the file (every compressed file and every file up to `target_bytes`): a split starting
  mid-file cannot know its line numbers without reading everything before it.
"""

from __future__ import annotations

import gzip
import io
import json
import zlib
from collections.abc import Iterator
from typing import Any, BinaryIO

import zstandard

from curation.steps import jsoncodec
from curation.steps.document import Document, Source
from curation.steps.readers.errors import (
    ERROR_BAD_ENCODING,
    ERROR_BAD_JSON,
    ERROR_CORRUPT,
    ERROR_LONE_SURROGATE,
    ERROR_TOO_LARGE,
    ERROR_TRUNCATED,
    ReadErrors,
)
from curation.steps.readers.files import StopCheck, one_line, open_binary
from curation.steps.readers.formats import UTF8_BOM, InputSplit, ReaderOptions
from curation.steps.readers.records import document_id, record_document


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


def read_jsonl(
    split: InputSplit, options: ReaderOptions, errors: ReadErrors, compression: str | None,
    check_stop: StopCheck | None = None,
) -> Iterator[Document]:
    path, end, limit = split.path, split.end, options.max_record_bytes
    with open_binary(path, check_stop) as raw:
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
                f"{path}: unreadable data after {_where(line_number, offset)} ({one_line(error)}); "
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
    if offset == 0 and line.startswith(UTF8_BOM):
        line = line[len(UTF8_BOM) :]
    where = f"{path}: {_where(line_number, offset)}"
    record = _fast_record(line)
    if record is None:
        record = _careful_record(line, where, path, errors)
        if record is None:
            return None
    source: Source = {"file": path, "offset": offset}
    if line_number is not None:
        source["line"] = line_number
    return record_document(record, source, document_id(path, offset), where, path, options, errors)


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
        errors.add(path, ERROR_BAD_JSON, f"{where} is not valid JSON ({one_line(error)})")
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


def _replace_lone_surrogates(value: Any) -> Any:
    if isinstance(value, str):
        # A valid pair survives the round trip through UTF-16; a lone half becomes U+FFFD.
        return value.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    if isinstance(value, dict):
        return {_replace_lone_surrogates(key): _replace_lone_surrogates(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_replace_lone_surrogates(item) for item in value]
    return value
