"""Quality-classifier models come only from configured registries, and a card cannot steer a path (issue 8, item 3)."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import fsspec
import pytest

from core.errors import PermissionDenied
from curation.services.jobs import recipe_prepare
from curation.steps import quality_classifier
from curation.steps.quality_classifier import (
    ModelLocationError,
    load_quality_model,
    model_location_check,
    resolve_model_dir,
)

pytestmark = pytest.mark.django_db
GOOD_SHA = "a" * 64


def _card(**changes: Any) -> dict[str, Any]:
    metrics = {k: None for k in ("precision", "recall", "f1", "negative_precision", "negative_recall",
                                 "accuracy", "roc_auc")}
    card: dict[str, Any] = {
        "version": "v1", "path": "", "created_at": "2026-01-01T00:00:00+00:00", "model_file": "model.ftz",
        "model_sha256": GOOD_SHA, "model_bytes": 3, "data_sha256": GOOD_SHA, "train_examples": 1,
        "train_positive": 1, "test_examples": 1, "test_positive": 1, "test_fraction": 0.1, "seed": 0,
        "metrics": metrics, "metrics_unquantized": metrics, "params": {},
    }
    card.update(changes)
    return card


def _version(registry: Path, version: str = "v1", **changes: Any) -> Path:
    folder = registry / "quality-classifier" / version
    folder.mkdir(parents=True)
    (folder / "model.ftz").write_bytes(b"not a model")
    (folder / "card.json").write_text(json.dumps(_card(**changes)))
    return folder


def _recipe(model: str) -> str:
    return f"name: scored\nsteps:\n  - extract: {{}}\n  - quality_classifier: {{model: '{model}'}}\n"


@pytest.fixture
def registry(tmp_path: Path, settings: Any) -> Path:
    settings.QUALITY_MODEL_REGISTRIES = [str(tmp_path / "registry")]
    settings.QUALITY_CLASSIFIER_MODEL = ""
    return tmp_path / "registry"


@pytest.fixture
def no_loaded_models() -> Iterator[None]:
    quality_classifier._loaded.clear()
    yield
    quality_classifier._loaded.clear()


def test_submit_refuses_a_model_outside_the_configured_registries(registry: Path, tmp_path: Path) -> None:
    elsewhere = _version(tmp_path / "elsewhere")
    with pytest.raises(PermissionDenied, match="QUALITY_MODEL_REGISTRIES"):
        recipe_prepare(_recipe(str(elsewhere)))


def test_submit_refuses_a_registry_escape_through_dot_dot(registry: Path, tmp_path: Path) -> None:
    _version(tmp_path / "elsewhere")
    sneaky = str(registry / ".." / "elsewhere" / "quality-classifier" / "v1")
    with pytest.raises(PermissionDenied):
        recipe_prepare(_recipe(sneaky))


def test_latest_is_never_looked_up_outside_the_registries(registry: Path) -> None:
    # an internal URL: refused before any request (an attempt would fail with a connection error instead)
    with pytest.raises(PermissionDenied, match="QUALITY_MODEL_REGISTRIES"):
        recipe_prepare(_recipe("http://169.254.169.254/models/quality-classifier/latest"))


def test_submit_pins_latest_inside_a_registry(registry: Path) -> None:
    _version(registry, "v1")
    newest = _version(registry, "v2")
    recipe = recipe_prepare(_recipe(str(registry / "quality-classifier" / "latest")))
    assert str(newest) in recipe.source_yaml or str(newest) in json.dumps(recipe.to_plan())


def test_url_registries_match_by_prefix_and_refuse_dot_segments() -> None:
    registries = ["s3://models-bucket/quality/"]
    assert model_location_check("s3://models-bucket/quality/quality-classifier/v1", registries)
    for model in ("s3://models-bucket/quality-other/x", "s3://models-bucket/quality/../secret/x", "s3://other/q"):
        with pytest.raises(ModelLocationError):
            model_location_check(model, registries)


def test_a_link_out_of_a_registry_is_refused(tmp_path: Path) -> None:
    outside = _version(tmp_path / "outside")
    (tmp_path / "registry").mkdir()
    (tmp_path / "registry" / "link").symlink_to(outside)
    with pytest.raises(ModelLocationError):
        resolve_model_dir(str(tmp_path / "registry" / "link"), [str(tmp_path / "registry")])


def test_a_card_with_a_path_for_its_sha_writes_nothing_outside_the_cache(no_loaded_models: None,
                                                                          settings: Any) -> None:
    # given a remote model in a registry whose card's "hash" walks out of the cache folder
    settings.QUALITY_MODEL_REGISTRIES = ["memory://reg"]
    evil = "../../../../tmp/planted-by-card"
    fs = fsspec.filesystem("memory")
    fs.pipe("/reg/quality-classifier/v1/model.ftz", b"attacker bytes")
    fs.pipe("/reg/quality-classifier/v1/card.json", json.dumps(_card(model_sha256=evil)).encode())
    with pytest.raises(ModelLocationError, match="64"):
        load_quality_model("memory://reg/quality-classifier/v1")
    cache = os.path.join(tempfile.gettempdir(), f"curation-models-{os.getuid()}")
    assert not os.path.exists(os.path.normpath(os.path.join(cache, f"{evil}.ftz")))


@pytest.mark.parametrize("name", ["../model.ftz", "/etc/passwd", "sub/model.ftz", "..", ""])
def test_a_card_naming_a_model_file_that_is_not_bare_is_refused(tmp_path: Path, name: str, settings: Any,
                                                                  no_loaded_models: None) -> None:
    settings.QUALITY_MODEL_REGISTRIES = [str(tmp_path)]
    folder = _version(tmp_path, model_file=name)
    with pytest.raises(ModelLocationError, match="bare file name"):
        load_quality_model(str(folder))


def test_a_worker_loads_no_model_outside_the_registries(registry: Path, tmp_path: Path,
                                                         no_loaded_models: None) -> None:
    # the app connects the check at start-up; a recipe pinned elsewhere (e.g. written into the database) is refused
    assert quality_classifier.model_registries is not None
    folder = _version(tmp_path / "elsewhere")
    with pytest.raises(ModelLocationError):
        load_quality_model(str(folder))
