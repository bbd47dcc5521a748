"""Step, Filter and GlobalStep: the building blocks of a recipe, and the registry that names them.

A step is a streaming transformation over documents of one shard. Filters only implement their decision; the
base class counts documents in, kept and removed by reason, and hands removed documents to the shard's removed
sink so that engineers can see why anything was removed (datatrove's `BaseFilter` does the same).

Scores are stored apart from decisions (Data-Juicer's `compute_stats` / `process` split): `Filter.score` writes
signals into `doc["signals"]`, `Filter.decide` reads them. A document that already carries a filter's signals is
not re-scored, so re-running with new thresholds over a previous job's output costs no recomputation. A filter
whose model is cheaper called on many texts at once (fastText, spaCy) sets `batch_size` and implements
`score_batch`; the base class cuts the stream into batches, so no step writes its own batching loop.

Counting lives here too: `Filter.run` counts for its filters; any other step calls `count_in` on each document it
receives and `keep` on each it yields (`drop` counts removals), so every step's stats mean the same thing.

Steps must not import Django or Celery: they run inside Celery tasks, in `curate --local`, and in benchmarks.
"""

from __future__ import annotations

import contextlib
import dataclasses
import time
from abc import ABC, abstractmethod
from collections import Counter
from collections.abc import Callable, Collection, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Generic, TypeVar

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
    chars_in: int = 0  # characters of text (for `extract`: of decoded HTML) the step received
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "docs_in": self.docs_in,
            "kept": self.kept,
            "removed": dict(self.removed),
            "errors": dict(self.errors),
            "chars_in": self.chars_in,
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
            # Stats saved before the counter was named for what it counts called it "bytes_in".
            chars_in=data.get("chars_in", data.get("bytes_in", 0)),
            seconds=data.get("seconds", 0.0),
        )

    def merge(self, other: StepStats) -> None:
        self.docs_in += other.docs_in
        self.kept += other.kept
        self.removed.update(other.removed)
        self.errors.update(other.errors)
        self.chars_in += other.chars_in
        self.seconds += other.seconds


RemovedSink = Callable[[Document], None]


def _discard(doc: Document) -> None:
    pass


@dataclass(frozen=True)
class NoParams:
    """Parameters of a step that takes none."""


P = TypeVar("P")


def text_length(doc: Document) -> int:
    """Return the number of characters of the document's text (0 when it has none, or text that is not a string)."""
    text = doc.get("text")
    return len(text) if isinstance(text, str) else 0


class Step(ABC, Generic[P]):
    """A named, parametrised transformation over the documents of one shard.

    Subclasses set `name` (the recipe name), `Params` (a frozen dataclass with documented defaults), name that
    dataclass as the type argument (`class HtmlExtractor(Step[ExtractParams])`, so `self.params` is typed) and
    implement `run`. `run` calls `count_in` on every document it receives, `keep` on every one it yields and
    `drop(doc, reason)` on every one it removes (and does not yield).
    """

    name: ClassVar[str]
    Params: ClassVar[type[Any]] = NoParams

    def __init__(self, params: P | None = None) -> None:
        self.params: P = params if params is not None else self.Params()
        self.stats = StepStats(self.name)
        self._removed: RemovedSink = _discard

    def bind_removed_sink(self, sink: RemovedSink) -> None:
        """Send documents this step removes to `sink` (the shard's removed writer)."""
        self._removed = sink

    def count_in(self, doc: Document) -> None:
        """Count a document this step received, and the characters of its text."""
        self.stats.docs_in += 1
        self.stats.chars_in += text_length(doc)

    def keep(self, doc: Document) -> Document:
        """Count a document this step passes on, and return it (`yield self.keep(doc)`)."""
        self.stats.kept += 1
        return doc

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


