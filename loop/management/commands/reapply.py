"""`python manage.py reapply --version-id ID [--output DIR]`: re-decide a job's outputs under a saved version."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import CommandParser

from core.errors import NotFound
from core.management.base import ProjectCommand
from loop.models import RecipeVersion
from loop.services.recipes import recipe_version_apply


class Command(ProjectCommand):
    help = ("Re-apply a saved recipe version to its job: rewrite kept/removed from the stored signals into a new "
            "folder (default <job output>/v<version>), computing no stored signal again.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--version-id", type=int, help="the recipe version's id")
        parser.add_argument("--job", type=int, help="with --number: the job whose version number is given")
        parser.add_argument("--number", type=int, help="with --job: the version number within that job")
        parser.add_argument("--output", help="output folder (default <job output>/v<version>)")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["version_id"]:
            version = RecipeVersion.objects.filter(pk=options["version_id"]).select_related("job").first()
        else:
            version = RecipeVersion.objects.filter(job_id=options["job"], version=options["number"]).first()
        if version is None:
            raise NotFound("no such recipe version (give --version-id, or --job and --number)")
        version = recipe_version_apply(version, options["output"])
        self.stdout.write(json.dumps({"output": version.applied_output, **version.applied_stats}, indent=2))
