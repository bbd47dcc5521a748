"""Closing the loop: checkpoints answer held-out prompts and people compare the answers blind."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from accounts.services import user_ensure
from annotation.models import Item, Project
from core.errors import ValidationError
from training.models import Run
from training.services.comparisons import comparison_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def second_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from training.runner.tiny_model import make_tiny_model

    return make_tiny_model(tmp_path_factory.mktemp("tiny2") / "model", seed=1)


def _finished(kind: str, output: Path) -> Run:
    return Run.objects.create(kind=kind, status=Run.Status.SUCCEEDED, dataset_path="/x", base_model="/x",
                              output_path=str(output))


def test_pairwise_comparison_hides_the_models_and_shuffles_their_order(
        tiny_model: Path, second_model: Path, demo_exports: dict[str, Path]) -> None:
    trainer: Any = user_ensure("trainer", "pw-trainer-1", role="trainer")
    first, second = _finished("sft", tiny_model), _finished("ppo", second_model)
    result = comparison_create(trainer, name="sft vs ppo", runs=[first, second], prompts=str(demo_exports["ppo"]),
                               kind="pairwise", limit=4, max_new_tokens=8)
    assert result.errors == [] and result.items == 4  # the ppo export's 4 held-out test prompts
    project = Project.objects.get(pk=result.project_id)
    assert project.kind == "pairwise"
    orders = []
    for item in Item.objects.filter(project=project):
        assert [r["id"] for r in item.responses] == ["r1", "r2"]  # ids say nothing about the model
        models = [r["model"] for r in item.responses]
        assert sorted(models) == sorted([f"run-{first.pk} (sft)", f"run-{second.pk} (ppo)"])
        assert item.messages and item.messages[-1]["role"] == "user"
        orders.append(models[0])
    assert len(set(orders)) == 2, "the first position must not always belong to the same model"


def test_ranking_comparison_puts_all_checkpoints_in_one_item(
        tiny_model: Path, second_model: Path, demo_exports: dict[str, Path]) -> None:
    trainer: Any = user_ensure("trainer", "pw-trainer-1", role="trainer")
    runs = [_finished("sft", tiny_model), _finished("dpo", second_model), _finished("sft", second_model)]
    result = comparison_create(trainer, name="three", runs=runs, prompts=str(demo_exports["sft"]), kind="ranking",
                               limit=2, max_new_tokens=4)
    items = list(Item.objects.filter(project_id=result.project_id))
    assert len(items) == 2 and all(len(item.responses) == 3 for item in items)


def test_a_comparison_needs_two_finished_policy_runs(tiny_model: Path, demo_exports: dict[str, Path]) -> None:
    trainer: Any = user_ensure("trainer", "pw-trainer-1", role="trainer")
    reward = _finished("reward", tiny_model)
    policy = _finished("sft", tiny_model)
    with pytest.raises(ValidationError, match="at least two"):
        comparison_create(trainer, name="x", runs=[policy], prompts=str(demo_exports["ppo"]))
    with pytest.raises(ValidationError, match="not a finished policy"):
        comparison_create(trainer, name="x", runs=[policy, reward], prompts=str(demo_exports["ppo"]))
    assert not Project.objects.exists()