class Filter(Step[P]):
    """A step that keeps or removes each document on its own, from signals it computes first.

    Scoring one document at a time is the default. A filter whose scorer is cheaper per text when called on
    many (fastText, spaCy) sets `batch_size` above 1 (and optionally `batch_chars`) and implements `score_batch`:
    the documents then reach `score_batch` in batches, in order, before `score` and `decide` see each of them.
    """

    # Documents handed to `score_batch` at once; 1 scores one document at a time and never calls it.
    batch_size: int = 1
    # A batch is also cut once its texts add up to this many characters (None: no limit), bounding memory.
    batch_chars: int | None = None

    def prepare(self) -> None:
        """Get ready to score, when the first document arrives: load a model. May raise: that fails the shard.

        A missing model is a broken recipe, not a bad document: failing the shard says so, where removing every
        document as an error would hide it. The default does nothing.
        """

    def score_batch(self, docs: list[Document]) -> None:
        """Add this filter's signals to many documents in one call. The default scores nothing.

        May raise, or leave some documents unscored: `score` then scores each such document alone, so that one bad
        text removes only its own document. It must not leave a document half scored.
        """

    def score(self, doc: Document) -> None:
        """Add this filter's signals to `doc["signals"]`, unless it already has them. The default computes nothing."""

    @abstractmethod
    def decide(self, doc: Document) -> str | None:
        """Return None to keep the document, or the reason to remove it, reading only its signals."""

    def run(self, docs: Iterator[Document]) -> Iterator[Document]:
        prepared = False
        for batch in self._batches(docs):
            if not prepared:
                self.prepare()
                prepared = True
            for doc in batch:
                self.count_in(doc)  # before scoring, which may rewrite the text (pii redacts it)
            if self.batch_size > 1:
                # A bad text must not take its batch down: score() then scores each document alone.
                with contextlib.suppress(Exception):
                    self.score_batch(batch)
            for doc in batch:
                try:
                    self.score(doc)
                    reason = self.decide(doc)
                except Exception as error:  # one bad document (no text, text not a string...) never crashes a shard
                    self.drop_on_error(doc, error)
                    continue
                if reason is None:
                    self.keep(doc)
                    if doc.get("removed_by") == self.name:  # re-decided with new thresholds: no longer removed
                        del doc["removed_by"]
                        doc.pop("reason", None)
                    yield doc
                else:
                    self.drop(doc, reason)

    def _batches(self, docs: Iterator[Document]) -> Iterator[list[Document]]:
        """Cut the stream into lists of `batch_size` documents (or fewer, once `batch_chars` is reached)."""
        size, limit = self.batch_size, self.batch_chars
        if size <= 1:
            for doc in docs:
                yield [doc]
            return
        batch: list[Document] = []
        chars = 0
        for doc in docs:
            batch.append(doc)
            if limit is not None:
                chars += text_length(doc)
            if len(batch) >= size or (limit is not None and chars >= limit):
                yield batch
                batch, chars = [], 0
        if batch:
            yield batch


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
    # Entered around the write of a commit marker to the persistent index: the job engine re-checks there,
    # under the index's lock, that the job was not cancelled (raising to stop the commit). None: no check.
    commit_guard: Callable[[], contextlib.AbstractContextManager[None]] | None = field(default=None, compare=False)


class GlobalStep(Step[P]):
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

    def reduce_partition(self, work: ShardWork, partition: int, partitions: int) -> dict[str, Any]:
        """Do partition `partition` of `partitions` of the reduce's work; any worker may run any partition.

        The job engine runs every partition, then `reduce_merge` once. Must be idempotent. The default does
        nothing: a step without partitions does all its work in `reduce_merge`.
        """
        return {}

    def reduce_merge(self, work: ShardWork, partitions: int) -> dict[str, Any]:
        """Decide over what the partitions found; write decisions under `work.work_dir`. Returns a summary.

        The default runs `reduce`.
        """
        return self.reduce(work)

    def commit(
        self,
        work: ShardWork,
        job_kept_ids: Collection[str] | None = None,
        kept_ids_of_shard: Callable[[int], Collection[str]] | None = None,
    ) -> None:
        """Publish this job's kept documents to the persistent index, once the whole job has succeeded.

        Called after every shard has been applied, so a failed or cancelled job never pollutes the index.
        `job_kept_ids` are the ids the whole job kept, or `kept_ids_of_shard(shard)` one shard's of them: a
        document this step kept but a later step removed is not published (neither: publish everything this step
        kept). The default does nothing.
        """

    def run(self, docs: Iterator[Document]) -> Iterator[Document]:
        raise TypeError(f"{self.name} is a global step: the job engine runs it through collect/reduce/apply")


STEP_REGISTRY: dict[str, type[Step[Any]]] = {}


S = TypeVar("S", bound=type[Step[Any]])


def register_step(cls: S) -> S:
    """Class decorator: make a step available to recipes under `cls.name`."""
    if cls.name in STEP_REGISTRY and STEP_REGISTRY[cls.name] is not cls:
        raise ValueError(f"two steps are registered as {cls.name!r}")
    STEP_REGISTRY[cls.name] = cls
    return cls


def step_class(name: str) -> type[Step[Any]]:
    """The registered step class called `name`; RecipeError when there is none."""
    from curation.steps import registry  # noqa: F401  (step modules import this one: registering must come later)

    cls = STEP_REGISTRY.get(name)
    if cls is None:
        known = ", ".join(sorted(STEP_REGISTRY))
        raise RecipeError(f"unknown step {name!r} (known steps: {known})")
    return cls


def build_step(name: str, params: Mapping[str, Any] | None = None) -> Step[Any]:
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
