"""Runs and pipelines through real Celery workers on the `training` queue (PostgreSQL and Redis, no eager mode)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from tests.fixtures.workers import WorkerProcess, wait_for
from training.models import Pipeline, Run, RunMetric
from training.services.pipelines import pipeline_submit
from training.services.runs import run_submit


def test_rlhf_pipeline_runs_sft_then_reward_then_ppo_through_a_worker(
        celery_workers: Callable[..., WorkerProcess], tiny_model: Path, demo_exports: dict[str, Path]) -> None:
    worker = celery_workers("trainer", queues="training")
    pipeline = pipeline_submit(
        None, kind="rlhf", name="demo chain", base_model=str(tiny_model),
        datasets={stage: str(demo_exports[stage]) for stage in ("sft", "reward", "ppo")},
        hyperparameters={"sft": {"max_steps": 10, "learning_rate": 5e-3, "save_steps": 50},
                         "reward": {"max_steps": 6, "learning_rate": 2e-3, "save_steps": 50},
                         "ppo": {"max_steps": 2, "per_device_batch_size": 4, "response_length": 8}})
    runs = {run.kind: run for run in pipeline.runs.all()}
    assert runs["reward"].status == Run.Status.WAITING and runs["ppo"].status == Run.Status.WAITING

    def finished() -> bool:
        pipeline.refresh_from_db()
        return pipeline.status != Pipeline.Status.RUNNING

    wait_for(finished, 420, "the pipeline to finish", [worker])
    assert pipeline.status == Pipeline.Status.SUCCEEDED, list(pipeline.runs.values("kind", "status", "error"))
    sft, reward, ppo = (Run.objects.get(pk=runs[kind].pk) for kind in ("sft", "reward", "ppo"))
    assert sft.finished_at <= reward.started_at and reward.finished_at <= ppo.started_at  # one after the other
    assert ppo.global_step == 2 and ppo.content_hash
    ppo_metrics = RunMetric.objects.filter(run=ppo)
    assert ppo_metrics.count() == 2 and all(m.score is not None and m.kl is not None for m in ppo_metrics)
    assert RunMetric.objects.filter(run=reward, reward_accuracy__isnull=False).exists()
    assert (Path(ppo.output_path) / "model.safetensors").is_file()


def test_a_run_whose_worker_is_killed_resumes_from_its_checkpoint_on_another_worker(
        celery_workers: Callable[..., WorkerProcess], tiny_model: Path, demo_exports: dict[str, Path]) -> None:
    first = celery_workers("doomed", queues="training")
    run = run_submit(None, kind="sft", dataset=str(demo_exports["sft"]), base_model=str(tiny_model),
                     hyperparameters={"max_steps": 150, "save_steps": 5, "learning_rate": 1e-3})

    def past_a_checkpoint() -> bool:
        run.refresh_from_db()
        return run.global_step >= 12

    wait_for(past_a_checkpoint, 240, "the run to pass its first checkpoints", [first])
    first.kill_hard()
    killed_at = Run.objects.get(pk=run.pk).global_step
    assert killed_at < 150, "the kill must land mid-run"
    second = celery_workers("rescuer", queues="training")

    def done() -> bool:
        run.refresh_from_db()
        return run.is_finished

    wait_for(done, 300, "the run to finish on the second worker", [first, second])
    assert run.status == Run.Status.SUCCEEDED, run.error
    assert run.global_step == 150
    assert run.attempts == 2
    assert "checkpoint-" in run.resumed_from
    resumed_step = int(run.resumed_from.rsplit("-", 1)[1])
    assert 5 <= resumed_step <= killed_at
    assert list(RunMetric.objects.filter(run=run).values_list("step", flat=True)) == list(range(1, 151))


def test_cancelling_a_running_run_stops_it_at_a_step_without_a_final_model(
        celery_workers: Callable[..., WorkerProcess], tiny_model: Path, demo_exports: dict[str, Path]) -> None:
    from accounts.services import user_ensure
    from training.services.runs import run_cancel

    trainer = user_ensure("trainer", "pw-trainer-1", role="trainer")
    worker = celery_workers("trainer", queues="training")
    run = run_submit(trainer, kind="sft", dataset=str(demo_exports["sft"]), base_model=str(tiny_model),
                     hyperparameters={"max_steps": 1000, "save_steps": 1000})

    def started() -> bool:
        run.refresh_from_db()
        return run.global_step >= 3

    wait_for(started, 240, "the run to start training", [worker])
    run_cancel(trainer, run.pk)

    def stopped() -> bool:
        run.refresh_from_db()
        return run.is_finished

    wait_for(stopped, 60, "the run to stop", [worker])
    assert run.status == Run.Status.CANCELLED
    assert run.global_step < 1000
    assert not (Path(run.output_path) / "model.safetensors").exists()
