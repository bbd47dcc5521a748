"""Benchmark ingestion and HTML extraction: our read + extract path against trafilatura, speed and quality.

    .venv/bin/python bench/ingest.py                    # print everything
    .venv/bin/python bench/ingest.py --write-results    # also replace the "## Ingestion and extraction" section
                                                        # of bench/RESULTS.md

Data (read from ../shared/data in place, never copied; see each folder's SOURCES.md):
- warc-samples/: every WARC and WET file there (real Common Crawl excerpts with GBK, GB2312 and windows-1251
  pages, wget crawls, warcio's edge cases). Gives speed on real crawl records and what the reader counts as errors.
- article-extraction-benchmark/: the 181 ScrapingHub pages and their hand-made article bodies. The pages are
  wrapped into WARC files in a temporary folder (one response record per page, as a crawler writes them), once
  gzip-compressed per record like Common Crawl's files and once uncompressed.

Paths timed, over the same pages:
- ours: `read_split` over the WARC, then the `extract` step with its defaults, exactly what the `extract-only`
  recipe runs per shard (decoding and charset detection included; writing the output not).
- trafilatura: `trafilatura.extract(html)` with its defaults on each page's raw HTML bytes, taken from the same
  records outside the timing (so trafilatura is not charged for reading the WARC).

Speed: pages per second per core = pages / CPU seconds of this process (`time.process_time`; everything runs on
one thread), the median of `--rounds` rounds after one untimed warm-up; wall time is shown too.

Quality against the ScrapingHub ground truth, two measures:
- token F1 (the target): whitespace tokens, bag-of-tokens overlap per page (tp = tokens in common counted with
  multiplicity), per-page tp/fp/fn normalised to sum 1 and precision and recall averaged over pages, F1 from the
  averages; this is the benchmark's own aggregation with single tokens.
- upstream F1: the benchmark's evaluate.py exactly: 4-token shingles of `\\w+` tokens, same aggregation.
A page our step removes (no text) counts as an empty prediction.
"""

from __future__ import annotations

import argparse
import datetime
import gzip
import json
import re
import statistics
import sys
import tempfile
import uuid
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (
    DATA,
    RESULTS,
    Timing,
    interleaved,
    machine,
    median_timing,
    ratios,
    replace_section,
    warc_response_record,
)
from curation.steps.document import Document
from curation.steps.extract import ExtractParams, HtmlExtractor
from curation.steps.readers import InputSplit, ReaderOptions, ReadErrors, plan_splits, read_split

SECTION = "## Ingestion and extraction"
TARGET_SPEEDUP = 10.0
TARGET_F1 = 0.95  # issue 15: at least 0.95 while staying >= 10x trafilatura

_WORD_RE = re.compile(r"\w+")


# --- building the benchmark WARC ---------------------------------------------------------------------------------


def _record_id(item_id: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"article-extraction-benchmark:{item_id}"))




@dataclass(frozen=True)
class Benchmark:
    """The ScrapingHub pages: raw HTML and ground truth by item id, and their records' ids."""

    html: dict[str, bytes]
    truth: dict[str, str]
    item_by_record: dict[str, str]


def load_benchmark(folder: Path) -> Benchmark:
    truth_file = json.loads((folder / "ground-truth.json").read_text(encoding="utf-8"))
    html: dict[str, bytes] = {}
    for path in sorted((folder / "html").glob("*.html.gz")):
        html[path.name.split(".")[0]] = gzip.decompress(path.read_bytes())
    truth = {item: truth_file[item].get("articleBody", "") for item in html}
    return Benchmark(html, truth, {_record_id(item): item for item in html})


def write_benchmark_warcs(benchmark: Benchmark, urls: dict[str, str], folder: Path) -> tuple[Path, Path]:
    """Write the pages as a per-record-gzipped .warc.gz and as a plain .warc; return both paths."""
    records = [warc_response_record(_record_id(item), urls[item], page) for item, page in benchmark.html.items()]
    compressed = folder / "article-extraction-benchmark.warc.gz"
    plain = folder / "article-extraction-benchmark.warc"
    compressed.write_bytes(b"".join(gzip.compress(record, compresslevel=6, mtime=0) for record in records))
    plain.write_bytes(b"".join(records))
    return compressed, plain


