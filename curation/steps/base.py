"""Step, Filter and GlobalStep: the building blocks of a recipe, and the registry that names them.

A step is a streaming transformation over documents of one shard. Filters only implement their decision; the
base class counts documents in, kept and removed by reason, and hands removed documents to the shard's removed
sink so that engineers can see why anything was removed (datatrove's `BaseFilter` does the same).

Scores are stored apart from decisions (Data-Juicer's `compute_stats` / `process` split): `Filter.score` writes
signals into `doc["signals"]`, `Filter.decide` reads them. A document that already carries a filter's signals is
not re-scored, so re-running with new thresholds over a previous job's output costs no recomputation.

Steps must not import Django or Celery: they run inside Celery tasks, in `curate --local`, and in benchmarks.
"""

from __future__ import annotations

import dataclasses
import time
from abc import ABC, abstractmethod
from collections import Counter
from collections.abc import Callable, Collection, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from curation.steps.document import Document

# Drop reason for a document on which a step raised; the exception kind is counted in StepStats.errors.
REASON_ERROR = "error"


class RecipeError(ValueError):
    """A recipe names an unknown step or gives a step parameters it does not take."""


@dataclass
class StepStats:
    """Counters for one step over one shard; shards' stats are summed into the job's."""

    name: str
    docs_in: int = 0
    kept: int = 0
    removed: Counter[str] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    bytes_in: int = 0
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "docs_in": self.docs_in,
            "kept": self.kept,
            "removed": dict(self.removed),
            "errors": dict(self.errors),
            "bytes_in": self.bytes_in,
            "seconds": round(self.seconds, 6),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> StepStats:
        return cls(
            name=data["name"],
            docs_in=data.get("docs_in", 0),
            kept=data.get("kept", 0),
            removed=Counter(data.get("removed", {})),
            errors=Counter(data.get("errors", {})),
            bytes_in=data.get("bytes_in", 0),
            seconds=data.get("seconds", 0.0),
        )

    def merge(self, other: StepStats) -> None:
        self.docs_in += other.docs_in
        self.kept += other.kept
        self.removed.update(other.removed)
        self.errors.update(other.errors)
        self.bytes_in += other.bytes_in
        self.seconds += other.seconds


RemovedSink = Callable[[Document], None]


def _discard(doc: Document) -> None:
    pass


@dataclass(frozen=True)
class NoParams:
    """Parameters of a step that takes none."""


class Step(ABC):
    """A named, parametrised transformation over the documents of one shard.

    Subclasses set `name` (the recipe name), `Params` (a frozen dataclass with documented defaults) and
    implement `run`. A step that removes documents calls `self.drop(doc, reason)` and does not yield them.
    """

    name: ClassVar[str]
    Params: ClassVar[type] = NoParams

    def __init__(self, params: Any = None) -> None:
        self.params = params if params is not None else self.Params()
        self.stats = StepStats(self.name)
        self._removed: RemovedSink = _discard

    def bind_removed_sink(self, sink: RemovedSink) -> None:
        """Send documents this step removes to `sink` (the shard's removed writer)."""
        self._removed = sink

    def drop(self, doc: Document, reason: str) -> None:
        """Record that this step removes `doc` for `reason`, and hand it to the removed sink."""
        doc["removed_by"] = self.name
        doc["reason"] = reason
        self.stats.removed[reason] += 1
        self._removed(doc)

    def drop_on_error(self, doc: Document, error: Exception) -> None:
        """Remove a document this step could not process, keeping what went wrong in its signals."""
        kind = type(error).__name__
        self.stats.errors[kind] += 1
        doc.setdefault("signals", {})[f"{self.name}_error"] = f"{kind}: {error}"[:500]
        self.drop(doc, REASON_ERROR)

    @abstractmethod
    def run(self, docs: Iterator[Document]) -> Iterator[Document]:
        """Yield the documents this step keeps, transformed."""


class Filter(Step):
    """A step that keeps or removes each document on its own, from signals it computes first."""

    def score(self, doc: Document) -> None:
        """Add this filter's signals to `doc["signals"]`. The default computes nothing."""

    @abstractmethod
    def decide(self, doc: Document) -> str | None:
        """Return None to keep the document, or the reason to remove it, reading only its signals."""

    def run(self, docs: Iterator[Document]) -> Iterator[Document]:
        stats = self.stats
        for doc in docs:
            stats.docs_in += 1
            try:
                stats.bytes_in += len(doc.get("text") or "")
                self.score(doc)
                reason = self.decide(doc)
            except Exception as error:  # one bad document (no text, text not a string...) never crashes a shard
                self.drop_on_error(doc, error)
                continue
            if reason is None:
                stats.kept += 1
                if doc.get("removed_by") == self.name:  # re-decided with new thresholds: no longer removed
                    del doc["removed_by"]
                    doc.pop("reason", None)
                yield doc
            else:
                self.drop(doc, reason)


