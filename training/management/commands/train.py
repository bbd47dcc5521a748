"""`python manage.py train --kind sft|reward|dpo|ppo|rloo --dataset DIR --model PATH_OR_RUN --output DIR ...`

Records a run in the database and either sends it to the `training` queue and follows it (default) or trains it
in this process (`--local`); both draw a progress bar. `--model` is a model folder or a run id (`run:12` or `12`);
PPO and RLOO also take `--reward-run ID`.
"""

from __future__ import annotations

import time
from contextlib import nullcontext
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from core.errors import ApplicationError
from training.models import Run
from training.runner.progress import ProgressBar
from training.services.runs import run_execute, run_submit
from training.workflows import running_locally


def _run_ref(value: str) -> Run | None:
    text = value.removeprefix("run:")
    if not text.isdigit():
        return None
    run = Run.objects.filter(pk=int(text)).first()
    if run is None:
        raise CommandError(f"run {text} not found")
    return run


class Command(BaseCommand):
    help = "Train a model with trl on an export: SFT, reward model, DPO, PPO or RLOO."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--kind", required=True, choices=Run.Kind.values)
        parser.add_argument("--dataset", required=True, help="export folder")
        parser.add_argument("--model", required=True, help="model folder, or a run id (run:ID)")
        parser.add_argument("--reward-run", help="ppo/rloo: the reward model's run id")
        parser.add_argument("--output", default="", help="output folder (default: under STORAGE_ROOT)")
        parser.add_argument("--local", action="store_true", help="train in this process instead of a worker")
        parser.add_argument("--max-steps", type=int)
        parser.add_argument("--lora", action="store_true")
        parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                            help="another hyperparameter, e.g. --set learning_rate=1e-4")

    def handle(self, *args: Any, **options: Any) -> None:
        hyper: dict[str, Any] = {}
        for item in options["set"]:
            name, sep, value = item.partition("=")
            if not sep:
                raise CommandError(f"--set wants NAME=VALUE, got {item!r}")
            hyper[name.strip()] = value.strip()
        if options["max_steps"] is not None:
            hyper["max_steps"] = options["max_steps"]
        if options["lora"]:
            hyper["lora"] = True
        parent = _run_ref(options["model"])
        reward = _run_ref(options["reward_run"]) if options["reward_run"] else None
        if options["reward_run"] and reward is None:
            raise CommandError("--reward-run takes a run id")
        try:
            with running_locally() if options["local"] else nullcontext():
                run = run_submit(None, kind=options["kind"], dataset=options["dataset"],
                                 base_model="" if parent else options["model"], parent=parent, reward_run=reward,
                                 hyperparameters=hyper, output=options["output"])
        except ApplicationError as error:
            raise CommandError(str(error.message)) from None
        self.stdout.write(f"run {run.pk} ({run.kind}) -> {run.output_path}")
        bar = ProgressBar(f"run {run.pk} {run.kind}", stream=self.stderr._out)  # type: ignore[attr-defined]
        try:
            if options["local"]:
                run_execute(run.pk, progress=bar.update)
            else:
                self._follow(run, bar)
        finally:
            bar.close()
        run.refresh_from_db()
        self.stdout.write(f"run {run.pk}: {run.status} at step {run.global_step}")
        if run.status != Run.Status.SUCCEEDED:
            raise CommandError(run.error or f"run {run.pk} {run.status}")

    def _follow(self, run: Run, bar: ProgressBar) -> None:
        while True:
            run.refresh_from_db()
            bar.update(run.global_step, run.max_steps)
            if run.is_finished:
                return
            time.sleep(1.0)

