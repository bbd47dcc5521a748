"""`python manage.py whatif --job ID --step NAME --param name=value ...`: recount from stored signals."""

from __future__ import annotations

import json
import time
from typing import Any

from django.core.management.base import CommandParser

from core.errors import NotFound, ValidationError
from core.management.base import ProjectCommand
from curation.models import Job
from loop.services.recipes import parse_value, recipe_version_apply, recipe_version_save, whatif_run


def parse_params(items: list[str]) -> dict[str, Any]:
    params: dict[str, Any] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise ValidationError(f"--param takes name=value, not {item!r}", field="params")
        params[name.strip()] = parse_value(value)
    return params


class Command(ProjectCommand):
    help = ("Show how many documents a step and the job would keep and remove with other thresholds, from the "
            "stored signals alone; --save stores the recipe as a new version, --apply also re-applies it.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--job", type=int, required=True)
        parser.add_argument("--step", required=True, help="step name or position")
        parser.add_argument("--param", action="append", default=[], metavar="NAME=VALUE",
                            help="a parameter of the step (YAML value: 0.3, null, [[2, 0.2]]); repeatable")
        parser.add_argument("--save", action="store_true", help="store the changed recipe as a new version")
        parser.add_argument("--apply", action="store_true", help="with --save: re-apply it to the job")

    def handle(self, *args: Any, **options: Any) -> None:
        job = Job.objects.filter(pk=options["job"]).first()
        if job is None:
            raise NotFound(f"no job {options['job']}")
        params = parse_params(options["param"])
        started = time.perf_counter()
        result = whatif_run(job, options["step"], params)
        seconds = time.perf_counter() - started
        self.stdout.write(json.dumps({**result.as_dict(), "seconds": round(seconds, 3)}, indent=2))
        if options["save"] or options["apply"]:
            version = recipe_version_save(job, options["step"], params)
            self.stdout.write(f"saved recipe version {version.version} (id {version.pk})")
            if options["apply"]:
                version = recipe_version_apply(version)
                self.stdout.write(f"re-applied into {version.applied_output}: "
                                  f"{version.applied_stats['documents']['kept']} kept")
