"""A step plugin for tests: passes documents through slowly, so a test can kill a worker mid-shard."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass

from curation.steps.base import Step, register_step
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
