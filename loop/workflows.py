"""The one place that sends the loop's work to the broker, after the current transaction commits."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from loop.tasks import job_completed_task, recipe_version_apply_task

QUEUE = "default"


def on_job_saved(sender: Any, instance: Any, update_fields: Any = None, **kwargs: Any) -> None:
    """Receiver of curation.Job's post_save: when a save marks the job completed, send `job_completed_task`.

    Only enqueues (no domain logic in a signal): the task builds the signal table and the dataset card, so the
    curation app needs to know nothing of this one.
    """
    if instance.status != "completed" or (update_fields is not None and "status" not in update_fields):
        return
    job_id = instance.pk
    transaction.on_commit(lambda: job_completed_task.apply_async(args=[job_id], queue=QUEUE))


def enqueue_recipe_version_apply(version_id: int) -> None:
    transaction.on_commit(lambda: recipe_version_apply_task.apply_async(args=[version_id], queue=QUEUE))
