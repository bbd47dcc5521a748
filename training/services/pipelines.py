"""Pipelines: SFT -> reward model -> PPO, or SFT -> DPO, as one request whose stages start one after the other.

All runs of a pipeline are created at submit time (so the page shows the whole chain at once); the first stage is
queued and the others wait. When a run succeeds, `pipeline_advance` queues every waiting run whose model runs
(parent, reward run) have succeeded. The reward model starts from the SFT model (InstructGPT's recipe), and PPO
takes the SFT run as policy and reference and the reward run as reward and value model, so PPO's prompts and the
reward model see the same chat template and tokenizer.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.roles import can_train
from core.errors import Conflict, NotFound, PermissionDenied, ValidationError
from training import workflows
from training.models import Pipeline, Run
from training.services.runs import run_submit

# The stages of each pipeline kind, in order: (run kind, the stages its model and reward come from).
STAGES: dict[str, list[str]] = {
    "rlhf": ["sft", "reward", "ppo"],
    "dpo": ["sft", "dpo"],
}


def pipeline_submit(
    user: AbstractBaseUser | None,
    *,
    kind: str,
    name: str,
    base_model: str,
    datasets: dict[str, str],
    hyperparameters: dict[str, dict[str, Any]] | None = None,
) -> Pipeline:
    """Create a pipeline and all its runs; queue the first stage on commit. Each call is a new pipeline.

    `datasets` names one export folder per stage ({"sft": ..., "reward": ..., "ppo": ...}); `hyperparameters`
    optionally per stage. Every stage is validated before anything is created.
    """
    if kind not in STAGES:
        raise ValidationError(_("unknown pipeline kind: %(kind)s") % {"kind": kind}, field="kind")
    stages = STAGES[kind]
    missing = [stage for stage in stages if not datasets.get(stage)]
    if missing:
        raise ValidationError(_("an export folder is needed for: %(stages)s") % {"stages": ", ".join(missing)},
                              field="datasets")
    hyperparameters = hyperparameters or {}
    unknown = sorted(set(hyperparameters) - set(stages))
    if unknown:
        raise ValidationError(_("no such stage: %(stages)s") % {"stages": ", ".join(unknown)},
                              field="hyperparameters")
    with transaction.atomic():
        pipeline = Pipeline.objects.create(name=name or kind, kind=kind, created_by=user)
        sft = run_submit(user, kind="sft", dataset=datasets["sft"], base_model=base_model,
                         hyperparameters=hyperparameters.get("sft"), pipeline=pipeline, stage=0)
        if kind == Pipeline.Kind.RLHF:
            reward = run_submit(user, kind="reward", dataset=datasets["reward"], parent=sft,
                                hyperparameters=hyperparameters.get("reward"), pipeline=pipeline, stage=1,
                                enqueue=False)
            run_submit(user, kind="ppo", dataset=datasets["ppo"], parent=sft, reward_run=reward,
                       hyperparameters=hyperparameters.get("ppo"), pipeline=pipeline, stage=2, enqueue=False)
        else:
            run_submit(user, kind="dpo", dataset=datasets["dpo"], parent=sft,
                       hyperparameters=hyperparameters.get("dpo"), pipeline=pipeline, stage=1, enqueue=False)
    return pipeline


def pipeline_advance(pipeline_id: int) -> list[int]:
    """Queue the waiting runs whose inputs have succeeded; finish the pipeline when every run has. Returns ids queued.

    Called inside run_complete's transaction (pipeline row locked first). Safe to re-run.
    """
    runs = list(Run.objects.select_for_update(of=("self",)).filter(pipeline_id=pipeline_id)
                .select_related("parent", "reward_run"))
    queued: list[int] = []
    now = timezone.now()
    for run in runs:
        if run.status != Run.Status.WAITING:
            continue
        inputs = [other for other in (run.parent, run.reward_run) if other is not None]
        if all(other.status == Run.Status.SUCCEEDED for other in inputs):
            run.status = Run.Status.PENDING
            run.enqueued_at = now
            run.save(update_fields=["status", "enqueued_at"])
            workflows.enqueue_run(run.pk)
            queued.append(run.pk)
    if all(run.status == Run.Status.SUCCEEDED for run in runs):
        Pipeline.objects.filter(pk=pipeline_id, status=Pipeline.Status.RUNNING).update(
            status=Pipeline.Status.SUCCEEDED, finished_at=now)
    return queued


def pipeline_stop(pipeline_id: int, status: str) -> None:
    """End a pipeline as failed or cancelled: its waiting and queued runs are cancelled, a running one asked to stop."""
    now = timezone.now()
    with transaction.atomic():
        updated = Pipeline.objects.filter(pk=pipeline_id, status=Pipeline.Status.RUNNING).update(
            status=status, finished_at=now)
        if not updated:
            return
        Run.objects.filter(pipeline_id=pipeline_id, status__in=[Run.Status.WAITING, Run.Status.PENDING]).update(
            status=Run.Status.CANCELLED, cancel_requested=True, finished_at=now)
        Run.objects.filter(pipeline_id=pipeline_id, status=Run.Status.RUNNING).update(cancel_requested=True)


def pipeline_cancel(user: AbstractBaseUser, pipeline_id: int) -> Pipeline:
    """Cancel a running pipeline (409 when it has finished). The running stage stops at its next step."""
    pipeline = access_pipeline(user, pipeline_id)
    if pipeline.status != Pipeline.Status.RUNNING:
        raise Conflict(_("pipeline %(id)s has already finished") % {"id": pipeline.pk})
    pipeline_stop(pipeline.pk, str(Pipeline.Status.CANCELLED))
    pipeline.refresh_from_db()
    return pipeline


def access_pipeline(user: AbstractBaseUser, pipeline_id: int) -> Pipeline:
    """The pipeline, for a trainer or admin; NotFound / PermissionDenied otherwise."""
    if not can_train(user):
        raise PermissionDenied(_("training is for trainers and admins"))
    pipeline = Pipeline.objects.filter(pk=pipeline_id).first()
    if pipeline is None:
        raise NotFound(_("pipeline %(id)s not found") % {"id": pipeline_id})
    return pipeline
