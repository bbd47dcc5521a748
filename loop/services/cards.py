"""Dataset cards of curation outputs: written when a job completes, refreshed when an audit has results."""

from __future__ import annotations

import shlex
from collections import Counter
from typing import Any

from curation.models import Job
from curation.selectors import job_recipe
from loop.cards import build_card, write_card
from loop.models import FilterAudit, RecipeVersion
from loop.services.tables import signal_table_ensure
from loop.signal_table import step_positions


def reproduce_command(job: Job, recipe_file: str = "recipe.yaml") -> str:
    """The command that re-creates this output: the recipe (saved next to the card) over the same inputs."""
    parts = ["python", "manage.py", "curate", "--recipe", recipe_file, "--input", *job.inputs,
             "--output", job.output, "--local"]
    if job.dedup_index_id:
        parts += ["--dedup-index", job.dedup_index.name]  # type: ignore[union-attr]
    return " ".join(shlex.quote(str(part)) for part in parts)


def job_card_write(job: Job) -> dict[str, Any]:
    """Write `card.json`, `README.md` and `recipe.yaml` into a completed job's output folder; return the card.

    Reads the job's stats, its signal table (built if missing: languages of the kept documents) and the newest
    audit with results. Changes only those three files. Safe to re-run.
    """
    from curation.steps.writers import write_bytes_atomic

    recipe = job_recipe(job)
    table = signal_table_ensure(job)
    kept = step_positions(recipe, table.removed_by) == len(recipe.steps)
    languages = Counter(str(lang) for lang in table.lang.values()[kept].tolist())
    audit = (FilterAudit.objects.filter(job=job, results_at__isnull=False).order_by("-results_at").first())
    version = (RecipeVersion.objects.filter(recipe_name=recipe.name, recipe_yaml=job.recipe_yaml)
               .order_by("-version").values_list("version", flat=True).first())
    card = build_card(
        job_id=job.pk, name=f"{recipe.name}-job-{job.pk}", inputs=job.inputs, output=job.output,
        recipe_name=recipe.name, recipe_yaml=job.recipe_yaml, recipe_version=version, stats=job.stats or {},
        languages=dict(languages), audit=audit.results if audit else None, command=reproduce_command(job),
    )
    write_bytes_atomic(f"{job.output.rstrip('/')}/recipe.yaml", job.recipe_yaml.encode())
    write_card(job.output, card)
    return card
