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
"""

from exports.formats.builders import BuildError, BuildStats, BuiltRow, item_rows, ppo_rows_from_prompts, pretrain_rows
from exports.formats.pipeline import ExportExistsError, ExportResult, run_export, run_export_parts
from exports.formats.records import AnnotationRecord, Consensus, DocumentRecord, ItemRecord
from exports.formats.spec import ExportSpec, SpecError

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
