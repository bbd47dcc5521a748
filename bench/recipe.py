"""Benchmark the whole `web-default` recipe as users run it, against datatrove's nearest whole pipeline.

    .venv/bin/python bench/recipe.py --docs 1000 --rounds 2               # print
    .venv/bin/python bench/recipe.py --docs 1000 --rounds 2 --write-results

Both sides run as whole processes, start-up included, on the same JSON Lines file of real documents (English:
BBC news and article bodies; Chinese: zh Wikipedia paragraphs; each joined to ~2 KB as in bench/quality.py):
- ours: `python manage.py curate --recipe web-default --local --input docs.jsonl --output out/` (Django start-up,
  job rows in PostgreSQL, the job engine's map stages with their files, exact and MinHash dedup with the index
  commit, PII with its default name scope, outputs and stats written). The database is DATABASE_URL (migrated).
- datatrove 0.10.1 (bench/requirements-datatrove.txt): one process running, with LocalPipelineExecutor, the
  pipeline of FineWeb's example (LanguageFilter, GopherRepetitionFilter, GopherQualityFilter, C4QualityFilter,
  FineWebQualityFilter; FineWeb-2's cmn_Hani thresholds for Chinese) plus its PIIFormatter (e-mail and IP
  addresses), writing JSON Lines, then its four MinHash stages (signatures, buckets, clusters, filter) over that
  output, as its examples/minhash_deduplication.py does.

Speed: CPU seconds of the child process (`resource.getrusage(RUSAGE_CHILDREN)`, all its threads), documents per
CPU second; the sides alternate, round after round, and the reported ratio is the median of the per-round ratios.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
from collections import deque
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import ROOT, machine, replace_section
from bench.quality import _paragraphs_en, _paragraphs_zh, build_documents

SECTION = "## Whole recipe: web-default next to datatrove"
PYTHON = sys.executable


def child_cpu(command: list[str], env: dict[str, str] | None = None) -> float:
    """Run `command` to completion; return the CPU seconds (user + system) it and its children used."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    done = subprocess.run(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command[:4])} failed:\n{done.stderr[-3000:]}")
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def run_ours(path: Path, work: Path) -> float:
    output = work / "ours-out"
    shutil.rmtree(output, ignore_errors=True)
    env = {**os.environ, "STORAGE_ROOT": str(work / "storage")}
    command = [
        PYTHON, "manage.py", "curate", "--recipe", "web-default", "--local", "--input", str(path),
        "--output", str(output), "-v", "0",
    ]
    return child_cpu(command, env)


def run_datatrove(path: Path, work: Path, language: str) -> float:
    folder = work / "datatrove"
    shutil.rmtree(folder, ignore_errors=True)
    return child_cpu([PYTHON, str(Path(__file__).resolve()), "--datatrove-child", str(path), str(folder), language])


def _let_xxhash_take_str() -> None:
    """datatrove 0.10.1 hashes str with xxhash, which xxhash 4 refuses ("Strings must be encoded"); encode as
    UTF-8 first, which is what older xxhash did inside."""
    import xxhash

    for name in ("xxh32_intdigest", "xxh64_intdigest"):
        original = getattr(xxhash, name)

        def encoded(data: str | bytes, seed: int = 0, original: Any = original) -> int:
            return int(original(data.encode("utf-8") if isinstance(data, str) else data, seed))

        setattr(xxhash, name, encoded)


def datatrove_child(path: str, folder: str, language: str) -> None:
    """The datatrove side, run in its own process (see the module docstring)."""
    from datatrove.pipeline.dedup import MinhashDedupBuckets, MinhashDedupCluster, MinhashDedupFilter
    from datatrove.pipeline.dedup.minhash import MinhashConfig, MinhashDedupSignature
    from datatrove.pipeline.formatters import PIIFormatter
    from datatrove.pipeline.readers import JsonlReader
    from datatrove.pipeline.writers import JsonlWriter
    from loguru import logger

    from bench.quality import datatrove_filters

    logger.remove()
    _let_xxhash_take_str()
    base = Path(folder)
    source, name = os.path.split(path)
    config = MinhashConfig()
    stages = [
        [JsonlReader(source, glob_pattern=name), *datatrove_filters(language), PIIFormatter(),
         JsonlWriter(str(base / "filtered"))],
        [JsonlReader(str(base / "filtered")), MinhashDedupSignature(str(base / "signatures"), config=config)],
        [MinhashDedupBuckets(str(base / "signatures"), str(base / "buckets"), config=config)],
        [MinhashDedupCluster(str(base / "buckets"), str(base / "remove_ids"), config=config)],
        [JsonlReader(str(base / "filtered")), MinhashDedupFilter(str(base / "remove_ids")),
         JsonlWriter(str(base / "output"))],
    ]
    # As LocalPipelineExecutor._run_for_rank does, without its deep copy of the pipeline per task (the language
    # filter's fastText model cannot be copied).
    for number, pipeline in enumerate(stages):
        tasks = config.num_buckets if number == 2 else 1
        for rank in range(tasks):
            data: Any = None
            for step in pipeline:
                data = step(data, rank, tasks)
            if data:
                deque(data, maxlen=0)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--docs", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--languages", nargs="+", default=["en", "zh"])
    parser.add_argument("--write-results", action="store_true")
    parser.add_argument("--datatrove-child", nargs=3, metavar=("PATH", "FOLDER", "LANGUAGE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.datatrove_child:
        datatrove_child(*args.datatrove_child)
        return 0
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="bench-recipe-") as temporary:
        work = Path(temporary)
        for language in args.languages:
            articles = _paragraphs_en() if language == "en" else _paragraphs_zh()
            docs = build_documents(articles, args.docs, seed=20261126 if language == "en" else 7)
            path = work / f"docs-{language}.jsonl"
            path.write_text("".join(json.dumps(doc, ensure_ascii=False) + "\n" for doc in docs), encoding="utf-8")
            ours: list[float] = []
            theirs: list[float] = []
            for number in range(args.rounds):
                if number % 2 == 0:
                    ours.append(run_ours(path, work))
                    theirs.append(run_datatrove(path, work, language))
                else:
                    theirs.append(run_datatrove(path, work, language))
                    ours.append(run_ours(path, work))
                print(language, number, ours[-1], theirs[-1], flush=True)
            ratio = sorted(t / o for o, t in zip(ours, theirs, strict=True))
            rows.append({"language": language, "ours": ours, "theirs": theirs, "ratio": ratio})
    lines = [
        SECTION,
        "",
        f"Measured {datetime.date.today().isoformat()} on {machine()}, heavily loaded by other work (compare the "
        f"ratios), with `.venv/bin/python bench/recipe.py --docs {args.docs} --rounds {args.rounds}` (method in "
        "bench/recipe.py: both sides as whole processes, start-up included).",
        "",
        "| documents | ours: curate --recipe web-default --local (CPU s) | datatrove whole pipeline (CPU s) | ratio "
        "(median of rounds) |",
        "|---|---|---|---|",
    ]
    for row in rows:
        lines.append(
            f"| {args.docs:,} {row['language']} | {', '.join(f'{v:.1f}' for v in row['ours'])} | "
            f"{', '.join(f'{v:.1f}' for v in row['theirs'])} | **{statistics.median(row['ratio']):.1f}x** |"
        )
    print("\n".join(lines))
    if args.write_results:
        replace_section("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