@dataclass(frozen=True)
class ShardWork:
    """Where a global step keeps its per-shard scratch data, and who the shard belongs to.

    `work_dir` is an fsspec URL private to this step within the job; `index_root` is the persistent index of
    the job's named collection (an fsspec URL) or None when the job deduplicates within itself only.
    """

    work_dir: str
    shard_index: int
    shard_count: int
    job_id: int
    index_root: str | None = None


class GlobalStep(Step):
    """A step that must see every shard before it can decide about any document (deduplication).

    A job runs it in three phases: `collect` on every shard (pass documents through, write what the decision
    needs under `work.work_dir`), then `reduce` once for the whole job, then `apply` on every shard (remove what
    `reduce` decided). The job engine splits a recipe at each global step into stages accordingly.
    Each phase must be idempotent: re-running it rewrites the same files.
    """

    @abstractmethod
    def collect(self, docs: Iterator[Document], work: ShardWork) -> Iterator[Document]:
        """Yield every document unchanged (or with signals added), recording what `reduce` needs."""

    @abstractmethod
    def reduce(self, work: ShardWork) -> dict[str, Any]:
        """Decide over all shards' collected data; write decisions under `work.work_dir`. Returns a summary.

        `work.shard_index` is -1 here; `work.shard_count` says how many shards collected.
        """

    @abstractmethod
    def apply(self, docs: Iterator[Document], work: ShardWork) -> Iterator[Document]:
        """Yield the documents `reduce` kept, dropping the others with their reason."""

    def commit(self, work: ShardWork, job_kept_ids: Collection[str] | None = None) -> None:
        """Publish this job's kept documents to the persistent index, once the whole job has succeeded.

        Called after every shard has been applied, so a failed or cancelled job never pollutes the index.
        `job_kept_ids` are the ids the whole job kept: a document this step kept but a later step removed is
        not published (None: publish everything this step kept). The default does nothing.
        """

    def run(self, docs: Iterator[Document]) -> Iterator[Document]:
        raise TypeError(f"{self.name} is a global step: the job engine runs it through collect/reduce/apply")


STEP_REGISTRY: dict[str, type[Step]] = {}


def register_step(cls: type[Step]) -> type[Step]:
    """Class decorator: make a step available to recipes under `cls.name`."""
    if cls.name in STEP_REGISTRY and STEP_REGISTRY[cls.name] is not cls:
        raise ValueError(f"two steps are registered as {cls.name!r}")
    STEP_REGISTRY[cls.name] = cls
    return cls


def step_class(name: str) -> type[Step]:
    """The registered step class called `name`; RecipeError when there is none."""
    from curation.steps import registry  # noqa: F401  (step modules import this one: registering must come later)

    cls = STEP_REGISTRY.get(name)
    if cls is None:
        known = ", ".join(sorted(STEP_REGISTRY))
        raise RecipeError(f"unknown step {name!r} (known steps: {known})")
    return cls


def build_step(name: str, params: Mapping[str, Any] | None = None) -> Step:
    """Instantiate the registered step `name` with `params`, rejecting unknown names and parameters."""
    cls = step_class(name)
    params = dict(params or {})
    fields = {f.name: f for f in dataclasses.fields(cls.Params)}
    unknown = sorted(set(params) - set(fields))
    if unknown:
        raise RecipeError(
            f"step {name!r} takes no parameter {', '.join(map(repr, unknown))} "
            f"(it takes: {', '.join(fields) or 'none'})"
        )
    try:
        return cls(cls.Params(**params))
    except (TypeError, ValueError) as error:
        raise RecipeError(f"step {name!r}: {error}") from error


class Timed:
    """Measure the exclusive time a step spends, for stats.json's per-step seconds.

    Steps are chained generators, so timing `next()` on a step's output includes the time of every upstream
    step. The pipeline subtracts the upstream inclusive time to get each step's own time.
    """

    def __init__(self, docs: Iterator[Document]) -> None:
        self._docs = docs
        self.inclusive_seconds = 0.0

    def __iter__(self) -> Iterator[Document]:
        docs = self._docs
        while True:
            started = time.perf_counter()
            try:
                doc = next(docs)
            except StopIteration:
                self.inclusive_seconds += time.perf_counter() - started
                return
            self.inclusive_seconds += time.perf_counter() - started
            yield doc
