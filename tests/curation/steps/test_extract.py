"""The extract step: decoding (declared, lying and undeclared charsets), main-text extraction, drops, time limit."""

from __future__ import annotations

import re
import threading
import time
from pathlib import Path

import pytest

from curation.steps import extract
from curation.steps.base import RecipeError, build_step
from curation.steps.document import Document
from curation.steps.extract import ExtractParams, HtmlExtractor, decode_html
from curation.steps.readers import InputSplit, ReaderOptions, ReadErrors, read_split
from curation.steps.recipe import load_recipe

ARTICLE_ZH = "阳台上的番茄终于红了，邻居王阿姨说这是今年最甜的一批。我们把种子留下来，明年继续种。"
ARTICLE_EN = (
    "The allotment committee met on Tuesday evening to discuss the new water troughs. Members agreed that the "
    "old troughs had leaked for years and that replacing them before the summer was the sensible thing to do."
)


def page(body_text: str, *, meta: str | None = "utf-8", paragraphs: int = 3) -> str:
    meta_tag = f'<meta charset="{meta}">' if meta else ""
    article = "".join(f"<p>{body_text}</p>" for _ in range(paragraphs))
    return (
        f"<!DOCTYPE html><html><head>{meta_tag}<title>t</title></head><body>"
        '<div class="cookie">We use cookies to improve your experience. Accept all</div>'
        '<nav><ul><li><a href="/">Home</a></li><li><a href="/news">News</a></li><li><a href="/shop">Shop</a></li>'
        "</ul></nav>"
        f"<main><article><h1>Headline</h1>{article}</article></main>"
        "<footer>Copyright 2026 Example Ltd. Privacy policy. Terms of use.</footer></body></html>"
    )


def html_doc(payload: bytes, content_type: str | None = "text/html; charset=utf-8", doc_id: str = "d1") -> Document:
    doc: Document = {"id": doc_id, "html": payload, "source": {"file": "crawl.warc.gz", "offset": 0}}
    if content_type is not None:
        doc["source"]["content_type"] = content_type
    return doc


def run(docs: list[Document], **params: object) -> tuple[list[Document], list[Document], HtmlExtractor]:
    step = HtmlExtractor(ExtractParams(**params))  # type: ignore[arg-type]
    removed: list[Document] = []
    step.bind_removed_sink(removed.append)
    kept = list(step.run(iter(docs)))
    return kept, removed, step


# --- extraction ----------------------------------------------------------------------------------------------------


def test_html_becomes_main_text_without_the_page_chrome() -> None:
    payload = page(ARTICLE_EN).encode()

    kept, removed, step = run([html_doc(payload)])

    doc = kept[0]
    assert ARTICLE_EN in doc["text"]
    assert "cookies" not in doc["text"] and "Privacy policy" not in doc["text"]
    assert "html" not in doc
    assert doc["signals"]["html_bytes"] == len(payload)
    assert doc["source"]["charset"] == "ascii"
    assert removed == []
    assert step.stats.docs_in == 1 and step.stats.kept == 1 and step.stats.chars_in == len(payload.decode("utf-8"))


def _article_page_with_chrome_around_the_body() -> bytes:
    body = "".join(f"<p>{ARTICLE_EN}</p>" for _ in range(3))
    return (
        "<html><body><main><article>"
        "<header><h1>Committee replaces troughs</h1><p>By A. Reporter, 3 March 2026. Share on social media</p>"
        "</header>"
        '<figure><img src="t.jpg"><figcaption>The old troughs, photographed in May</figcaption></figure>'
        f'<div class="image-caption">Photo: Allotment Society</div>{body}'
        "<footer>Filed under gardening. Copyright 2026 Example Ltd.</footer>"
        "</article></main></body></html>"
    ).encode()


def test_the_headline_header_footer_and_captions_are_left_out() -> None:
    # Given an article page with a headline, a byline header, captions and an article footer
    kept, _, _ = run([html_doc(_article_page_with_chrome_around_the_body())])
    # Then the text is the body alone
    text = kept[0]["text"]
    assert ARTICLE_EN in text
    for chrome in ("Committee replaces troughs", "By A. Reporter", "photographed in May", "Photo:", "Filed under"):
        assert chrome not in text
    assert "extract_fallback" not in kept[0]["signals"]


