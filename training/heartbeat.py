"""Every worker reaps expired training-run leases, so a killed worker's run resumes as soon as any worker is alive.

Beat runs `runs_reap_task` too; running the reaper in each worker means no beat process is needed (the embedded
default). `TrainingConfig.ready()` connects these to Celery's worker signals.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from django.conf import settings
from django.db import connection

from training.services.runs import runs_reap

logger = logging.getLogger(__name__)
_stop = threading.Event()


def _beat() -> None:
    while not _stop.is_set():
        try:
            reaped = runs_reap()
            if reaped:
                logger.warning("sent again training runs %s", reaped)
        except Exception:  # the database may be briefly unavailable: try again next beat
            logger.exception("training reaper failed")
        finally:
            connection.close()
        _stop.wait(settings.WORKER_HEARTBEAT_SECONDS)


def heartbeat_start(sender: Any = None, **kwargs: Any) -> None:
    """Start this worker's reaper thread (Celery's worker_ready signal)."""
    _stop.clear()
    threading.Thread(target=_beat, name="training-reaper", daemon=True).start()


def heartbeat_stop(**kwargs: Any) -> None:
    """Stop the reaper thread (Celery's worker_shutdown signal)."""
    _stop.set()
