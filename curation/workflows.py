"""The one place that sends curation work to the broker, always after the current transaction commits.

Tasks are sent by reference (`shard_run_task.apply_async`), so a renamed task fails at import (and in mypy), not
on a worker. `curate --local` runs shards in its own process instead: inside `running_locally()` nothing is sent,
and the caller picks pending shards from the database itself.
"""

from __future__ import annotations

import contextvars
import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from django.db import transaction
from kombu.exceptions import ChannelError

from core.errors import Unavailable
from curation.tasks import job_plan_task, shard_run_task

logger = logging.getLogger(__name__)

# The queue of CPU-bound shard work; workers for it run `celery -A workers.celery worker -Q curation,default`.
SHARD_QUEUE = "curation"
# Planning walks input folders and reads file heads: I/O-bound and short, so it goes with the small tasks.
PLAN_QUEUE = "default"

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


def enqueue_plan(job_id: int) -> None:
    """Send `job_plan_task` for a job submitted in state "planning" once the surrounding transaction commits."""
    if _local.get():
        return
    transaction.on_commit(lambda: job_plan_task.apply_async(args=[job_id], queue=PLAN_QUEUE))


def queued_shard_messages() -> int | None:
    """How many shard messages wait in the broker's shard queue; None when the broker cannot say.

    The reaper sends pending shards again only when this is 0 or unknown: while messages wait, a pending
    shard is queued, not lost. Messages a worker has reserved are not counted (prefetch is one per process).
    """
    try:
        with shard_run_task.app.connection_for_write() as connection:
            connection.ensure_connection(max_retries=1, timeout=5)
            try:
                declared = connection.default_channel.queue_declare(queue=SHARD_QUEUE, passive=True)
            except ChannelError:
                return 0  # the queue does not exist (Redis drops an emptied list): nothing waits
            return int(declared.message_count)
    except Exception:  # broker down or a transport that cannot count: unknown
        logger.warning("could not count the messages in queue %s", SHARD_QUEUE, exc_info=True)
        return None


def broker_check() -> None:
    """Raise Unavailable (503) when the broker cannot be reached, so a submit creates nothing it cannot send.

    Connects once with a short timeout; sends nothing. Inside `running_locally()` nothing is sent, so nothing is
    checked. A broker lost between this check and the commit leaves pending shards the reaper sends again.
    """
    if _local.get():
        return
    try:
        with shard_run_task.app.connection_for_write() as connection:
            connection.ensure_connection(max_retries=1, timeout=3)
            connection.default_channel  # noqa: B018  (Redis connects lazily: opening the channel connects)
    except Exception as error:
        logger.warning("broker unreachable: %s", error)
        raise Unavailable("the task queue (broker) is unreachable; nothing was submitted, try again later") from error
