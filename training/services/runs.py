"""Training runs: submit, cancel, claim under a lease, execute with the runner, record metrics, finish, reap.

The recovery pattern is curation's shards' (curation/services/shards.py): a worker claims a run by taking its lease
in one transaction, renews it from a heartbeat thread while trl trains, and records the outcome only while it still
holds the lease. A worker killed with -9 stops renewing; the reaper (every training worker's heartbeat, and beat)
finds the expired lease, puts the run back to `pending` and sends it again; the next worker resumes from the last
checkpoint in the run's output folder (trl restores weights, optimizer, scheduler, RNG and data order), so the run
ends at the same number of optimizer steps. Lock order: pipeline row, then run row.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.roles import can_train
from core.errors import Conflict, NotFound, PermissionDenied, ValidationError
from curation.services.workers import worker_name
from training import workflows
from training.models import Pipeline, Run, RunMetric
from training.runner.dataset_files import export_check, export_open
from training.runner.spec import DATASET_FORMAT, ONLINE_KINDS, Hyperparameters, RunKind, RunSpec, SpecError

if TYPE_CHECKING:
    from training.runner.run import RunResult

logger = logging.getLogger(__name__)

ProgressHook = Callable[[int, int], None]


# --- submitting ---------------------------------------------------------------------------------------------


def runs_root() -> Path:
    """The folder under STORAGE_ROOT where runs write models and checkpoints (trl needs a local filesystem)."""
    root = str(settings.STORAGE_ROOT)
    if "://" in root and not root.startswith("file://"):
        raise ValidationError(_("training needs a local STORAGE_ROOT; %(root)s is an object store") % {"root": root})
    return Path(root.removeprefix("file://")) / "training" / "runs"


def _check_dataset(kind: RunKind, dataset: str) -> str:
    """Refuse an export folder the run cannot train on; return its content hash ('' when its card has none)."""
    try:
        export = export_open(Path(dataset))
        has_rows = export_check(export, "train", DATASET_FORMAT[kind])
    except SpecError as error:
        raise ValidationError(str(error), field="dataset") from None
    if not has_rows:
        raise ValidationError(_("the export in %(path)s has no training rows") % {"path": dataset}, field="dataset")
    return export.content_hash or ""


def _check_model_folder(path: str, field: str) -> None:
    if not (Path(path) / "config.json").is_file():
        raise ValidationError(_("no model (config.json) in %(path)s") % {"path": path}, field=field)


def _check_hyperparameters(values: dict[str, Any] | None) -> dict[str, Any]:
    try:
        return Hyperparameters.from_mapping(values).as_dict()
    except SpecError as error:
        raise ValidationError(str(error), field="hyperparameters") from None


def run_submit(
    user: AbstractBaseUser | None,
    *,
    kind: str,
    dataset: str,
    base_model: str = "",
    parent: Run | None = None,
    reward_run: Run | None = None,
    hyperparameters: dict[str, Any] | None = None,
    output: str = "",
    pipeline: Pipeline | None = None,
    stage: int = 0,
    enqueue: bool = True,
) -> Run:
    """Validate and record a run, then send it to the `training` queue on commit (or leave it `waiting`).

    The model is `base_model` (a folder) or the output of `parent`; PPO/RLOO also need `reward_run`. Outside a
    pipeline, the runs named must have succeeded. Creates one Run row; nothing is written on disk until a worker
    starts it. Not idempotent: each call is a new run.
    """
    try:
        run_kind = RunKind(kind)
    except ValueError:
        raise ValidationError(_("unknown run kind: %(kind)s") % {"kind": kind}, field="kind") from None
    content_hash = _check_dataset(run_kind, dataset)
    hyper = _check_hyperparameters(hyperparameters)
    if bool(base_model) == bool(parent):
        raise ValidationError(_("give either a base model folder or a parent run"), field="model")
    if base_model:
        _check_model_folder(base_model, "model")
    in_pipeline = pipeline is not None
    for other, field in ((parent, "parent"), (reward_run, "reward_run")):
        if other is not None and not in_pipeline and other.status != Run.Status.SUCCEEDED:
            raise Conflict(_("run %(id)s has not succeeded") % {"id": other.pk}, field=field)
    if run_kind in ONLINE_KINDS:
        if reward_run is None or reward_run.kind != Run.Kind.REWARD:
            raise ValidationError(_("a %(kind)s run needs a reward run") % {"kind": kind}, field="reward_run")
    elif reward_run is not None:
        raise ValidationError(_("only PPO and RLOO runs take a reward run"), field="reward_run")
    if hyper["lora"] and run_kind in ONLINE_KINDS:
        raise ValidationError(_("LoRA is offered for sft, reward and dpo runs"), field="hyperparameters")
    with transaction.atomic():
        run = Run.objects.create(
            kind=run_kind.value, dataset_path=dataset, content_hash=content_hash, base_model=base_model,
            parent=parent, reward_run=reward_run, hyperparameters=hyper, output_path=output,
            pipeline=pipeline, stage=stage, max_steps=hyper["max_steps"], created_by=user,
            status=Run.Status.PENDING if enqueue else Run.Status.WAITING,
            enqueued_at=timezone.now() if enqueue else None,
        )
        if not output:
            run.output_path = str(runs_root() / str(run.pk))
            run.save(update_fields=["output_path"])
        if enqueue:
            workflows.enqueue_run(run.pk)
    return run


def run_cancel(user: AbstractBaseUser, run_id: int) -> Run:
    """Ask a run to stop: a queued or waiting run is cancelled at once, a running one at its next step.

    Safe to re-run; cancelling a finished run is refused (409).
    """
    with transaction.atomic():
        run = access_run(user, run_id, lock=True)
        if run.is_finished:
            raise Conflict(_("run %(id)s has already finished") % {"id": run.pk})
        run.cancel_requested = True
        fields = ["cancel_requested"]
        if run.status in (Run.Status.PENDING, Run.Status.WAITING):
            run.status = Run.Status.CANCELLED
            run.finished_at = timezone.now()
            fields += ["status", "finished_at"]
        run.save(update_fields=fields)
        if run.status == Run.Status.CANCELLED and run.pipeline_id:
            from training.services.pipelines import pipeline_stop

            pipeline_stop(run.pipeline_id, str(Pipeline.Status.CANCELLED))
    return run


def access_run(user: AbstractBaseUser, run_id: int, *, lock: bool = False) -> Run:
    """The run, for a trainer or admin; NotFound for a missing run, PermissionDenied for anyone else."""
    if not can_train(user):
        raise PermissionDenied(_("training is for trainers and admins"))
    query = Run.objects.select_for_update() if lock else Run.objects.all()
    run = query.filter(pk=run_id).first()
    if run is None:
        raise NotFound(_("run %(id)s not found") % {"id": run_id})
    return run


# --- running ------------------------------------------------------------------------------------------------


def run_claim(run_id: int, worker: str) -> Run | None:
    """Take the run's lease if nobody live holds it. None when there is nothing to do (finished, live elsewhere)."""
    now = timezone.now()
    with transaction.atomic():
        run = Run.objects.select_for_update().filter(pk=run_id).first()
        if run is None or run.is_finished or run.status == Run.Status.WAITING:
            return None
        live = run.status == Run.Status.RUNNING and run.lease_expires_at and run.lease_expires_at > now
        if live and run.lease_owner != worker:
            return None
        run.status = Run.Status.RUNNING
        run.lease_owner = worker
        run.lease_expires_at = now + timedelta(seconds=settings.TRAINING_LEASE_SECONDS)
        run.started_at = run.started_at or now
        run.attempts += 1
        run.save(update_fields=["status", "lease_owner", "lease_expires_at", "started_at", "attempts"])
    return run


