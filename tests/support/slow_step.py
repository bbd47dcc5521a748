"""Step plugins for tests: a step that passes documents through slowly, and MinHash dedup with slow reduce
partitions, so a test can kill a worker mid-shard or mid-partition."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from curation.steps.base import ShardWork, Step, register_step
from curation.steps.dedup.steps import MinHashDeduplicator, MinHashDedupParams
from curation.steps.document import Document


@register_step
class SlowPassthrough(Step):
    name = "test_slow_passthrough"

    @dataclass(frozen=True)
    class Params:
        seconds_per_doc: float = 0.005

    def run(self, docs: Iterator[Document]) -> Iterator[Document]:
        for doc in docs:
            self.count_in(doc)
            time.sleep(self.params.seconds_per_doc)
            yield self.keep(doc)


@dataclass(frozen=True)
class SlowMinHashParams(MinHashDedupParams):
    partition_seconds: float = 2.0


@register_step
class SlowMinHashDeduplicator(MinHashDeduplicator):
    """`minhash_dedup` whose reduce partitions take a while, so a test can kill a worker in the middle of one."""

    name = "test_slow_minhash_dedup"
    Params = SlowMinHashParams

    def reduce_partition(self, work: ShardWork, partition: int, partitions: int) -> dict[str, Any]:
        time.sleep(self.params.partition_seconds)
        return super().reduce_partition(work, partition, partitions)
