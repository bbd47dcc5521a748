"""Closing the loop: people compare checkpoints blind, in an annotation project of the annotation app.

From two or more runs (SFT, DPO, PPO, RLOO outputs) and held-out prompts (an export's `test` split, else its
`train` split), each model answers every prompt (batched generation); the answers become items of a pairwise
project (one item per prompt and pair of runs) or a ranking project (one item per prompt, all runs). Blind:
response ids are opaque and their order is shuffled per item (seeded), and the run's name is only in each
response's `model` field, which the annotation app never shows to annotators. The quality issue's leaderboard then
shows which checkpoint people prefer.
"""

from __future__ import annotations

import itertools
import json
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.utils.translation import gettext as _

from accounts.roles import can_train
from core.errors import PermissionDenied, ValidationError
from training.models import Run
from training.runner.dataset_files import export_open, export_split
from training.runner.spec import SpecError

MAX_PROMPTS = 1000


@dataclass(frozen=True)
class ComparisonResult:
    project_id: int
    items: int
    errors: list[tuple[int, str]]


def held_out_prompts(folder: str, limit: int) -> list[Any]:
    """The prompts of an export: its test split when it has one. Rows with `messages` give all but the answer."""
    try:
        export = export_open(Path(folder))
        rows = None
        for split in ("test", "train"):
            for fmt in ("ppo", "sft"):
                try:
                    rows = export_split(export, split, fmt)
                except SpecError:
                    continue
                if rows is not None:
                    break
            if rows is not None:
                break
    except SpecError as error:
        raise ValidationError(str(error), field="prompts") from None
    if rows is None:
        raise ValidationError(_("no prompts in %(folder)s") % {"folder": folder}, field="prompts")
    prompts: list[Any] = []
    for row in rows.select(range(min(limit, len(rows)))):
        if row.get("prompt"):
            prompts.append(row["prompt"])
        else:
            turns = list(row["messages"])
            while turns and turns[-1]["role"] == "assistant":
                turns.pop()
            prompts.append(turns)
    return prompts


def comparison_create(user: AbstractBaseUser, *, name: str, runs: list[Run], prompts: str, kind: str = "pairwise",
                      limit: int = 20, max_new_tokens: int = 64, seed: int = 0) -> ComparisonResult:
    """Generate answers from each run and create a blind pairwise or ranking project of them.

    Creates one annotation project and its items. Not idempotent: each call is a new project. Generation runs in
    this process (on the CPU unless TRAINING_USE_GPU), so keep `limit` small for large models.
    """
    from django.conf import settings

    from annotation.services.items import items_import
    from annotation.services.projects import project_create
    from training.runner.generate import generate_answers, prompt_messages

    if not can_train(user):
        raise PermissionDenied(_("training is for trainers and admins"))
    if len(runs) < 2:
        raise ValidationError(_("choose at least two runs to compare"), field="runs")
    if kind not in ("pairwise", "ranking"):
        raise ValidationError(_("a comparison is pairwise or ranking"), field="kind")
    for run in runs:
        if run.status != Run.Status.SUCCEEDED or run.kind == Run.Kind.REWARD:
            raise ValidationError(_("run %(id)s is not a finished policy model") % {"id": run.pk}, field="runs")
    if not 1 <= limit <= MAX_PROMPTS:
        raise ValidationError(_("between 1 and %(n)s prompts") % {"n": MAX_PROMPTS}, field="limit")
    questions = held_out_prompts(prompts, limit)
    answers = {run.pk: generate_answers(Path(run.output_path), questions, max_new_tokens=max_new_tokens,
                                        use_cpu=not settings.TRAINING_USE_GPU) for run in runs}
    rng = random.Random(seed)
    lines: list[str] = []
    groups = itertools.combinations(runs, 2) if kind == "pairwise" else [tuple(runs)]
    group_list = list(groups)
    for index, question in enumerate(questions):
        for group in group_list:
            responses = [{"text": answers[run.pk][index], "model": f"run-{run.pk} ({run.kind})"} for run in group]
            rng.shuffle(responses)
            for position, response in enumerate(responses):
                response["id"] = f"r{position + 1}"  # opaque: says nothing about the model
            suffix = "-".join(str(run.pk) for run in group)
            record = {"id": f"p{index}-{suffix}", "messages": prompt_messages(question), "responses": responses,
                      "metadata": {"source": "training comparison", "prompt_index": index}}
            lines.append(json.dumps(record, ensure_ascii=False))
    project = project_create(name=name, kind=kind, created_by=user,
                             guideline=_("Which answer is better? Judge helpfulness and correctness."))
    report = items_import(project, lines)
    return ComparisonResult(project_id=project.pk, items=report.imported, errors=report.errors)
