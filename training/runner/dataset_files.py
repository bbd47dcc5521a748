"""Find and load the files of an export folder (exports issue 11) as `datasets.Dataset` splits.

An export folder holds `card.json` (with the export's `content_hash`) and its rows as JSON Lines and/or Parquet,
split into `train` and `test`: `train.jsonl`, `train.parquet`, `train-00000-of-00002.parquet`, or the same names
under `data/` (the Hugging Face layout the exports app writes: `data/train-00000-of-00001.jsonl`; only `data/` is
read then, never the removed rows it lists elsewhere). When both formats are there Parquet is read (typed columns,
faster). A folder with no split names is all `train`. Rows go to trl as they are: the export writes trl's own formats.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from training.runner.spec import SpecError

if TYPE_CHECKING:
    from datasets import Dataset

SPLITS = ("train", "test")
_SUFFIXES = {"parquet": (".parquet",), "json": (".jsonl", ".json")}

# The columns each export format must have (trl's names). PPO/RLOO prompts are `prompt` only.
REQUIRED_COLUMNS = {
    "sft": (("messages",), ("prompt", "completion")),
    "reward": (("prompt", "chosen", "rejected"), ("chosen", "rejected")),
    "dpo": (("prompt", "chosen", "rejected"),),
    "ppo": (("prompt",),),
}


@dataclass(frozen=True)
class ExportFolder:
    """An export on disk: its card (may be empty) and the files of each split."""

    root: Path
    card: dict[str, Any]
    files: dict[str, list[Path]]
    loader: str  # "parquet" or "json", the `datasets` builder that reads the files

    @property
    def content_hash(self) -> str | None:
        value = self.card.get("content_hash")
        return str(value) if value else None


def export_open(root: Path) -> ExportFolder:
    """Read the card and list the data files of an export folder; a folder with no rows is refused."""
    if not root.is_dir():
        raise SpecError(f"dataset folder not found: {root}", field="dataset")
    card_path = root / "card.json"
    card: dict[str, Any] = {}
    if card_path.is_file():
        try:
            card = json.loads(card_path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as error:
            raise SpecError(f"{card_path} is not valid JSON: {error}", field="dataset") from None
    # The exports app writes its rows under data/ (and what it removed elsewhere, e.g. removed/): read data/ only.
    rows_root = root / "data" if (root / "data").is_dir() else root
    for loader, suffixes in _SUFFIXES.items():
        candidates = sorted(p for p in rows_root.rglob("*") if p.is_file() and p.name.endswith(suffixes)
                            and p.name != "card.json")
        if not candidates:
            continue
        files: dict[str, list[Path]] = {split: [] for split in SPLITS}
        for path in candidates:
            split = _split_of(path.relative_to(root))
            if split is not None:
                files[split].append(path)
        if not any(files.values()):
            files["train"] = candidates  # no split names: everything is training data
        if files["train"]:
            return ExportFolder(root=root, card=card, files=files, loader=loader)
    raise SpecError(f"no train rows (.parquet or .jsonl) in {root}", field="dataset")


def _split_of(relative: Path) -> str | None:
    for part in relative.parts:
        stem = part.split(".")[0]
        for split in SPLITS:
            if stem == split or stem.startswith((f"{split}-", f"{split}_")):
                return split
    return None


def export_columns(export: ExportFolder, split: str) -> list[str] | None:
    """The columns of one split, read cheaply (Parquet schema, or the first JSON line); None when it has no rows."""
    paths = export.files.get(split) or []
    if not paths:
        return None
    if export.loader == "parquet":
        import pyarrow.parquet as pq

        return list(pq.read_schema(paths[0]).names)
    for path in paths:
        with path.open(encoding="utf-8") as lines:
            for line in lines:
                if line.strip():
                    try:
                        row = json.loads(line)
                    except json.JSONDecodeError as error:
                        raise SpecError(f"{path}: not JSON Lines ({error})", field="dataset") from None
                    if not isinstance(row, dict):
                        raise SpecError(f"{path}: a row must be a JSON object", field="dataset")
                    return list(row)
    return None


def export_check(export: ExportFolder, split: str, dataset_format: str) -> bool:
    """Whether the split has rows; refuse it (SpecError) when its columns do not fit the format. No `datasets`."""
    columns = export_columns(export, split)
    if columns is None:
        return False
    accepted = REQUIRED_COLUMNS[dataset_format]
    if not any(set(option) <= set(columns) for option in accepted):
        wanted = " or ".join("/".join(option) for option in accepted)
        raise SpecError(f"{export.root} ({split}) has columns {sorted(columns)}; a {dataset_format} run needs "
                        f"{wanted}", field="dataset")
    return True


def export_split(export: ExportFolder, split: str, dataset_format: str) -> Dataset | None:
    """Load one split as a `datasets.Dataset` (None when the export has no such split) and check its columns."""
    if not export_check(export, split, dataset_format):
        return None
    from datasets import load_dataset

    paths = export.files[split]
    dataset = load_dataset(export.loader, data_files=[str(p) for p in paths], split="train")
    return dataset if len(dataset) else None
