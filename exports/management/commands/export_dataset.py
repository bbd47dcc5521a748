"""`python manage.py export_dataset`: export annotation projects (sft, reward, dpo, ppo) or a curation job (pretrain)
as a versioned dataset in trl's formats, on the workers (--wait) or in this process (--local), with a progress bar.

    python manage.py export_dataset --project 3 --project 4 --format reward --merge majority --output out/rm-v1 --local
    python manage.py export_dataset --job 12 --format pretrain --output out/corpus --local
    python manage.py export_dataset --from-export 7 --format ppo --local

The last line of the output is the export's folder and its content hash. Exit status 0 when the export completed;
otherwise 1 with a one-line reason.
"""

from __future__ import annotations

import sys
import time
from typing import Any

from django.core.management.base import CommandError, CommandParser
from tqdm import tqdm

from core.management.base import ProjectCommand
from curation.selectors import worker_reports_within
from exports.formats.spec import FORMATS, MERGES, PII_ACTIONS
from exports.hub import export_push_to_hub
from exports.models import Export
from exports.selectors import stage_words
from exports.services import export_create, export_run

POLL_SECONDS = 0.5
# How long --wait gives a worker that is starting to record its first heartbeat before warning that none runs.
WORKER_GRACE_SECONDS = 20.0


class Command(ProjectCommand):
    help = "Export annotation projects or a curation job as a dataset in trl's formats, with a dataset card."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--format", required=True, choices=FORMATS)
        source = parser.add_argument_group("sources (one kind)")
        source.add_argument("--project", type=int, action="append", default=[], help="annotation project id")
        source.add_argument("--job", type=int, help="a completed curation job (pretrain)")
        source.add_argument("--from-export", type=int, help="an earlier export whose prompts make a ppo export")
        parser.add_argument("--output", default="", help="folder or fsspec URL (default: STORAGE_ROOT/exports/...)")
        parser.add_argument("--name", default="", help="dataset name; versions of one name are numbered")
        parser.add_argument("--style", default="", help="sft: messages | prompt_completion; reward/dpo: explicit | "
                                                        "implicit")
        parser.add_argument("--merge", choices=MERGES, help="how several annotators are merged (default consensus)")
        parser.add_argument("--likert-criterion", default="", help="Likert: this criterion (default: their mean)")
        parser.add_argument("--min-agreement", type=float, help="leave out items whose agreement is below this")
        parser.add_argument("--min-trust", type=float, help="leave out annotators whose trust is below this")
        parser.add_argument("--include-gold", action="store_true", help="keep gold items (left out by default)")
        parser.add_argument("--include-rejected", action="store_true", help="keep annotations a reviewer rejected")
        parser.add_argument("--accepted-only", action="store_true", help="sft: only reviewer-accepted answers")
        parser.add_argument("--test-fraction", type=float, help="share of rows in test (default 0.1)")
        parser.add_argument("--seed", type=int, help="seed of the train/test split (default 0)")
        parser.add_argument("--near-duplicate-threshold", type=float, help="MinHash Jaccard that joins two prompts")
        parser.add_argument("--eval", action="append", default=[], help="evaluation file to decontaminate against")
        parser.add_argument("--ngram", type=int, help="decontamination n-gram length (default 13)")
        parser.add_argument("--pii", choices=PII_ACTIONS, help="redact (default) or drop rows with personal data")
        parser.add_argument("--pii-names", action="store_true", help="also find person names (slow: spaCy NER)")
        parser.add_argument("--files", default="", help="jsonl,parquet (default: both)")
        parser.add_argument("--shard-rows", type=int, help="rows per file (default 100000)")
        parser.add_argument("--license", default="", help="the dataset card's license (default: other)")
        parser.add_argument("--push-to-hub", default="", metavar="OWNER/NAME",
                            help="push the finished export to this Hub dataset repository (needs HF_TOKEN)")
        mode = parser.add_mutually_exclusive_group()
        mode.add_argument("--wait", action="store_true", help="run on the workers and show progress until done")
        mode.add_argument("--local", action="store_true", help="run in this process")

    def handle(self, *args: Any, **options: Any) -> None:
        spec_options: dict[str, Any] = {}
        for option, field in (("style", "style"), ("merge", "merge"), ("likert_criterion", "likert_criterion"),
                              ("min_agreement", "min_agreement"), ("min_trust", "min_trust"),
                              ("test_fraction", "test_fraction"), ("seed", "seed"),
                              ("near_duplicate_threshold", "near_duplicate_threshold"), ("ngram", "ngram"),
                              ("pii", "pii_action"), ("shard_rows", "shard_rows")):
            if options.get(option) not in (None, ""):
                spec_options[field] = options[option]
        for flag in ("include_gold", "include_rejected", "accepted_only", "pii_names"):
            if options[flag]:
                spec_options[flag] = True
        if options["eval"]:
            spec_options["eval_paths"] = options["eval"]
        if options["files"]:
            spec_options["files"] = [f.strip() for f in options["files"].split(",") if f.strip()]
        if options["license"]:
            spec_options["extra"] = {"license": options["license"]}
        export = export_create(
            None, format=options["format"], projects=options["project"], job=options["job"],
            from_export=options["from_export"], options=spec_options, name=options["name"],
            output=options["output"], enqueue=not options["local"],
        )
        self.stderr.write(f"export {export.pk}: {export.name} v{export.version} -> {export.path}")
        if options["local"]:
            export = self._run_local(export)
        elif options["wait"]:
            export = self._wait(export)
        else:
            self.stdout.write(str(export.pk))
            return
        if export.status != Export.Status.COMPLETED:
            raise CommandError(f"export {export.pk} failed: {export.error or export.status}")
        for split, info in export.card["splits"].items():
            self.stderr.write(f"{split}: {info['rows']} rows")
        if options["push_to_hub"]:
            url = export_push_to_hub(export, options["push_to_hub"])
            self.stderr.write(f"pushed to {url}")
        self.stdout.write(f"{export.path} {export.content_hash}")

    def _run_local(self, export: Export) -> Export:
        with _StageBar(export) as bar:
            return export_run(export.pk, progress=lambda stage, done, total: bar.show(export, stage, done, total))

    def _wait(self, export: Export) -> Export:
        if not worker_reports_within(WORKER_GRACE_SECONDS, POLL_SECONDS):
            self.stderr.write(
                f"no worker has reported in the last minute; start one with "
                f"`celery -A workers.celery worker -Q default` (or use --local); waiting for export {export.pk}"
            )
        with _StageBar(export) as bar:
            while True:
                export.refresh_from_db()
                progress = export.progress or {}
                bar.show(export, progress.get("stage", ""), int(progress.get("done") or 0), progress.get("total"))
                if export.is_finished:
                    return export
                time.sleep(POLL_SECONDS)


class _StageBar:
    """The command's progress bar: each stage counts from zero in its own unit (items read, then rows written), with
    the stage's label as the page shows it."""

    def __init__(self, export: Export) -> None:
        self.bar = tqdm(desc=f"export {export.pk}", file=sys.stderr, leave=True)
        self.stage: str | None = None

    def show(self, export: Export, stage: str, done: int, total: int | None) -> None:
        if stage != self.stage:
            if self.stage is not None:
                self.bar.refresh()  # the last count of the stage that ends, which tqdm may not have drawn yet
            self.stage = stage
            label, counted = stage_words(export, stage)
            self.bar.unit = f" {counted}"
            self.bar.set_postfix_str(label, refresh=False)
            self.bar.reset(total=total)
        elif total and self.bar.total != total:
            self.bar.total = total
        self.bar.update(max(done - self.bar.n, 0))

    def __enter__(self) -> _StageBar:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.bar.close()