def test_no_skip_elements_keeps_the_headline_and_captions() -> None:
    kept, _, _ = run([html_doc(_article_page_with_chrome_around_the_body())], skip_elements=())

    assert "Committee replaces troughs" in kept[0]["text"] and "Photo: Allotment Society" in kept[0]["text"]


def test_a_page_whose_text_sits_in_a_header_gets_a_second_look() -> None:
    # Given a page whose only text is inside a <header> (as some one-page sites are built)
    payload = f"<html><body><header><p>{ARTICLE_EN}</p><p>{ARTICLE_EN}</p></header></body></html>".encode()
    # When it is extracted
    kept, removed, _ = run([html_doc(payload)])
    # Then the skips are dropped for this page rather than the page's text
    assert removed == []
    assert ARTICLE_EN in kept[0]["text"]
    assert kept[0]["signals"]["extract_fallback"] == "skipped_too_much"


def test_skip_elements_must_be_css_selectors() -> None:
    assert build_step("extract", {"skip_elements": ["h1", "nav.menu"]}).params.skip_elements == ("h1", "nav.menu")
    with pytest.raises(RecipeError, match="not a CSS selector"):
        build_step("extract", {"skip_elements": ["h1", "p[["]})
    with pytest.raises(RecipeError, match="not one string"):
        build_step("extract", {"skip_elements": "h1"})


def test_text_documents_pass_through_unchanged_and_count_as_kept() -> None:
    doc: Document = {"id": "t1", "text": "already text", "source": {"file": "a.jsonl", "line": 1}}

    kept, _, step = run([dict(doc)])  # type: ignore[list-item]

    assert kept == [doc]
    assert step.stats.kept == 1


def test_trafilatura_extractor_extracts_the_main_text_too() -> None:
    kept, _, _ = run([html_doc(page(ARTICLE_EN).encode())], extractor="trafilatura")

    assert ARTICLE_EN in kept[0]["text"]


def test_a_page_without_text_is_removed_as_no_text() -> None:
    empty = b"<html><head><title>x</title></head><body><script>var a = 1;</script></body></html>"

    kept, removed, step = run([html_doc(empty)])

    assert kept == []
    assert removed[0]["reason"] == "no_text" and removed[0]["removed_by"] == "extract"
    assert "html" not in removed[0]
    assert step.stats.removed == {"no_text": 1}


def test_min_text_chars_removes_pages_with_too_little_text() -> None:
    short = page("Tiny.", paragraphs=1).encode()

    kept, removed, _ = run([html_doc(short), html_doc(page(ARTICLE_EN).encode(), doc_id="d2")], min_text_chars=40)

    assert [doc["id"] for doc in kept] == ["d2"]
    assert removed[0]["reason"] == "no_text"


def test_a_payload_over_max_html_bytes_is_removed_as_html_too_large() -> None:
    kept, removed, _ = run([html_doc(page(ARTICLE_EN).encode())], max_html_bytes=100)

    assert kept == []
    assert removed[0]["reason"] == "html_too_large"
    assert removed[0]["signals"]["html_bytes"] > 100


def test_an_extractor_error_removes_only_that_document(monkeypatch: pytest.MonkeyPatch) -> None:
    real = extract.extract_with_resiliparse

    def failing(html: str, signals: dict[str, object] | None = None, *options: object) -> str:
        if "boom" in html:
            raise RuntimeError("parser exploded")
        return real(html, signals, *options)  # type: ignore[arg-type]

    monkeypatch.setattr(extract, "extract_with_resiliparse", failing)

    kept, removed, step = run([html_doc(page("boom").encode()), html_doc(page(ARTICLE_EN).encode(), doc_id="d2")])

    assert [doc["id"] for doc in kept] == ["d2"]
    assert removed[0]["reason"] == "error"
    assert step.stats.errors == {"RuntimeError": 1}


def test_the_step_is_registered_and_checks_its_parameters() -> None:
    assert isinstance(build_step("extract", {"extractor": "trafilatura", "timeout_seconds": 2}), HtmlExtractor)
    with pytest.raises(RecipeError, match="extractor must be one of"):
        build_step("extract", {"extractor": "lynx"})
    with pytest.raises(RecipeError, match="takes no parameter 'charset'"):
        build_step("extract", {"charset": "gbk"})


def test_the_extract_only_recipe_runs_this_step() -> None:
    steps = load_recipe("extract-only").build()

    assert [type(step) for step in steps] == [HtmlExtractor]


# --- the time limit ------------------------------------------------------------------------------------------------


