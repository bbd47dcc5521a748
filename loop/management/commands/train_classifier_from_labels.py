"""`python manage.py train_classifier_from_labels --project ID` (also reached as
`train_quality_classifier --project ID`): train the quality classifier from a label project's consensus labels."""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandParser

from annotation.models import Project
from core.errors import NotFound
from core.management.base import ProjectCommand
from loop.services.classifier import classifier_train_from_project, latest_model


class Command(ProjectCommand):
    help = ("Train the fastText quality classifier from a label project's consensus labels (good = keep, junk = "
            "drop), report held-out precision and recall, and register it in the first QUALITY_MODEL_REGISTRIES "
            "folder as quality-classifier/<version>/.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--project", type=int, required=True)
        parser.add_argument("--model-version", help="version name (default: a UTC timestamp and data hash)")
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument("--test-fraction", type=float, default=0.2)

    def handle(self, *args: Any, **options: Any) -> None:
        project = Project.objects.filter(pk=options["project"]).first()
        if project is None:
            raise NotFound(f"no project {options['project']}")
        card = classifier_train_from_project(project, version=options["model_version"], seed=options["seed"],
                                             test_fraction=options["test_fraction"])
        m = card.metrics
        self.stdout.write(
            f"model {card.version}: {card.path}, trained on {card.train_examples}, held out {card.test_examples}: "
            f"precision {m.precision}, recall {m.recall}, F1 {m.f1}\n"
            f"recipes use it as model: {latest_model()} (or {card.path})"
        )
