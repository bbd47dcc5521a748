"""Texts for training and checking the quality classifier: good prose (the planted filter documents' sentences,
English and Chinese, shuffled) and keyword spam. Used by the classifier's tests and by job tests that train one."""

from __future__ import annotations

import random

from tests.support import planted_filters as planted

SENTENCES_EN = [
    sentence.strip() + "."
    for text in (planted.GOOD_EN, planted.GOOD_EN_2)
    for sentence in text.replace("\n", " ").split(". ")
    if sentence.strip()
]
SENTENCES_ZH = [
    sentence + "。" for text in (planted.GOOD_ZH, planted.GOOD_ZH_2) for sentence in text.replace("\n", "").split("。")
    if sentence
]
SPAM_EN = "cheap buy now free casino win click best price discount sale online shop deal offer".split()
SPAM_ZH = "便宜 手机 批发 优惠 免费 下载 官网 彩票 注册 送 元 充值 代理 招商".split()


def good_text(rng: random.Random) -> str:
    """A good document: six English sentences (60%) or five Chinese ones."""
    if rng.random() < 0.6:
        return " ".join(rng.sample(SENTENCES_EN, 6))
    return "".join(rng.sample(SENTENCES_ZH, 5))


def junk_text(rng: random.Random) -> str:
    """A junk document: 60 spam keywords, English (60%) or Chinese."""
    words = SPAM_EN if rng.random() < 0.6 else SPAM_ZH
    return " ".join(rng.choice(words) for _ in range(60))
