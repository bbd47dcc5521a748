"""The fastText quality classifier: versioned training output with held-out metrics, and the step's threshold."""

from __future__ import annotations

import gzip
import json
import os
import random
from pathlib import Path

import pytest

from curation.steps import quality_classifier as qc
from curation.steps.base import RecipeError, build_step
from curation.steps.document import Document
from curation.steps.quality_classifier import (
    ModelCard,
    TrainingParams,
    load_quality_model,
    parse_label,
    read_labelled,
    read_texts,
    resolve_model_dir,
    train_quality_classifier,
    train_quality_classifier_from_files,
)
from tests.support import planted_filters as planted
from tests.support.quality_texts import SPAM_ZH, good_text, junk_text


def examples(count: int = 300, seed: int = 0) -> list[tuple[str, int]]:
    rng = random.Random(seed)
    data = [(good_text(rng), 1) for _ in range(count)] + [(junk_text(rng), 0) for _ in range(count)]
    rng.shuffle(data)
    return data


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, ModelCard]:
    out = tmp_path_factory.mktemp("models")
    card = train_quality_classifier(examples(), str(out), version="v1", seed=3)
    return out, card


def test_training_writes_a_versioned_model_and_card_with_held_out_metrics(trained: tuple[Path, ModelCard]) -> None:
    out, card = trained
    directory = out / "quality-classifier" / "v1"

    assert sorted(os.listdir(directory)) == ["card.json", "model.ftz"]
    on_disk = json.loads((directory / "card.json").read_text())
    assert on_disk["version"] == "v1"
    assert on_disk["model_bytes"] == (directory / "model.ftz").stat().st_size
    assert on_disk["train_examples"] + on_disk["test_examples"] == 600
    assert 0 < on_disk["test_positive"] < on_disk["test_examples"]
    assert on_disk["params"]["bucket"] == 200_000
    for key in ("precision", "recall", "f1", "roc_auc"):
        assert on_disk["metrics"][key] >= 0.9, key
        assert key in on_disk["metrics_unquantized"]
    assert ModelCard.from_dict(on_disk) == card


def test_the_model_is_megabytes_at_most_not_hundreds(trained: tuple[Path, ModelCard]) -> None:
    _, card = trained

    assert 0 < card.model_bytes < 10_000_000


def test_the_same_examples_and_seed_give_the_same_model(tmp_path: Path, trained: tuple[Path, ModelCard]) -> None:
    _, first = trained

    again = train_quality_classifier(examples(), str(tmp_path), version="v1", seed=3)

    assert again.model_sha256 == first.model_sha256
    assert again.data_sha256 == first.data_sha256


def test_an_existing_version_is_never_overwritten(trained: tuple[Path, ModelCard]) -> None:
    out, _ = trained

    with pytest.raises(FileExistsError):
        train_quality_classifier(examples(50), str(out), version="v1")


def test_the_default_version_sorts_by_time_and_names_the_data(tmp_path: Path) -> None:
    card = train_quality_classifier(examples(60), str(tmp_path))

    stamp, digest = card.version.split("-")
    assert len(stamp) == len("20260101T000000Z") and stamp.endswith("Z")
    assert digest == card.data_sha256[:8]


def test_training_needs_both_classes(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="both classes"):
        train_quality_classifier([(planted.GOOD_EN, 1)] * 40, str(tmp_path))


@pytest.mark.parametrize("version", ["latest", "../escape", "a/b", "/"])
def test_bad_versions_are_refused(tmp_path: Path, version: str) -> None:
    with pytest.raises(ValueError):
        train_quality_classifier(examples(20), str(tmp_path), version=version)


def run_classifier(docs: list[Document], **params: object) -> tuple[list[Document], list[Document]]:
    step = build_step("quality_classifier", params)
    removed: list[Document] = []
    step.bind_removed_sink(removed.append)
    return list(step.run(iter(docs))), removed


