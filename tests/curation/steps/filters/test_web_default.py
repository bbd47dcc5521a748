"""The web-default recipe: the issue's steps in order, and its filters keep prose and remove planted junk."""

from __future__ import annotations

from typing import Any

import yaml

from curation.steps.base import Step, build_step
from curation.steps.document import Document
from curation.steps.recipe import BUILTIN_DIR, load_recipe
from tests.support import planted_filters as planted

FILTERS = ("language", "gopher_repetition", "gopher_quality", "c4", "fineweb")


def recipe_steps(name: str) -> list[tuple[str, dict[str, Any]]]:
    data = yaml.safe_load((BUILTIN_DIR / f"{name}.yaml").read_text(encoding="utf-8"))
    return [next(iter(item.items())) for item in data["steps"]]


def web_default_filters() -> list[Step]:
    return [build_step(name, params or {}) for name, params in recipe_steps("web-default") if name in FILTERS]


def test_web_default_runs_the_issues_steps_in_order() -> None:
    names = [name for name, _ in recipe_steps("web-default")]

    assert names == [
        "extract", "language", "gopher_repetition", "gopher_quality", "c4", "fineweb",
        "exact_dedup", "minhash_dedup", "quality_classifier", "pii",
    ]


def test_web_default_keeps_english_and_chinese_and_names_no_classifier_model() -> None:
    steps = dict(recipe_steps("web-default"))

    assert steps["language"]["languages"] == ["en", "zh"]
    assert steps["quality_classifier"] == {}  # the configured model, or left out of the job (see services)
    assert steps["c4"] == {"remove_lines_without_terminal_punct": False}


def test_extract_only_is_just_extract() -> None:
    assert recipe_steps("extract-only") == [("extract", {})]


def test_web_default_builds_every_step_but_the_model_less_classifier() -> None:
    # the job service gives quality_classifier its configured model, or leaves it out (tests/curation)
    recipe = load_recipe("web-default", validate=False)

    built = [build_step(spec.name, spec.params) for spec in recipe.steps if spec.name != "quality_classifier"]

    assert [step.name for step in built][:6] == ["extract", *FILTERS]
    assert len(built) == len(recipe.steps) - 1


def run(docs: list[Document]) -> tuple[list[Document], list[Document]]:
    removed: list[Document] = []
    stream = iter(docs)
    for step in web_default_filters():
        step.bind_removed_sink(removed.append)
        stream = step.run(stream)
    return list(stream), removed


def test_the_filters_keep_good_prose_in_both_languages() -> None:
    texts = [planted.GOOD_EN, planted.GOOD_EN_2, planted.GOOD_ZH, planted.GOOD_ZH_2]

    kept, removed = run([{"id": str(index), "text": text} for index, text in enumerate(texts)])

    assert [doc["reason"] for doc in removed] == []
    assert [doc["lang"] for doc in kept] == ["en", "en", "zh", "zh"]


def test_the_filters_remove_every_planted_junk_page() -> None:
    junk = {
        name: getattr(planted, name)
        for name in dir(planted)
        if name.isupper() and not name.startswith("GOOD") and name != "JAVASCRIPT_NOTICE"
    }

    kept, removed = run([{"id": name, "text": text} for name, text in junk.items()])

    assert kept == []
    assert {doc["id"] for doc in removed} == set(junk)
    assert all(doc["reason"] != "error" for doc in removed)


def test_a_page_with_a_javascript_notice_is_kept_without_it() -> None:
    kept, _ = run([{"id": "page", "text": planted.JAVASCRIPT_NOTICE}])

    assert kept and "JavaScript" not in kept[0]["text"]
