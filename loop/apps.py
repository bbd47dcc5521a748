"""The loop app: people measure each curation step's precision, and their labels retrain the quality classifier."""

from __future__ import annotations

from django.apps import AppConfig


class LoopConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "loop"
    verbose_name = "Close the loop"

    def ready(self) -> None:
        """Listen for curation jobs completing, so their signals are stored and their cards written.

        Connected here (curation imports nothing of this app): the receiver only sends a task on commit.
        """
        from django.db.models.signals import post_save

        from curation.models import Job
        from loop.workflows import on_job_saved

        post_save.connect(on_job_saved, sender=Job, weak=False, dispatch_uid="loop-job-completed")
