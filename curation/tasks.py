"""Celery tasks of curation: thin wrappers over services. Payloads are ids only; every task is safe to re-run."""

from __future__ import annotations

from celery import shared_task

from curation import schedules, services


@shared_task(name="curation.shard_run", acks_late=True, reject_on_worker_lost=True)
def shard_run_task(shard_id: int) -> None:
    """Run one shard of a job (a no-op when it is done or live-leased elsewhere)."""
    services.shard_execute(shard_id)


@shared_task(name="curation.shards_reap")
def shards_reap_task() -> int:
    """Send again shards whose worker died or whose message was lost."""
    return len(services.shards_reap())


@shared_task(name="curation.schedule_fire")
def schedule_fire_task(schedule_id: int) -> int:
    """Submit a new job for a schedule (fired by django-celery-beat)."""
    return schedules.schedule_fire(schedule_id).pk
