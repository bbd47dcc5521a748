"""The one place that sends curation work to the broker, always after the current transaction commits.

Tasks are sent by reference (`shard_run_task.apply_async`), so a renamed task fails at import (and in mypy), not
on a worker. `curate --local` runs shards in its own process instead: inside `running_locally()` nothing is sent,
and the caller picks pending shards from the database itself.
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from django.db import transaction

from curation.tasks import shard_run_task

# The queue of CPU-bound shard work; workers for it run `celery -A workers.celery worker -Q curation,default`.
SHARD_QUEUE = "curation"

_local = contextvars.ContextVar("curation_local", default=False)


@contextmanager
def running_locally() -> Iterator[None]:
    """Within this block, `enqueue_shards` sends nothing (the caller runs the shards itself)."""
    token = _local.set(True)
    try:
        yield
    finally:
        _local.reset(token)


def enqueue_shards(shard_ids: Sequence[int], *, countdown: float | None = None) -> None:
    """Send one `shard_run_task` per shard once the surrounding transaction commits (after `countdown` s)."""
    if _local.get() or not shard_ids:
        return
    ids = list(shard_ids)

    def send() -> None:
        for shard_id in ids:
            shard_run_task.apply_async(args=[shard_id], queue=SHARD_QUEUE, countdown=countdown)

    transaction.on_commit(send)
