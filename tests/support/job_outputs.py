"""Read a job's output files in tests: the documents of its kept/ or removed/ folder, in shard order."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import zstandard


def read_zst_jsonl(path: Path) -> list[dict[str, Any]]:
    """The documents of one .jsonl.zst file."""
    with path.open("rb") as raw:
        text = zstandard.ZstdDecompressor().stream_reader(raw).read().decode()
    return [json.loads(line) for line in text.splitlines()]


def outputs(output: str, kind: str) -> list[dict[str, Any]]:
    """Every document under OUTPUT/KIND ("kept" or "removed"), file by file in name order."""
    return [doc for path in sorted(Path(output, kind).glob("*.jsonl.zst")) for doc in read_zst_jsonl(path)]
