"""Celery tasks of the loop app: thin wrappers over its services. Payloads are ids only; each is safe to re-run."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="loop.job_completed", acks_late=True, reject_on_worker_lost=True)
def job_completed_task(job_id: int, finished_at: str = "") -> None:
    """Store a completed job's signals as columns and write its dataset card (for that completion only)."""
    from loop.services.completion import job_completed

    job_completed(job_id, finished_at or None)


@shared_task(name="loop.recipe_version_apply", acks_late=True, reject_on_worker_lost=True)
def recipe_version_apply_task(version_id: int) -> None:
    """Re-apply a saved recipe version to its job's stored signals (a no-op once applied)."""
    from loop.services.completion import recipe_version_apply_by_id

    recipe_version_apply_by_id(version_id)