def spin(cpu_seconds: float, finished: list[bool]) -> str:
    """Burn CPU time in Python, recording whether it got to the end."""
    started = time.thread_time()
    while time.thread_time() - started < cpu_seconds:
        sum(range(1000))
    finished.append(True)
    return "done"


def test_a_document_over_the_time_limit_is_interrupted_and_removed(monkeypatch: pytest.MonkeyPatch) -> None:
    finished: list[bool] = []
    monkeypatch.setattr(extract, "extract_with_resiliparse", lambda html, signals=None, *options: spin(30.0, finished))

    kept, removed, _ = run([html_doc(page(ARTICLE_EN).encode())], timeout_seconds=0.2)

    assert kept == []
    assert removed[0]["reason"] == "extract_timeout"
    assert finished == []  # stopped by the signal, not left to run its 30 seconds


def test_the_time_limit_leaves_no_timer_or_handler_behind(monkeypatch: pytest.MonkeyPatch) -> None:
    import signal

    before = signal.getsignal(signal.SIGVTALRM)

    run([html_doc(page(ARTICLE_EN).encode())], timeout_seconds=0.5)

    assert signal.getsignal(signal.SIGVTALRM) == before
    assert signal.getitimer(signal.ITIMER_VIRTUAL) == (0.0, 0.0)


def test_off_the_main_thread_the_time_limit_is_enforced_after_the_fact(monkeypatch: pytest.MonkeyPatch) -> None:
    finished: list[bool] = []
    monkeypatch.setattr(extract, "extract_with_resiliparse", lambda html, signals=None, *options: spin(0.3, finished))
    result: dict[str, object] = {}

    def work() -> None:
        result["run"] = run([html_doc(page(ARTICLE_EN).encode())], timeout_seconds=0.1)

    thread = threading.Thread(target=work)
    thread.start()
    thread.join()

    kept, removed, _ = result["run"]  # type: ignore[misc]
    assert kept == []
    assert removed[0]["reason"] == "extract_timeout"
    assert finished == [True]  # no signal off the main thread: it ran to the end, then was removed


def test_a_deeply_nested_page_is_extracted_without_main_content_scoring() -> None:
    # 15,000 nested <div><p>: main-content scoring on this takes well over the time limit (quadratic).
    depth = 15_000
    nested = "<html><body>" + "<div><p>x" * depth + "deep text here" + "</p></div>" * depth + "</body></html>"

    kept, _, _ = run([html_doc(nested.encode())])

    assert "deep text here" in kept[0]["text"]
    assert kept[0]["signals"]["extract_fallback"] == "deep_nesting"


# --- decoding ------------------------------------------------------------------------------------------------------


def test_a_gbk_page_whose_header_says_latin_1_decodes_from_its_meta_tag() -> None:
    payload = page(ARTICLE_ZH, meta="gbk").encode("gbk")

    kept, _, _ = run([html_doc(payload, "text/html; charset=iso-8859-1")])

    assert ARTICLE_ZH in kept[0]["text"]
    assert kept[0]["source"]["charset"] == "gbk"


def test_a_gbk_page_declared_only_in_the_header_decodes() -> None:
    payload = page(ARTICLE_ZH, meta=None).encode("gbk")

    kept, _, _ = run([html_doc(payload, "text/html; charset=GBK")])

    assert ARTICLE_ZH in kept[0]["text"] and kept[0]["source"]["charset"] == "gbk"


def test_a_page_labelled_gb2312_decodes_as_gbk() -> None:
    text = ARTICLE_ZH + "朱镕基和喆喆都不在GB2312里。"  # 镕 and 喆 exist in GBK only
    payload = page(text, meta="gb2312").encode("gbk")

    kept, _, _ = run([html_doc(payload, "text/html; charset=gb2312")])

    assert text in kept[0]["text"]
    assert kept[0]["source"]["charset"] == "gbk"


def test_a_gbk_page_that_declares_nothing_is_detected() -> None:
    payload = page(ARTICLE_ZH, meta=None, paragraphs=6).encode("gbk")

    kept, _, _ = run([html_doc(payload, "text/html")])

    assert ARTICLE_ZH in kept[0]["text"]
    assert kept[0]["source"]["charset"] in ("gbk", "gb18030")


def test_a_utf8_page_whose_header_claims_gbk_decodes_as_utf8() -> None:
    payload = page(ARTICLE_ZH, meta=None).encode("utf-8")

    kept, _, _ = run([html_doc(payload, "text/html; charset=gbk")])

    assert ARTICLE_ZH in kept[0]["text"] and kept[0]["source"]["charset"] == "utf-8"