def run_lease_renew(run_id: int, worker: str) -> bool:
    """Extend our lease; False when we lost it or the run was cancelled, so training must stop."""
    expires = timezone.now() + timedelta(seconds=settings.TRAINING_LEASE_SECONDS)
    renewed = Run.objects.filter(pk=run_id, status=Run.Status.RUNNING, lease_owner=worker,
                                 cancel_requested=False).update(lease_expires_at=expires)
    return renewed == 1


@contextmanager
def _lease_heartbeat(run_id: int, worker: str) -> Iterator[threading.Event]:
    """Renew the lease in a thread while trl trains; the yielded event is set when the run must stop."""
    stop = threading.Event()
    done = threading.Event()
    interval = max(1.0, settings.TRAINING_LEASE_SECONDS / 3)

    def beat() -> None:
        try:
            while not done.wait(interval):
                if not run_lease_renew(run_id, worker):
                    stop.set()
                    return
        finally:
            connection.close()

    thread = threading.Thread(target=beat, name=f"run-lease-{run_id}", daemon=True)
    thread.start()
    try:
        yield stop
    finally:
        done.set()
        thread.join()


def run_spec(run: Run) -> RunSpec:
    """The runner's spec of a run: model from the base folder or the parent's output, reward from the reward run."""
    model = run.parent.output_path if run.parent_id and run.parent else run.base_model
    reward = Path(run.reward_run.output_path) if run.reward_run_id and run.reward_run else None
    return RunSpec(kind=RunKind(run.kind), dataset=Path(run.dataset_path), model=Path(model),
                   output=Path(run.output_path), hyper=Hyperparameters.from_mapping(run.hyperparameters),
                   reward_model=reward, use_cpu=not settings.TRAINING_USE_GPU)


