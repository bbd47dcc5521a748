"""The one place that sends export work to the broker, always after the current transaction commits."""

from __future__ import annotations

from django.db import transaction

from workers.celery import app

TASK_EXPORT_RUN = "exports.export_run"
TASK_EXPORT_PUSH = "exports.export_push"
QUEUE = "default"


def enqueue_export(export_id: int) -> None:
    """Send `export_run` for the export once the surrounding transaction commits."""

    def send() -> None:
        # By name: the task module imports the services, which import this module.
        app.send_task(TASK_EXPORT_RUN, args=[export_id], queue=QUEUE)

    transaction.on_commit(send)


def enqueue_push(export_id: int) -> None:
    """Send `export_push` (upload to the Hugging Face Hub) for the export once the transaction commits."""

    def send() -> None:
        app.send_task(TASK_EXPORT_PUSH, args=[export_id], queue=QUEUE)

    transaction.on_commit(send)
