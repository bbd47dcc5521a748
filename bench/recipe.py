"""Benchmark the whole `web-default` recipe as users run it, against datatrove's nearest whole pipeline.

    .venv/bin/python bench/recipe.py                        # 5,000 en and zh documents and the WARC, 3 rounds; print
    .venv/bin/python bench/recipe.py --write-results        # also replace the "Whole recipe" section of RESULTS.md
    .venv/bin/python bench/recipe.py --inputs en --docs 1000 --rounds 1     # a quick look

Both sides run as whole processes, start-up included, on the same input files:
- en, zh: a JSON Lines file of real documents (English: BBC news and article bodies; Chinese: zh Wikipedia
  paragraphs; each joined to ~2 KB as in bench/quality.py).
- warc: the 181 ScrapingHub pages of ../shared/data/article-extraction-benchmark (real English article pages,
  ~170 KB of HTML each), written as Common Crawl writes them (one gzip member per `response` record, with
  `WARC-Identified-Payload-Type: text/html`) `--warc-copies` times over into one .warc.gz, every copy with its own
  record ids and URLs. The copies are exact duplicates, which both sides' dedup removes, after extracting and
  filtering every page.

The sides:
- ours: `python manage.py curate --recipe web-default --local --input FILE --output out/` (Django start-up, job
  rows in PostgreSQL, the job engine's map stages with their files, the extract step (a no-op on text input),
  exact and MinHash dedup with the index commit, PII with its default name scope, outputs and stats written). The
  same recipe reads the WARC: its first step extracts the main text of HTML pages. The database is DATABASE_URL
  (migrated).
- datatrove 0.10.1 (bench/requirements-datatrove.txt): one process running, as LocalPipelineExecutor runs a task,
  the pipeline of FineWeb's example (for WARC: WarcReader and its Trafilatura extractor first; LanguageFilter,
  GopherRepetitionFilter, GopherQualityFilter, C4QualityFilter, FineWebQualityFilter; FineWeb-2's cmn_Hani
  thresholds for Chinese) plus its PIIFormatter (e-mail and IP addresses), writing JSON Lines, then its four
  MinHash stages (signatures, buckets, clusters, filter) over that output, as its examples/minhash_deduplication.py
  does. Its extractor runs trafilatura in a forked helper process with a per-page timeout (1 s by default); the
  timeout here is 60 s so that no page is skipped for the machine's load, and the helper's CPU time counts.

Speed: CPU seconds of the child process and every process it waited for (`resource.getrusage(RUSAGE_CHILDREN)`,
all threads); the sides alternate which goes first, round after round, and the reported ratio is the median of the
per-round ratios (datatrove's CPU seconds over ours).
"""

from __future__ import annotations

import argparse
import datetime
import gzip
import json
import os
import shutil
import statistics
import sys
import tempfile
import uuid
from collections import deque
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import DATA, child_cpu, curate_cpu, machine, replace_section, warc_response_record
from bench.quality import _paragraphs_en, _paragraphs_zh, build_documents

SECTION = "## Whole recipe: web-default next to datatrove"
PYTHON = sys.executable
TARGET = 5.0
EXTRACTION_BENCHMARK = DATA / "article-extraction-benchmark"
# Per page, in seconds: datatrove's default is 1; a loaded machine would skip pages for it.
DATATROVE_EXTRACT_TIMEOUT = 60.0
INPUTS = ("en", "zh", "warc")


# --- inputs --------------------------------------------------------------------------------------------------------


def write_documents(language: str, count: int, path: Path) -> int:
    """Write `count` ~2 KB real documents of `language` as JSON Lines; return how many."""
    articles = _paragraphs_en() if language == "en" else _paragraphs_zh()
    docs = build_documents(articles, count, seed=20261126 if language == "en" else 7)
    path.write_text("".join(json.dumps(doc, ensure_ascii=False) + "\n" for doc in docs), encoding="utf-8")
    return len(docs)




