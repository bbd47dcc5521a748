"""Worker heartbeats: every worker records that it is alive and reaps dead workers' shard leases.

The reaper normally runs from celery beat; running it from every worker as well means a job recovers from a
dead worker as soon as any other worker is alive, with no beat process (the embedded default of `make run`).
"""

from __future__ import annotations

import logging
import os
import threading
from typing import Any

from celery.signals import worker_ready, worker_shutdown
from django.db import connection
from django.utils import timezone

logger = logging.getLogger(__name__)
HEARTBEAT_SECONDS = float(os.environ.get("WORKER_HEARTBEAT_SECONDS", "10"))
_stop = threading.Event()


def _beat(name: str, pid: int) -> None:
    # Imported here: this module is loaded with the Celery app, before Django's app registry is ready.
    from curation.services import shards_reap, worker_heartbeat

    started_at = timezone.now()
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
        _stop.wait(HEARTBEAT_SECONDS)


@worker_ready.connect
def start_heartbeat(sender: Any = None, **kwargs: Any) -> None:
    name = getattr(sender, "hostname", None) or f"worker@{os.getpid()}"
    threading.Thread(target=_beat, args=(name, os.getpid()), name="heartbeat", daemon=True).start()


@worker_shutdown.connect
def stop_heartbeat(**kwargs: Any) -> None:
    _stop.set()
