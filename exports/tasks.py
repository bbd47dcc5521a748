"""Celery tasks of exports: thin wrappers over services. Payloads are ids only; every task is safe to re-run.

The services are imported inside the tasks: they import `exports.workflows`, which imports this module to send the
tasks by reference.
"""

from __future__ import annotations

from celery import shared_task

TASK_EXPORT_RUN = "exports.export_run"
TASK_EXPORT_PUSH = "exports.export_push"


@shared_task(name=TASK_EXPORT_RUN, acks_late=True, reject_on_worker_lost=True)
def export_run_task(export_id: int) -> str:
    """Run one export (a no-op when it is finished or another worker holds its lease); return its status."""
    from exports import services

    return services.export_run(export_id).status


@shared_task(name=TASK_EXPORT_PUSH, acks_late=True, reject_on_worker_lost=True)
def export_push_task(export_id: int) -> str:
    """Push one export to the Hugging Face Hub (a no-op when no push is pending); return the push's status."""
    from exports import hub

    export = hub.export_push_run(export_id)
    return export.hub_status if export is not None else "deleted"
