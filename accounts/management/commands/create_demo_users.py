"""Create the demo users of `make run`: an admin, a data engineer, a reviewer, a trainer and two annotators.

The annotation manager is created with the demo projects (`annotation_demo`)."""

from __future__ import annotations

from typing import Any

from accounts.roles import ANNOTATOR, DATA_ENGINEER, REVIEWER, TRAINER
from accounts.services import user_ensure
from core.management.base import ProjectCommand

DEMO_USERS = (
    ("admin", "admin-demo-pass", None, True),
    ("engineer", "engineer-demo-pass", DATA_ENGINEER, False),
    ("reviewer", "reviewer-demo-pass", REVIEWER, False),
    ("trainer", "trainer-demo-pass", TRAINER, False),
    ("annotator1", "annotator-demo-pass", ANNOTATOR, False),
    ("annotator2", "annotator-demo-pass", ANNOTATOR, False),
)


class Command(ProjectCommand):
    help = "Create (or reset) the demo users and print their logins. Safe to re-run."

    def handle(self, *args: Any, **options: Any) -> None:
        for username, password, role, admin in DEMO_USERS:
            user_ensure(username, password, role=role, admin=admin)
            self.stdout.write(f"  {username:<11} / {password:<20} ({'admin' if admin else role})")
