"""The `pii` step: records spans and signals, redacts, drops documents with too many hits, survives bad input."""

from __future__ import annotations

import copy
import random

import pytest

from curation.steps.base import RecipeError, build_step
from curation.steps.document import Document
from curation.steps.pii.step import REASON_TOO_MANY, PiiParams, PiiRedactor
from curation.steps.recipe import load_recipe


def run_step(docs: list[Document], **params: object) -> tuple[list[Document], list[Document], PiiRedactor]:
    step = build_step("pii", params)
    assert isinstance(step, PiiRedactor)
    removed: list[Document] = []
    step.bind_removed_sink(removed.append)
    kept = list(step.run(iter(docs)))
    return kept, removed, step


def test_step_records_original_offsets_signals_and_redacts() -> None:
    text = "Barack Obama wrote to obama@gmail.com from 41.173.96.26 and 13812345678."
    (doc,), removed, step = run_step([{"id": "1", "text": text, "lang": "en"}])

    assert removed == []
    assert [(s["type"], text[s["start"] : s["end"]]) for s in doc["pii"]] == [
        ("PERSON", "Barack Obama"),
        ("EMAIL", "obama@gmail.com"),
        ("IP", "41.173.96.26"),
        ("PHONE", "13812345678"),
    ]
    assert doc["text"] == "<PERSON> wrote to <EMAIL> from <IP> and <PHONE>."
    assert doc["signals"]["pii_count"] == 4
    assert doc["signals"]["pii_counts"] == {"EMAIL": 1, "IP": 1, "PERSON": 1, "PHONE": 1}
    assert doc["signals"]["pii_names"] == "en"
    assert step.stats.docs_in == 1 and step.stats.kept == 1


def test_step_uses_the_language_field_and_falls_back_to_the_script() -> None:
    docs: list[Document] = [
        {"id": "zh", "text": "张伟的电话是13812345678。"},
        {"id": "de", "text": "Angela Merkel wohnt in Berlin, Tel. 030 1234567.", "lang": "de"},
        {"id": "en", "text": "Angela Merkel lives in Berlin."},
    ]
    # Every name, so that the name finder's language shows on a text without identifiers too.
    kept, _, _ = run_step(docs, names_scope="everywhere")
    by_id = {doc["id"]: doc for doc in kept}
    assert by_id["zh"]["text"] == "<PERSON>的电话是<PHONE>。"
    assert by_id["zh"]["signals"]["pii_names"] == "zh"
    assert by_id["de"]["signals"]["pii_names"] == "unsupported"
    assert "Angela Merkel" in by_id["de"]["text"] and "<PHONE>" in by_id["de"]["text"]
    assert by_id["en"]["text"] == "<PERSON> lives in Berlin."


def test_documents_with_more_hits_than_max_hits_are_removed_redacted() -> None:
    many = " ".join(f"user{i}@qq.com" for i in range(4))
    kept, removed, step = run_step([{"id": "a", "text": many}, {"id": "b", "text": "one@qq.com"}], max_hits=3)

    assert [doc["id"] for doc in kept] == ["b"]
    assert [doc["id"] for doc in removed] == ["a"]
    assert removed[0]["reason"] == REASON_TOO_MANY and removed[0]["removed_by"] == "pii"
    assert "@" not in removed[0]["text"] and removed[0]["signals"]["pii_count"] == 4
    assert step.stats.removed == {REASON_TOO_MANY: 1}


def test_max_hits_none_keeps_everything() -> None:
    many = " ".join(f"user{i}@qq.com" for i in range(80))
    kept, removed, _ = run_step([{"id": "a", "text": many}], max_hits=None)
    assert len(kept) == 1 and removed == [] and kept[0]["signals"]["pii_count"] == 80


def test_rerun_is_identical_and_only_re_decides_max_hits() -> None:
    docs: list[Document] = [
        {"id": str(i), "text": f"Mail a{i}@qq.com and b{i}@qq.com, call 1381234{i:04d}.", "lang": "en"}
        for i in range(5)
    ]
    first, _, _ = run_step(copy.deepcopy(docs))
    second, _, _ = run_step(copy.deepcopy(first))
    assert second == first
    stricter, removed, _ = run_step(copy.deepcopy(first), max_hits=2)
    assert stricter == [] and len(removed) == 5
    assert all(doc["pii"] == original["pii"] for doc, original in zip(removed, first, strict=True))


def test_pseudonym_mode_numbers_values_within_each_document() -> None:
    text = "a@qq.com, b@qq.com, a@qq.com"
    kept, _, _ = run_step([{"id": "1", "text": text}, {"id": "2", "text": "b@qq.com"}], mode="pseudonym")
    assert kept[0]["text"] == "<EMAIL_1>, <EMAIL_2>, <EMAIL_1>"
    assert kept[1]["text"] == "<EMAIL_1>"


def test_batches_keep_order_across_batch_boundaries() -> None:
    docs: list[Document] = [{"id": str(i), "text": f"Ms. Jane Doe {i} at 1381234{i:04d}"} for i in range(150)]
    kept, _, step = run_step(docs, batch_size=64)
    assert [doc["id"] for doc in kept] == [str(i) for i in range(150)]
    assert all(doc["text"].startswith("Ms. <PERSON>") and doc["text"].endswith("<PHONE>") for doc in kept)
    assert step.stats.docs_in == step.stats.kept == 150


