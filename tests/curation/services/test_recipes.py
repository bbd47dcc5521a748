"""Recipes through submit and the API: built-in names or YAML text only, typed reader options, the cached plan."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from rest_framework.test import APIClient

from accounts.services import token_issue
from core.errors import ValidationError
from curation import selectors
from curation.models import Job
from curation.selectors import job_progress, job_recipe
from curation.services.jobs import job_submit
from tests.fixtures.jobs import write_jsonl

pytestmark = pytest.mark.django_db

OTHER_TEAMS_RECIPE = "name: other-team-secret-recipe\nsteps:\n  - extract: {}\n"


def test_a_server_path_is_not_accepted_as_a_recipe(tmp_path: Path) -> None:
    # given another team's recipe file on the server
    (tmp_path / "other-team.yaml").write_text(OTHER_TEAMS_RECIPE)
    write_jsonl(tmp_path / "a.jsonl", [{"text": "x"}])
    # when a job names it by path, then it is refused and its text is not echoed
    with pytest.raises(ValidationError, match="unknown recipe") as error:
        job_submit(recipe=str(tmp_path / "other-team.yaml"), inputs=[str(tmp_path / "a.jsonl")],
                   output=str(tmp_path / "o"))
    assert "other-team-secret-recipe" not in str(error.value)
    assert Job.objects.count() == 0


def test_the_api_refuses_a_recipe_path_without_showing_the_file(engineer: Any, tmp_path: Path) -> None:
    (tmp_path / "other-team.yaml").write_text(OTHER_TEAMS_RECIPE)
    write_jsonl(tmp_path / "a.jsonl", [{"text": "x"}])
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {token_issue(engineer)}")
    response = api.post("/api/v1/jobs/", {"recipe": str(tmp_path / "other-team.yaml"),
                                          "inputs": [str(tmp_path / "a.jsonl")]}, format="json")
    assert response.status_code == 400
    assert response.json()["field"] == "recipe"
    assert "other-team-secret-recipe" not in response.content.decode()


@pytest.mark.parametrize(("reader", "message"), [
    ("{text_field: 5}", "text_field must be a string"),
    ("{max_record_bytes: '1000'}", "max_record_bytes must be an integer"),
    ("{max_record_bytes: true}", "max_record_bytes must be an integer"),
    ("{format: [jsonl]}", "format must be a string"),
])
def test_reader_options_of_the_wrong_type_are_refused(tmp_path: Path, reader: str, message: str) -> None:
    write_jsonl(tmp_path / "a.jsonl", [{"text": "x"}])
    recipe = f"name: r\nreader: {reader}\nsteps:\n  - extract: {{}}\n"
    with pytest.raises(ValidationError, match=message) as error:
        job_submit(recipe=recipe, inputs=[str(tmp_path / "a.jsonl")], output=str(tmp_path / "o"))
    assert error.value.field == "reader"


def test_job_pages_use_the_plan_parsed_at_submit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # given a submitted job
    write_jsonl(tmp_path / "a.jsonl", [{"text": "x"}])
    job = job_submit(recipe="name: r\nsteps:\n  - extract: {}\n  - exact_dedup: {}\n",
                     inputs=[str(tmp_path / "a.jsonl")], output=str(tmp_path / "o"))

    # when its recipe and progress are read with YAML parsing unavailable
    def no_parsing(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("the recipe YAML was parsed again")

    monkeypatch.setattr(selectors, "parse_recipe", no_parsing)
    job = Job.objects.get(pk=job.pk)
    # then both come from the stored plan
    assert [spec.name for spec in job_recipe(job).steps] == ["extract", "exact_dedup"]
    assert job_progress(job)["stage_count"] == 5  # map, reduce partitions, merge, map, finish