# --- timing -------------------------------------------------------------------------------------------------------


def run_ours(
    splits: Sequence[InputSplit], keep: list[Document] | None = None, params: ExtractParams | None = None
) -> tuple[int, ReadErrors, dict[str, Any]]:
    """Read the splits and extract: return how many HTML pages were extracted, the read errors, the step's stats."""
    options = ReaderOptions()
    errors = ReadErrors()
    step = HtmlExtractor(params)
    pages = 0

    def documents() -> Iterator[Document]:
        nonlocal pages
        for split in splits:
            for document in read_split(split, options, errors):
                pages += "html" in document  # WET text passes through the step untouched: not a page extracted
                yield document

    for document in step.run(documents()):
        if keep is not None:
            keep.append(document)
    return pages, errors, step.stats.to_dict()


def read_only(splits: Sequence[InputSplit]) -> int:
    """Read the splits without extracting; return how many HTML pages were read."""
    options = ReaderOptions()
    errors = ReadErrors()
    return sum("html" in doc for split in splits for doc in read_split(split, options, errors))


def html_payloads(splits: Sequence[InputSplit]) -> list[bytes]:
    """Return the raw HTML payloads of every HTML record in the splits (what trafilatura gets)."""
    options = ReaderOptions()
    return [doc["html"] for split in splits for doc in read_split(split, options, ReadErrors()) if "html" in doc]


def run_trafilatura(pages: Sequence[bytes], outputs: list[str] | None = None) -> int:
    import trafilatura

    for page in pages:
        text = trafilatura.extract(page) or ""
        if outputs is not None:
            outputs.append(text)
    return len(pages)


# --- quality ------------------------------------------------------------------------------------------------------


def _tp_fp_fn(truth: Counter[object], predicted: Counter[object]) -> tuple[float, float, float]:
    tp = float(sum((truth & predicted).values()))
    fp = float(sum(predicted.values())) - tp
    fn = float(sum(truth.values())) - tp
    total = tp + fp + fn
    return (tp / total, fp / total, fn / total) if total else (0.0, 0.0, 0.0)


def _shingles(text: str, n: int = 4) -> Counter[object]:
    tokens = _WORD_RE.findall(text or "")
    return Counter(tuple(tokens[i : i + n]) for i in range(max(1, len(tokens) - n + 1)) if tokens[i : i + n])


def _aggregate(scores: Iterable[tuple[float, float, float]]) -> dict[str, float]:
    """The benchmark's aggregation: mean precision and mean recall over pages, F1 from the means."""
    precisions, recalls = [], []
    for tp, fp, fn in scores:
        if fp == fn == 0:
            precisions.append(1.0)
            recalls.append(1.0)
            continue
        if tp + fp > 0:
            precisions.append(tp / (tp + fp))
        if tp + fn > 0:
            recalls.append(tp / (tp + fn))
    precision, recall = statistics.mean(precisions), statistics.mean(recalls)
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1}


def quality(truth: dict[str, str], predicted: dict[str, str]) -> dict[str, dict[str, float]]:
    token = [_tp_fp_fn(Counter(truth[k].split()), Counter(predicted.get(k, "").split())) for k in truth]
    upstream = [_tp_fp_fn(_shingles(truth[k]), _shingles(predicted.get(k, ""))) for k in truth]
    return {"token": _aggregate(token), "upstream": _aggregate(upstream)}


# --- report -------------------------------------------------------------------------------------------------------


def versions() -> str:
    from importlib.metadata import version

    names = ("resiliparse", "fastwarc", "trafilatura", "isal")
    return ", ".join(f"{name} {version(name)}" for name in names)


