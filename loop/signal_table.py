"""A finished job's per-document signals as columns, and what-if recounts over them.

`build_signal_table` reads a job's outputs once (kept/*.jsonl.zst and removed/*.jsonl.zst) and writes one Parquet
file, `<output>/audit/signals.parquet`: a row per document with its id, url, language, the step that removed it
(`removed_by`, empty when kept), its `reason`, and one float column per numeric signal (booleans as 0/1, NaN where
the document has no such signal because it never reached the step that computes it).

`whatif` re-decides one step under new parameters from these columns alone, with the step's own decision
(loop.decisions), and counts what the step and the job would keep and remove. Documents the step removed before
but would now keep never reached the later steps, so their later decisions are unknown: they are counted apart
(`unscored_later`), never guessed; re-applying (loop.reapply) scores them for real.

Pure: numpy, pyarrow, fsspec and the curation steps; no Django.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import fsspec
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from numpy.typing import NDArray

from curation.steps.base import Filter, build_step
from curation.steps.document import Document
from curation.steps.language import SIGNAL_LANG
from curation.steps.recipe import Recipe
from curation.steps.writers import read_jsonl_zst
from loop.decisions import KEEP, decide_stored

TABLE_FILE = "audit/signals.parquet"
BASE_COLUMNS = ("id", "url", "removed_by", "reason")


def table_url(output: str) -> str:
    return f"{output.rstrip('/')}/{TABLE_FILE}"


def output_files(output: str) -> list[str]:
    """The kept and removed document files of a job's output folder, kept first, each in name order."""
    fs, root = fsspec.core.url_to_fs(output)
    files: list[str] = []
    for kind in ("kept", "removed"):
        found = sorted(fs.glob(f"{root.rstrip('/')}/{kind}/*.jsonl.zst"))
        files.extend(fs.unstrip_protocol(path) for path in found)
    return files


def iter_output_documents(output: str) -> Iterable[Document]:
    """Every document a job wrote, kept ones first."""
    for url in output_files(output):
        yield from read_jsonl_zst(url)


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, (int, float)):
        return float(value)
    return None


def build_signal_table(output: str, documents: Iterable[Document] | None = None) -> int:
    """Write `<output>/audit/signals.parquet` from the job's outputs; return the number of rows.

    Changes only that file (written under a temporary name, then renamed). Safe to re-run: it rewrites the same
    table from the same outputs.
    """
    ids: list[str] = []
    urls: list[str] = []
    removed_by: list[str] = []
    reasons: list[str] = []
    langs: list[str] = []
    numbers: dict[str, list[float]] = {}
    for row, doc in enumerate(documents if documents is not None else iter_output_documents(output)):
        ids.append(str(doc.get("id", "")))
        urls.append(str(doc.get("url") or ""))
        removed_by.append(str(doc.get("removed_by") or ""))
        reasons.append(str(doc.get("reason") or ""))
        signals = doc.get("signals") or {}
        langs.append(str(signals.get(SIGNAL_LANG) or doc.get("lang") or ""))
        for name, value in signals.items():
            number = _number(value)
            if number is None:
                continue
            column = numbers.get(name)
            if column is None:
                column = numbers[name] = [float("nan")] * row
            column.append(number)
        for column in numbers.values():
            if len(column) <= row:
                column.append(float("nan"))
    arrays: dict[str, Any] = {
        "id": pa.array(ids, pa.string()), "url": pa.array(urls, pa.string()),
        "removed_by": pa.array(removed_by, pa.string()).dictionary_encode(),
        "reason": pa.array(reasons, pa.string()).dictionary_encode(),
        SIGNAL_LANG: pa.array(langs, pa.string()).dictionary_encode(),
    }
    for name in sorted(numbers):
        arrays[f"s:{name}"] = pa.array(numbers[name], pa.float64())
    table = pa.table(arrays)
    url = table_url(output)
    fs, path = fsspec.core.url_to_fs(url)
    fs.makedirs(path.rpartition("/")[0], exist_ok=True)
    partial = f"{path}.tmp"
    with fs.open(partial, "wb") as handle:
        pq.write_table(table, handle)
    fs.mv(partial, path)
    return len(ids)


@dataclass
class SignalTable:
    """The columns of one job's signal table, loaded into memory."""

    ids: NDArray[np.object_]
    removed_by: NDArray[np.object_]
    reason: NDArray[np.object_]
    signals: dict[str, NDArray[Any]]  # numeric signals (float64) and the language (object)
    urls: NDArray[np.object_] | None = None

    def __len__(self) -> int:
        return len(self.ids)


def _strings(column: pa.ChunkedArray) -> NDArray[np.object_]:
    """A (dictionary-encoded) string column as an object array, decoding each distinct value once."""
    combined = column.combine_chunks()
    if pa.types.is_dictionary(combined.type):
        values = np.asarray(combined.dictionary.to_pylist(), dtype=object)
        indices = combined.indices.to_numpy(zero_copy_only=False)
        return values[indices] if len(values) else np.full(len(indices), "", dtype=object)
    return np.asarray(combined.to_pylist(), dtype=object)


def load_signal_table(output: str, *, with_urls: bool = False) -> SignalTable:
    """Read a job's signal table (FileNotFoundError when it was not built)."""
    fs, path = fsspec.core.url_to_fs(table_url(output))
    with fs.open(path, "rb") as handle:
        table = pq.read_table(handle)
    signals: dict[str, NDArray[Any]] = {SIGNAL_LANG: _strings(table.column(SIGNAL_LANG))}
    for name in table.column_names:
        if name.startswith("s:"):
            signals[name[2:]] = table.column(name).to_numpy()
    return SignalTable(
        ids=_strings(table.column("id")), removed_by=_strings(table.column("removed_by")),
        reason=_strings(table.column("reason")), signals=signals,
        urls=_strings(table.column("url")) if with_urls else None,
    )