def write_warc(copies: int, path: Path) -> int:
    """Write the extraction benchmark's pages `copies` times into one per-record-gzipped WARC; return the pages."""
    truth = json.loads((EXTRACTION_BENCHMARK / "ground-truth.json").read_text(encoding="utf-8"))
    files = sorted(EXTRACTION_BENCHMARK.glob("html/*.html.gz"))
    pages = {path.name.split(".")[0]: gzip.decompress(path.read_bytes()) for path in files}
    count = 0
    with open(path, "wb") as handle:
        for copy in range(copies):
            for item, html in pages.items():
                url = (truth.get(item, {}).get("url") or f"https://example.invalid/{item}") + f"#copy-{copy}"
                record_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"bench-recipe:{copy}:{item}"))
                handle.write(gzip.compress(warc_response_record(record_id, url, html), compresslevel=6, mtime=0))
                count += 1
    return count


# --- the two sides -------------------------------------------------------------------------------------------------






def run_datatrove(path: Path, work: Path, kind: str) -> float:
    folder = work / "datatrove"
    shutil.rmtree(folder, ignore_errors=True)
    return child_cpu([PYTHON, str(Path(__file__).resolve()), "--datatrove-child", str(path), str(folder), kind])[0]


def kept_counts(work: Path) -> tuple[int, int]:
    """Documents each side kept in its last run (ours from stats.json, datatrove's output lines)."""
    ours = json.loads((work / "ours-out" / "stats.json").read_text(encoding="utf-8"))["documents"]["kept"]
    theirs = 0
    for part in (work / "datatrove" / "output").glob("*"):
        opener = gzip.open if part.name.endswith(".gz") else open
        with opener(part, "rt", encoding="utf-8") as handle:
            theirs += sum(1 for _ in handle)
    return int(ours), theirs


def _let_xxhash_take_str() -> None:
    """datatrove 0.10.1 hashes str with xxhash, which xxhash 4 refuses ("Strings must be encoded"); encode as
    UTF-8 first, which is what older xxhash did inside."""
    import xxhash

    for name in ("xxh32_intdigest", "xxh64_intdigest"):
        original = getattr(xxhash, name)

        def encoded(data: str | bytes, seed: int = 0, original: Any = original) -> int:
            return int(original(data.encode("utf-8") if isinstance(data, str) else data, seed))

        setattr(xxhash, name, encoded)


