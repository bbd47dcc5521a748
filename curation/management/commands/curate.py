"""`python manage.py curate`: run a recipe over crawl files, on the workers (--wait) or in this process (--local)."""

from __future__ import annotations

import sys
import time
from typing import Any

from django.core.management.base import CommandError, CommandParser
from tqdm import tqdm

from core.management.base import ProjectCommand
from curation.models import Job
from curation.selectors import job_progress, workers_alive
from curation.services.jobs import job_run_local, job_submit

POLL_SECONDS = 1.0


class Command(ProjectCommand):
    help = "Run a curation recipe over input files and write OUT/kept, OUT/removed and OUT/stats.json."

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
            recipe=options["recipe"], inputs=options["input"], output=options["output"],
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
        if not workers_alive():
            self.stderr.write(
                "no worker has reported in the last minute; start one with "
                "`celery -A workers.celery worker -Q curation,default` (or use --local)"
            )
        total = 1000
        with tqdm(total=total, desc=f"job {job.pk}", unit="‰", file=sys.stderr, leave=True) as bar:
            while True:
                job.refresh_from_db()
                progress = job_progress(job)
                bar.n = int(progress["fraction_done"] * total)
                bar.set_postfix(stage=f"{job.stage + 1}/{job.stage_count}", read=progress["documents"]["read"],
                                kept=progress["documents"]["kept"])
                bar.refresh()
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