def step_positions(recipe: Recipe, removed_by: NDArray[np.object_]) -> NDArray[np.int32]:
    """For each document, the recipe position of the step that removed it (len(steps) when kept)."""
    first: dict[str, int] = {}
    for position, spec in enumerate(recipe.steps):
        first.setdefault(spec.name, position)
    names, inverse = np.unique(removed_by.astype(str), return_inverse=True)
    codes = np.array([first.get(str(name), len(recipe.steps)) if name else len(recipe.steps) for name in names],
                     dtype=np.int32)
    return codes[inverse] if len(names) else np.zeros(0, dtype=np.int32)


@dataclass
class WhatIf:
    """What a step and the job would keep and remove under other parameters of one step."""

    step: str
    position: int
    params: dict[str, Any]
    reached: int  # documents that reached the step
    step_kept: int
    step_removed: dict[str, int]
    job_kept: int  # documents kept by every step, as far as stored signals tell
    job_removed: int
    unscored_later: int  # newly kept by the step, never seen by the later steps (their decisions unknown)
    changed: int  # documents whose decision by this step changes
    precision: dict[str, Any] | None = None  # audited precision of the removals at these parameters
    before: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "step": self.step, "position": self.position, "params": self.params, "reached": self.reached,
            "step_kept": self.step_kept, "step_removed": self.step_removed,
            "step_removed_total": sum(self.step_removed.values()), "job_kept": self.job_kept,
            "job_removed": self.job_removed, "unscored_later": self.unscored_later, "changed": self.changed,
            "precision": self.precision, "before": self.before,
        }


def step_with_params(recipe: Recipe, position: int, changes: Mapping[str, Any]) -> tuple[Filter[Any], dict[str, Any]]:
    """Build the filter at `position` with `changes` over its recipe parameters (RecipeError when refused)."""
    spec = recipe.steps[position]
    params = {**dict(spec.params), **dict(changes)}
    step = build_step(spec.name, params)
    if not isinstance(step, Filter):
        raise ValueError(f"step {spec.name!r} is not a signal-based filter: its decisions cannot be re-made")
    return step, params


def whatif(
    table: SignalTable,
    recipe: Recipe,
    position: int,
    changes: Mapping[str, Any],
    *,
    labels: Mapping[str, bool] | None = None,
    positions: NDArray[np.int32] | None = None,
) -> WhatIf:
    """Recount the step at `position` (and the job) with `changes` to its parameters, from stored signals only.

    `labels` maps audited document ids to True when people judged the document junk (worth removing); the
    precision of the step's removals among labelled documents is then given with a Wilson interval.
    Reads only `table`; changes nothing.
    """
    step, params = step_with_params(recipe, position, changes)
    at = positions if positions is not None else step_positions(recipe, table.removed_by)
    rows = np.flatnonzero(at >= position)
    decisions = decide_stored(step, table.signals, rows)
    # A document removed for an error keeps that decision: its signals are incomplete by definition.
    errored = (at[rows] == position) & (table.reason[rows] == "error")
    decisions[errored] = "error"
    removed_mask = decisions != KEEP
    previously_removed_here = at[rows] == position
    kept_rows = rows[~removed_mask]
    unscored = int(np.count_nonzero(at[kept_rows] == position))
    after_steps = len(recipe.steps) - position - 1
    if after_steps == 0:
        unscored = 0  # no later step: newly kept documents are simply kept
    job_kept = int(np.count_nonzero(at[kept_rows] == len(recipe.steps))) + (
        int(np.count_nonzero(at[kept_rows] == position)) if after_steps == 0 else 0
    )
    reasons = Counter(decisions[removed_mask].tolist())
    result = WhatIf(
        step=recipe.steps[position].name, position=position, params=params, reached=len(rows),
        step_kept=int(np.count_nonzero(~removed_mask)), step_removed=dict(sorted(reasons.items())),
        job_kept=job_kept, job_removed=len(table) - job_kept - unscored,
        unscored_later=unscored, changed=int(np.count_nonzero(removed_mask != previously_removed_here)),
        before={"step_kept": int(np.count_nonzero(~previously_removed_here)),
                "step_removed": int(np.count_nonzero(previously_removed_here)),
                "job_kept": int(np.count_nonzero(at == len(recipe.steps)))},
    )
    if labels:
        result.precision = labelled_precision(table.ids[rows], removed_mask, labels)
    return result


def labelled_precision(
    ids: NDArray[np.object_], removed_mask: NDArray[np.bool_], labels: Mapping[str, bool]
) -> dict[str, Any]:
    """Precision of removals and wrongly kept junk among the labelled documents (Wilson 95 % intervals)."""
    from loop.figures import proportion  # numpy/statsmodels only; imported here to keep this module's load light

    labelled = np.fromiter((doc_id in labels for doc_id in ids), dtype=bool, count=len(ids))
    junk = np.fromiter((labels.get(doc_id, False) for doc_id in ids), dtype=bool, count=len(ids))
    removed = labelled & removed_mask
    kept = labelled & ~removed_mask
    return {
        "removal_precision": proportion(int(np.count_nonzero(junk & removed)), int(np.count_nonzero(removed))),
        "kept_junk_rate": proportion(int(np.count_nonzero(junk & kept)), int(np.count_nonzero(kept))),
    }