def speed_rows(label: str, ours: Timing, theirs: Timing, ratio: float) -> list[str]:
    return [
        f"| {label}: ours (read_split + extract) | {ours.items} | {ours.per_cpu_second:,.0f} | "
        f"{ours.items / ours.wall_seconds:,.0f} | {ratio:.1f}x |",
        f"| {label}: trafilatura.extract(html) | {theirs.items} | {theirs.per_cpu_second:,.0f} | "
        f"{theirs.items / theirs.wall_seconds:,.0f} | 1.0x |",
    ]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=DATA, help="the shared data folder (default ../shared/data)")
    parser.add_argument("--rounds", type=int, default=5, help="timed rounds per path (the median is reported)")
    parser.add_argument("--write-results", action="store_true", help=f"replace {SECTION!r} in {RESULTS}")
    args = parser.parse_args(argv)
    if not args.data.is_dir():
        sys.exit(f"shared data not found at {args.data}")
    command = ".venv/bin/python bench/ingest.py" + (" " + " ".join(argv if argv is not None else sys.argv[1:]))
    lines: list[str] = []

    def say(line: str = "") -> None:
        print(line, flush=True)
        lines.append(line)

    # Real crawl samples.
    samples = plan_splits([str(args.data / "warc-samples")], ReaderOptions())
    sample_pages = html_payloads(samples)
    _, sample_errors, sample_stats = run_ours(samples)
    sample_timings = interleaved(
        args.rounds, {"ours": lambda: run_ours(samples)[0], "trafilatura": lambda: run_trafilatura(sample_pages)}
    )
    ours_samples, theirs_samples = median_timing(sample_timings["ours"]), median_timing(sample_timings["trafilatura"])

    # The ScrapingHub benchmark, wrapped into WARC files.
    benchmark = load_benchmark(args.data / "article-extraction-benchmark")
    truth_urls = json.loads((args.data / "article-extraction-benchmark" / "ground-truth.json").read_text("utf-8"))
    urls = {item: truth_urls[item].get("url") or f"https://example.invalid/{item}" for item in benchmark.html}
    with tempfile.TemporaryDirectory(prefix="bench-ingest-") as folder:
        compressed, plain = write_benchmark_warcs(benchmark, urls, Path(folder))
        gz_splits = plan_splits([str(compressed)], ReaderOptions())
        plain_splits = plan_splits([str(plain)], ReaderOptions())
        kept: list[Document] = []
        _, bench_errors, bench_stats = run_ours(gz_splits, kept)
        kept_before: list[Document] = []
        run_ours(gz_splits, kept_before, ExtractParams(skip_elements=()))
        pages = html_payloads(gz_splits)
        theirs_outputs: list[str] = []
        run_trafilatura(pages, theirs_outputs)
        timings = interleaved(args.rounds, {
            "ours_gz": lambda: run_ours(gz_splits)[0],
            "ours_plain": lambda: run_ours(plain_splits)[0],
            "trafilatura": lambda: run_trafilatura(pages),
            "read_gz": lambda: read_only(gz_splits),
            "read_plain": lambda: read_only(plain_splits),
        })
    ours_gz, ours_plain, theirs_bench = (
        median_timing(timings[name]) for name in ("ours_gz", "ours_plain", "trafilatura")
    )
    read_gz, read_plain = median_timing(timings["read_gz"]), median_timing(timings["read_plain"])
    gz_ratios = ratios(timings["ours_gz"], timings["trafilatura"])
    plain_ratios = ratios(timings["ours_plain"], timings["trafilatura"])

    average_kb = sum(len(page) for page in benchmark.html.values()) / len(benchmark.html) / 1024
    ours_text = {benchmark.item_by_record[doc["id"]]: doc.get("text", "") for doc in kept}
    item_order = list(benchmark.html)
    theirs_text = dict(zip(item_order, theirs_outputs, strict=True))
    ours_quality = quality(benchmark.truth, ours_text)
    before_text = {benchmark.item_by_record[doc["id"]]: doc.get("text", "") for doc in kept_before}
    before_quality = quality(benchmark.truth, before_text)
    theirs_quality = quality(benchmark.truth, theirs_text)

    speedup = statistics.median(gz_ratios)
    speedup_plain = statistics.median(plain_ratios)
    say(SECTION)
    say()
    say(f"Measured {datetime.date.today().isoformat()} on {machine()}, with `{command.strip()}`")
    say(f"({versions()}; method in bench/ingest.py).")
    say()
    say(f"### Speed (pages per second per core = pages / CPU seconds; median of {args.rounds} interleaved rounds)")
    say()
    say("| path | pages | pages/s per core | pages/s wall | vs trafilatura |")
    say("|---|---|---|---|---|")
    for row in speed_rows("ScrapingHub 181 pages, .warc.gz", ours_gz, theirs_bench, speedup):
        say(row)
    say(
        f"| ScrapingHub 181 pages, plain .warc: ours | {ours_plain.items} | "
        f"{ours_plain.per_cpu_second:,.0f} | {ours_plain.items / ours_plain.wall_seconds:,.0f} | "
        f"{speedup_plain:.1f}x |"
    )
    samples_speedup = statistics.median(ratios(sample_timings["ours"], sample_timings["trafilatura"]))
    for row in speed_rows("warc-samples (real crawls)", ours_samples, theirs_samples, samples_speedup):
        say(row)
    say()
    say("### Quality on the ScrapingHub ground truth (181 pages)")
    say()
    say("| extractor | token P | token R | token F1 | upstream P | upstream R | upstream F1 |")
    say("|---|---|---|---|---|---|---|")
    for name, result in (
        ("ours (resiliparse, extract step)", ours_quality),
        ("ours without `skip_elements` (before issue 15)", before_quality),
        ("trafilatura", theirs_quality),
    ):
        token, upstream = result["token"], result["upstream"]
        say(
            f"| {name} | {token['precision']:.3f} | {token['recall']:.3f} | {token['f1']:.3f} | "
            f"{upstream['precision']:.3f} | {upstream['recall']:.3f} | {upstream['f1']:.3f} |"
        )
    say()
    say(
        "Token F1: whitespace tokens, bag-of-tokens overlap per page, precision and recall averaged over pages. "
        "Upstream F1: the benchmark's evaluate.py (4-token shingles of \\w+ tokens, same averaging)."
    )
    say()
    met_speed = speedup >= TARGET_SPEEDUP
    met_f1 = ours_quality["token"]["f1"] >= TARGET_F1
    say(
        f"Target (>= {TARGET_SPEEDUP:.0f}x trafilatura's pages/s with token F1 >= {TARGET_F1:.2f}): "
        f"{'met' if met_speed and met_f1 else 'NOT met'} on .warc.gz ({speedup:.1f}x, F1 "
        f"{ours_quality['token']['f1']:.3f}); {speedup_plain:.1f}x on plain .warc. Per-round ratios: .warc.gz "
        f"{gz_ratios[0]:.1f}x to {gz_ratios[-1]:.1f}x, plain .warc {plain_ratios[0]:.1f}x to {plain_ratios[-1]:.1f}x "
        f"(the vs-trafilatura column is the median of these)."
    )
    say()
    per_page = lambda timing: 1000 * timing.cpu_seconds / timing.items  # noqa: E731
    say(
        f"Where our time goes, per page (the pages average {average_kb:.0f} KB of HTML): reading .warc.gz "
        f"{per_page(read_gz):.2f} ms, plain .warc {per_page(read_plain):.2f} ms; decoding and extraction "
        f"{per_page(ours_gz) - per_page(read_gz):.2f} ms. trafilatura: {per_page(theirs_bench):.1f} ms. Everything "
        f"runs on one thread."
    )
    say()
    say("### What the reader and the step counted")
    say()
    say(f"- ScrapingHub WARC: extract step {bench_stats['docs_in']} in, {bench_stats['kept']} kept, "
        f"removed {bench_stats['removed'] or 'none'}; read errors {bench_errors.to_dict()['by_kind'] or 'none'}.")
    say(f"- warc-samples ({len(samples)} WARC/WET files): {len(sample_pages)} HTML pages and "
        f"{sample_stats['docs_in'] - len(sample_pages)} WET text document(s) read; extract step "
        f"{sample_stats['docs_in']} in, {sample_stats['kept']} kept, removed {sample_stats['removed'] or 'none'}; "
        f"read errors by kind {sample_errors.to_dict()['by_kind'] or 'none'} (the warcio edge-case files are "
        f"broken on purpose).")

    if args.write_results:
        replace_section("\n".join(lines) + "\n")
        print(f"\nwrote {SECTION!r} to {RESULTS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
