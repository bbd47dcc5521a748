"""The one place that sends the loop's work to the broker, after the current transaction commits."""

from __future__ import annotations

import logging
from typing import Any

from django.db import transaction
from kombu.exceptions import KombuError

from loop.tasks import job_completed_task, recipe_version_apply_task

QUEUE = "default"
logger = logging.getLogger(__name__)


def on_job_saved(sender: Any, instance: Any, update_fields: Any = None, **kwargs: Any) -> None:
    """Receiver of curation.Job's post_save: when a save marks the job completed, send `job_completed_task`.

    Only enqueues (no domain logic in a signal): the task builds the signal table and the dataset card, so the
    curation app needs to know nothing of this one.
    """
    if instance.status != "completed" or (update_fields is not None and "status" not in update_fields):
        return
    job_id = instance.pk
    # The finish time identifies this completion: a message left in a broker from another database (a test run
    # before) that names the same job id is then ignored by the task.
    finished = instance.finished_at.isoformat() if instance.finished_at else ""

    def send() -> None:
        try:
            job_completed_task.apply_async(args=[job_id, finished], queue=QUEUE)
        except (KombuError, OSError) as error:
            # The job has completed whatever happens here; its card can be written later (python manage.py
            # audit_job --card JOB). Never fail the finishing unit for it.
            logger.warning("job %s: could not send the dataset-card task: %s", job_id, error)

    transaction.on_commit(send)


def enqueue_recipe_version_apply(version_id: int) -> None:
    """Send `recipe_version_apply_task` for a version once the current transaction commits."""
    transaction.on_commit(lambda: recipe_version_apply_task.apply_async(args=[version_id], queue=QUEUE))
