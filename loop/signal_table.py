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

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import fsspec
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from numpy.typing import NDArray

from curation.steps.base import Filter, build_step
from curation.steps.document import Document
from curation.steps.language import SIGNAL_LANG
from curation.steps.recipe import Recipe
from curation.steps.writers import read_jsonl_zst
from loop.decisions import Codes, decide_stored

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
    """The columns of one job's signal table, loaded into memory (string columns as codes).

    Document ids stay an Arrow column until a caller needs them as Python strings (`ids`): a recount without
    labels never pays for a million of them.
    """

    id_column: pa.ChunkedArray
    removed_by: Codes
    reason: Codes
    lang: Codes
    signals: dict[str, NDArray[np.float64]]  # numeric signals, NaN where absent
    urls: NDArray[np.object_] | None = None
    _ids: NDArray[np.object_] | None = field(default=None, repr=False)

    def __len__(self) -> int:
        return len(self.id_column)

    @property
    def ids(self) -> NDArray[np.object_]:
        if self._ids is None:
            self._ids = np.asarray(self.id_column.to_pylist(), dtype=object)
        return self._ids

    def rows_of(self, doc_ids: Iterable[str]) -> NDArray[np.intp]:
        """The rows holding these document ids (a hash lookup in Arrow, not a Python loop over every row)."""
        wanted = pa.array(sorted(set(doc_ids)), pa.string())
        return np.flatnonzero(pc.is_in(self.id_column, value_set=wanted).to_numpy(zero_copy_only=False))


def _codes(column: pa.ChunkedArray) -> Codes:
    """A dictionary-encoded string column as codes and names (each distinct string decoded once)."""
    combined = column.combine_chunks()
    if not pa.types.is_dictionary(combined.type):
        combined = combined.dictionary_encode()
    names = np.asarray(combined.dictionary.to_pylist() or [""], dtype=object)
    codes = combined.indices.to_numpy(zero_copy_only=False).astype(np.int32)
    return Codes(codes, names)


def load_signal_table(output: str, *, with_urls: bool = False) -> SignalTable:
    """Read a job's signal table (FileNotFoundError when it was not built)."""
    fs, path = fsspec.core.url_to_fs(table_url(output))
    with fs.open(path, "rb") as handle:
        table = pq.read_table(handle)
    signals = {name[2:]: table.column(name).to_numpy() for name in table.column_names if name.startswith("s:")}
    return SignalTable(
        id_column=table.column("id"), removed_by=_codes(table.column("removed_by")),
        reason=_codes(table.column("reason")), lang=_codes(table.column(SIGNAL_LANG)), signals=signals,
        urls=np.asarray(table.column("url").to_pylist(), dtype=object) if with_urls else None,
    )


def step_positions(recipe: Recipe, removed_by: Codes) -> NDArray[np.int32]:
    """For each document, the recipe position of the step that removed it (len(steps) when kept)."""
    first: dict[str, int] = {}
    for position, spec in enumerate(recipe.steps):
        first.setdefault(spec.name, position)
    end = len(recipe.steps)
    by_code = np.array([first.get(str(name), end) if name else end for name in removed_by.names], dtype=np.int32)
    return by_code[removed_by.codes]


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
    codes, reasons = decide_stored(step, table.signals, rows, table.lang)
    # A document removed for an error keeps that decision: its signals are incomplete by definition.
    error_code = np.flatnonzero(table.reason.names == "error")
    if len(error_code):
        errored = (at[rows] == position) & (table.reason.codes[rows] == error_code[0])
        if errored.any():
            reasons = [*reasons, "error"]
            codes[errored] = len(reasons) - 1
    removed_mask = codes != 0
    previously_removed_here = at[rows] == position
    kept_at = at[rows[~removed_mask]]
    end = len(recipe.steps)
    last = position == end - 1
    newly_kept = int(np.count_nonzero(kept_at == position))
    unscored = 0 if last else newly_kept  # no later step: newly kept documents are simply kept
    job_kept = int(np.count_nonzero(kept_at == end)) + (newly_kept if last else 0)
    counts = np.bincount(codes, minlength=len(reasons))
    step_removed = {reasons[code]: int(counts[code]) for code in range(1, len(reasons)) if counts[code]}
    result = WhatIf(
        step=recipe.steps[position].name, position=position, params=params, reached=len(rows),
        step_kept=int(counts[0]), step_removed=dict(sorted(step_removed.items())),
        job_kept=job_kept, job_removed=len(table) - job_kept - unscored,
        unscored_later=unscored, changed=int(np.count_nonzero(removed_mask != previously_removed_here)),
        before={"step_kept": int(np.count_nonzero(~previously_removed_here)),
                "step_removed": int(np.count_nonzero(previously_removed_here)),
                "job_kept": int(np.count_nonzero(at == end))},
    )
    if labels:
        result.precision = labelled_precision(table, rows, removed_mask, labels)
    return result


def labelled_precision(
    table: SignalTable, rows: NDArray[np.intp], removed_mask: NDArray[np.bool_], labels: Mapping[str, bool]
) -> dict[str, Any]:
    """Precision of removals and wrongly kept junk among the labelled documents (Wilson 95 % intervals).

    `rows` are the rows the step decided and `removed_mask` its decisions, aligned with `rows`.
    """
    from loop.figures import proportion  # numpy/statsmodels only; imported here to keep this module's load light

    labelled = table.rows_of(labels)
    position_in = np.searchsorted(rows, labelled)
    inside = (position_in < len(rows)) & (rows[np.minimum(position_in, len(rows) - 1)] == labelled)
    decided = position_in[inside]
    junk = np.array([labels[str(doc_id)] for doc_id in table.id_column.take(labelled[inside]).to_pylist()],
                    dtype=bool)
    removed = removed_mask[decided]
    return {
        "removal_precision": proportion(int(np.count_nonzero(junk & removed)), int(np.count_nonzero(removed))),
        "kept_junk_rate": proportion(int(np.count_nonzero(junk & ~removed)), int(np.count_nonzero(~removed))),
    }
