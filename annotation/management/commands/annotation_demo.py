"""`python manage.py annotation_demo`: a demo project of each kind (English and Chinese items) and its logins."""

from __future__ import annotations

from typing import Any

from annotation.demo import DEMO_LOGINS, demo_projects_ensure
from core.management.base import ProjectCommand


class Command(ProjectCommand):
    help = "Create the demo annotation projects (one per kind) and their manager and annotators. Safe to re-run."

    def handle(self, *args: Any, **options: Any) -> None:
        for project, created in demo_projects_ensure():
            state = "created" if created else "already there"
            self.stdout.write(f"  project {project.pk:<4} {project.kind:<12} {project.name} ({state})")
        self.stdout.write("Annotation logins (user / password):")
        for username, password, role in DEMO_LOGINS:
            self.stdout.write(f"  {username:<11} / {password:<20} ({role})")
        self.stdout.write("Annotators work at http://127.0.0.1:8000/annotate/")
