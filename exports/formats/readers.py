"""Inputs that are files, not database rows: a curation job's kept documents and an earlier export's prompts.

A job's kept documents are read with curation's own readers (`plan_splits` / `read_split` over the job's
`kept/` folder), so every encoding and compression rule of curation applies, and read problems are counted,
never fatal. An earlier export is read through its `card.json` (only finished exports have one).
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterator
from typing import Any

import orjson
import pyarrow.parquet as pq  # type: ignore[import-untyped]
from fsspec.core import url_to_fs  # type: ignore[import-untyped]

from curation.steps.readers import InputError, ReaderOptions, ReadErrors, plan_splits, read_split
from exports.formats.records import DocumentRecord, Message
from exports.formats.spec import FILE_JSONL, FILE_PARQUET

KEPT_DIR = "kept"


class SourceFileError(ValueError):
    """An input folder cannot be read as what it should be; the message says which and why."""


def job_documents(output: str, job: int | None, errors: ReadErrors) -> Iterator[DocumentRecord]:
    """Yield the kept documents of a finished curation job whose output folder is `output`."""
    kept = posixpath.join(output.rstrip("/"), KEPT_DIR)
    try:
        splits = plan_splits([kept], ReaderOptions(format="jsonl"))
    except InputError as error:
        raise SourceFileError(f"the job's kept documents cannot be read: {error}") from error
    for split in splits:
        for document in read_split(split, ReaderOptions(format="jsonl"), errors):
            url = document.get("url")
            lang = document.get("lang")
            yield DocumentRecord(
                id=str(document["id"]),
                text=document["text"],
                url=url if isinstance(url, str) else None,
                lang=lang if isinstance(lang, str) else None,
                job=job,
            )


def read_card(folder: str) -> dict[str, Any]:
    """Return a finished export's card.json; raise SourceFileError when the folder holds no finished export."""
    fs, path = url_to_fs(folder)
    card_path = posixpath.join(path.rstrip("/"), "card.json")
    if not fs.exists(card_path):
        raise SourceFileError(f"{folder} holds no finished export (no card.json)")
    with fs.open(card_path, "rb") as handle:
        card: dict[str, Any] = orjson.loads(handle.read())
    return card


def _prompt_of(row: dict[str, Any]) -> list[Message] | None:
    prompt = row.get("prompt")
    if isinstance(prompt, list):
        return [{"role": m["role"], "content": m["content"]} for m in prompt]
    # The implicit form: the prompt is the chosen conversation without its last (assistant) turn.
    chosen = row.get("chosen")
    if isinstance(chosen, list) and len(chosen) > 1:
        return [{"role": m["role"], "content": m["content"]} for m in chosen[:-1]]
    messages = row.get("messages")
    if isinstance(messages, list) and len(messages) > 1:
        return [{"role": m["role"], "content": m["content"]} for m in messages[:-1]]
    return None


def export_prompts(folder: str) -> Iterator[list[Message]]:
    """Yield the prompt of every row of an earlier export (all splits), e.g. a reward export's prompts for PPO."""
    card = read_card(folder)
    fs, path = url_to_fs(folder)
    root = path.rstrip("/")
    for split in card["splits"].values():
        files = split["files"]
        if files.get(FILE_JSONL):
            for name in files[FILE_JSONL]:
                with fs.open(posixpath.join(root, name), "rb") as handle:
                    for line in handle:
                        prompt = _prompt_of(orjson.loads(line))
                        if prompt:
                            yield prompt
        else:
            for name in files.get(FILE_PARQUET, []):
                with fs.open(posixpath.join(root, name), "rb") as handle:
                    for batch in pq.ParquetFile(handle).iter_batches(batch_size=4096):
                        for row in batch.to_pylist():
                            prompt = _prompt_of(row)
                            if prompt:
                                yield prompt