def test_the_step_keeps_prose_and_removes_spam_in_both_languages(trained: tuple[Path, ModelCard]) -> None:
    out, card = trained
    rng = random.Random(99)
    docs: list[Document] = [
        {"id": "en", "text": planted.GOOD_EN},
        {"id": "zh", "text": planted.GOOD_ZH_2},
        {"id": "spam-en", "text": junk_text(random.Random(5))},
        {"id": "spam-zh", "text": " ".join(rng.choice(SPAM_ZH) for _ in range(50))},
        {"id": "empty", "text": ""},
    ]

    kept, removed = run_classifier(docs, model=str(out / "quality-classifier" / "v1"))

    assert [doc["id"] for doc in kept] == ["en", "zh"]
    assert {doc["id"] for doc in removed} == {"spam-en", "spam-zh", "empty"}
    assert all(doc["reason"] == "quality_classifier" for doc in removed)
    assert kept[0]["signals"]["quality_score"] > 0.5
    assert kept[0]["signals"]["quality_model"] == card.version
    assert removed[-1]["signals"]["quality_score"] == 0.0


def test_a_threshold_change_re_decides_without_scoring_again(
    trained: tuple[Path, ModelCard], monkeypatch: pytest.MonkeyPatch
) -> None:
    out, _ = trained
    model_dir = str(out / "quality-classifier" / "v1")
    kept, _ = run_classifier([{"id": "en", "text": planted.GOOD_EN}], model=model_dir)
    doc = kept[0]
    monkeypatch.setattr(qc.QualityModel, "score", lambda *a, **k: pytest.fail("scored again"))

    _, removed = run_classifier([doc], model=model_dir, threshold=min(1.0, doc["signals"]["quality_score"] + 0.0001))

    assert removed == [doc]


def test_documents_scored_by_another_version_are_scored_again(
    trained: tuple[Path, ModelCard], monkeypatch: pytest.MonkeyPatch
) -> None:
    out, card = trained
    doc: Document = {"id": "en", "text": planted.GOOD_EN, "signals": {"quality_score": 0.0, "quality_model": "old"}}

    kept, _ = run_classifier([doc], model=str(out / "quality-classifier" / "v1"))

    assert kept == [doc]
    assert doc["signals"]["quality_model"] == card.version


def test_prediction_always_passes_a_list_of_strings(trained: tuple[Path, ModelCard]) -> None:
    out, _ = trained
    model = load_quality_model(str(out / "quality-classifier" / "v1"))
    calls: list[object] = []
    real_predict = model._model.predict

    class Spy:
        def predict(self, texts: object, k: int = 1) -> object:
            calls.append(texts)
            return real_predict(texts, k=k)

    model._model, original = Spy(), model._model
    try:
        scores = model.score([planted.GOOD_EN, planted.GOOD_ZH, ""])
    finally:
        model._model = original

    assert len(scores) == 3 and scores[2] == 0.0
    assert all(isinstance(texts, list) and all(isinstance(t, str) for t in texts) for texts in calls)


def test_latest_resolves_to_the_newest_complete_version(tmp_path: Path) -> None:
    train_quality_classifier(examples(60), str(tmp_path), version="20260101T000000Z-aaaa")
    train_quality_classifier(examples(60, seed=1), str(tmp_path), version="20260301T000000Z-bbbb")
    incomplete = tmp_path / "quality-classifier" / "20270101T000000Z-cccc"
    incomplete.mkdir()
    (incomplete / "model.ftz").write_bytes(b"half written")

    resolved = resolve_model_dir(str(tmp_path / "quality-classifier" / "latest"))

    assert resolved.endswith("20260301T000000Z-bbbb")
    latest = str(tmp_path / "quality-classifier" / "latest")
    kept, _ = run_classifier([{"id": "en", "text": planted.GOOD_EN}], model=latest)
    assert kept[0]["signals"]["quality_model"] == "20260301T000000Z-bbbb"


def test_models_live_in_any_fsspec_storage() -> None:
    card = train_quality_classifier(examples(60), "memory://models", version="remote")

    kept, _ = run_classifier(
        [{"id": "en", "text": planted.GOOD_EN}], model="memory://models/quality-classifier/latest"
    )

    assert card.path == "memory://models/quality-classifier/remote"
    assert kept[0]["signals"]["quality_model"] == "remote"


def test_a_missing_model_fails_the_shard_instead_of_removing_everything(tmp_path: Path) -> None:
    step = build_step("quality_classifier", {"model": str(tmp_path / "quality-classifier" / "nope")})

    with pytest.raises(FileNotFoundError):
        list(step.run(iter([{"id": "en", "text": planted.GOOD_EN}])))


