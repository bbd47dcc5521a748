"""Benchmark deduplication: the `dedup-only` recipe end to end next to a plain datasketch loop, on the same file.

    .venv/bin/python bench/dedup.py                    # print everything
    .venv/bin/python bench/dedup.py --docs 20000       # corpus size (default 20,000 documents)
    .venv/bin/python bench/dedup.py --repeat 5         # interleaved runs of each side (best and median reported)
    .venv/bin/python bench/dedup.py --write-results    # also replace the "## Deduplication" section of RESULTS.md

Data (read from ../shared/data, never copied; see each folder's SOURCES.md):
- corpora/: BBC news sentences and Chinese Wikipedia / review sentences, joined into ~2 KB documents (60% English,
  40% Chinese), 30% of them given 1-3 must-remove copies (identical; case, spacing, punctuation or full-width
  changes; small edits; truncation; boilerplate) and 5% turned into hard-negative pairs (half of one page plus
  half of another), via tests/support/planted_dedup.py. The file is written as JSON Lines to a temp dir.
- dedup-copycat-judgments/judged_pairs.jsonl.gz: 480 human-graded web page pairs (Fröbe et al. 2021). Grades are
  undocumented but ordinal (SOURCES.md): we count 3 (near-identical) and 2 as duplicates, 1 and 0.5 as not,
  and leave "unknown" out. A pair is flagged when our pipeline would link it: identical canonical form, or a shared
  band and an estimated Jaccard similarity >= the threshold.

Speed: each side runs in its own fresh process (multiprocessing "spawn"), measured with `time.process_time`
(all threads of that process, so documents per second per core) from reading the JSON Lines file to writing the
kept documents as JSON Lines; module imports happen before. "Warm": the process first runs the same code on the
file's first 300 documents (our side builds its normalisation tables there, ~0.1 s, as a worker does once);
"cold": no warm-up, so the table building is inside the timed span, as a real job pays it once per shard process.
The machine is shared with other work, so both sides run the same number of rounds, interleaved (each round runs
ours and the baseline back to back, warm and cold, alternating which goes first). The headline is the median over
rounds of the cold speed-up (baseline CPU seconds / ours, within a round); the warm median and the best-of-N
speed-ups (best baseline run / best run of ours) follow, with every run's CPU seconds.
- ours: read the file, split its lines into 2 shards, run `dedup-only` through the job engine's own stages
  (`curation.steps.inline.run_job_inline`: map shards that read JSON Lines and collect, reduce, map shards that
  apply, commit to a fresh persistent index on disk) with inputs and intermediate files in `memory://`, write the
  kept documents as JSON Lines. The same run with every file on disk, imports and input writing not timed, is the
  "engine" row.
- datasketch: read; per document lower-case, tokenise (words, single CJK characters), 5-gram shingles,
  `MinHash(num_perm=128).update_batch`, `MinHashLSH(threshold=0.8, num_perm=128)` query, then insert when no
  candidate was found; write kept documents.
Peak memory: `ru_maxrss` of each side's process. Index size: bytes of the persistent index after commit, per
million kept documents.
"""

from __future__ import annotations

import argparse
import datetime
import gzip
import itertools
import json
import os
import platform
import random
import re
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import DATA, cpu_model, in_fresh_process, median, replace_section

SECTION = "## Deduplication"
SHARDS = 2
WARM_UP_DOCS = 300
THRESHOLD = 0.8
NUM_PERM = 128
SHINGLE = 5
POSITIVE_GRADES = {"3", "2"}
NEGATIVE_GRADES = {"1", "0.5"}


def build_corpus(path: Path, count: int, seed: int) -> dict[str, Any]:
    """Write ~`count` planted documents to `path` (JSON Lines); return the planted set's ground truth."""
    from tests.support import planted_dedup as planting

    rng = random.Random(seed)
    sentences = planting.corpus_paragraphs(DATA)
    # 30% of originals get 1-3 copies (2 on average) and 5% become half of a hard-negative pair: ~1.65 documents
    # per original.
    originals = planting.compose_documents(sentences, round(count / 1.65), rng)
    planted = planting.plant(originals, rng)
    with open(path, "w", encoding="utf-8") as out:
        for doc in planted.docs:
            out.write(json.dumps(doc, ensure_ascii=False) + "\n")
    return {"planted": planted, "bytes": path.stat().st_size, "docs": len(planted.docs)}


