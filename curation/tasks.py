"""Celery tasks of curation: thin wrappers over services. Payloads are ids only; every task is safe to re-run.

Shard work goes to the `curation` queue (curation/workflows.py sends it there); the small tasks go to the default
queue, `default` (Celery 5.7 deprecates the `queue=` task option, so the queue is named where tasks are sent).
The services are imported inside the task bodies: the services send `shard_run_task` (curation/workflows.py
imports it from here), so importing them at the top would make an import circle.
"""

from __future__ import annotations

from celery import current_app, shared_task
from django.conf import settings

# How often beat runs the reaper (every worker's heartbeat runs it too; see curation/heartbeat.py).
REAP_SECONDS = 30.0


# A shard past SHARD_TIME_LIMIT_SECONDS gets SoftTimeLimitExceeded (its attempt fails and is retried, up to
# MAX_SHARD_ATTEMPTS); one that ignores it is killed a minute later (the attempt is counted at the next claim).
@shared_task(name="curation.shard_run", acks_late=True, reject_on_worker_lost=True,
             soft_time_limit=settings.SHARD_TIME_LIMIT_SECONDS, time_limit=settings.SHARD_TIME_LIMIT_SECONDS + 60)
def shard_run_task(shard_id: int) -> None:
    """Run one shard of a job (a no-op when it is done or live-leased elsewhere)."""
    from curation.services.shards import shard_execute

    shard_execute(shard_id)


@shared_task(name="curation.job_plan", acks_late=True, reject_on_worker_lost=True)
def job_plan_task(job_id: int) -> None:
    """Expand a "planning" job's inputs into shards and send them (a no-op once planned or cancelled)."""
    from curation.services.jobs import job_plan

    job_plan(job_id)


@shared_task(name="curation.shards_reap")
def shards_reap_task() -> int:
    """Send again shards whose worker died or whose message was lost."""
    from curation.services.shards import shards_reap

    return len(shards_reap())


@shared_task(name="curation.schedule_fire")
def schedule_fire_task(schedule_id: int) -> int | None:
    """Submit a new job for a schedule (fired by django-celery-beat); None when the run could not start."""
    from curation.services.schedules import schedule_fire

    job = schedule_fire(schedule_id)
    return job.pk if job is not None else None


# Beat's static entries (django-celery-beat copies them into its database scheduler when beat starts).
current_app.conf.beat_schedule = {
    **(current_app.conf.beat_schedule or {}),
    "curation-reap-expired-shard-leases": {"task": shards_reap_task.name, "schedule": REAP_SECONDS},
}
