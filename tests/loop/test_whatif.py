"""What-if recounts from stored signals equal a real re-run of the changed recipe (loop/signal_table.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from curation.selectors import job_recipe
from curation.steps.recipe import StepSpec
from loop.decisions import decide_columns, decide_documents
from loop.reapply import reapply
from loop.services.tables import signal_table_build
from loop.signal_table import load_signal_table, step_positions, whatif
from tests.support.job_outputs import outputs
from tests.support.loop_jobs import FILTER_RECIPE, finished_job

pytestmark = pytest.mark.django_db

LOOSE_REPETITION = {"max_dup_line_frac": None, "max_dup_para_frac": None, "max_dup_line_char_frac": None,
                    "max_dup_para_char_frac": None, "max_top_ngram_char_frac": [], "max_dup_ngram_char_frac": []}


def _changed_recipe(position: int, changes: dict[str, Any]) -> str:
    recipe = __import__("curation.steps.recipe", fromlist=["parse_recipe"]).parse_recipe(FILTER_RECIPE, "x")
    steps = list(recipe.steps)
    steps[position] = StepSpec(steps[position].name, {**steps[position].params, **changes})
    return recipe.with_steps(tuple(steps)).source_yaml


def _step_stats(job: Any, position: int) -> dict[str, Any]:
    return next(s for s in job.stats["steps"] if s["position"] == position)


@pytest.mark.parametrize(("position", "changes"), [
    (3, {"max_short_line_ratio": 0.1}),  # the last step, tightened for English (Chinese has the rule off)
    (1, {"min_words": 200, "per_language": {"zh": {"min_words": 300}}}),  # an earlier step, tightened
    (2, LOOSE_REPETITION),  # an earlier step, loosened: what it lets through never reached the next step
])
def test_whatif_counts_equal_a_real_rerun(tmp_path: Path, position: int, changes: dict[str, Any]) -> None:
    job = finished_job(tmp_path / "base")
    signal_table_build(job)
    table = load_signal_table(job.output)

    result = whatif(table, job_recipe(job), position, changes)
    rerun = finished_job(tmp_path / "rerun", recipe=_changed_recipe(position, changes))

    stats = _step_stats(rerun, position)
    assert result.reached == stats["docs_in"]
    assert result.step_kept == stats["kept"]
    assert result.step_removed == stats["removed"]
    assert result.job_kept + result.unscored_later >= rerun.stats["documents"]["kept"]
    if result.unscored_later == 0:
        assert result.job_kept == rerun.stats["documents"]["kept"]
    assert result.changed > 0


def test_traced_decisions_equal_decide_on_every_document(tmp_path: Path) -> None:
    job = finished_job(tmp_path / "base")
    signal_table_build(job)
    table = load_signal_table(job.output)
    recipe = job_recipe(job)
    at = step_positions(recipe, table.removed_by)
    for position, step in enumerate(recipe.build()):
        rows = np.flatnonzero(at >= position)
        codes, reasons = decide_columns(step, table.signals, rows, table.lang)  # type: ignore[arg-type]
        traced = [reasons[code] for code in codes]
        codes, reasons = decide_documents(step, table.signals, rows, table.lang)  # type: ignore[arg-type]
        assert traced == [reasons[code] for code in codes]
        stored = np.where(at[rows] == position, table.reason.values(rows), "")
        assert traced == stored.tolist()


def test_reapply_writes_what_a_real_rerun_keeps(tmp_path: Path) -> None:
    changes = LOOSE_REPETITION
    job = finished_job(tmp_path / "base")
    recipe = job_recipe(job)
    steps = list(recipe.steps)
    steps[2] = StepSpec(steps[2].name, {**steps[2].params, **changes})
    changed = recipe.with_steps(tuple(steps))

    stats = reapply(changed, 2, job.output, str(tmp_path / "reapplied"))
    rerun = finished_job(tmp_path / "rerun", recipe=changed.source_yaml)

    assert sorted(d["id"] for d in outputs(str(tmp_path / "reapplied"), "kept")) == sorted(
        d["id"] for d in outputs(rerun.output, "kept"))
    assert stats["documents"]["kept"] == rerun.stats["documents"]["kept"]
    removed = {d["id"]: (d["removed_by"], d["reason"]) for d in outputs(str(tmp_path / "reapplied"), "removed")}
    assert removed == {d["id"]: (d["removed_by"], d["reason"]) for d in outputs(rerun.output, "removed")}