# --- the two sides, each run in a fresh process -----------------------------------------------------------------


def _dedup_file(
    input_path: str, output_path: str, work_root: str, index_root: str | None, limit: int | None
) -> dict[str, Any]:
    """Our side: read JSON Lines, run `dedup-only` over 2 shards through the job engine's stages, write the kept."""
    import fsspec

    from curation.steps import jsoncodec
    from curation.steps.inline import run_job_inline
    from curation.steps.readers import InputSplit
    from curation.steps.recipe import load_recipe

    recipe = load_recipe("dedup-only")
    started = time.process_time()
    wall = time.perf_counter()
    # Lines as bytes, for both sides. Ours decodes and encodes with the engine's codec (jsoncodec: orjson, as the
    # JSON Lines reader and the output writers of a real job do); the baseline with the standard library.
    with open(input_path, "rb") as handle:
        lines = list(itertools.islice(handle, limit))
    splits = []
    for shard in range(SHARDS):
        url = f"{work_root}/input/shard-{shard}.jsonl"
        with fsspec.open(url, "wb") as out:
            out.write(b"".join(lines[shard::SHARDS]))
        splits.append(InputSplit(url))
    run = run_job_inline(recipe, splits, f"{work_root}/out", job_id=1, index_root=index_root)
    kept_ids = []
    with open(output_path, "wb") as out:
        for shard_docs in run.kept:
            for doc in shard_docs:
                out.write(jsoncodec.dumps_line(doc))
                kept_ids.append(doc["id"])
    return {
        "cpu_seconds": time.process_time() - started,
        "wall_seconds": time.perf_counter() - wall,
        "docs": len(lines),
        "kept_ids": kept_ids,
        "summaries": run.summaries,
    }


_TOKEN = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff]|\w+")


def _datasketch_file(input_path: str, output_path: str, limit: int | None) -> dict[str, Any]:
    """The baseline: a plain datasketch loop over the same file."""
    from datasketch import MinHash, MinHashLSH

    started = time.process_time()
    wall = time.perf_counter()
    lsh = MinHashLSH(threshold=THRESHOLD, num_perm=NUM_PERM)
    kept_ids = []
    docs = 0
    with open(input_path, "rb") as handle, open(output_path, "w", encoding="utf-8") as out:
        for line in itertools.islice(handle, limit):
            doc = json.loads(line)
            docs += 1
            tokens = _TOKEN.findall(doc["text"].lower())
            if len(tokens) >= SHINGLE:
                shingles = {" ".join(tokens[i : i + SHINGLE]) for i in range(len(tokens) - SHINGLE + 1)}
            else:
                shingles = {" ".join(tokens)}
            minhash = MinHash(num_perm=NUM_PERM)
            minhash.update_batch([shingle.encode("utf-8") for shingle in shingles])
            if lsh.query(minhash):
                continue
            lsh.insert(doc["id"], minhash)
            out.write(json.dumps(doc, ensure_ascii=False) + "\n")
            kept_ids.append(doc["id"])
    return {
        "cpu_seconds": time.process_time() - started,
        "wall_seconds": time.perf_counter() - wall,
        "docs": docs,
        "kept_ids": kept_ids,
    }


