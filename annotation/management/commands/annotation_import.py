"""`python manage.py annotation_import --project ID FILE`: import items from JSON Lines into a project."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import CommandError, CommandParser

from annotation.models import Project
from annotation.services.items import items_import
from core.management.base import ProjectCommand


class Command(ProjectCommand):
    help = ("Import items (JSON Lines) into a project. Bad lines are listed as FILE:LINE: reason and the good "
            "ones imported; the exit status is 1 when any line was bad.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--project", type=int, required=True)
        parser.add_argument("file", type=Path)

    def handle(self, *args: Any, **options: Any) -> None:
        project = Project.objects.filter(pk=options["project"]).first()
        if project is None:
            raise CommandError(f"no project {options['project']}")
        path: Path = options["file"]
        if not path.is_file():
            raise CommandError(f"no such file: {path}")
        with path.open("rb") as lines:
            report = items_import(project, lines)
        for line, reason in report.errors:
            self.stderr.write(f"{path}:{line}: {reason}")
        self.stdout.write(f"imported {report.imported} item(s) into project {project.pk}; "
                          f"{len(report.errors)} bad line(s)")
        if report.errors:
            raise CommandError(f"{len(report.errors)} line(s) were not imported (listed above)")
