"""Read WARC and WET files (fastwarc), plain or gzip-compressed, into documents.

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
- Records are read with a bounded buffer: anything over `max_record_bytes` is skipped as "too_large" without being
  held in memory. `source.offset` is the uncompressed byte offset of the record.
"""

from __future__ import annotations

import bisect
import io
import re
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, BinaryIO, cast

import brotli  # type: ignore[import-untyped]
from fastwarc.warc import ArchiveIterator, WarcRecord, WarcRecordType
from isal import isal_zlib  # ISA-L inflate: about 1.7x zlib's speed here, the same API and errors

from curation.steps.document import Document, Source
from curation.steps.readers.errors import (
    ERROR_BAD_ENCODING,
    ERROR_CONTENT_ENCODING,
    ERROR_CORRUPT,
    ERROR_HTTP_STATUS,
    ERROR_NOT_HTML,
    ERROR_TOO_LARGE,
    ERROR_TRUNCATED,
    ReadErrors,
)
from curation.steps.readers.files import StopCheck, one_line, open_binary
from curation.steps.readers.formats import GZIP_MAGIC, UTF8_BOM, InputSplit, ReaderOptions
from curation.steps.readers.records import document_id

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
_GZIP_MEMBER_MAGIC = b"\x1f\x8b\x08"
_CHUNK = 1 << 16  # bytes read from a file at a time
_SCAN_CHUNK = 1 << 20  # bytes scanned at a time when looking for the next record
_WARC_HEADER_LIMIT = 1 << 16  # a WARC header block longer than this is treated as damage
_FRAMING_SLACK = 64  # how far past a record's declared end the next header may begin
_WARC_MARKER_RE = re.compile(rb"WARC/[01]\.")
_CONTENT_LENGTH_RE = re.compile(rb"(?:^|\r?\n)content-length[ \t]*:[ \t]*(\d+)", re.IGNORECASE)


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
    document: Document = {"id": record_id or document_id(path, offset), "source": source}
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
        if not body.startswith(GZIP_MAGIC):
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
    start = head.lstrip(UTF8_BOM + b" \t\r\n").lower()
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


def read_warc_plain(split: InputSplit, options: ReaderOptions, errors: ReadErrors,
                    check_stop: StopCheck | None = None) -> Iterator[Document]:
    path, end = split.path, split.end
    with open_binary(path, check_stop) as stream, open_binary(path, check_stop) as probe:
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
                        f"{path}: unreadable WARC data at byte {position} ({one_line(error)}); "
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
            if not self._input.startswith(GZIP_MAGIC):
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


def read_warc_gzip(split: InputSplit, options: ReaderOptions, errors: ReadErrors,
                   check_stop: StopCheck | None = None) -> Iterator[Document]:
    """Read a .warc.gz file; a record is emitted once its gzip member is known to have decoded intact.

    The member's checksum is only checked at its end, so each record is held back until the next record has been
    parsed (which means the stream got past its member) or the stream has ended.
    """
    path = split.path
    with open_binary(path, check_stop) as raw:
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
                    f"{last_member} ({one_line(parse_error)}); skipped to the next record",
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