@pytest.mark.parametrize(
    ("text", "encoding", "content_type", "expected_codec"),
    [
        ("Пожарная безопасность и проектирование систем.", "cp1251", "text/html; charset=windows-1251", "cp1251"),
        ("“Smart quotes” and café — from Windows.", "cp1252", "text/html; charset=ISO-8859-1", "cp1252"),
        ("日本語のページです。", "shift_jis", "text/html; charset=Shift_JIS", "cp932"),
        ("繁體中文網頁內容。", "big5", "text/html; charset=big5", "big5hkscs"),
        ("한국어 페이지입니다.", "euc-kr", "text/html; charset=euc-kr", "cp949"),
    ],
)
def test_declared_legacy_charsets_decode_as_browsers_do(
    text: str, encoding: str, content_type: str, expected_codec: str
) -> None:
    decoded, codec = decode_html(page(text, meta=None).encode(encoding), content_type)

    assert text in decoded
    assert codec == expected_codec


def test_a_byte_order_mark_wins_over_any_declaration() -> None:
    decoded, codec = decode_html(b"\xef\xbb\xbf" + page(ARTICLE_ZH, meta="gbk").encode(), "text/html; charset=gbk")

    assert ARTICLE_ZH in decoded and codec == "utf-8"


def test_a_few_bad_bytes_do_not_change_the_charset() -> None:
    payload = page(ARTICLE_ZH * 20, meta="utf-8").encode("utf-8") + b"\xff"

    decoded, codec = decode_html(payload, None)

    assert codec == "utf-8" and ARTICLE_ZH in decoded


def test_gbk_through_the_reader_and_the_step_from_a_warc_file(tmp_path: Path) -> None:
    body = page(ARTICLE_ZH, meta="gbk").encode("gbk")
    http = b"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=iso-8859-1\r\n\r\n" + body
    record = (
        b"WARC/1.1\r\nWARC-Type: response\r\nWARC-Record-ID: <urn:uuid:11111111-2222-3333-4444-555555555555>\r\n"
        b"WARC-Target-URI: http://zh.example/a\r\nContent-Length: " + str(len(http)).encode() + b"\r\n\r\n"
        + http + b"\r\n\r\n"
    )
    path = tmp_path / "zh.warc"
    path.write_bytes(record)
    errors = ReadErrors()

    kept, _, _ = run(list(read_split(InputSplit(str(path)), ReaderOptions(), errors)))

    assert ARTICLE_ZH in kept[0]["text"]
    assert kept[0]["source"]["charset"] == "gbk"
    assert kept[0]["source"]["content_type"] == "text/html; charset=iso-8859-1"


# --- real Common Crawl pages ---------------------------------------------------------------------------------------


def test_real_gbk_and_windows_1251_pages_decode_without_mojibake(shared_data: Path) -> None:
    warc = shared_data / "warc-samples" / "resiliparse" / "warcfile.warc.gz"
    errors = ReadErrors()
    kept, _, _ = run(list(read_split(InputSplit(str(warc)), ReaderOptions(), errors)))
    by_url = {doc["url"]: doc for doc in kept}

    gb2312_header = by_url["http://0760.jxtdw.com/area/sanxiang/"]  # charset=gb2312 in the HTTP header
    assert gb2312_header["source"]["charset"] == "gbk"
    assert "中山英才网热线" in gb2312_header["text"] and "职位名称" in gb2312_header["text"]
    meta_only = by_url["http://041696.com/15477/list_6_4.html"]  # no header charset, <meta charset=gbk>
    assert meta_only["source"]["charset"] == "gbk"
    assert "企业公告" in meta_only["text"] and "上海特舟实业有限公司" in meta_only["text"]
    russian = by_url["http://01spb.ru/company/"]
    assert russian["source"]["charset"] == "cp1251"
    assert "узкоспециализированное предприятие" in russian["text"] and "пожарной безопасности" in russian["text"]
    legacy = [doc for doc in kept if doc["source"]["charset"] in ("gbk", "gb18030")]
    assert len(legacy) >= 6
    for doc in legacy:
        assert "\ufffd" not in doc["text"]
        assert not re.search("[\u00c0-\u00ff]{2}", doc["text"]), doc["url"]  # GBK read as Latin-1 looks like this
