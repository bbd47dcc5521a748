"""Workers: who holds a lease, and the heartbeat that tells the console which workers are alive."""

from __future__ import annotations

import os
import socket
from datetime import datetime

from django.utils import timezone

from curation.models import WorkerHeartbeat

# Heartbeat rows of celery beat processes (not workers) have names that start with this.
SCHEDULER_PREFIX = "beat@"


def worker_name() -> str:
    """This process's identity as a lease owner: host and pid (a prefork child has its own)."""
    return f"{socket.gethostname()}:{os.getpid()}"


def worker_heartbeat(name: str, pid: int, started_at: datetime) -> None:
    """Record that the worker `name` is alive now (one row per worker, updated in place). Safe to re-run."""
    WorkerHeartbeat.objects.update_or_create(
        name=name, defaults={"hostname": socket.gethostname(), "pid": pid, "started_at": started_at,
                             "last_seen": timezone.now()}
    )
