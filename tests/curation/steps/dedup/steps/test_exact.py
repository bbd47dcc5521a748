"""exact_dedup (curation/steps/dedup/steps/exact.py): identical texts, and with `normalize` the canonical form."""

from __future__ import annotations

import random
from pathlib import Path

from curation.steps.dedup.index import index_summary
from curation.steps.dedup.steps import (
    REASON_EXACT,
)
from tests.support.dedup_jobs import kept_ids, recipe_of, removed_by_id, run_job, word_text


def test_every_exact_copy_is_removed_by_exact_dedup(tmp_path: Path) -> None:
    rng = random.Random(3)
    texts = [word_text(rng) for _ in range(30)]
    docs = [{"id": f"d{i:02d}", "text": text} for i, text in enumerate(texts)]
    docs += [{"id": f"copy{i:02d}", "text": f"  {texts[i]}\n"} for i in range(0, 30, 3)]
    run = run_job(docs, tmp_path / "work", shards=3)
    removed = removed_by_id(run)
    kept = kept_ids(run)
    assert len(kept) == 30
    for i in range(0, 30, 3):
        pair = {f"d{i:02d}", f"copy{i:02d}"}
        (survivor,) = pair & kept
        (copy,) = pair - kept
        assert removed[copy]["reason"] == REASON_EXACT and removed[copy]["signals"]["duplicate_of"] == survivor


def test_normalised_exact_dedup_removes_copies_differing_in_case_spacing_and_punctuation(tmp_path: Path) -> None:
    rng = random.Random(13)
    text = word_text(rng)
    docs = [
        {"id": "a", "text": text},
        {"id": "b", "text": text.upper()},
        {"id": "c", "text": text.replace(" ", "  ").replace(".", "!")},
        {"id": "d", "text": text + " one more word"},
    ]
    recipe = recipe_of("exact_dedup: {normalize: true}")
    run = run_job(docs, tmp_path / "work", recipe=recipe, index_root=tmp_path / "index")
    assert kept_ids(run) == {"c", "d"}  # c is the longest of a, b and c
    removed = removed_by_id(run)
    assert {removed["a"]["signals"]["duplicate_of"], removed["b"]["signals"]["duplicate_of"]} == {"c"}
    assert index_summary(str(tmp_path / "index"))["kinds"]["exact"]["manifest"]["normalize"] is True
