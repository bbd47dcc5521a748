"""The Celery application: queues and configuration. Imports nothing from any app (see docs/architecture.md).

Queues: `curation` (CPU-bound shard work), `training` (GPU machines), `default` (small jobs: the lease reaper,
scheduled submissions). Each app names the queue where it sends its work; each app's tasks module is found by
autodiscovery, and each app connects its own worker hooks (curation: `CurationConfig.ready()`). Start a curation
worker with `celery -A workers.celery worker -Q curation,default`.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from celery import Celery, signals
from django.conf import settings
from kombu import Queue

# Celery needs to know where Django's settings are (as manage.py and the WSGI entry point do).
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("curation_service")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.conf.task_queues = (Queue("default"), Queue("curation"), Queue("training"))
app.conf.task_default_queue = "default"
app.autodiscover_tasks()

_FILESYSTEM_FOLDERS = ("data_folder_in", "data_folder_out", "processed_folder", "control_folder")


@signals.celeryd_init.connect
@signals.beat_init.connect
@signals.before_task_publish.connect
def broker_folders_ensure(**kwargs: Any) -> None:
    """Create the filesystem broker's folders (the embedded default) before a worker, beat or sender uses them.

    Here rather than in settings, so that importing settings creates no folder. Cheap and safe to re-run.
    """
    if not settings.CELERY_BROKER_URL.startswith("filesystem://"):
        return
    options = settings.CELERY_BROKER_TRANSPORT_OPTIONS
    for key in _FILESYSTEM_FOLDERS:
        if options.get(key):
            Path(str(options[key])).mkdir(parents=True, exist_ok=True)