def test_names_off_and_type_selection() -> None:
    text = "Barack Obama: obama@gmail.com, 13812345678"
    (doc,), _, _ = run_step([{"id": "1", "text": text}], names=False, types=["EMAIL"])
    assert doc["text"] == "Barack Obama: <EMAIL>, 13812345678"
    assert doc["signals"]["pii_names"] == "off"


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"types": ["ADDRESS"]}, "unknown PII type"),
        ({"mode": "fake"}, "mode"),
        ({"zh_names": "hanlp"}, "zh_names"),
        ({"max_hits": -1}, "max_hits"),
        ({"name_model": "no_such_spacy_pipeline"}, "not installed"),
        ({"colour": "red"}, "takes no parameter"),
    ],
)
def test_bad_parameters_fail_when_the_recipe_is_built(params: dict[str, object], message: str) -> None:
    with pytest.raises(RecipeError, match=message):
        build_step("pii", params)


def test_params_accept_lists_from_yaml_and_store_tuples() -> None:
    assert PiiParams(types=["PHONE", "EMAIL"]).types == ("EMAIL", "PHONE")  # type: ignore[arg-type]


def test_builtin_pii_only_recipe_runs_just_this_step() -> None:
    recipe = load_recipe("pii-only")
    (step,) = recipe.build()
    assert isinstance(step, PiiRedactor)
    assert step.params.max_hits == 50 and step.params.mode == "placeholder"


# ---------------------------------------------------------------------------------------------------------------
# Bad input: no crash, and the reason is recorded.


def test_a_10_mb_text_is_processed_whole_with_names_bounded() -> None:
    filler = "The committee met again on 2023-11-15 and discussed the budget of $1,299.00 in detail. "
    text = "Contact first@qq.com. " + filler * (10_000_000 // len(filler) + 1) + " Last: 13812345678."
    assert len(text) > 10_000_000
    (doc,), removed, _ = run_step([{"id": "big", "text": text, "lang": "en"}])
    assert removed == []
    assert [span["type"] for span in doc["pii"]] == ["EMAIL", "PHONE"]
    assert doc["signals"]["pii_ner_truncated"] is True
    assert doc["text"].startswith("Contact <EMAIL>.") and doc["text"].endswith("Last: <PHONE>.")


@pytest.mark.parametrize("encoding", ["utf-8", "latin-1", "gb18030", "utf-16-le"])
def test_binary_garbage_decoded_as_text_does_not_crash(encoding: str) -> None:
    rng = random.Random(encoding)
    garbage = bytes(rng.getrandbits(8) for _ in range(200_000)).decode(encoding, errors="replace")
    surrogates = bytes(rng.getrandbits(8) for _ in range(20_000)).decode("utf-8", errors="surrogateescape")
    docs: list[Document] = [{"id": "g", "text": garbage}, {"id": "s", "text": surrogates, "lang": "en"}]
    kept, removed, step = run_step(docs)
    assert len(kept) + len(removed) == 2
    for doc in kept + removed:
        assert "pii_count" in doc["signals"] or doc.get("reason") == "error"
        for span in doc.get("pii", []):
            assert 0 <= span["start"] < span["end"]
    assert step.stats.errors == {}


def test_mixed_scripts_keep_exact_offsets() -> None:
    text = (
        "مرحبا Barack Obama 👋🏽 张伟（电话：+86 138 1234 5678）Ελληνικά שלום e\u0301mail: jose\u0301@x.com "
        "zhang@163.com \u202eRTL\u202c Привет 41.173.96.26 ｍａｉｌ：ａｂｃ＠ｑｑ．ｃｏｍ"
    )
    (doc,), _, _ = run_step([{"id": "m", "text": text}])
    found = {(s["type"], text[s["start"] : s["end"]]) for s in doc["pii"]}
    assert {("PHONE", "+86 138 1234 5678"), ("EMAIL", "zhang@163.com"), ("IP", "41.173.96.26")} <= found
    assert ("EMAIL", "ａｂｃ＠ｑｑ．ｃｏｍ") in found


@pytest.mark.parametrize("text", ["", "   \n\t  ", None])
def test_empty_texts_are_kept_with_zero_hits(text: str | None) -> None:
    doc: Document = {"id": "e"}
    if text is not None:
        doc["text"] = text
    (out,), removed, _ = run_step([doc])
    assert removed == []
    assert out["pii"] == [] and out["signals"]["pii_count"] == 0
    if not (text or "").strip():
        assert out["signals"]["pii_names"] in ("empty", "unsupported")
    assert out.get("text") == text


def test_a_non_string_text_is_removed_with_the_error_recorded() -> None:
    kept, removed, step = run_step([{"id": "n", "text": 12345}, {"id": "ok", "text": "a@qq.com"}])  # type: ignore[typeddict-item]
    assert [doc["id"] for doc in kept] == ["ok"]
    assert removed[0]["reason"] == "error"
    assert "TypeError" in removed[0]["signals"]["pii_error"]
    assert step.stats.errors == {"TypeError": 1}
