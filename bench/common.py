"""What every benchmark shares: where things are, how time is measured, and how its RESULTS.md section is written.

Timing rules, the same for every benchmark: speed is CPU time (`time.process_time`, every thread of the process,
so rates are per core), never wall time alone, because this machine is shared with other work; our side and the
baseline run the same number of rounds, interleaved (round after round, each side in turn), and the figure
reported is the median over rounds, not the best, which favours whichever side varies more. A side whose start-up
must not leak into the other (imports, models, memory) runs in a fresh process (`in_fresh_process`).

Benchmarks import this module after putting the repository root on `sys.path` (they run as `python bench/x.py`).
"""

from __future__ import annotations

import multiprocessing
import os
import platform
import re
import resource
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
# Third-party data sets, read in place and never copied into the repository (each folder has a SOURCES.md).
DATA = ROOT.parent / "shared" / "data"
RESULTS = ROOT / "bench" / "RESULTS.md"


@dataclass(frozen=True)
class Timing:
    """One timed run: how many items it processed, in how many CPU and wall-clock seconds."""

    items: int
    cpu_seconds: float
    wall_seconds: float

    @property
    def per_cpu_second(self) -> float:
        return self.items / self.cpu_seconds if self.cpu_seconds else float("inf")


def timed(function: Callable[[], int]) -> Timing:
    """Run `function` (which returns how many items it processed) and time it."""
    cpu, wall = time.process_time(), time.perf_counter()
    items = function()
    return Timing(items, time.process_time() - cpu, time.perf_counter() - wall)


def interleaved(rounds: int, runs: dict[str, Callable[[], int]], warm_up: bool = True) -> dict[str, list[Timing]]:
    """Time each run once per round, in turn, round after round; return each run's timings in round order.

    With `warm_up`, each run first goes once untimed (caches, lazy imports). Interleaving makes load changes on
    this shared machine hit every side alike.
    """
    if warm_up:
        for run in runs.values():
            run()
    timings: dict[str, list[Timing]] = {name: [] for name in runs}
    for _ in range(rounds):
        for name, run in runs.items():
            timings[name].append(timed(run))
    return timings


def median(values: list[float]) -> float:
    """The median of `values` (the mean of the middle two for an even count)."""
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def median_timing(timings: list[Timing]) -> Timing:
    """The round with the median CPU time (the upper one of the middle two for an even count)."""
    return sorted(timings, key=lambda timing: timing.cpu_seconds)[len(timings) // 2]


def ratios(ours: list[Timing], theirs: list[Timing]) -> list[float]:
    """Per-round speed-ups of ours over theirs (items per CPU second), rounds paired as they ran, sorted."""
    return sorted(a.per_cpu_second / b.per_cpu_second for a, b in zip(ours, theirs, strict=True))


def in_fresh_process(function: Callable[..., Any], *args: Any) -> Any:
    """Call `function(*args)` in a new Python process ("spawn": nothing inherited) and return its result."""
    with ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn")) as pool:
        return pool.submit(function, *args).result()


def child_cpu(command: list[str], env: dict[str, str] | None = None) -> tuple[float, float]:
    """Run `command` to completion; return (CPU seconds of it and its children, its peak RSS in MB).

    The CPU seconds are RUSAGE_CHILDREN's difference (the child and whatever it waited for); the peak RSS is the
    child's own, from wait4 (RUSAGE_CHILDREN's maximum would be the largest of every child so far).
    """
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    assert process.stderr is not None
    errors = process.stderr.read()
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise RuntimeError(f"{' '.join(command[:4])} failed:\n{errors.decode(errors='replace')[-3000:]}")
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return cpu, usage.ru_maxrss / 1024


def curate_cpu(recipe: str, path: Path, work: Path) -> tuple[float, float]:
    """Run `manage.py curate --recipe <recipe> --local` on `path` as a user would, output under `work`; return
    `child_cpu`'s (CPU seconds, peak MB)."""
    work.mkdir(parents=True, exist_ok=True)
    output = work / "ours-out"
    shutil.rmtree(output, ignore_errors=True)
    env = {**os.environ, "STORAGE_ROOT": str(work / "storage")}
    command = [sys.executable, "manage.py", "curate", "--recipe", recipe, "--local", "--input", str(path),
               "--output", str(output), "-v", "0"]
    return child_cpu(command, env)


def warc_response_record(record_id: str, url: str, html: bytes) -> bytes:
    """One WARC/1.1 response record (HTTP 200, text/html) holding `html`, with the given record id (a UUID).

    It names its payload type, as crawlers do: datatrove's WarcReader keeps only records that say text/html.
    """
    http = (
        b"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\n"
        + f"Content-Length: {len(html)}\r\n\r\n".encode()
        + html
    )
    header = (
        "WARC/1.1\r\n"
        "WARC-Type: response\r\n"
        f"WARC-Record-ID: <urn:uuid:{record_id}>\r\n"
        "WARC-Date: 2019-11-20T00:00:00Z\r\n"
        f"WARC-Target-URI: {url}\r\n"
        "WARC-Identified-Payload-Type: text/html\r\n"
        "Content-Type: application/http; msgtype=response\r\n"
        f"Content-Length: {len(http)}\r\n\r\n"
    ).encode()
    return header + http + b"\r\n\r\n"


def cpu_model() -> str:
    """The CPU's model name, as /proc/cpuinfo gives it."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def machine() -> str:
    """The machine in one phrase, for a section's "Measured on" line."""
    return f"{cpu_model()} ({platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()})"


def replace_section(section: str, path: Path = RESULTS) -> None:
    """Put `section` (a Markdown text whose first line is its "## " heading) into `path`, replacing the section
    with that heading (up to the next "## " heading) or appending it; every other section stays as it is.

    The file is re-read right before writing, so benchmarks run one after another never undo each other.
    """
    heading = section.split("\n", 1)[0]
    if not heading.startswith("## "):
        raise ValueError(f"a section starts with its '## ' heading, not {heading!r}")
    section = section.strip("\n") + "\n"
    text = path.read_text(encoding="utf-8") if path.exists() else "# Benchmark results\n"
    pattern = re.compile(rf"^{re.escape(heading)}\n.*?(?=^## |\Z)", re.MULTILINE | re.DOTALL)
    if pattern.search(text):
        text = pattern.sub(lambda _: section + "\n", text, count=1)
    else:
        text = text.rstrip("\n") + "\n\n" + section
    path.write_text(text.rstrip("\n") + "\n", encoding="utf-8")