def datatrove_child(path: str, folder: str, kind: str) -> None:
    """The datatrove side, run in its own process (see the module docstring)."""
    from datatrove.pipeline.dedup import MinhashDedupBuckets, MinhashDedupCluster, MinhashDedupFilter
    from datatrove.pipeline.dedup.minhash import MinhashConfig, MinhashDedupSignature
    from datatrove.pipeline.extractors import Trafilatura
    from datatrove.pipeline.formatters import PIIFormatter
    from datatrove.pipeline.readers import JsonlReader, WarcReader
    from datatrove.pipeline.writers import JsonlWriter
    from loguru import logger

    from bench.quality import datatrove_filters

    logger.remove()
    _let_xxhash_take_str()
    base = Path(folder)
    source, name = os.path.split(path)
    config = MinhashConfig()
    if kind == "warc":
        first: list[Any] = [WarcReader(source, glob_pattern=name), Trafilatura(timeout=DATATROVE_EXTRACT_TIMEOUT)]
        language = "en"
    else:
        first = [JsonlReader(source, glob_pattern=name)]
        language = kind
    stages = [
        [*first, *datatrove_filters(language), PIIFormatter(), JsonlWriter(str(base / "filtered"))],
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


# --- the run -------------------------------------------------------------------------------------------------------


def measure(kind: str, path: Path, items: int, rounds: int, work: Path) -> dict[str, Any]:
    """Run both sides `rounds` times, alternating which goes first; return their CPU seconds and what they kept."""
    ours: list[float] = []
    theirs: list[float] = []
    for number in range(rounds):
        if number % 2 == 0:
            ours.append(curate_cpu("web-default", path, work)[0])
            theirs.append(run_datatrove(path, work, kind))
        else:
            theirs.append(run_datatrove(path, work, kind))
            ours.append(curate_cpu("web-default", path, work)[0])
        print(f"{kind} round {number + 1}: ours {ours[-1]:.1f} CPU s, datatrove {theirs[-1]:.1f} CPU s "
              f"({theirs[-1] / ours[-1]:.2f}x), load {os.getloadavg()[0]:.1f}", flush=True)
    kept_ours, kept_theirs = kept_counts(work)
    ratios = [t / o for o, t in zip(ours, theirs, strict=True)]
    return {"kind": kind, "items": items, "ours": ours, "theirs": theirs, "ratios": ratios,
            "kept_ours": kept_ours, "kept_theirs": kept_theirs}


def _label(row: dict[str, Any], copies: int) -> str:
    if row["kind"] == "warc":
        return f"{row['items']:,} WARC pages ({copies} copies of the 181 ScrapingHub pages), .warc.gz"
    return f"{row['items']:,} {row['kind']} documents, JSON Lines"


def _short(row: dict[str, Any]) -> str:
    return f"{row['items']:,} {'WARC pages' if row['kind'] == 'warc' else row['kind']}"


def report(rows: list[dict[str, Any]], args: argparse.Namespace, loads: list[float]) -> str:
    command = (
        f"bench/recipe.py --docs {' '.join(map(str, args.docs))} --inputs {' '.join(args.inputs)} "
        f"--warc-copies {args.warc_copies} --rounds {args.rounds}"
    )
    lines = [
        SECTION,
        "",
        f"Measured {datetime.date.today().isoformat()} on {machine()}, with `.venv/bin/python {command}` (method in "
        "bench/recipe.py: both sides as whole processes, start-up included, CPU seconds of the child process and its "
        f"children; rounds interleaved). One-minute load average during the run: {min(loads):.1f} to {max(loads):.1f}.",
        "",
        "| input | ours: curate --recipe web-default --local (CPU s per round) | datatrove whole pipeline (CPU s per "
        "round) | ratio per round | ratio (median) | kept: ours / datatrove |",
        "|---|---|---|---|---|---|",
    ]
    for row in rows:
        lines.append(
            f"| {_label(row, args.warc_copies)} | {', '.join(f'{v:.1f}' for v in row['ours'])} | "
            f"{', '.join(f'{v:.1f}' for v in row['theirs'])} | {', '.join(f'{v:.2f}' for v in row['ratios'])} | "
            f"**{statistics.median(row['ratios']):.1f}x** | {row['kept_ours']:,} / {row['kept_theirs']:,} |"
        )
    met = [_short(row) for row in rows if statistics.median(row["ratios"]) >= TARGET]
    missed = [_short(row) for row in rows if statistics.median(row["ratios"]) < TARGET]
    lines += [
        "",
        f"Target (>= {TARGET:.0f}x as whole processes, median of rounds): met for {', '.join(met) or 'none'}"
        + (f"; not met for {', '.join(missed)}" if missed else "") + ".",
    ]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--docs", type=int, nargs="+", default=[5000], help="documents per language (en, zh)")
    parser.add_argument("--warc-copies", type=int, default=11, help="copies of the 181 pages in the WARC")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--inputs", nargs="+", choices=INPUTS, default=list(INPUTS))
    parser.add_argument("--write-results", action="store_true")
    parser.add_argument("--datatrove-child", nargs=3, metavar=("PATH", "FOLDER", "KIND"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.datatrove_child:
        datatrove_child(*args.datatrove_child)
        return 0
    rows: list[dict[str, Any]] = []
    loads = [os.getloadavg()[0]]
    with tempfile.TemporaryDirectory(prefix="bench-recipe-") as temporary:
        work = Path(temporary)
        for kind in args.inputs:
            if kind == "warc":
                path = work / "pages.warc.gz"
                rows.append(measure(kind, path, write_warc(args.warc_copies, path), args.rounds, work))
                loads.append(os.getloadavg()[0])
                continue
            for count in args.docs:
                path = work / f"docs-{kind}-{count}.jsonl"
                rows.append(measure(kind, path, write_documents(kind, count, path), args.rounds, work))
                loads.append(os.getloadavg()[0])
    text = report(rows, args, loads)
    print(text)
    if args.write_results:
        replace_section(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
