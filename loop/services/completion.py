"""What happens after a curation job completes, and the background forms of the loop's longer services."""

from __future__ import annotations

import logging

from curation.models import Job
from loop.models import RecipeVersion
from loop.services.cards import job_card_write
from loop.services.recipes import recipe_version_apply
from loop.services.tables import signal_table_build

logger = logging.getLogger(__name__)


def job_completed(job_id: int, finished_at: str | None = None) -> None:
    """Build a completed job's signal table and write its dataset card. A no-op for a job not completed.

    With `finished_at` (ISO time), only for the completion that finished then (a stale message is ignored).
    Changes `<output>/audit/signals.parquet`, `card.json`, `README.md` and `recipe.yaml`. Safe to re-run.
    """
    job = Job.objects.filter(pk=job_id, status=Job.Status.COMPLETED).first()
    if job is None:
        return
    if finished_at is not None and (job.finished_at is None or job.finished_at.isoformat() != finished_at):
        logger.info("job %s: ignoring a completion message for another run (%s)", job_id, finished_at)
        return
    rows = signal_table_build(job)
    job_card_write(job)
    logger.info("job %s: %s signal rows stored, dataset card written", job_id, rows)


def recipe_version_apply_by_id(version_id: int) -> None:
    """Apply a recipe version once (a version already applied is left as it is)."""
    version = RecipeVersion.objects.select_related("job").filter(pk=version_id).first()
    if version is None or version.applied_at is not None:
        return
    recipe_version_apply(version)
