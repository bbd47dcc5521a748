"""The annotation commands: create a project (id on the last line), import items, create annotators, the demo."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError

from annotation.models import Item, Membership, Project
from annotation.services.assignments import assignment_claim_next


def _write(path: Path, *lines: object) -> Path:
    path.write_text("\n".join(x if isinstance(x, str) else json.dumps(x, ensure_ascii=False) for x in lines) + "\n",
                    encoding="utf-8")
    return path


@pytest.mark.django_db
def test_project_create_prints_the_new_id_on_its_last_line_and_imports_items(tmp_path):
    items = _write(tmp_path / "items.jsonl",
                   {"id": "q1", "prompt": "Rate", "responses": [{"id": "a", "text": "answer"}]}, "{bad")
    out, err = io.StringIO(), io.StringIO()

    call_command("annotation_project_create", "--name", "Rate", "--kind", "likert", "--overlap", "3", "--scale",
                 "7", "--criteria", "helpfulness,truthfulness", "--items", str(items), stdout=out, stderr=err)

    project = Project.objects.get(pk=int(out.getvalue().strip().splitlines()[-1]))
    assert (project.kind, project.overlap, project.scale) == ("likert", 3, 7)
    assert project.criteria == ["helpfulness", "truthfulness"]
    assert list(project.items.values_list("external_id", flat=True)) == ["q1"]
    assert f"{items}:2:" in err.getvalue()


@pytest.mark.django_db
def test_project_create_refuses_settings_that_do_not_fit():
    with pytest.raises(CommandError, match="criterion"):
        call_command("annotation_project_create", "--name", "x", "--kind", "likert", stdout=io.StringIO())


@pytest.mark.django_db
def test_import_lists_bad_lines_with_numbers_imports_the_rest_and_exits_1(tmp_path, make_project):
    project = make_project("response")
    path = _write(tmp_path / "items.jsonl", {"id": "1", "prompt": "Q"}, {"id": "2"}, {"id": "3", "prompt": "Q3"})
    err = io.StringIO()

    with pytest.raises(CommandError):
        call_command("annotation_import", "--project", str(project.pk), str(path), stdout=io.StringIO(), stderr=err)

    assert f"{path}:2: an item needs a prompt or messages" in err.getvalue()
    assert sorted(Item.objects.values_list("external_id", flat=True)) == ["1", "3"]


@pytest.mark.django_db
def test_annotator_create_makes_a_member_who_can_log_in(make_project):
    project = make_project("likert", items=1)

    call_command("annotator_create", "--username", "wang", "--password", "s3cret-pass", "--project",
                 str(project.pk), stdout=io.StringIO())

    user = get_user_model().objects.get(username="wang")
    assert user.check_password("s3cret-pass") and user.groups.filter(name="annotator").exists()
    assert Membership.objects.filter(project=project, user=user).exists()


@pytest.mark.django_db
def test_the_demo_has_a_project_of_each_kind_ready_to_annotate_and_is_safe_to_rerun():
    out = io.StringIO()
    call_command("annotation_demo", stdout=out)
    call_command("annotation_demo", stdout=io.StringIO())

    projects = Project.objects.all()
    assert sorted(p.kind for p in projects) == sorted(Project.KINDS)
    annotator = get_user_model().objects.get(username="annotator1")
    for project in projects:
        assert project.items.filter(prompt__regex=r"[\u4e00-\u9fff]").exists()  # Chinese items
        assert project.items.filter(prompt__regex=r"^[ -~]+$").exists()  # English items
        assert assignment_claim_next(annotator, project) is not None
    assert "annotator1" in out.getvalue() and "manager" in out.getvalue()