def run_ours(input_path: str, output_path: str, work_root: str, index_root: str, warm_up: bool) -> dict[str, Any]:
    if warm_up:
        _dedup_file(input_path, output_path, "memory://dedup-bench/warm-up", None, WARM_UP_DOCS)
    result = _dedup_file(input_path, output_path, "memory://dedup-bench/run", index_root, None)
    result["max_rss_kb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return result


def run_engine(input_path: str, work_root: str) -> dict[str, Any]:
    """Our side as a job runs it: the same stages as `run_ours`, with every file on disk.

    Each map stage reads and writes zstd JSON Lines on disk (as the Celery tasks and `curate --local` do) and the
    index commit reads the job's kept ids. Only the database bookkeeping of a real job is left out. Writing the
    shards' input files and module imports are not timed (a worker pays imports once, not per shard); the
    normalisation tables are built inside the timed span.
    """
    lines = Path(input_path).read_bytes().splitlines(keepends=True)
    inputs = []
    for shard in range(SHARDS):
        path = Path(work_root) / f"input-{shard}.jsonl"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"".join(lines[shard::SHARDS]))
        inputs.append(str(path))
    # Imports and recipe loading happen once per worker process, not once per shard: outside the timed span.
    from curation.steps.inline import run_job_inline
    from curation.steps.readers import ReaderOptions, plan_splits
    from curation.steps.recipe import load_recipe

    recipe = load_recipe("dedup-only")
    started = time.process_time()
    wall = time.perf_counter()
    splits = plan_splits(inputs, ReaderOptions())
    run_job_inline(recipe, splits, str(Path(work_root) / "out"), job_id=1, index_root=str(Path(work_root) / "index"))
    return {"cpu_seconds": time.process_time() - started, "wall_seconds": time.perf_counter() - wall}


