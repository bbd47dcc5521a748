"""`python manage.py audit_job --job ID [--step NAME ...]`: sample a finished job's steps into a label project;
with `--results AUDIT_ID` print an audit's precision figures from the labels so far; with `--card` (re)write the
job's dataset card."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import CommandParser

from core.errors import NotFound
from core.management.base import ProjectCommand
from curation.models import Job
from loop.models import DEFAULT_LABELS, FilterAudit
from loop.services.audits import audit_create, audit_results
from loop.services.completion import job_completed


class Command(ProjectCommand):
    help = ("Audit a finished job: sample what each step kept and removed (stratified by language and reason, "
            "sized for --half-width), create a label project with overlap 3 and gold items; or print an audit's "
            "results with --results.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--job", type=int, help="the completed job to audit")
        parser.add_argument("--step", action="append", default=[], help="a step name or position (repeatable; "
                            "default: every step that removes documents)")
        parser.add_argument("--half-width", type=float, default=0.1, help="target 95%% interval half-width")
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument("--labels", default=",".join(DEFAULT_LABELS), help="comma-separated labels")
        parser.add_argument("--good-labels", default="good", help="labels meaning the document is worth keeping")
        parser.add_argument("--gold", action="append", default=[], metavar="DOC_ID=LABEL",
                            help="a document of the job you vouch for, as gold (repeatable)")
        parser.add_argument("--planted-gold", type=int, default=4, help="planted obvious-junk gold items")
        parser.add_argument("--results", type=int, metavar="AUDIT_ID", help="print this audit's figures as JSON")
        parser.add_argument("--card", action="store_true",
                            help="only store the job's signals and (re)write its dataset card, then stop")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["results"]:
            audit = FilterAudit.objects.filter(pk=options["results"]).first()
            if audit is None:
                raise NotFound(f"no audit {options['results']}")
            self.stdout.write(json.dumps(audit_results(audit), indent=2, ensure_ascii=False))
            return
        job = Job.objects.filter(pk=options["job"]).first() if options["job"] else None
        if job is None:
            raise NotFound(f"no job {options['job']} (give --job ID)")
        if options["card"]:
            job_completed(job.pk)
            self.stdout.write(f"dataset card written: {job.output.rstrip('/')}/README.md and card.json")
            return
        gold = dict(item.split("=", 1) for item in options["gold"] if "=" in item)
        audit = audit_create(
            job, steps=options["step"], half_width=options["half_width"], seed=options["seed"],
            labels=[x.strip() for x in options["labels"].split(",") if x.strip()],
            good_labels=[x.strip() for x in options["good_labels"].split(",") if x.strip()],
            gold=gold, planted_gold=options["planted_gold"],
        )
        self.stdout.write(f"audit {audit.pk}: project {audit.project_id}, {audit.samples.count()} sampled "
                          f"decisions over steps {audit.steps}")
        for stratum in audit.strata:
            self.stdout.write(f"  {stratum['step']:<20} {stratum['decision']:<8} {stratum['lang'] or '-':<5} "
                              f"{stratum['reason'] or '-':<28} {stratum['sampled']:>5} of {stratum['population']}")
