"""The one place that sends curation work to the broker, always after the current transaction commits.

`curate --local` runs shards in its own process instead: inside `running_locally()` nothing is sent, and the
caller picks pending shards from the database itself.
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from django.db import transaction

from workers.celery import app

_local = contextvars.ContextVar("curation_local", default=False)


@contextmanager
def running_locally() -> Iterator[None]:
    token = _local.set(True)
    try:
        yield
    finally:
        _local.reset(token)


def enqueue_shards(shard_ids: Sequence[int], *, countdown: float | None = None) -> None:
    """Send one `shard_run` task per shard once the surrounding transaction commits (after `countdown` s)."""
    if _local.get() or not shard_ids:
        return
    ids = list(shard_ids)

    def send() -> None:
        for shard_id in ids:
            # By name: tasks import services, which import this module.
            app.send_task("curation.shard_run", args=[shard_id], queue="curation", countdown=countdown)

    transaction.on_commit(send)
