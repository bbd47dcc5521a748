"""Retraining the quality classifier from a label project's labels; the next job uses the new model."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command

from annotation.models import Project
from annotation.services.items import items_import
from annotation.services.projects import project_create
from core.errors import ValidationError
from loop.services.classifier import classifier_train_from_project, latest_model
from tests.support.annotation_quality import annotate, make_users
from tests.support.job_outputs import outputs
from tests.support.loop_jobs import GOOD, JUNK, finished_job

pytestmark = pytest.mark.django_db


def labelled_project(copies: int = 15, name: str = "quality labels") -> Project:
    project = project_create(name=name, kind=Project.KIND_LABEL, overlap=3, labels=["good", "junk", "duplicate"])
    lines = []
    for copy in range(copies):
        for kind, texts in (("good", GOOD), ("junk", JUNK)):
            for number, text in enumerate(texts):
                lines.append({"id": f"{kind}-{number}-{copy}", "prompt": f"{text}\nVariant {copy}."})
    items_import(project, [json.dumps(line, ensure_ascii=False) for line in lines])
    people = make_users(2, f"{name[:3]}-labeller", project)
    for item in project.items.all():
        label = item.external_id.split("-")[0]
        if item.external_id.endswith("-0"):
            label = "duplicate"  # neither class: left out of training
        for person in people:
            annotate(item, person, {"labels": [label]})
    return project


def test_training_from_labels_reports_held_out_metrics_and_registers_the_model(settings: Any, tmp_path: Path) -> None:
    settings.QUALITY_MODEL_REGISTRIES = [str(tmp_path / "models")]
    project = labelled_project()

    card = classifier_train_from_project(project, version="from-labels-1")

    assert card.version == "from-labels-1"
    assert Path(card.path) == tmp_path / "models" / "quality-classifier" / "from-labels-1"
    assert (Path(card.path) / "card.json").exists()
    # 15 copies x 8 texts, minus the 8 labelled "duplicate": 112 examples, half of them good.
    assert card.train_examples + card.test_examples == 112
    assert card.metrics.precision is not None and card.metrics.recall is not None


def test_training_needs_both_classes(settings: Any, tmp_path: Path) -> None:
    settings.QUALITY_MODEL_REGISTRIES = [str(tmp_path / "models")]
    project = project_create(name="one class", kind=Project.KIND_LABEL, overlap=1, labels=["good", "junk"])
    with pytest.raises(ValidationError, match="needs both"):
        classifier_train_from_project(project)


def test_a_retrained_classifier_is_used_by_the_next_job(settings: Any, tmp_path: Path) -> None:
    settings.QUALITY_MODEL_REGISTRIES = [str(tmp_path / "models")]
    recipe = f"""name: with-classifier
reader: {{text_field: text}}
steps:
  - quality_classifier: {{model: {latest_model()}, threshold: 0.5}}
"""
    first = classifier_train_from_project(labelled_project(name="first"), version="v1")
    job = finished_job(tmp_path / "one", recipe=recipe, copies=2)
    used = {doc["signals"]["quality_model"] for kind in ("kept", "removed") for doc in outputs(job.output, kind)}
    assert used == {first.version}

    # Retrained through the command, as an engineer would after more labels arrived.
    call_command("train_quality_classifier", project=labelled_project(name="second").pk, model_version="v2")
    job = finished_job(tmp_path / "two", recipe=recipe, copies=2)
    used = {doc["signals"]["quality_model"] for kind in ("kept", "removed") for doc in outputs(job.output, kind)}
    assert used == {"v2"}
    junk_removed = {d["id"] for d in outputs(job.output, "removed")}
    assert any(doc_id.startswith("junk") for doc_id in junk_removed)