def test_a_tampered_model_file_is_refused(tmp_path: Path) -> None:
    card = train_quality_classifier(examples(60), str(tmp_path), version="v1")
    model_file = tmp_path / "quality-classifier" / "v1" / "model.ftz"
    model_file.write_bytes(model_file.read_bytes()[:-1] + b"\x00")

    with pytest.raises(ValueError, match="SHA-256"):
        load_quality_model(card.path)


def test_the_step_requires_a_model_and_a_sane_threshold() -> None:
    with pytest.raises(RecipeError, match="model is required"):
        build_step("quality_classifier", {})
    with pytest.raises(RecipeError, match="threshold"):
        build_step("quality_classifier", {"model": "m", "threshold": 2})


@pytest.mark.parametrize(
    ("value", "label"),
    [(1, 1), (0, 0), (True, 1), (False, 0), ("hq", 1), ("LQ", 0), ("positive", 1), ("negative", 0), (" good ", 1),
     ("bad", 0), ("keep", 1), ("drop", 0), ("1", 1), ("0", 0)],
)
def test_labels_are_read_in_every_documented_spelling(value: object, label: int) -> None:
    assert parse_label(value) == label


@pytest.mark.parametrize("value", [2, -1, "maybe", None, 0.5])
def test_unknown_labels_are_refused(value: object) -> None:
    with pytest.raises(ValueError, match="unknown label"):
        parse_label(value)


def test_text_files_hold_one_text_per_line_or_json_lines(tmp_path: Path) -> None:
    path = tmp_path / "positive.txt.gz"
    with gzip.open(path, "wt", encoding="utf-8") as handle:
        handle.write("A plain line of text.\n\n")
        handle.write(json.dumps({"text": "A JSON record,\nwith a newline."}) + "\n")
        handle.write("{not json, just a brace}\n")

    assert list(read_texts(str(path))) == [
        "A plain line of text.",
        "A JSON record,\nwith a newline.",
        "{not json, just a brace}",
    ]


def test_a_bad_labels_line_names_its_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "labels.jsonl"
    path.write_text(json.dumps({"text": "fine", "label": "hq"}) + "\n" + json.dumps({"text": "x", "label": "?"}) + "\n")

    with pytest.raises(ValueError, match=r"labels.jsonl:2: unknown label"):
        list(read_labelled(str(path)))


def test_training_from_files_as_the_management_command_does(tmp_path: Path) -> None:
    data = examples(150)
    positive = tmp_path / "good.txt"
    negative = tmp_path / "bad.jsonl"
    labels = tmp_path / "labels.jsonl"
    positive.write_text("\n".join(text for text, label in data[:200] if label) + "\n", encoding="utf-8")
    negative.write_text(
        "".join(json.dumps({"text": text}) + "\n" for text, label in data[:200] if not label), encoding="utf-8"
    )
    labels.write_text(
        "".join(json.dumps({"text": text, "label": "hq" if label else "lq"}) + "\n" for text, label in data[200:]),
        encoding="utf-8",
    )

    card = train_quality_classifier_from_files(
        out_dir=str(tmp_path / "models"),
        positive=[str(positive)],
        negative=[str(negative)],
        labels=[str(labels)],
        version="from-files",
        params=TrainingParams(epoch=5),
    )

    assert card.train_examples + card.test_examples == 300
    assert (tmp_path / "models" / "quality-classifier" / "from-files" / "card.json").is_file()


def test_training_from_files_needs_both_sides(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="go together"):
        train_quality_classifier_from_files(out_dir=str(tmp_path), positive=["a.txt"])
    with pytest.raises(ValueError, match="--labels"):
        train_quality_classifier_from_files(out_dir=str(tmp_path))


def test_text_is_lowercased_tokenised_and_cannot_smuggle_a_label() -> None:
    assert qc.preprocess("Hello, World!\nNew line __label__hq") == "hello , world ! new line _label_hq"
    assert qc.preprocess("今天天气很好。") == "今天天气 很 好 。"


def test_metrics_at_the_extremes() -> None:
    nothing_right = qc.evaluate([0.9, 0.1], [0, 1])
    one_class = qc.evaluate([0.9, 0.8], [1, 1])

    assert (nothing_right.precision, nothing_right.recall, nothing_right.f1) == (0.0, 0.0, 0.0)
    assert one_class.roc_auc is None and one_class.negative_recall is None
