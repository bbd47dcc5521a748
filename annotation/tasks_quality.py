"""Celery task of quality control: recompute a project's quality. Payload: the project id; safe to re-run.

Sent by `annotation.services.quality.quality_refresh_soon` after submits and reviews (debounced) and by the
refresh endpoint; it goes to the `default` queue. Registered with the worker by `AnnotationConfig.ready()`.
"""

from __future__ import annotations

from celery import shared_task


@shared_task(name="annotation.quality_refresh", acks_late=True, reject_on_worker_lost=True)
def project_quality_refresh_task(project_id: int) -> int | None:
    """Refresh one project's quality figures; returns the snapshot's annotation count (None if another run held
    the project, or it no longer exists)."""
    from annotation.models import Project
    from annotation.services.quality import project_quality_refresh

    if not Project.objects.filter(pk=project_id).exists():
        return None
    snapshot = project_quality_refresh(project_id)
    return snapshot.annotations_count if snapshot else None
