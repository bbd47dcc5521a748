"""`python manage.py train_quality_classifier`: train a fastText quality classifier and store a versioned model."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser

from curation.steps.quality_classifier import train_quality_classifier_from_files


class Command(BaseCommand):
    help = (
        "Train a quality classifier from --positive/--negative text files (one document per line, or JSON Lines "
        "with a text field) or --labels JSON Lines (text, label), hold out a test split, and write "
        "OUT/quality-classifier/<version>/ (model.ftz, card.json with held-out precision and recall)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--positive", nargs="+", default=[], help="high-quality examples")
        parser.add_argument("--negative", nargs="+", default=[], help="low-quality examples")
        parser.add_argument("--labels", nargs="+", default=[], help="JSON Lines with text and label")
        parser.add_argument("--output", default=None,
                            help="models folder (path or fsspec URL; default STORAGE_ROOT/models)")
        parser.add_argument("--model-version", help="version name (default: a UTC timestamp and data hash)")
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument("--test-fraction", type=float, default=0.1)
        parser.add_argument("--project", type=int,
                            help="train from this label project's consensus labels instead of files (loop app)")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["project"] is not None:
            # Named, not imported: the loop app builds on curation, never the other way round.
            call_command("train_classifier_from_labels", project=options["project"], seed=options["seed"],
                         model_version=options["model_version"], stdout=self.stdout, stderr=self.stderr)
            return
        out_dir = options["output"] or f"{settings.STORAGE_ROOT.rstrip('/')}/models"
        try:
            card = train_quality_classifier_from_files(
                out_dir=out_dir, positive=options["positive"], negative=options["negative"],
                labels=options["labels"], version=options["model_version"], seed=options["seed"],
                test_fraction=options["test_fraction"],
            )
        except (ValueError, OSError) as error:
            raise CommandError(str(error).splitlines()[0] if str(error) else type(error).__name__) from error
        m = card.metrics
        self.stdout.write(
            f"model {card.version}: {card.path} ({card.model_bytes / 1e6:.1f} MB), trained on {card.train_examples}, "
            f"held out {card.test_examples}: precision {m.precision}, recall {m.recall}, F1 {m.f1}"
        )
