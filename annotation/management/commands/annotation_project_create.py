"""`python manage.py annotation_project_create`: create an annotation project; its id is the last line printed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import CommandError, CommandParser

from annotation.models import Project
from annotation.services.items import items_import
from annotation.services.projects import project_create
from core.management.base import ProjectCommand


def _csv(value: str | None) -> list[str] | None:
    return None if value is None else [part.strip() for part in value.split(",") if part.strip()]


class Command(ProjectCommand):
    help = "Create an annotation project (optionally importing items); prints the new project's id last."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--name", required=True)
        parser.add_argument("--kind", required=True, choices=Project.KINDS)
        parser.add_argument("--overlap", type=int, default=1, help="annotators per item (default 1)")
        parser.add_argument("--scale", type=int, choices=[5, 7], help="Likert points (default 5)")
        parser.add_argument("--criteria", help="Likert criteria, comma-separated, e.g. helpfulness,truthfulness")
        parser.add_argument("--labels", help="label project: the labels, comma-separated")
        parser.add_argument("--multi-label", action="store_true", help="label project: several labels per item")
        parser.add_argument("--categories", help="instruction project: task categories, comma-separated")
        parser.add_argument("--instruction-format", choices=Project.FORMATS)
        parser.add_argument("--language", choices=Project.LANGUAGES)
        parser.add_argument("--guidelines", type=Path, help="a Markdown file: the first guideline version")
        parser.add_argument("--items", type=Path, help="a JSON Lines file of items to import")

    def handle(self, *args: Any, **options: Any) -> None:
        settings: dict[str, Any] = {}
        for key in ("scale", "instruction_format", "language"):
            if options.get(key) is not None:
                settings[key] = options[key]
        for key in ("criteria", "labels", "categories"):
            if options.get(key) is not None:
                settings[key] = _csv(options[key])
        if options["multi_label"]:
            settings["multi_label"] = True
        guideline = options["guidelines"].read_text(encoding="utf-8") if options["guidelines"] else ""
        items_file: Path | None = options["items"]
        if items_file is not None and not items_file.is_file():
            raise CommandError(f"no such items file: {items_file}")
        project = project_create(name=options["name"], kind=options["kind"], overlap=options["overlap"],
                                 guideline=guideline, **settings)
        if items_file is not None:
            with items_file.open("rb") as lines:
                report = items_import(project, lines)
            for line, reason in report.errors:
                self.stderr.write(f"{items_file}:{line}: {reason}")
            self.stderr.write(f"imported {report.imported} item(s); {len(report.errors)} bad line(s)")
        self.stdout.write(str(project.pk))
