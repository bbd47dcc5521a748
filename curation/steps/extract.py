"""The `extract` step: decode crawled HTML and keep its main text.

Documents with an `html` payload (from WARC responses) are decoded to Unicode, their main content is extracted,
and `html` is replaced by `text`; documents that already have text (JSON Lines, Parquet, WET) pass through
unchanged. Re-running the step over the same input gives the same output (up to the time limit, below).

Parameters and their sources:
- `extractor`: "resiliparse" (default) runs `extract_plain_text(main_content=True)` with alt texts, links, form
  fields, noscript, list bullets and comments off (KNOWN-TRAPS.md) and post metadata off too: on the ScrapingHub
  article-extraction benchmark these settings give token F1 0.940 against 0.895 for resiliparse's defaults, and
  run faster (bench/ingest.py, bench/RESULTS.md). "trafilatura" runs `trafilatura.extract` with its defaults:
  about 15 times slower, F1 0.954.
- `skip_elements`: CSS selectors of elements resiliparse leaves out, for text that is about the page rather than
  its body: the headline (`h1`), page and article headers and footers (`header`, `footer`: mastheads, bylines,
  dates, "share" rows, copyright lines) and image captions (`figcaption`, `[class*=caption]`; photo credits and
  captions repeated by slideshows). resiliparse's main-content heuristics keep these when they sit next to the
  body. On the ScrapingHub benchmark they lift token precision from 0.898 to 0.935 for a recall of 0.985
  instead of 0.986 (F1 0.940 -> 0.959, above trafilatura's 0.954), and extraction gets a little faster (less
  text to walk). An empty tuple gives the previous output. When the page's text with these left out is short
  (under `second_look_chars`) and the page without the skips has more than twice as much, the step takes the
  latter (signal "extract_fallback": "skipped_too_much"): a page built entirely inside a <header> or caption
  must not lose its only text. On the benchmark and the real crawl samples no page needs it; the second
  extraction costs one more walk of an already parsed tree, on short outputs only.
- `timeout_seconds` = 5: per-document limit, counted in CPU time so that a busy machine neither times documents
  out nor changes a re-run's output. Trafilatura takes up to a few seconds on large pages; nothing legitimate
  takes five. A document over the limit is removed as "extract_timeout".
- `max_html_bytes` = 5 MiB: bigger payloads are removed as "html_too_large" rather than truncated, because a
  truncated page loses its end (often the article's end) without anyone seeing it, and because the parsers' cost
  grows faster than linearly on some inputs. Common Crawl truncates payloads at 1 MiB, so real pages pass.
- `min_text_chars` = 1: documents whose extracted text has fewer non-space characters are removed as "no_text".

How the time limit works. On the main thread (Celery prefork workers run tasks on the main thread of the child)
a CPU-time interval timer (`setitimer(ITIMER_VIRTUAL)`) delivers SIGVTALRM, whose handler raises inside the
extractor: Python code such as trafilatura's stops at once. Native code holds the GIL and does not look at
signals: resiliparse's parser and extractor (Rust) are interrupted only when they return, and off the main thread
no signal can be used at all. There the limit is enforced after the fact: a document whose extraction took longer
than the limit is removed all the same, so the output does not depend on where the step ran. The handler is
installed around each call and the previous one restored, so nothing is left behind between documents.

Native stalls measured here are all deep nesting. Main-content scoring is quadratic in depth (5 s at 10,000
nested <div><p>): a page whose parse is unusually slow for its size is checked for nesting deeper than 256
elements, and a page that deep is extracted without main-content scoring, in linear time (signal
"extract_fallback": "deep_nesting"). The HTML parser itself is quadratic on deeply nested lists (1.3 s at 20,000
nested <ul><li>, 5.5 s at 40,000, so about 50 s for 1 MiB of them): such a page is removed as "extract_timeout"
only after the parser returns. `max_html_bytes` bounds that case; a hard bound needs a process boundary.

Decoding: a byte-order mark wins; then UTF-8 if the payload is valid UTF-8; then the charsets the page declares
(HTTP header, `<meta charset>` or http-equiv, XML declaration) that decode it cleanly, multi-byte ones (GBK,
Shift_JIS, Big5...) first, since a single-byte charset decodes any bytes "cleanly" and so proves nothing; then
resiliparse's detector; then declared single-byte charsets; then UTF-8 with replacement characters. A header
charset of ISO-8859-1 (the HTTP default that servers send without knowing) counts for less than the page's own
declaration and the detector. Labels follow the WHATWG encoding standard: GB2312 decodes as GBK and ISO-8859-1 as
windows-1252, as browsers do. The charset used is recorded in `source.charset`.
"""

