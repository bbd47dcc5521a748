"""Celery tasks of training: thin wrappers over services. Payloads are ids only; every task is safe to re-run.

Runs go to the `training` queue (training/workflows.py sends them there). `acks_late` with
`reject_on_worker_lost`: a message is acknowledged only when the run is over; if the worker dies the lease reaper
(training/heartbeat.py, and beat) sends the run again sooner than the broker would, and the duplicate is a no-op.
Services are imported inside the task bodies: they send these tasks (workflows), so a top import would be a circle.
"""

from __future__ import annotations

from celery import current_app, shared_task

REAP_SECONDS = 30.0


@shared_task(name="training.run_execute", acks_late=True, reject_on_worker_lost=True)
def run_execute_task(run_id: int) -> None:
    """Train one run (a no-op when it is finished or live-leased elsewhere); resumes from its last checkpoint."""
    from training.services.runs import run_execute

    run_execute(run_id)


@shared_task(name="training.runs_reap")
def runs_reap_task() -> int:
    """Send again runs whose worker died or whose message was lost."""
    from training.services.runs import runs_reap

    return len(runs_reap())


current_app.conf.beat_schedule = {
    **(current_app.conf.beat_schedule or {}),
    "training-reap-expired-run-leases": {"task": runs_reap_task.name, "schedule": REAP_SECONDS},
}
