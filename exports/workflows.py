"""The one place that sends export work to the broker, always after the current transaction commits.

Tasks are sent by reference, so a renamed task fails at import (and in mypy), not on a worker.
"""

from __future__ import annotations

from django.db import transaction

from exports.tasks import TASK_EXPORT_PUSH, TASK_EXPORT_RUN, export_push_task, export_run_task

__all__ = ["QUEUE", "TASK_EXPORT_PUSH", "TASK_EXPORT_RUN", "enqueue_export", "enqueue_push"]

QUEUE = "default"


def enqueue_export(export_id: int) -> None:
    """Send `export_run` for the export once the surrounding transaction commits."""
    transaction.on_commit(lambda: export_run_task.apply_async(args=[export_id], queue=QUEUE))


def enqueue_push(export_id: int) -> None:
    """Send `export_push` (upload to the Hugging Face Hub) for the export once the transaction commits."""
    transaction.on_commit(lambda: export_push_task.apply_async(args=[export_id], queue=QUEUE))