def run_datasketch(input_path: str, output_path: str, warm_up: bool) -> dict[str, Any]:
    if warm_up:
        _datasketch_file(input_path, output_path, WARM_UP_DOCS)
    result = _datasketch_file(input_path, output_path, None)
    result["max_rss_kb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return result


def _best_run(runs: list[dict[str, Any]]) -> dict[str, Any]:
    return min(runs, key=lambda run: run["cpu_seconds"])


def planted_similarities(planted: Any) -> tuple[dict[str, tuple[float, float, float]], float]:
    """True Jaccard similarity of each planted copy to its original, by kind, and of hard negatives to their halves."""
    import numpy as np

    from curation.steps.dedup.minhash import shingle_hashes
    from curation.steps.dedup.normalize import tokenize_batch

    texts = planted.texts()
    ids = list(texts)
    hashes, offsets = shingle_hashes(tokenize_batch([texts[doc_id] for doc_id in ids]), SHINGLE)
    sets = {doc_id: set(hashes[offsets[i] : offsets[i + 1]].tolist()) for i, doc_id in enumerate(ids)}

    def jaccard(a: str, b: str) -> float:
        union = len(sets[a] | sets[b])
        return len(sets[a] & sets[b]) / union if union else 1.0

    by_kind: dict[str, list[float]] = {}
    for group in planted.groups:
        for copy in group[1:]:
            by_kind.setdefault(planted.copy_kind[copy], []).append(jaccard(group[0], copy))
    summary = {
        kind: (min(values), float(np.percentile(values, 5)), float(np.median(values)))
        for kind, values in sorted(by_kind.items())
    }
    hard = [jaccard(a, mixed) for a, _, mixed in planted.hard_negatives]
    return summary, float(np.median(hard)) if hard else 0.0


# --- human-graded pairs -------------------------------------------------------------------------------------------


def copycat_scores() -> dict[str, Any]:
    """Precision and recall of our near-duplicate decision on the CopyCat human-graded pairs."""
    import numpy as np

    from curation.steps.dedup.lsh import band_hashes
    from curation.steps.dedup.minhash import signatures
    from curation.steps.dedup.normalize import normalize_text
    from curation.steps.dedup.steps import MinHashDedupParams

    params = MinHashDedupParams(threshold=THRESHOLD)
    bands, rows = params.banding()
    pairs = []
    with gzip.open(DATA / "dedup-copycat-judgments" / "judged_pairs.jsonl.gz", "rt", encoding="utf-8") as handle:
        for line in handle:
            row = json.loads(line)
            grade = row["label_raw"].strip().rstrip("s")
            if grade in POSITIVE_GRADES or grade in NEGATIVE_GRADES:
                pairs.append((grade, row["src_doc"], row["target_doc"], row["s3"]))
    sigs_a = signatures([pair[1] for pair in pairs], params.minhash())
    sigs_b = signatures([pair[2] for pair in pairs], params.minhash())
    estimate = (sigs_a == sigs_b).mean(axis=1)
    shared_band = (band_hashes(sigs_a, bands, rows) == band_hashes(sigs_b, bands, rows)).any(axis=1)
    identical = np.array([normalize_text(p[1]) == normalize_text(p[2]) for p in pairs])
    positive = np.array([p[0] in POSITIVE_GRADES for p in pairs])

    def prf(flagged: np.ndarray) -> dict[str, float]:
        true_positive = int((flagged & positive).sum())
        precision = true_positive / max(int(flagged.sum()), 1)
        recall = true_positive / max(int(positive.sum()), 1)
        return {"precision": precision, "recall": recall, "flagged": int(flagged.sum())}

    result: dict[str, Any] = {
        "pairs": len(pairs),
        "positives": int(positive.sum()),
        "at_threshold": prf(identical | (shared_band & (estimate >= params.required_matches() / NUM_PERM))),
        "sweep": {},
        "mean_estimate_by_grade": {
            grade: float(estimate[[p[0] == grade for p in pairs]].mean()) for grade in ("3", "2", "1", "0.5")
        },
    }
    for threshold in (0.5, 0.6, 0.7, 0.8, 0.9):
        result["sweep"][threshold] = prf(identical | (estimate >= threshold))
    only_three = np.array([p[0] == "3" for p in pairs])
    flagged = identical | (shared_band & (estimate >= params.required_matches() / NUM_PERM))
    result["recall_grade_3"] = float((flagged & only_three).sum() / max(int(only_three.sum()), 1))
    return result


# --- report -----------------------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--docs", type=int, default=20000)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--repeat", type=int, default=5, help="interleaved repetitions of each side")
    parser.add_argument("--write-results", action="store_true")
    args = parser.parse_args()
    if not DATA.is_dir():
        sys.exit(f"shared data not found at {DATA}")

    from curation.steps.dedup.index import index_summary
    from tests.support import planted_dedup as planting

    with tempfile.TemporaryDirectory() as temp:
        temp_path = Path(temp)
        corpus = build_corpus(temp_path / "input.jsonl", args.docs, args.seed)
        planted = corpus["planted"]
        input_path = str(temp_path / "input.jsonl")
        runs: dict[str, list[dict[str, Any]]] = {"ours": [], "baseline": [], "ours_cold": [], "baseline_cold": []}
        engine_runs: list[dict[str, Any]] = []
        # The same number of rounds for both sides, interleaved, each run in a fresh process; which side goes first
        # alternates, so neither always runs right after the other's memory traffic.
        for repetition in range(args.repeat):
            run_dir = temp_path / f"run{repetition}"
            run_dir.mkdir()
            modes = ((True, "ours", "baseline"), (False, "ours_cold", "baseline_cold"))
            for warm_up, ours_name, baseline_name in modes:
                suffix = "" if warm_up else "-cold"

                def ours_run(suffix: str = suffix, warm_up: bool = warm_up, run_dir: Path = run_dir) -> dict[str, Any]:
                    return in_fresh_process(
                        run_ours, input_path, str(run_dir / f"ours{suffix}.jsonl"), str(run_dir / f"work{suffix}"),
                        str(run_dir / f"index{suffix}"), warm_up,
                    )

                def baseline_run(
                    suffix: str = suffix, warm_up: bool = warm_up, run_dir: Path = run_dir
                ) -> dict[str, Any]:
                    return in_fresh_process(run_datasketch, input_path, str(run_dir / f"ds{suffix}.jsonl"), warm_up)

                if repetition % 2 == 0:
                    runs[ours_name].append(ours_run())
                    runs[baseline_name].append(baseline_run())
                else:
                    runs[baseline_name].append(baseline_run())
                    runs[ours_name].append(ours_run())
            engine_runs.append(in_fresh_process(run_engine, input_path, str(run_dir / "engine")))
        ours, baseline, ours_cold, baseline_cold = (_best_run(runs[name]) for name in runs)
        speedups = {
            mode: median([b["cpu_seconds"] / o["cpu_seconds"] for o, b in zip(runs[o_name], runs[b_name], strict=True)])
            for mode, o_name, b_name in (("warm", "ours", "baseline"), ("cold", "ours_cold", "baseline_cold"))
        }
        medians = {name: median([run["cpu_seconds"] for run in runs[name]]) for name in runs}
        engine_median = median([run["cpu_seconds"] for run in engine_runs])
        engine_speedup = median(
            [b["cpu_seconds"] / e["cpu_seconds"] for e, b in zip(engine_runs, runs["baseline_cold"], strict=True)]
        )
        spread = {name: sorted(round(run["cpu_seconds"], 2) for run in runs[name]) for name in runs}
        index = index_summary(str(temp_path / "run0" / "index"))
    copycat = copycat_scores()
    copy_jaccard, hard_jaccard = planted_similarities(planted)

    docs = corpus["docs"]
    ours_rate = docs / ours["cpu_seconds"]
    base_rate = docs / baseline["cpu_seconds"]
    cold_rate = docs / ours_cold["cpu_seconds"]
    base_cold_rate = docs / baseline_cold["cpu_seconds"]
    ours_quality = planting.score(planted, ours["kept_ids"])
    base_quality = planting.score(planted, baseline["kept_ids"])
    kept = len(ours["kept_ids"])
    minhash = index["kinds"]["minhash"]
    exact = index["kinds"]["exact"]

    def per_million(size: int, count: int) -> float:
        return size / max(count, 1) * 1_000_000 / 1e6

    lines = [
        SECTION,
        "",
        f"Measured {datetime.date.today().isoformat()} on {cpu_model()} ({platform.machine()}, {os.cpu_count()} "
        f"cores shared with other work, Python {platform.python_version()}) with "
        f"`.venv/bin/python bench/dedup.py --docs {args.docs} --repeat {args.repeat}"
        f"{' --write-results' if args.write_results else ''}`.",
        "",
        f"Input: {docs:,} documents, {corpus['bytes'] / 1e6:.1f} MB of JSON Lines "
        f"(~{corpus['bytes'] / docs / 1000:.1f} KB each; 60% English BBC sentences, 40% Chinese Wikipedia and review "
        f"sentences), {ours_quality['must_remove']:,} planted must-remove copies, "
        f"{len(planted.hard_negatives)} hard-negative pages. Each side runs in a fresh process; \"warm\" first "
        f"processes {WARM_UP_DOCS} documents of the file (building the normalisation tables, ~0.1 s, like loading a "
        "model), \"cold\" counts that too.",
        "",
        "| | documents/s per core, cold (median) | warm (median) | CPU s, cold (median) | wall s (best warm) "
        "| peak RSS |",
        "|---|---:|---:|---:|---:|---:|",
        f"| `dedup-only` (exact + MinHash, {SHARDS} shards, index commit; work files in memory) | "
        f"{docs / medians['ours_cold']:,.0f} | "
        f"{docs / medians['ours']:,.0f} | {medians['ours_cold']:.2f} | {ours['wall_seconds']:.2f} | "
        f"{ours['max_rss_kb'] / 1024:.0f} MB |",
        f"| `dedup-only`, every file on disk (input writing and imports not timed) | "
        f"{docs / engine_median:,.0f} | | {engine_median:.2f} | | |",
        f"| datasketch loop (update_batch, MinHashLSH query + insert) | {docs / medians['baseline_cold']:,.0f} | "
        f"{docs / medians['baseline']:,.0f} | {medians['baseline_cold']:.2f} | {baseline['wall_seconds']:.2f} | "
        f"{baseline['max_rss_kb'] / 1024:.0f} MB |",
        "",
        f"**Speed-up: {speedups['cold']:.1f}x cold (median of {args.repeat} rounds)**, documents per second per core, "
        "end to end (read JSON Lines, dedup, write JSON Lines; table building included, as a job pays it once per "
        f"shard process); {speedups['warm']:.1f}x warm (median). Best of {args.repeat} runs of each side: "
        f"{cold_rate / base_cold_rate:.1f}x cold, {ours_rate / base_rate:.1f}x warm. Each round "
        "runs both sides back to back in fresh processes, alternating which goes first; a round's speed-up is the "
        "baseline's CPU seconds over ours. CPU seconds of every run: "
        + "; ".join(f"{name} {values}" for name, values in spread.items())
        + ". Both of our rows run the job engine's own stages (`curation.steps.inline.run_job_inline`, each reduce "
        "in one partition and a merge): the first two map stages only collect (and apply exact's decisions), so "
        "they write no work documents and the last stage reads the input again, replaying exact's apply; the first "
        "row keeps every file in `memory://`. Whole processes through the CLI: section \"Deduplication through the "
        "CLI\".",
        "",
        f"**With every file on disk: {engine_speedup:.1f}x the cold baseline (median of {args.repeat} rounds)**, "
        "the same stages with inputs, intermediate files, outputs and index on disk (no database; module imports, "
        "which a worker pays once, and writing the shards' inputs not timed; table building timed).",
        "",
        f"Persistent index after commit: {index['bytes'] / 1e6:.1f} MB; **{per_million(index['bytes'], kept):.0f} MB "
        f"per million kept documents** (the job kept {kept:,}). MinHash part {minhash['bytes'] / 1e6:.1f} MB for "
        f"{minhash['documents']:,} documents ({per_million(minhash['bytes'], minhash['documents']):.0f} MB per "
        f"million: 512-byte signature, {minhash['manifest']['bands']} 8-byte band hashes with 4-byte row numbers, "
        f"id, length, quality); exact part {exact['bytes'] / 1e6:.1f} MB for {exact['documents']:,} documents "
        f"({per_million(exact['bytes'], exact['documents']):.0f} MB per million). Each job also adds ~40 files of "
        "Parquet footers (~1 KB each).",
        "",
        "Planted duplicates (must-remove copies removed; distinct documents wrongly removed):",
        "",
        "| | recall | distinct removed | exact copies kept | hard-negative members removed |",
        "|---|---:|---:|---:|---:|",
        f"| ours (threshold {THRESHOLD}) | {ours_quality['recall']:.2%} | {ours_quality['distinct_removed']} of "
        f"{ours_quality['distinct']} ({ours_quality['distinct_removed_rate']:.2%}) | "
        f"{ours_quality['exact_copies_kept']} | {ours_quality['hard_negative_members_removed']} |",
        f"| datasketch loop | {base_quality['recall']:.2%} | {base_quality['distinct_removed']} of "
        f"{base_quality['distinct']} ({base_quality['distinct_removed_rate']:.2%}) | "
        f"{base_quality['exact_copies_kept']} | {base_quality['hard_negative_members_removed']} |",
        "",
        f"Missed copies by kind (ours): {', '.join(f'{k} {v}' for k, v in ours_quality['missed_by_kind'].items())}. "
        "True Jaccard similarity (5-shingles of the canonical form) of each copy to its original, by kind (min / 5th "
        "percentile / median): "
        + "; ".join(f"{kind} {low:.2f} / {p5:.2f} / {median:.2f}" for kind, (low, p5, median) in copy_jaccard.items())
        + f"; hard negatives to their halves: median {hard_jaccard:.2f}.",
        "",
        f"CopyCat human grades ({copycat['pairs']} pairs; grades 3 and 2 are duplicates ({copycat['positives']}), "
        "1 and 0.5 are not, unknown left out): at our threshold "
        f"precision **{copycat['at_threshold']['precision']:.2f}**, recall **{copycat['at_threshold']['recall']:.2f}** "
        f"({copycat['at_threshold']['flagged']} flagged); recall on grade 3 alone {copycat['recall_grade_3']:.2f}. "
        "Mean estimated Jaccard by grade: "
        + ", ".join(f"{g}: {v:.2f}" for g, v in copycat["mean_estimate_by_grade"].items())
        + ". Threshold sweep (estimate only, no banding): "
        + "; ".join(
            f"{t}: P {v['precision']:.2f} R {v['recall']:.2f}" for t, v in copycat["sweep"].items()
        )
        + ".",
        "",
    ]
    report = "\n".join(lines)
    print(report)
    print("summaries:", json.dumps(ours["summaries"], indent=1))
    if args.write_results:
        replace_section(report)


if __name__ == "__main__":
    main()