def run_metrics_record(run_id: int, step: int, values: dict[str, float]) -> None:
    """Store one logging step's metrics; a step logged again after a resume replaces its row. Safe to re-run."""
    columns = {name: values.get(name) for name in RunMetric.CHARTED}
    RunMetric.objects.bulk_create(
        [RunMetric(run_id=run_id, step=step, values=values, **columns)],
        update_conflicts=True, unique_fields=["run", "step"], update_fields=[*RunMetric.CHARTED, "values"],
    )


def run_progress_record(run_id: int, worker: str, step: int, total: int) -> None:
    """Record the optimizer step reached (only while this worker holds the lease)."""
    fields: dict[str, int] = {"global_step": step}
    if total:
        fields["max_steps"] = total
    Run.objects.filter(pk=run_id, lease_owner=worker, status=Run.Status.RUNNING).update(**fields)


def run_execute(run_id: int, worker: str | None = None, progress: ProgressHook | None = None) -> None:
    """Claim a run, train it under a renewed lease, and record the outcome. Safe to re-run and to duplicate.

    A re-run after a crash resumes from the run's last checkpoint. `progress` is an extra hook (the CLI's bar).
    """
    from training.runner.hooks import RunCancelled, RunHooks
    from training.runner.run import run_training

    worker = worker or worker_name()
    run = run_claim(run_id, worker)
    if run is None:
        return
    try:
        spec = run_spec(run)
    except SpecError as error:
        run_fail(run.pk, worker, str(error))
        return

    def on_progress(step: int, total: int) -> None:
        run_progress_record(run_id, worker, step, total)
        if progress:
            progress(step, total)

    try:
        with _lease_heartbeat(run.pk, worker) as stop:
            hooks = RunHooks(metrics=lambda step, values: run_metrics_record(run_id, step, values),
                             progress=on_progress, should_cancel=stop.is_set)
            result = run_training(spec, hooks)
    except RunCancelled:
        run_stopped(run.pk, worker)
        return
    except Exception as error:
        logger.exception("run %s failed", run_id)
        run_fail(run.pk, worker, f"{type(error).__name__}: {error}")
        return
    run_complete(run.pk, worker, result)


