"""The Celery application: queues, routing, beat schedule.

Queues (ARCHITECTURE.md): `curation` (CPU-bound shard work), `training` (GPU machines), `default` (small jobs:
the lease reaper, scheduled submissions). Start a curation worker with
`celery -A workers.celery worker -Q curation,default`.
"""

from __future__ import annotations

import os

from celery import Celery
from kombu import Queue

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("curation_service")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.conf.task_queues = (Queue("default"), Queue("curation"), Queue("training"))
app.conf.task_default_queue = "default"
app.conf.task_routes = {
    "curation.shard_run": {"queue": "curation"},
    "curation.shards_reap": {"queue": "default"},
    "curation.schedule_fire": {"queue": "default"},
}
app.conf.beat_schedule = {
    "reap-expired-shard-leases": {"task": "curation.shards_reap", "schedule": 30.0},
}
app.autodiscover_tasks(["curation"])
# Importing the heartbeat module connects its worker signals.
import workers.heartbeat  # noqa: E402,F401
