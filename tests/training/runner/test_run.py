"""The runner trains each kind with trl on the tiny model, on the CPU, and its results show the learning."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.training.conftest import SFT_FAST
from training.runner import Hyperparameters, RunKind, RunSpec, SpecError
from training.runner.hooks import RunCancelled, RunHooks
from training.runner.run import last_complete_checkpoint, run_training

REPO = Path(__file__).resolve().parents[3]


class Recorder:
    def __init__(self) -> None:
        self.metrics: list[tuple[int, dict[str, float]]] = []
        self.progress: list[tuple[int, int]] = []

    def hooks(self, cancel_at: int | None = None) -> RunHooks:
        return RunHooks(metrics=lambda step, values: self.metrics.append((step, values)),
                        progress=lambda step, total: self.progress.append((step, total)),
                        should_cancel=(lambda: bool(self.progress) and self.progress[-1][0] >= cancel_at)
                        if cancel_at else None)

    def series(self, name: str) -> list[float]:
        return [values[name] for _, values in self.metrics if name in values]


@pytest.fixture(scope="module")
def sft_output(tiny_model: Path, demo_exports: dict[str, Path], tmp_path_factory: pytest.TempPathFactory,
               ) -> tuple[Path, Recorder]:
    recorder = Recorder()
    output = tmp_path_factory.mktemp("sft") / "out"
    spec = RunSpec(RunKind.SFT, dataset=demo_exports["sft"], model=tiny_model, output=output,
                   hyper=Hyperparameters.from_mapping(SFT_FAST))
    run_training(spec, recorder.hooks())
    return output, recorder


@pytest.fixture(scope="module")
def reward_output(sft_output: tuple[Path, Recorder], demo_exports: dict[str, Path],
                  tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Recorder]:
    recorder = Recorder()
    output = tmp_path_factory.mktemp("reward") / "out"
    spec = RunSpec(RunKind.REWARD, dataset=demo_exports["reward"], model=sft_output[0], output=output,
                   hyper=Hyperparameters.from_mapping({"max_steps": 20, "learning_rate": 2e-3, "save_steps": 50}))
    run_training(spec, recorder.hooks())
    return output, recorder


def test_sft_loss_falls_by_half_in_a_few_dozen_steps(sft_output: tuple[Path, Recorder]) -> None:
    output, recorder = sft_output
    losses = recorder.series("loss")
    assert len(losses) == 40
    first, last = sum(losses[:3]) / 3, sum(losses[-3:]) / 3
    assert last <= first / 2, (first, last)
    assert recorder.progress[-1] == (40, 40)
    record = json.loads((output / "run.json").read_text())
    assert record["global_step"] == 40 and record["content_hash"]
    assert (output / "model.safetensors").is_file() and (output / "tokenizer.json").is_file()


def test_reward_model_orders_held_out_pairs(reward_output: tuple[Path, Recorder],
                                            demo_exports: dict[str, Path]) -> None:
    """Pair accuracy above 0.9 on test pairs the model never saw (the planted signal: answer vs refusal)."""
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    output, recorder = reward_output
    assert recorder.series("reward_accuracy"), "the trainer logs pair accuracy"
    tokenizer = AutoTokenizer.from_pretrained(str(output))
    model = AutoModelForSequenceClassification.from_pretrained(str(output)).eval()
    rows = [json.loads(line) for line in (demo_exports["reward"] / "test.jsonl").read_text().splitlines()]
    correct = 0
    for row in rows:
        scores = []
        for answer in (row["chosen"], row["rejected"]):
            ids = tokenizer.apply_chat_template(row["prompt"] + answer, tokenize=True, return_dict=True,
                                                return_tensors="pt")
            with torch.no_grad():
                scores.append(model(**ids).logits[0, 0].item())
        correct += scores[0] > scores[1]
    assert correct / len(rows) > 0.9, f"{correct}/{len(rows)}"


def test_dpo_raises_chosen_reward_above_rejected(sft_output: tuple[Path, Recorder], demo_exports: dict[str, Path],
                                                 tmp_path: Path) -> None:
    recorder = Recorder()
    spec = RunSpec(RunKind.DPO, dataset=demo_exports["dpo"], model=sft_output[0], output=tmp_path / "dpo",
                   hyper=Hyperparameters.from_mapping({"max_steps": 12, "learning_rate": 1e-3, "save_steps": 50}))
    run_training(spec, recorder.hooks())
    chosen, rejected = recorder.series("reward_chosen"), recorder.series("reward_rejected")
    assert len(chosen) == 12
    assert sum(chosen[-3:]) / 3 > sum(rejected[-3:]) / 3
    assert recorder.series("reward_margin")[-1] > recorder.series("reward_margin")[0]


def test_ppo_updates_from_an_sft_run_and_a_reward_run_log_score_and_kl(
        sft_output: tuple[Path, Recorder], reward_output: tuple[Path, Recorder], demo_exports: dict[str, Path],
        tmp_path: Path) -> None:
    recorder = Recorder()
    spec = RunSpec(RunKind.PPO, dataset=demo_exports["ppo"], model=sft_output[0], output=tmp_path / "ppo",
                   reward_model=reward_output[0],
                   hyper=Hyperparameters.from_mapping({"max_steps": 3, "per_device_batch_size": 4,
                                                       "response_length": 12, "learning_rate": 1e-5}))
    result = run_training(spec, recorder.hooks())
    assert result.global_step == 3
    assert len(recorder.series("score")) == 3 and len(recorder.series("kl")) == 3
    assert recorder.series("value_loss") and recorder.series("entropy")
    assert (tmp_path / "ppo" / "model.safetensors").is_file()


def test_a_cancelled_run_resumes_from_its_checkpoint_to_the_same_step_count(
        tiny_model: Path, demo_exports: dict[str, Path], tmp_path: Path) -> None:
    hyper = Hyperparameters.from_mapping({"max_steps": 12, "save_steps": 5, "learning_rate": 1e-3})
    spec = RunSpec(RunKind.SFT, dataset=demo_exports["sft"], model=tiny_model, output=tmp_path / "run", hyper=hyper)
    first = Recorder()
    with pytest.raises(RunCancelled):
        run_training(spec, first.hooks(cancel_at=7))
    assert not (tmp_path / "run" / "model.safetensors").exists(), "a cancelled run saves no final model"
    second = Recorder()
    result = run_training(spec, second.hooks())
    assert result.resumed_from is not None and result.resumed_from.endswith("checkpoint-5")
    assert result.global_step == 12
    assert [step for step, _ in second.metrics] == list(range(6, 13))


def test_unknown_hyperparameters_and_missing_reward_model_are_refused(tiny_model: Path,
                                                                      demo_exports: dict[str, Path]) -> None:
    with pytest.raises(SpecError, match="unknown hyperparameter"):
        Hyperparameters.from_mapping({"learning_rat": 1e-4})
    with pytest.raises(SpecError, match="integer"):
        Hyperparameters.from_mapping({"max_steps": "many"})
    spec = RunSpec(RunKind.PPO, dataset=demo_exports["ppo"], model=tiny_model, output=Path("/nonexistent"))
    with pytest.raises(SpecError, match="reward model"):
        spec.check()


def test_an_export_with_the_wrong_columns_is_refused_before_training(tiny_model: Path, demo_exports: dict[str, Path],
                                                                     tmp_path: Path) -> None:
    spec = RunSpec(RunKind.DPO, dataset=demo_exports["sft"], model=tiny_model, output=tmp_path / "out")
    with pytest.raises(SpecError, match="prompt/chosen/rejected"):
        run_training(spec)
    assert not (tmp_path / "out" / "checkpoints").exists()


def test_runner_imports_without_django() -> None:
    code = ("import sys; import training.runner, training.runner.run, training.runner.__main__; "
            "assert 'django' not in sys.modules, sorted(m for m in sys.modules if m.startswith('django'))")
    subprocess.run([sys.executable, "-c", code], cwd=REPO, check=True, timeout=300,
                   env={"PATH": "/usr/bin:/bin", "OMP_NUM_THREADS": "1"})


def test_rloo_trains_the_sft_policy_against_the_reward_run(
        sft_output: tuple[Path, Recorder], reward_output: tuple[Path, Recorder], demo_exports: dict[str, Path],
        tmp_path: Path) -> None:
    """The upgrade path from PPO: RLOO with the reward run's model as the reward function."""
    recorder = Recorder()
    spec = RunSpec(RunKind.RLOO, dataset=demo_exports["ppo"], model=sft_output[0], output=tmp_path / "rloo",
                   reward_model=reward_output[0],
                   hyper=Hyperparameters.from_mapping({"max_steps": 2, "per_device_batch_size": 4,
                                                       "num_generations": 2, "response_length": 8,
                                                       "learning_rate": 1e-5, "save_steps": 50}))
    result = run_training(spec, recorder.hooks())
    assert result.global_step == 2
    assert len(recorder.series("score")) == 2
    assert (tmp_path / "rloo" / "model.safetensors").is_file()


def test_a_checkpoint_left_half_written_by_a_killed_worker_is_passed_over(tmp_path: Path) -> None:
    # given checkpoints 10 (whole), 20 (killed before its state file) and 30 (killed while writing it)
    for step in (10, 20, 30):
        (tmp_path / f"checkpoint-{step}").mkdir()
        (tmp_path / f"checkpoint-{step}" / "model.safetensors").write_bytes(b"weights")
    (tmp_path / "checkpoint-10" / "trainer_state.json").write_text(json.dumps({"global_step": 10}))
    (tmp_path / "checkpoint-30" / "trainer_state.json").write_text('{"global_step": 3')
    (tmp_path / "checkpoint-notes").mkdir()
    # when the run looks for where to resume, then it takes the newest whole one
    assert last_complete_checkpoint(tmp_path) == str(tmp_path / "checkpoint-10")
    # and with nothing whole, or no folder at all, it starts from the beginning
    (tmp_path / "checkpoint-10" / "trainer_state.json").unlink()
    assert last_complete_checkpoint(tmp_path) is None
    assert last_complete_checkpoint(tmp_path / "missing") is None
