"""The export core: plain records in, trl-format dataset files and a dataset card out. No Django here.

    from exports.formats import ExportSpec, BuildStats, item_rows, run_export
    spec = ExportSpec(format="reward", merge="majority", test_fraction=0.1)
    stats = BuildStats()
    result = run_export(spec, item_rows(items, spec, stats), stats, "out/reward-v1", name="reward", command="...")
    result.content_hash, result.card["splits"]["train"]["rows"]

Modules: `records` (what is read), `spec` (what is asked), `preferences` (scores, merging, pairs, agreement),
`builders` (rows per format, filters), `decontam` (n-gram decontamination), `pii` (the last PII scan), `split`
(prompt groups and the train/test split), `writers` (sharded JSON Lines and Parquet, content hash), `card` (dataset
card), `readers` (a job's kept documents, an earlier export's prompts), `pipeline` (all of it in order).

The names below are imported when first used (PEP 562): the exports app's models need only `spec`, and importing
the pipeline (pyarrow, the curation MinHash and PII packages) at every process's start cost ~0.2 s.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from exports.formats.builders import (
        BuildError,
        BuildStats,
        BuiltRow,
        item_rows,
        ppo_rows_from_prompts,
        pretrain_rows,
    )
    from exports.formats.pipeline import ExportExistsError, ExportResult, run_export, run_export_parts
    from exports.formats.records import AnnotationRecord, Consensus, DocumentRecord, ItemRecord
    from exports.formats.spec import ExportSpec, SpecError

_HOMES = {
    "BuildError": "builders", "BuildStats": "builders", "BuiltRow": "builders", "item_rows": "builders",
    "ppo_rows_from_prompts": "builders", "pretrain_rows": "builders",
    "ExportExistsError": "pipeline", "ExportResult": "pipeline", "run_export": "pipeline",
    "run_export_parts": "pipeline",
    "AnnotationRecord": "records", "Consensus": "records", "DocumentRecord": "records", "ItemRecord": "records",
    "ExportSpec": "spec", "SpecError": "spec",
}

__all__ = [
    "AnnotationRecord",
    "BuildError",
    "BuildStats",
    "BuiltRow",
    "Consensus",
    "DocumentRecord",
    "ExportExistsError",
    "ExportResult",
    "ExportSpec",
    "ItemRecord",
    "SpecError",
    "item_rows",
    "ppo_rows_from_prompts",
    "pretrain_rows",
    "run_export",
    "run_export_parts",
]


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{home}"), name)
    globals()[name] = value
    return value
