"""Worker heartbeats: every curation worker records that it is alive and reaps dead workers' shard leases.

The reaper normally runs from celery beat; running it from every worker as well means a job recovers from a
dead worker as soon as any other worker is alive, with no beat process (the embedded default of `make run`).
`CurationConfig.ready()` connects `heartbeat_start` and `heartbeat_stop` to Celery's worker signals.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import connection
from django.utils import timezone

from curation.services.shards import shards_reap
from curation.services.workers import SCHEDULER_PREFIX, worker_heartbeat

logger = logging.getLogger(__name__)
_stop = threading.Event()


def _beat(name: str, pid: int, started_at: datetime) -> None:
    while not _stop.is_set():
        try:
            worker_heartbeat(name, pid, started_at)
            reaped = shards_reap()
            if reaped:
                logger.warning("worker %s sent again shards %s", name, reaped)
        except Exception:  # the database may be briefly unavailable: try again next beat
            logger.exception("heartbeat failed")
        finally:
            connection.close()
        _stop.wait(settings.WORKER_HEARTBEAT_SECONDS)


def heartbeat_start(sender: Any = None, **kwargs: Any) -> None:
    """Start the heartbeat thread of this worker (Celery's worker_ready signal)."""
    name = getattr(sender, "hostname", None) or f"worker@{os.getpid()}"
    _stop.clear()
    thread = threading.Thread(target=_beat, args=(name, os.getpid(), timezone.now()), name="heartbeat", daemon=True)
    thread.start()


def heartbeat_stop(**kwargs: Any) -> None:
    """Stop the heartbeat thread (Celery's worker_shutdown signal)."""
    _stop.set()


def _beat_scheduler(name: str, pid: int, started_at: datetime) -> None:
    while True:
        try:
            worker_heartbeat(name, pid, started_at)
        except Exception:  # the database may be briefly unavailable: try again next beat
            logger.exception("scheduler heartbeat failed")
        finally:
            connection.close()
        time.sleep(settings.WORKER_HEARTBEAT_SECONDS)


def scheduler_heartbeat_start(sender: Any = None, **kwargs: Any) -> None:
    """Record, every few seconds, that celery beat runs (Celery's beat_init signal; the beat process only).

    The schedules page reads it (`selectors.scheduler_alive`) to say plainly when no scheduler is running. The
    thread is a daemon: it ends with the beat process.
    """
    name = f"{SCHEDULER_PREFIX}{socket.gethostname()}:{os.getpid()}"
    thread = threading.Thread(target=_beat_scheduler, args=(name, os.getpid(), timezone.now()),
                              name="scheduler-heartbeat", daemon=True)
    thread.start()
