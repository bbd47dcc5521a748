"""`python manage.py make_tiny_model --output DIR [--preset tiny|100m]`: a small causal LM built offline."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from training.runner.tiny_model import PRESETS, make_tiny_model


class Command(BaseCommand):
    help = ("Build a Llama-style causal LM from a config (random weights) with a byte-level BPE tokenizer trained "
            "locally on the English and Chinese demo text, and save both to --output. Downloads nothing.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--output", required=True, type=Path)
        parser.add_argument("--preset", default="tiny", choices=sorted(PRESETS))
        parser.add_argument("--seed", type=int, default=0)

    def handle(self, *args: Any, **options: Any) -> None:
        output = make_tiny_model(options["output"], preset=options["preset"], seed=options["seed"])
        self.stdout.write(f"model and tokenizer written to {output}")