def run_complete(run_id: int, worker: str, result: RunResult) -> bool:
    """Mark the run succeeded (if we still hold it) and start the pipeline stages waiting for it."""
    from training.services.pipelines import pipeline_advance

    with transaction.atomic():
        pipeline_id = Run.objects.filter(pk=run_id).values_list("pipeline_id", flat=True).first()
        if pipeline_id:
            Pipeline.objects.select_for_update().filter(pk=pipeline_id).first()
        run = Run.objects.select_for_update().get(pk=run_id)
        if run.status != Run.Status.RUNNING or run.lease_owner != worker:
            return False
        run.status = Run.Status.SUCCEEDED
        run.global_step = result.global_step
        run.resumed_from = result.resumed_from or ""
        run.content_hash = result.content_hash or run.content_hash
        run.finished_at = timezone.now()
        run.lease_owner = ""
        run.lease_expires_at = None
        run.save(update_fields=["status", "global_step", "resumed_from", "content_hash", "finished_at",
                                "lease_owner", "lease_expires_at"])
        if pipeline_id:
            pipeline_advance(pipeline_id)
    return True


def run_fail(run_id: int, worker: str, error: str) -> None:
    """Mark the run failed with the reason (if we still hold it); its pipeline stops. Safe to re-run."""
    from training.services.pipelines import pipeline_stop

    with transaction.atomic():
        run = Run.objects.select_for_update().get(pk=run_id)
        if run.status != Run.Status.RUNNING or run.lease_owner != worker:
            return
        run.status = Run.Status.FAILED
        run.error = error[:10000]
        run.finished_at = timezone.now()
        run.lease_owner = ""
        run.lease_expires_at = None
        run.save(update_fields=["status", "error", "finished_at", "lease_owner", "lease_expires_at"])
    if run.pipeline_id:
        pipeline_stop(run.pipeline_id, str(Pipeline.Status.FAILED))


def run_stopped(run_id: int, worker: str) -> None:
    """Training stopped on request: cancelled if it was asked to, else the lease went elsewhere (do nothing)."""
    from training.services.pipelines import pipeline_stop

    with transaction.atomic():
        run = Run.objects.select_for_update().get(pk=run_id)
        if not run.cancel_requested or run.is_finished:
            return
        run.status = Run.Status.CANCELLED
        run.finished_at = timezone.now()
        run.lease_owner = ""
        run.lease_expires_at = None
        run.save(update_fields=["status", "finished_at", "lease_owner", "lease_expires_at"])
    if run.pipeline_id:
        pipeline_stop(run.pipeline_id, str(Pipeline.Status.CANCELLED))


def runs_reap(now: datetime | None = None) -> list[int]:
    """Send again the runs whose worker died (expired lease) or whose message was lost. Safe to re-run.

    A pending run counts as lost when nobody claimed it within TRAINING_REQUEUE_SECONDS.
    """
    now = now or timezone.now()
    stale = now - timedelta(seconds=settings.TRAINING_REQUEUE_SECONDS)
    with transaction.atomic():
        expired = list(Run.objects.select_for_update(skip_locked=True)
                       .filter(status=Run.Status.RUNNING, lease_expires_at__lt=now))
        lost = list(Run.objects.select_for_update(skip_locked=True)
                    .filter(status=Run.Status.PENDING, enqueued_at__lt=stale))
        for run in expired:
            logger.warning("lease of run %s held by %s expired: sending it again", run.pk, run.lease_owner)
            run.status = Run.Status.PENDING
            run.lease_owner = ""
            run.lease_expires_at = None
        for run in [*expired, *lost]:
            run.enqueued_at = now
        Run.objects.bulk_update([*expired, *lost], ["status", "lease_owner", "lease_expires_at", "enqueued_at"])
        ids = [run.pk for run in [*expired, *lost]]
        for run_id in ids:
            workflows.enqueue_run(run_id)
    return ids