from __future__ import annotations

import codecs
import re
import signal
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from resiliparse.extract.html2text import extract_plain_text
from resiliparse.parse.encoding import detect_encoding, map_encoding_to_html5
from resiliparse.parse.html import HTMLTree

from curation.steps.base import Step, register_step
from curation.steps.document import Document, signals_of

REASON_NO_TEXT = "no_text"
REASON_TIMEOUT = "extract_timeout"
REASON_TOO_LARGE = "html_too_large"

SIGNAL_HTML_BYTES = "html_bytes"
SIGNAL_FALLBACK = "extract_fallback"

EXTRACTORS = ("resiliparse", "trafilatura")


# A parse slower than this, and slower than this many seconds per character, suggests deep nesting (normal pages
# parse at about 3 ns per character here; 10,000 nested <div>s at over 400 ns per character).
_SLOW_PARSE_SECONDS = 0.005
_SLOW_PARSE_SECONDS_PER_CHAR = 40e-9
_MAX_NESTING = 256
_DEEP_SELECTOR = "body" + " > *" * _MAX_NESTING

DEFAULT_SKIP_ELEMENTS = ("h1", "header", "footer", "figcaption", "[class*=caption]")


@dataclass(frozen=True)
class ExtractParams:
    extractor: str = "resiliparse"
    skip_elements: tuple[str, ...] = DEFAULT_SKIP_ELEMENTS
    second_look_chars: int = 200
    timeout_seconds: float = 5.0
    max_html_bytes: int = 5 * 1024 * 1024
    min_text_chars: int = 1

    def __post_init__(self) -> None:
        if self.extractor not in EXTRACTORS:
            raise ValueError(f"extractor must be one of {', '.join(EXTRACTORS)}, not {self.extractor!r}")
        if self.timeout_seconds <= 0:
            raise ValueError("timeout_seconds must be positive")
        if self.max_html_bytes <= 0:
            raise ValueError("max_html_bytes must be positive")
        if self.min_text_chars < 0:
            raise ValueError("min_text_chars must not be negative")
        if self.second_look_chars < 0:
            raise ValueError("second_look_chars must not be negative")
        if isinstance(self.skip_elements, str):
            raise ValueError("skip_elements must be a list of CSS selectors, not one string")
        # A recipe gives a YAML list; keep the frozen dataclass hashable and the selectors checked once, here.
        object.__setattr__(self, "skip_elements", tuple(self.skip_elements))
        for selector in self.skip_elements:
            if not isinstance(selector, str) or not selector.strip():
                raise ValueError(f"skip_elements must be CSS selectors, not {selector!r}")
            try:
                extract_plain_text("<p>x</p>", skip_elements=[selector])
            except Exception as error:  # resiliparse's CSSParserException
                raise ValueError(f"skip_elements: {selector!r} is not a CSS selector ({error})") from error


class ExtractTimeout(Exception):
    """Extraction of one document ran over the step's time limit."""


# --- decoding ---------------------------------------------------------------------------------------------------

_BOMS = (
    (b"\xef\xbb\xbf", "utf-8"),
    (b"\xff\xfe", "utf-16-le"),
    (b"\xfe\xff", "utf-16-be"),
)
# Python codecs whose characters take more than one byte: a clean decode with one of these is evidence.
_MULTI_BYTE = frozenset(
    {"gbk", "gb18030", "big5", "big5hkscs", "cp932", "shift_jis", "euc_jp", "cp949", "euc_kr", "iso2022_jp", "cp950"}
)
# Where WHATWG and Python's codecs differ, decode as browsers do.
_CODEC_OVERRIDES = {
    "shift_jis": "cp932",
    "euc_kr": "cp949",
    "big5": "big5hkscs",
    "iso8859-11": "cp874",
    "utf-16-le": "utf-8",  # a page that parses as ASCII-compatible HTML is not UTF-16 whatever it declares
    "utf-16-be": "utf-8",
    "gb2312": "gbk",
}
_CHARSET_PARAM_RE = re.compile(r"""charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.IGNORECASE)
_META_CHARSET_RE = re.compile(rb"""<meta[^>]{0,512}?charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.IGNORECASE)
_XML_ENCODING_RE = re.compile(rb"""^\s*<\?xml[^>]{0,200}?encoding\s*=\s*["']([A-Za-z0-9_.:-]+)""", re.IGNORECASE)
_META_SCAN_BYTES = 16384  # the HTML spec's prescan looks at 1,024 bytes; real pages put <meta> later than that
_DETECT_BYTES = 65536


