"""`python manage.py training_demo [--output DIR] [--local]`: the whole chain on the tiny model, for the demo.

Builds the tiny bilingual model and the demo exports (sft, reward, ppo) under --output, then submits the pipeline
SFT -> reward model -> PPO. With --local the stages run here, one after the other; otherwise a training worker
runs them (`celery -A workers.celery worker -Q training`) and the pipeline's page shows them live.
"""

from __future__ import annotations

from contextlib import nullcontext
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from training.models import Run
from training.runner.demo import write_demo_export
from training.runner.progress import ProgressBar
from training.runner.tiny_model import make_tiny_model
from training.services.pipelines import pipeline_submit
from training.services.runs import run_execute
from training.workflows import running_locally

# Small enough for a laptop CPU in a minute or two; the tiny model visibly learns with them.
DEMO_HYPERPARAMETERS: dict[str, dict[str, Any]] = {
    "sft": {"max_steps": 60, "learning_rate": 5e-3, "lr_scheduler": "constant", "save_steps": 20},
    "reward": {"max_steps": 30, "learning_rate": 2e-3, "save_steps": 15},
    "ppo": {"max_steps": 4, "per_device_batch_size": 4, "response_length": 16},
}


class Command(BaseCommand):
    help = "Build the tiny model and demo exports, and run SFT -> reward -> PPO on them."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--output", type=Path, default=Path("var/training-demo"))
        parser.add_argument("--local", action="store_true", help="run the stages in this process")

    def handle(self, *args: Any, **options: Any) -> None:
        root: Path = options["output"].resolve()
        model = root / "tiny-model"
        if not (model / "config.json").is_file():
            make_tiny_model(model)
        datasets = {}
        for fmt, limit in (("sft", 32), ("reward", 64), ("ppo", 24)):
            folder = root / f"export-{fmt}"
            if not (folder / "card.json").is_file():
                write_demo_export(folder, fmt, limit=limit, test_rows=8)
            datasets[fmt] = str(folder)
        with running_locally() if options["local"] else nullcontext():
            pipeline = pipeline_submit(None, kind="rlhf", name="demo: SFT -> reward -> PPO", base_model=str(model),
                                       datasets=datasets, hyperparameters=DEMO_HYPERPARAMETERS)
            self.stdout.write(f"pipeline {pipeline.pk}: /training/pipelines/{pipeline.pk}/")
            if options["local"]:
                while (run := pipeline.runs.filter(status=Run.Status.PENDING).order_by("stage").first()):
                    bar = ProgressBar(f"run {run.pk} {run.kind}", stream=self.stderr._out)  # type: ignore[attr-defined]
                    try:
                        run_execute(run.pk, progress=bar.update)
                    finally:
                        bar.close()
        pipeline.refresh_from_db()
        self.stdout.write(f"pipeline {pipeline.pk}: {pipeline.status}")

