"""The quality classifier end to end: the training command, and jobs that pick up the configured model."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from curation.models import Job
from curation.services.jobs import job_run_local, job_submit
from tests.fixtures.jobs import write_jsonl
from tests.support.job_outputs import outputs
from tests.support.quality_texts import good_text, junk_text

pytestmark = pytest.mark.django_db
RECIPE = "name: scored\nsteps:\n  - extract: {}\n  - quality_classifier: {}\n"


@pytest.fixture
def models(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    """Train a model with the management command from --positive and --negative files."""
    rng = random.Random(7)
    (tmp_path / "pos.txt").write_text("\n".join(good_text(rng) for _ in range(200)))
    (tmp_path / "neg.txt").write_text("\n".join(junk_text(rng) for _ in range(200)))
    call_command("train_quality_classifier", "--positive", str(tmp_path / "pos.txt"), "--negative",
                 str(tmp_path / "neg.txt"), "--output", str(tmp_path / "models"), "--model-version", "v1")
    assert "held out" in capsys.readouterr().out
    return tmp_path / "models"


def test_training_command_writes_a_versioned_model_with_held_out_metrics(models: Path) -> None:
    card = json.loads((models / "quality-classifier" / "v1" / "card.json").read_text())
    assert card["test_examples"] > 0 and card["metrics"]["precision"] > 0.9 and card["metrics"]["recall"] > 0.9
    assert (models / "quality-classifier" / "v1" / "model.ftz").stat().st_size < 20_000_000


def test_training_command_without_examples_fails_with_a_reason(tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="--positive"):
        call_command("train_quality_classifier", "--output", str(tmp_path / "m"))


def test_a_job_uses_the_configured_model_pinned_to_one_version(models: Path, tmp_path: Path, settings: Any) -> None:
    # given a configured model named by "latest"
    settings.QUALITY_CLASSIFIER_MODEL = str(models / "quality-classifier" / "latest")
    rng = random.Random(11)
    write_jsonl(tmp_path / "in.jsonl", [{"id": "good", "text": good_text(rng)}, {"id": "junk", "text": junk_text(rng)}])
    # when a recipe with a model-less quality_classifier step runs
    job = job_run_local(job_submit(recipe=RECIPE, inputs=[str(tmp_path / "in.jsonl")], output=str(tmp_path / "o")))
    # then the job recorded the pinned version, kept the good document with its score and removed the junk
    assert job.status == Job.Status.COMPLETED, job.error
    assert str(models / "quality-classifier" / "v1") in job.recipe_yaml
    assert [d["id"] for d in outputs(job.output, "kept")] == ["good"]
    assert outputs(job.output, "kept")[0]["signals"]["quality_score"] > 0.5
    assert [(d["id"], d["reason"]) for d in outputs(job.output, "removed")] == [("junk", "quality_classifier")]


def test_without_a_configured_model_the_step_is_left_out(tmp_path: Path, settings: Any) -> None:
    settings.QUALITY_CLASSIFIER_MODEL = ""
    write_jsonl(tmp_path / "in.jsonl", [{"id": "a", "text": "text"}])
    job = job_submit(recipe="web-default", inputs=[str(tmp_path / "in.jsonl")], output=str(tmp_path / "o"))
    assert "quality_classifier" not in job.recipe_yaml
    assert "minhash_dedup" in job.recipe_yaml and "pii" in job.recipe_yaml
