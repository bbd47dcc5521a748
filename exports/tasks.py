"""Celery tasks of exports: thin wrappers over services. Payloads are ids only; every task is safe to re-run."""

from __future__ import annotations

from celery import shared_task

from exports import hub, services
from exports.workflows import TASK_EXPORT_PUSH, TASK_EXPORT_RUN


@shared_task(name=TASK_EXPORT_RUN, acks_late=True, reject_on_worker_lost=True)
def export_run_task(export_id: int) -> str:
    """Run one export (a no-op when it is finished or another worker holds its lease); return its status."""
    return services.export_run(export_id).status


@shared_task(name=TASK_EXPORT_PUSH, acks_late=True, reject_on_worker_lost=True)
def export_push_task(export_id: int) -> str:
    """Push one export to the Hugging Face Hub (a no-op when no push is pending); return the push's status."""
    export = hub.export_push_run(export_id)
    return export.hub_status if export is not None else "deleted"
