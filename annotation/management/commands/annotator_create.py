"""`python manage.py annotator_create --username U --password P [--project ID]`: an annotator, optionally a member."""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError, CommandParser

from accounts.roles import ANNOTATOR
from accounts.services import user_ensure
from annotation.models import Project
from annotation.services.members import membership_add
from core.management.base import ProjectCommand


class Command(ProjectCommand):
    help = "Create (or reset the password of) an annotator, and add them to a project. Safe to re-run."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--username", required=True)
        parser.add_argument("--password", required=True)
        parser.add_argument("--project", type=int, action="append", default=[],
                            help="a project to join (repeat for several)")

    def handle(self, *args: Any, **options: Any) -> None:
        projects = []
        for project_id in options["project"]:
            project = Project.objects.filter(pk=project_id).first()
            if project is None:
                raise CommandError(f"no project {project_id}")
            projects.append(project)
        user = user_ensure(options["username"], options["password"], role=ANNOTATOR)
        for project in projects:
            membership_add(project, user)
        joined = f" in project(s) {', '.join(str(p.pk) for p in projects)}" if projects else ""
        self.stdout.write(f"annotator {user.username}{joined}")
