"""Annotation projects with items and members, built through the services, for page and browser tests."""

from __future__ import annotations

import json
from typing import Any

from django.contrib.auth.models import AbstractUser

from accounts.roles import ANNOTATOR, MANAGER
from accounts.services import user_ensure
from annotation.models import Project
from annotation.services.items import items_import
from annotation.services.members import membership_add
from annotation.services.projects import project_create

PASSWORD = "annotation-test-pass-1"

RESPONSES = [
    {"id": "r1", "text": "Paris is the capital of France."},
    {"id": "r2", "text": "The capital of France is Lyon."},
    {"id": "r3", "text": "France's capital city is Paris, on the Seine."},
    {"id": "r4", "text": "I do not know."},
]


def manager_user(username: str = "manager") -> AbstractUser:
    return user_ensure(username, PASSWORD, role=MANAGER)


def annotator_user(username: str = "annotator") -> AbstractUser:
    return user_ensure(username, PASSWORD, role=ANNOTATOR)


def project_with_items(kind: str, items: list[dict[str, Any]], *, members: tuple[AbstractUser, ...] = (),
                       name: str | None = None, guideline: str = "", **settings: Any) -> Project:
    """Create a project of `kind`, import `items` (all must be good) and add `members` as annotators."""
    defaults: dict[str, Any] = {
        "likert": {"criteria": ["helpfulness", "truthfulness", "harmlessness"], "scale": 5},
        "label": {"labels": ["news", "opinion", "spam"]},
        "instruction": {"categories": ["brainstorming", "classification", "open QA"]},
    }.get(kind, {})
    project = project_create(name=name or f"{kind} project", kind=kind, guideline=guideline,
                             **{**defaults, **settings})
    report = items_import(project, [json.dumps(item, ensure_ascii=False) for item in items])
    assert not report.errors, report.errors
    for member in members:
        membership_add(project, member)
    return project


def qa_items(count: int, responses: int = 2, prefix: str = "q") -> list[dict[str, Any]]:
    """`count` question items, each with the first `responses` of RESPONSES."""
    return [{"id": f"{prefix}{i}", "prompt": f"Question {i}: what is the capital of France?",
             "responses": RESPONSES[:responses]} for i in range(count)]
