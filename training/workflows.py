"""The one place that sends training work to the broker, always after the current transaction commits.

`train --local` runs a run in its own process instead: inside `running_locally()` nothing is sent.
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterator
from contextlib import contextmanager

from django.db import transaction

from training.tasks import run_execute_task

# GPU (or CPU) training workers consume it: `celery -A workers.celery worker -Q training --concurrency 1`.
TRAINING_QUEUE = "training"

_local = contextvars.ContextVar("training_local", default=False)


@contextmanager
def running_locally() -> Iterator[None]:
    """Within this block, `enqueue_run` sends nothing (the caller runs the run itself)."""
    token = _local.set(True)
    try:
        yield
    finally:
        _local.reset(token)


def enqueue_run(run_id: int) -> None:
    """Send one `run_execute_task` for the run once the surrounding transaction commits."""
    if _local.get():
        return
    transaction.on_commit(lambda: run_execute_task.apply_async(args=[run_id], queue=TRAINING_QUEUE))
