"""A small global step for engine tests: removes documents whose text appeared in an earlier shard or line."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from typing import Any

import fsspec

from curation.steps.base import GlobalStep, ShardWork, register_step
from curation.steps.document import Document


@register_step
class FirstOccurrence(GlobalStep):
    name = "test_first_occurrence"

    def collect(self, docs: Iterator[Document], work: ShardWork) -> Iterator[Document]:
        seen = []
        for doc in docs:
            seen.append([doc["id"], hashlib.sha1(doc["text"].encode()).hexdigest()])
            yield doc
        with fsspec.open(f"{work.work_dir}/shard-{work.shard_index:05d}.json", "w") as out:
            json.dump(seen, out)

    def reduce(self, work: ShardWork) -> dict[str, Any]:
        first: dict[str, str] = {}
        duplicates: dict[str, str] = {}
        for shard in range(work.shard_count):
            with fsspec.open(f"{work.work_dir}/shard-{shard:05d}.json") as f:
                for doc_id, digest in json.load(f):
                    if digest in first:
                        duplicates[doc_id] = first[digest]
                    else:
                        first[digest] = doc_id
        with fsspec.open(f"{work.work_dir}/duplicates.json", "w") as out:
            json.dump(duplicates, out, sort_keys=True)
        return {"duplicates": len(duplicates)}

    def apply(self, docs: Iterator[Document], work: ShardWork) -> Iterator[Document]:
        with fsspec.open(f"{work.work_dir}/duplicates.json") as f:
            duplicates = json.load(f)
        for doc in docs:
            self.count_in(doc)
            if doc["id"] in duplicates:
                doc.setdefault("signals", {})["duplicate_of"] = duplicates[doc["id"]]
                self.drop(doc, "duplicate")
            else:
                yield self.keep(doc)
