"""`python manage.py curate`: run a recipe over crawl files, on the workers (--wait) or in this process (--local)."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

from django.core.management.base import CommandError, CommandParser
from tqdm import tqdm

from core.management.base import ProjectCommand
from curation.models import Job
from curation.selectors import job_progress, worker_reports_within
from curation.services.jobs import job_run_local, job_submit

POLL_SECONDS = 1.0
# How long --wait gives a worker that is starting to record its first heartbeat before warning that none runs.
WORKER_GRACE_SECONDS = 20.0
# The bar counts thousandths, shown as a percentage.
PROGRESS_STEPS = 1000


def _recipe_source(value: str) -> str:
    """A built-in name as given, or the text of a recipe file: services never read a recipe from a path."""
    path = Path(value)
    if path.suffix not in (".yaml", ".yml") and not path.is_file():
        return value
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise CommandError(f"recipe file {value} cannot be read ({error})") from error


class Command(ProjectCommand):
    help = "Run a curation recipe over input files and write OUT/kept, OUT/removed and OUT/stats.json."
    # Django's system checks import the URLconf and with it every app's views: seconds of start-up a batch run
    # over files does not need (`manage.py check` runs them; the database is still checked before running).
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--recipe", required=True, help="built-in recipe name or a recipe .yaml file")
        parser.add_argument("--input", required=True, nargs="+", help="files, folders or fsspec URLs")
        parser.add_argument("--output", required=True, help="output folder (must be empty or absent)")
        parser.add_argument("--text-field", help="JSON Lines / Parquet field holding the text (default: text)")
        parser.add_argument("--format", help="input format: auto, warc, wet, jsonl, parquet (default: auto)")
        parser.add_argument("--dedup-index", help="deduplicate against (and add to) this named collection")
        mode = parser.add_mutually_exclusive_group()
        mode.add_argument("--wait", action="store_true", help="submit to the workers and show progress until done")
        mode.add_argument("--local", action="store_true", help="run every shard in this process")

    def handle(self, *args: Any, **options: Any) -> None:
        overrides = {k: options[k] for k in ("text_field", "format") if options.get(k)}
        job = job_submit(
            recipe=_recipe_source(options["recipe"]), inputs=options["input"], output=options["output"],
            reader_overrides=overrides, dedup_index=options.get("dedup_index"),
        )
        self.stderr.write(f"job {job.pk}: {job.shard_count} shard(s), {job.stage_count} stage(s) -> {job.output}")
        if options["local"]:
            job = job_run_local(job)
        elif options["wait"]:
            job = self._wait(job)
        else:
            self.stdout.write(str(job.pk))
            return
        self._report(job)

    def _wait(self, job: Job) -> Job:
        if not worker_reports_within(WORKER_GRACE_SECONDS, POLL_SECONDS):
            self.stderr.write(
                f"no worker has reported in the last minute; start one with "
                f"`celery -A workers.celery worker -Q curation,default` (or use --local); waiting for job {job.pk}"
            )
        if sys.stderr.isatty():
            return self._wait_with_bar(job)
        return self._wait_with_lines(job)

    def _wait_with_bar(self, job: Job) -> Job:
        """A terminal: one progress bar redrawn in place, in percent, with documents read and kept."""
        bar_format = "{desc}: {percentage:3.0f}%|{bar}| {elapsed} elapsed{postfix}"
        with tqdm(total=PROGRESS_STEPS, desc=f"job {job.pk}", file=sys.stderr, leave=True,
                  bar_format=bar_format) as bar:
            while True:
                job.refresh_from_db()
                progress = job_progress(job)
                bar.n = int(progress["fraction_done"] * PROGRESS_STEPS)
                bar.set_postfix(stage=f"{job.stage + 1}/{job.stage_count}", read=progress["documents"]["read"],
                                kept=progress["documents"]["kept"])
                bar.refresh()
                if job.is_finished:
                    return job
                time.sleep(POLL_SECONDS)

    def _wait_with_lines(self, job: Job) -> Job:
        """A file or a pipe: one line whenever the stage or the whole percent changes, never the same line twice."""
        last = ""
        while True:
            job.refresh_from_db()
            progress = job_progress(job)
            line = (f"job {job.pk}: {int(progress['fraction_done'] * 100)}% stage {job.stage + 1}/{job.stage_count}"
                    f" read={progress['documents']['read']} kept={progress['documents']['kept']} {job.status}")
            if line != last:
                self.stderr.write(line)
                last = line
            if job.is_finished:
                return job
            time.sleep(POLL_SECONDS)

    def _report(self, job: Job) -> None:
        if job.status != Job.Status.COMPLETED:
            raise CommandError(f"job {job.pk} {job.status}: {job.error or 'no reason recorded'}")
        docs = job.stats["documents"]
        errors = job.stats.get("errors_by_kind") or {}
        self.stdout.write(
            f"job {job.pk} completed: {docs['read']} read, {docs['kept']} kept, {docs['removed']} removed"
            + (f", errors {errors}" if errors else "")
            + f"; stats in {job.output}/stats.json"
        )
