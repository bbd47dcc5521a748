"""Finished curation jobs over planted documents, for the loop tests: good prose and each filter's junk."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from curation.models import Job
from curation.services.jobs import job_run_local, job_submit
from tests.support import planted_filters as planted

FILTER_RECIPE = """name: loop-filters
reader: {text_field: text}
steps:
  - language: {min_score: 0.3}
  - gopher_quality: {}
  - gopher_repetition: {}
  - fineweb: {}
"""

GOOD = [planted.GOOD_EN, planted.GOOD_EN_2, planted.GOOD_ZH, planted.GOOD_ZH_2]
JUNK = [planted.KEYWORD_SPAM_EN, planted.KEYWORD_SPAM_ZH, planted.DUPLICATE_LINES_EN, planted.DUPLICATE_LINES_ZH]


def planted_documents(copies: int = 10) -> list[dict[str, Any]]:
    """`copies` variants of every good and junk text (a numbered line added so no two are identical)."""
    docs = []
    for copy in range(copies):
        for kind, texts in (("good", GOOD), ("junk", JUNK)):
            for number, text in enumerate(texts):
                docs.append({"id": f"{kind}-{number}-{copy}", "url": f"https://example.org/{kind}/{number}/{copy}",
                             "text": f"{text}\n\nReference number {copy} of page {number}."})
    return docs


def write_inputs(folder: Path, docs: list[dict[str, Any]]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "input.jsonl"
    path.write_text("".join(json.dumps(doc, ensure_ascii=False) + "\n" for doc in docs), encoding="utf-8")
    return path


def finished_job(folder: Path, recipe: str = FILTER_RECIPE, copies: int = 10, output: str | None = None,
                 user: Any = None) -> Job:
    """Run `recipe` over the planted documents in this process; return the completed job."""
    path = write_inputs(folder / "in", planted_documents(copies))
    job = job_submit(recipe=recipe, inputs=[str(path)], output=output, user=user)
    job = job_run_local(job)
    assert job.status == Job.Status.COMPLETED, job.error
    return job
