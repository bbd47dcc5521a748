"""Chinese segmentation: rjieba (jieba-rs) must give the tokens pure-Python jieba gives, which the FineWeb-2
thresholds were measured with (see curation/steps/text_stats.py)."""

import json
import logging
from pathlib import Path

import jieba
import pytest

from curation.steps.text_stats import analyse, describe_tokenizer, segment_chinese
from tests.support.fresh_process import printed_after_set_up


def _jieba(text: str) -> list[str]:
    jieba.setLogLevel(logging.WARNING)
    return [token for token in jieba.lcut(text, HMM=True) if not token.isspace()]


@pytest.mark.parametrize(
    "text",
    [
        "他在1958-1965年间任教，距离约2.4km，增长了12.5%。",  # runs jieba-rs keeps whole and jieba splits
        "CSS 的 text-align 属性与 AT&T 的网络无关。",
        "我学习C++和Python，也用过c++。",  # "C++" is a dictionary word: kept whole by both
        "香港电影国语配音名家周思平，代表作有TVB《上海滩》。",  # unknown name: HMM new-word discovery
        "  前后有空格\t和制表符  ",
        "",
    ],
)
def test_chinese_segmentation_equals_jiebas(text: str) -> None:
    # Given a sentence mixing Chinese with Latin, digits and joiners
    # When it is segmented
    # Then the tokens are jieba's, whitespace dropped
    assert segment_chinese(text) == _jieba(text)


def test_chinese_tokens_drop_whitespace_but_keep_punctuation() -> None:
    tokens = segment_chinese("你好， 世界！ 2.4km")

    assert " " not in tokens
    assert "，" in tokens and "！" in tokens
    assert tokens[-2:] == ["2.4", "km"]


def test_chinese_word_statistics_come_from_the_segmenter() -> None:
    stats = analyse("我们在北京大学学习。\n他说：好的！", "zh")

    assert stats.tokens == segment_chinese("我们在北京大学学习。") + segment_chinese("他说：好的！")
    assert stats.words == [token for token in stats.tokens if token[0].isalnum()]
    assert describe_tokenizer("zh")["tokenizer"] == "rjieba"


def test_segmentation_equals_jiebas_on_real_chinese_wikipedia(shared_data: Path) -> None:
    # Given real zh-Wikipedia paragraphs (dates, units, Latin names, MediaWiki markup)
    path = shared_data / "corpora" / "cmrc2018-zh-wikipedia" / "paragraphs.jsonl"
    with open(path, encoding="utf-8") as handle:
        lines = [line.strip() for row in handle for line in json.loads(row)["text"].splitlines() if line.strip()]
    lines = lines[:400]
    # When both segmenters cut them
    differing = [line for line in lines if segment_chinese(line) != _jieba(line)]
    # Then at most one line in 400 differs (measured: 1 of 1,106, an HMM choice; see text_stats)
    assert len(differing) <= 1, differing[:3]


def test_the_segmenter_is_loaded_by_the_first_chinese_text_not_by_importing_the_steps() -> None:
    # given a process that starts Django and loads every registered step, as the CLI and the workers do
    printed = printed_after_set_up(
        "import curation.steps.registry, curation.services.jobs;"
        "print('rjieba' in sys.modules);"
        "from curation.steps.text_stats import tokenize;"
        "print(tokenize('the tide comes in', 'en'), 'rjieba' in sys.modules);"
        "print(tokenize('潮汐是怎么形成的', 'zh'), 'rjieba' in sys.modules)"
    )
    # then rjieba (~0.16 s to import) is loaded only when Chinese is segmented, and segments it then
    lines = printed[-3:]
    assert lines[0] == "False"
    assert lines[1] == "['the', 'tide', 'comes', 'in'] False"
    assert lines[2].endswith("True") and "'潮汐'" in lines[2]