def codec_for(label: str | None) -> str | None:
    """Return the Python codec for a charset label as browsers read it (GB2312 -> gbk, ISO-8859-1 -> cp1252)."""
    if not label:
        return None
    html5 = map_encoding_to_html5(label.strip().strip("\"'").lower(), fallback_utf8=False)
    if not html5:
        return None
    name = _CODEC_OVERRIDES.get(html5, html5)
    try:
        name = codecs.lookup(name).name
    except LookupError:
        return None
    return _CODEC_OVERRIDES.get(name, name)


def declared_charsets(payload: bytes, content_type: str | None) -> tuple[str | None, str | None]:
    """Return the codecs the HTTP header and the page itself declare (None where absent or unknown)."""
    header = None
    if content_type:
        match = _CHARSET_PARAM_RE.search(content_type)
        header = codec_for(match.group(1)) if match else None
    head = payload[:_META_SCAN_BYTES]
    found = _XML_ENCODING_RE.match(head) or _META_CHARSET_RE.search(head)
    page = codec_for(found.group(1).decode("ascii", "replace")) if found else None
    return header, page


def _decode_cleanly(payload: bytes, codec: str) -> str | None:
    """Decode, tolerating a few bad bytes (a page cut mid-character, a stray byte); None if many are bad."""
    try:
        return payload.decode(codec)
    except UnicodeDecodeError:
        pass
    except LookupError:
        return None
    text = payload.decode(codec, "replace")
    if text.count("\ufffd") <= max(2, len(payload) // 2000):
        return text
    return None


def decode_html(payload: bytes, content_type: str | None = None) -> tuple[str, str]:
    """Decode an HTML payload to text; return the text and the codec used. See the module docstring."""
    for bom, codec in _BOMS:
        if payload.startswith(bom):
            return payload[len(bom) :].decode(codec, "replace"), codec
    if payload.isascii():
        return payload.decode("ascii"), "ascii"
    try:
        return payload.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    header, page = declared_charsets(payload, content_type)
    weak_header = header == "cp1252" and page != "cp1252"
    # In order of trust: a specific header charset before the page's own, as in browsers.
    declared = list(dict.fromkeys(c for c in (None if weak_header else header, page) if c and c != "utf-8"))
    for declared_codec in declared:
        if declared_codec in _MULTI_BYTE:
            codec = declared_codec
            text = _decode_cleanly(payload, codec)
            if text is None and codec == "gbk":
                codec = "gb18030"  # GB18030 is GBK's superset
                text = _decode_cleanly(payload, codec)
            if text is not None:
                return text, codec
    text = _decode_cleanly(payload, "utf-8")
    if text is not None:
        return text, "utf-8"
    candidates = [codec for codec in declared if codec not in _MULTI_BYTE]
    detected = codec_for(detect_encoding(payload[:_DETECT_BYTES]))
    if detected in _MULTI_BYTE:
        candidates.insert(0, detected)
    elif detected and detected != "utf-8":
        candidates.append(detected)
    if weak_header:
        candidates.append("cp1252")
    for codec in candidates:
        text = _decode_cleanly(payload, codec)
        if text is not None:
            return text, codec
    return payload.decode("utf-8", "replace"), "utf-8"


# --- the time limit -----------------------------------------------------------------------------------------------


class _CpuDeadline:
    """Run calls under a CPU-time limit; see "How the time limit works" above.

    The handler is installed around each call and the previous one restored after it, so nothing is left behind
    between documents, and two extract steps chained in one thread cannot restore each other's handler.
    """

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._armed = False

    def _on_signal(self, signum: int, frame: Any) -> None:
        if self._armed:  # a signal that arrives after the call has returned is ignored
            raise ExtractTimeout()

    def call(self, function: Callable[[], str]) -> str:
        started = time.thread_time()
        if self._signal_usable():
            previous = signal.signal(signal.SIGVTALRM, self._on_signal)
            self._armed = True
            signal.setitimer(signal.ITIMER_VIRTUAL, self.seconds)
            try:
                result = function()
            finally:
                signal.setitimer(signal.ITIMER_VIRTUAL, 0)
                self._armed = False
                signal.signal(signal.SIGVTALRM, previous)
        else:
            result = function()
        if time.thread_time() - started > self.seconds:
            raise ExtractTimeout()  # native code that ignored the signal, or no signal available
        return result

    @staticmethod
    def _signal_usable() -> bool:
        return (
            threading.current_thread() is threading.main_thread()
            and signal.getitimer(signal.ITIMER_VIRTUAL)[0] == 0  # someone else's timer: leave it alone
            and signal.getsignal(signal.SIGVTALRM) is not None  # a handler set outside Python could not be restored
        )


# --- the step -----------------------------------------------------------------------------------------------------


def extract_with_resiliparse(
    html: str,
    signals: dict[str, Any] | None = None,
    skip_elements: tuple[str, ...] = DEFAULT_SKIP_ELEMENTS,
    second_look_chars: int = 200,
) -> str:
    """Return the main text of a page with the benchmarked resiliparse settings, guarding against deep nesting
    and against skipped elements that held the page's only text (see the module docstring)."""
    started = time.perf_counter()
    tree = HTMLTree.parse(html)
    parse_seconds = time.perf_counter() - started
    main_content = True
    slow = parse_seconds > _SLOW_PARSE_SECONDS and parse_seconds > len(html) * _SLOW_PARSE_SECONDS_PER_CHAR
    if slow and tree.document is not None and tree.document.query_selector(_DEEP_SELECTOR) is not None:
        main_content = False
        if signals is not None:
            signals[SIGNAL_FALLBACK] = "deep_nesting"
    # The settings measured on the ScrapingHub benchmark (see the module docstring).
    options: dict[str, Any] = {
        "main_content": main_content,
        "alt_texts": False,
        "links": False,
        "form_fields": False,
        "noscript": False,
        "list_bullets": False,
        "comments": False,
        "post_meta": False,
    }
    if not skip_elements:
        return extract_plain_text(tree, **options)
    text = extract_plain_text(tree, skip_elements=list(skip_elements), **options)
    if not _has_visible_chars(text, second_look_chars):
        whole = extract_plain_text(tree, **options)
        if len(whole.strip()) > 2 * len(text.strip()):
            if signals is not None:
                signals[SIGNAL_FALLBACK] = "skipped_too_much"
            return whole
    return text


def extract_with_trafilatura(html: str) -> str:
    """Return the main text of a page with trafilatura's defaults ("" when it finds none)."""
    # Imported here: trafilatura takes 0.3 s and tens of MB to import, which every worker would pay for nothing
    # while the default extractor is resiliparse.
    import trafilatura

    return trafilatura.extract(html) or ""


@register_step
class HtmlExtractor(Step[ExtractParams]):
    """Turn `html` payloads into `text`: decode, extract the main content, drop what yields no text.

    Changes each HTML document in place (adds `text`, `source.charset` and signals, deletes `html`); documents
    without `html` pass through untouched. Safe to re-run: the same input gives the same output.
    """

    name = "extract"
    Params = ExtractParams

    def run(self, docs: Iterator[Document]) -> Iterator[Document]:
        params = self.params
        deadline = _CpuDeadline(params.timeout_seconds)
        for doc in docs:
            self.count_in(doc)
            html = doc.get("html")
            if html is None:
                yield self.keep(doc)
                continue
            del doc["html"]
            try:
                reason = self._extract(doc, html, params, deadline)
            except ExtractTimeout:
                reason = REASON_TIMEOUT
            except Exception as error:  # one bad page must never crash the shard
                self.drop_on_error(doc, error)
                continue
            if reason is None:
                yield self.keep(doc)
            else:
                self.drop(doc, reason)

    def _extract(self, doc: Document, html: bytes | str, params: ExtractParams, deadline: _CpuDeadline) -> str | None:
        """Set the document's text; return the reason to remove it, or None to keep it."""
        signals = signals_of(doc)
        signals[SIGNAL_HTML_BYTES] = len(html)
        if len(html) > params.max_html_bytes:
            return REASON_TOO_LARGE
        if isinstance(html, bytes):
            source = doc.setdefault("source", {})
            page, source["charset"] = decode_html(html, source.get("content_type"))
        else:
            page = html
        self.stats.chars_in += len(page)
        if params.extractor == "trafilatura":
            text = deadline.call(lambda: extract_with_trafilatura(page))
        else:
            text = deadline.call(
                lambda: extract_with_resiliparse(page, signals, params.skip_elements, params.second_look_chars)
            )
        if "\ufeff" in text:
            text = text.replace("\ufeff", "")  # byte-order marks of included fragments, inside the page
        text = text.strip()
        if not _has_visible_chars(text, params.min_text_chars):
            return REASON_NO_TEXT
        doc["text"] = text
        return None


_NON_SPACE_RE = re.compile(r"\S+")


def _has_visible_chars(text: str, minimum: int) -> bool:
    """Whether `text` has at least `minimum` non-space characters (stops counting once it has)."""
    if minimum <= 0:
        return True
    if minimum == 1:
        return bool(text.strip())
    seen = 0
    for word in _NON_SPACE_RE.finditer(text):
        seen += word.end() - word.start()
        if seen >= minimum:
            return True
    return False
