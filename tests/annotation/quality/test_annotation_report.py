"""`annotation_report`: the same numbers as the API, as text tables."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import CommandError, call_command

from annotation.models_quality import QualitySnapshot
from tests.support.annotation_quality import annotate, make_item, make_project, make_users

pytestmark = pytest.mark.django_db


def _project():  # type: ignore[no-untyped-def]
    project = make_project("pairwise", overlap=2, max_overlap=2)
    users = make_users(2, "rep", project)
    for n in range(3):
        item = make_item(project, f"r{n}", [{"id": "r1", "text": "x", "model": "alpha"},
                                            {"id": "r2", "text": "longer y", "model": "beta"}])
        for user in users:
            annotate(item, user, {"choice": "a", "strength": 1}, ["r1", "r2"], seconds=12.0)
    return project


def test_report_prints_agreement_annotators_and_leaderboard() -> None:
    project = _project()
    out = io.StringIO()

    call_command("annotation_report", "--project", str(project.pk), stdout=out)

    text = out.getvalue()
    assert QualitySnapshot.objects.filter(project=project).exists()  # stale, so it recomputed first
    assert "Agreement" in text and "krippendorff_alpha" in text
    assert "rep0" in text and "rep1" in text
    assert "Leaderboard (6 comparisons" in text
    board_line = next(line for line in text.splitlines() if line.lstrip().startswith("1  alpha"))
    assert "6/0/0" in board_line


def test_report_json_equals_the_api_figures() -> None:
    project = _project()
    out = io.StringIO()

    call_command("annotation_report", "--project", str(project.pk), "--json", stdout=out)

    data = json.loads(out.getvalue())
    assert data["quality"]["counts"]["annotations"] == 6
    assert [m["model"] for m in data["leaderboard"]["models"]] == ["alpha", "beta"]


def test_report_of_a_missing_project_is_a_clear_error() -> None:
    with pytest.raises(CommandError, match="no project with id 999999"):
        call_command("annotation_report", "--project", "999999")
