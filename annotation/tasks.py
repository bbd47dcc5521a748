"""Celery tasks of annotation: the lease reaper. Payloads are ids only; every task is safe to re-run.

The reaper goes to the default queue, `default` (the app's default; nothing routes it elsewhere). Claims reap their
own project's expired leases too, so beat only matters for projects nobody is claiming from: their expired slots
come back and progress pages stop counting dead leases. The beat entry is added here, by task name, as curation
does, so that workers/celery.py imports nothing from the apps.
"""

from __future__ import annotations

from celery import current_app, shared_task

# How often beat returns expired annotation leases to the queue.
REAP_SECONDS = 60.0


@shared_task(name="annotation.assignments_reap")
def assignments_reap_task() -> int:
    """Return expired annotation leases to the queue; returns how many."""
    from annotation.services.assignments import assignments_reap

    return assignments_reap()


# Beat's static entries (django-celery-beat copies them into its database scheduler when beat starts).
current_app.conf.beat_schedule = {
    **(current_app.conf.beat_schedule or {}),
    "annotation-reap-expired-leases": {"task": assignments_reap_task.name, "schedule": REAP_SECONDS},
}
