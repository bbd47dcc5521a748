"""The annotation pages (annotation/views.py): who reaches which page, what the forms do, and how item text and
guidelines are shown (as text, under a strict Content-Security-Policy)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import URLPattern, reverse

from accounts.roles import DATA_ENGINEER, TRAINER
from accounts.services import user_ensure
from annotation import urls as annotation_urls
from annotation.models import Guideline, Invite, Item, Membership, Project
from annotation.services.assignments import assignment_claim_next, assignment_submit
from annotation.services.members import invite_create
from curation.models import Job
from curation.steps.pipeline import JobLayout
from curation.steps.writers import JsonlZstWriter
from tests.support.annotation_projects import (
    PASSWORD,
    annotator_user,
    manager_user,
    project_with_items,
    qa_items,
)

pytestmark = pytest.mark.django_db

HOSTILE = '<script>alert("x")</script><img src=x onerror="alert(1)"><a href="javascript:alert(2)">link</a>'

# Every annotation URL, how to call it, and whether it is a manager's page. Kept complete by
# test_every_annotation_url_is_covered_by_the_access_tests.
ANNOTATOR_URLS: list[tuple[str, str, bool]] = [
    # (name, method, takes the project id)
    ("annotation:annotator-home", "get", False),
    ("annotation:annotate", "get", True),
]
MANAGER_URLS: list[tuple[str, str, bool]] = [
    ("annotation:project-list", "get", False),
    ("annotation:project-create", "get", False),
    ("annotation:project-create", "post", False),
    ("annotation:project-detail", "get", True),
    ("annotation:project-import", "post", True),
    ("annotation:project-from-job", "post", True),
    ("annotation:project-items", "get", True),
    ("annotation:project-guidelines", "get", True),
    ("annotation:project-guidelines", "post", True),
    ("annotation:project-members", "get", True),
    ("annotation:project-members", "post", True),
    ("annotation:project-members-import", "post", True),
    ("annotation:project-invite", "post", True),
]
# The invite page takes a token, not a project: tested on its own below.
OTHER_URLS = {"annotation:invite-accept"}


@pytest.fixture
def annotator() -> Any:
    return annotator_user("annotator")


@pytest.fixture
def other_annotator() -> Any:
    return annotator_user("other")


@pytest.fixture
def manager() -> Any:
    return manager_user("manager")


@pytest.fixture
def project(annotator: Any) -> Project:
    return project_with_items("likert", qa_items(3, responses=1), members=(annotator,), name="Rate answers",
                              guideline="# Rate carefully\n\n<script>alert('g')</script> Be **fair**.")


@pytest.fixture
def other_project(other_annotator: Any) -> Project:
    return project_with_items("pairwise", qa_items(2), members=(other_annotator,), name="Other project")


def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _call(client: Client, name: str, method: str, project_id: int | None) -> Any:
    url = reverse(name, kwargs={"project_id": project_id}) if project_id is not None else reverse(name)
    return client.get(url) if method == "get" else client.post(url, {})


def test_every_annotation_url_is_covered_by_the_access_tests() -> None:
    names = {f"annotation:{p.name}" for p in annotation_urls.urlpatterns if isinstance(p, URLPattern)}
    covered = {name for name, _m, _p in ANNOTATOR_URLS + MANAGER_URLS} | OTHER_URLS
    assert names == covered


@pytest.mark.parametrize(("name", "method", "takes_project"), ANNOTATOR_URLS + MANAGER_URLS)
def test_anonymous_visitors_are_sent_to_log_in(client: Client, project: Project, name: str, method: str,
                                               takes_project: bool) -> None:
    response = _call(client, name, method, project.pk if takes_project else None)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize(("name", "method", "takes_project"), MANAGER_URLS)
def test_an_annotator_reaches_no_manager_page_even_of_their_own_project(
        annotator: Any, project: Project, name: str, method: str, takes_project: bool) -> None:
    response = _call(_client(annotator), name, method, project.pk if takes_project else None)
    assert response.status_code == 403


@pytest.mark.parametrize(("name", "method", "takes_project"), MANAGER_URLS)
def test_data_engineers_and_trainers_reach_no_manager_page(project: Project, name: str, method: str,
                                                           takes_project: bool) -> None:
    for role in (DATA_ENGINEER, TRAINER):
        user = user_ensure(f"user-{role}", PASSWORD, role=role)
        response = _call(_client(user), name, method, project.pk if takes_project else None)
        assert response.status_code == 403, (role, name)


def test_an_annotator_gets_404_for_a_project_they_are_not_a_member_of(
        annotator: Any, project: Project, other_project: Project) -> None:
    client = _client(annotator)
    assert client.get(reverse("annotation:annotate", kwargs={"project_id": project.pk})).status_code == 200
    assert client.get(reverse("annotation:annotate", kwargs={"project_id": other_project.pk})).status_code == 404
    assert client.get(reverse("annotation:annotate", kwargs={"project_id": 999_999})).status_code == 404


def test_a_non_member_without_a_role_sees_no_project(project: Project) -> None:
    stranger = user_ensure("stranger", PASSWORD)
    client = _client(stranger)
    home = client.get(reverse("annotation:annotator-home"))
    assert home.status_code == 200
    assert project.name not in home.content.decode()
    assert client.get(reverse("annotation:annotate", kwargs={"project_id": project.pk})).status_code == 404


def test_a_manager_who_is_not_a_member_gets_no_task_page(manager: Any, project: Project) -> None:
    assert _client(manager).get(reverse("annotation:annotate", kwargs={"project_id": project.pk})).status_code == 404


@pytest.mark.parametrize(("name", "method", "takes_project"), MANAGER_URLS)
def test_a_manager_reaches_every_manager_page(manager: Any, project: Project, name: str, method: str,
                                              takes_project: bool) -> None:
    response = _call(_client(manager), name, method, project.pk if takes_project else None)
    # An empty POST shows its form again with the errors (200); nothing is refused.
    assert response.status_code == 200, response.content[:500]


def test_the_annotators_home_lists_only_their_projects_with_progress(
        annotator: Any, project: Project, other_project: Project) -> None:
    assignment = assignment_claim_next(annotator, project)
    assert assignment is not None
    assignment_submit(annotator, assignment.pk, {"ratings": {"helpfulness": 4, "truthfulness": 5,
                                                             "harmlessness": 5}}, 12.0)
    page = _client(annotator).get(reverse("annotation:annotator-home")).content.decode()
    assert "Rate answers" in page
    assert "Other project" not in page
    assert "1 done of 3" in page


def test_the_task_page_has_a_strict_content_security_policy(annotator: Any, project: Project) -> None:
    response = _client(annotator).get(reverse("annotation:annotate", kwargs={"project_id": project.pk}))
    policy = response["Content-Security-Policy"]
    for directive in ("default-src 'self'", "script-src 'self'", "object-src 'none'", "base-uri 'none'",
                      "form-action 'self'", "img-src 'self' data:", "frame-ancestors 'none'"):
        assert directive in policy
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    # No inline script at all: every <script> loads a file, page data travels as JSON (not executed).
    html = response.content.decode()
    for tag in re.findall(r"<script[^>]*>", html):
        assert 'src="' in tag or 'type="application/json"' in tag, tag


@pytest.mark.parametrize(("name", "takes_project"), [("annotation:project-list", False),
                                                     ("annotation:project-detail", True),
                                                     ("annotation:project-members", True)])
def test_manager_pages_have_the_content_security_policy(manager: Any, project: Project, name: str,
                                                        takes_project: bool) -> None:
    response = _call(_client(manager), name, "get", project.pk if takes_project else None)
    assert "script-src 'self'" in response["Content-Security-Policy"]


def test_the_task_page_passes_project_settings_and_strings_as_json(annotator: Any, project: Project) -> None:
    response = _client(annotator).get(reverse("annotation:annotate", kwargs={"project_id": project.pk}),
                                      HTTP_ACCEPT_LANGUAGE="zh-hans")
    match = re.search(r'<script id="annotate-data" type="application/json">(.*?)</script>',
                      response.content.decode(), re.S)
    assert match
    data = json.loads(match.group(1))
    assert data["project"]["kind"] == "likert"
    assert data["project"]["criteria"] == ["helpfulness", "truthfulness", "harmlessness"]
    assert data["urls"]["next"] == f"/api/v1/projects/{project.pk}/assignments/next/"
    assert data["progress"]["remaining"] == 3
    assert data["strings"]["submitted"] != "Submitted. Next task…"  # translated for a Chinese reader


def test_a_hostile_project_name_and_guideline_are_shown_as_text(annotator: Any) -> None:
    project = project_with_items("likert", qa_items(1, responses=1), members=(annotator,), name=HOSTILE,
                                 guideline=f"Read this: {HOSTILE}\n\n[bad](javascript:alert(3))")
    html = _client(annotator).get(reverse("annotation:annotate", kwargs={"project_id": project.pk})).content.decode()
    assert "<script>alert" not in html
    assert "<img src=x" not in html
    assert 'href="javascript:' not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in html


def test_the_guidelines_panel_renders_markdown_without_raw_html(annotator: Any, project: Project) -> None:
    html = _client(annotator).get(reverse("annotation:annotate", kwargs={"project_id": project.pk})).content.decode()
    assert "<h1>Rate carefully</h1>" in html
    assert "<strong>fair</strong>" in html
    assert "&lt;script&gt;alert(&#x27;g&#x27;)&lt;/script&gt;" in html or "&lt;script&gt;alert('g')" in html


def test_a_manager_creates_a_project_with_its_settings(manager: Any) -> None:
    response = _client(manager).post(reverse("annotation:project-create"), {
        "name": "Helpfulness", "kind": "likert", "overlap": 3, "language": "zh", "scale": 7,
        "criteria": "helpfulness\ntruthfulness, harmlessness", "round_size": 5, "instruction_format": "plain",
        "min_length": 0, "pii_policy": "warn", "duplicate_threshold": 0.7, "lease_seconds": 600,
        "break_after_minutes": 45, "gold_rate": 0.0, "max_overlap": 3, "guidelines": "Be *kind*.",
    })
    project = Project.objects.get(name="Helpfulness")
    assert response.status_code == 302
    assert response["Location"] == reverse("annotation:project-detail", kwargs={"project_id": project.pk})
    assert (project.kind, project.overlap, project.scale, project.language) == ("likert", 3, 7, "zh")
    assert project.criteria == ["helpfulness", "truthfulness", "harmlessness"]
    assert project.break_after_minutes == 45
    assert project.created_by == manager
    assert Guideline.objects.get(project=project).text == "Be *kind*."


def test_a_likert_project_without_criteria_is_refused_on_the_form(manager: Any) -> None:
    response = _client(manager).post(reverse("annotation:project-create"), {
        "name": "No criteria", "kind": "likert", "overlap": 1, "language": "en", "scale": 5, "round_size": 5,
        "instruction_format": "plain", "min_length": 0, "pii_policy": "warn", "duplicate_threshold": 0.7,
        "lease_seconds": 600, "break_after_minutes": 60, "gold_rate": 0.0, "max_overlap": 1,
    })
    assert response.status_code == 200
    assert "needs at least one criterion" in response.content.decode()
    assert not Project.objects.filter(name="No criteria").exists()


def test_an_upload_imports_the_good_lines_and_reports_the_bad_one_by_number(manager: Any) -> None:
    project = project_with_items("pairwise", [], name="Pairs")
    lines = [
        json.dumps({"id": "p1", "prompt": "Say hi", "responses": [{"id": "a", "text": "Hi"},
                                                                  {"id": "b", "text": "Yo"}]}),
        "{not json",
        json.dumps({"id": "p2", "prompt": "Say bye", "responses": [{"id": "a", "text": "Bye"},
                                                                   {"id": "b", "text": "Ciao"}]}),
    ]
    upload = SimpleUploadedFile("items.jsonl", ("\n".join(lines) + "\n").encode(), "application/x-ndjson")
    response = _client(manager).post(reverse("annotation:project-import", kwargs={"project_id": project.pk}),
                                     {"file": upload})
    page = response.content.decode()
    assert response.status_code == 200
    assert sorted(Item.objects.filter(project=project).values_list("external_id", flat=True)) == ["p1", "p2"]
    assert "2 items imported." in page
    assert "line 2:" in page


def test_the_project_page_shows_progress_and_latest_submissions_as_text(manager: Any, annotator: Any) -> None:
    project = project_with_items("response", [{"id": "x1", "prompt": "Write a poem."}], members=(annotator,))
    assignment = assignment_claim_next(annotator, project)
    assert assignment is not None
    assignment_submit(annotator, assignment.pk, {"response": f"A poem {HOSTILE} with enough words."}, 30.0)
    page = _client(manager).get(reverse("annotation:project-detail", kwargs={"project_id": project.pk}))
    html = page.content.decode()
    assert 'data-annotator="annotator"' in html
    assert "&lt;script&gt;" in html
    assert "<script>alert" not in html
    assert "1 of 1 annotations" in html


def test_the_items_page_lists_items_paginated(manager: Any) -> None:
    project = project_with_items("pairwise", qa_items(60), name="Many")
    client = _client(manager)
    first = client.get(reverse("annotation:project-items", kwargs={"project_id": project.pk})).content.decode()
    second = client.get(reverse("annotation:project-items", kwargs={"project_id": project.pk}) + "?page=2")
    assert "60 items" in first
    assert ">q0<" in first and ">q59<" not in first
    assert ">q59<" in second.content.decode()


def test_publishing_guidelines_adds_a_version(manager: Any, project: Project) -> None:
    url = reverse("annotation:project-guidelines", kwargs={"project_id": project.pk})
    response = _client(manager).post(url, {"text": "Version two: rate the answer, not the question."})
    assert response.status_code == 302
    assert project.current_guideline is not None
    assert project.current_guideline.version == 2


def test_a_manager_adds_an_existing_user_and_is_told_about_an_unknown_one(manager: Any, project: Project) -> None:
    newcomer = annotator_user("newcomer")
    client = _client(manager)
    url = reverse("annotation:project-members", kwargs={"project_id": project.pk})
    assert client.post(url, {"username": "newcomer", "role": "annotator"}).status_code == 302
    assert Membership.objects.filter(project=project, user=newcomer).exists()
    response = client.post(url, {"username": "nobody", "role": "annotator"})
    assert response.status_code == 200
    assert "no user" in response.content.decode()


def test_a_csv_adds_members_and_reports_bad_lines(manager: Any, project: Project) -> None:
    annotator_user("existing")
    csv_text = "username,password,role\nexisting,,annotator\nfresh,fresh-pass-123,annotator\nshort,abc,annotator\n"
    upload = SimpleUploadedFile("members.csv", csv_text.encode(), "text/csv")
    response = _client(manager).post(reverse("annotation:project-members-import", kwargs={"project_id": project.pk}),
                                     {"file": upload})
    html = response.content.decode()
    assert set(Membership.objects.filter(project=project).values_list("user__username", flat=True)) >= {
        "existing", "fresh"}
    assert "2 members added." in html
    assert "line 4:" in html


def test_an_invite_link_makes_its_opener_a_member(manager: Any, project: Project) -> None:
    response = _client(manager).post(reverse("annotation:project-invite", kwargs={"project_id": project.pk}),
                                     {"max_uses": 5, "days": 7})
    invite = Invite.objects.get(project=project)
    url = reverse("annotation:invite-accept", kwargs={"token": invite.token})
    assert url in response.content.decode()
    joiner = user_ensure("joiner", PASSWORD)
    client = _client(joiner)
    assert client.get(url).status_code == 200
    accepted = client.post(url)
    assert accepted.status_code == 302
    assert accepted["Location"] == reverse("annotation:annotate", kwargs={"project_id": project.pk})
    assert Membership.objects.filter(project=project, user=joiner).exists()


def test_an_unknown_invite_token_is_404(annotator: Any) -> None:
    response = _client(annotator).get(reverse("annotation:invite-accept", kwargs={"token": "no-such-token"}))
    assert response.status_code == 404


def test_an_expired_invite_is_refused(manager: Any, project: Project) -> None:
    invite = invite_create(project, manager, max_uses=1, days=1)
    Invite.objects.filter(pk=invite.pk).update(expires_at="2000-01-01T00:00:00Z")
    joiner = user_ensure("late", PASSWORD)
    response = _client(joiner).post(reverse("annotation:invite-accept", kwargs={"token": invite.token}))
    assert response.status_code == 409
    assert not Membership.objects.filter(project=project, user=joiner).exists()


def test_home_sends_annotators_and_managers_to_their_pages(annotator: Any, manager: Any) -> None:
    assert _client(annotator).get(reverse("home"))["Location"] == reverse("annotation:annotator-home")
    assert _client(manager).get(reverse("home"))["Location"] == reverse("annotation:project-list")


def test_navigation_shows_annotation_links_by_role(annotator: Any, manager: Any, project: Project) -> None:
    annotator_page = _client(annotator).get(reverse("annotation:annotator-home")).content.decode()
    manager_page = _client(manager).get(reverse("annotation:project-list")).content.decode()
    assert reverse("annotation:annotator-home") in annotator_page
    assert reverse("annotation:project-list") not in annotator_page
    assert reverse("annotation:project-list") in manager_page


def test_a_label_project_takes_a_completed_jobs_kept_documents_from_the_page(manager: Any, tmp_path: Path) -> None:
    # given a completed curation job that kept two documents, one of them hostile HTML
    output = str(tmp_path / "job-out")
    writer = JsonlZstWriter(JobLayout(output).kept(0))
    writer.write({"id": "k1", "text": "The council met on Tuesday.", "url": "https://example.com/k1", "lang": "en"})
    writer.write({"id": "k2", "text": HOSTILE, "url": "https://example.com/k2", "lang": "en"})
    writer.close()
    job = Job.objects.create(recipe_name="web-default", recipe_yaml="name: x\nsteps: []\n", inputs=["in"],
                             output=output, status=Job.Status.COMPLETED, stage_count=1, shard_count=1)
    project = project_with_items("label", [], name="Label the crawl")

    # when the manager adds the job's kept documents from the project page
    url = reverse("annotation:project-from-job", kwargs={"project_id": project.pk})
    response = _client(manager).post(url, {"job": job.pk, "kept": "kept", "limit": 10})

    # then both are items, reported on the page; an unknown job is a clear error on the form
    assert response.status_code == 200
    assert "2 items imported." in response.content.decode()
    assert sorted(Item.objects.filter(project=project).values_list("external_id", flat=True)) == ["k1", "k2"]
    missing = _client(manager).post(url, {"job": 999_999, "kept": "kept", "limit": 10})
    assert "there is no curation job 999999" in missing.content.decode()


def test_a_service_error_on_a_form_is_shown_in_chinese(manager: Any, project: Project) -> None:
    client = _client(manager)
    members = reverse("annotation:project-members", kwargs={"project_id": project.pk})
    guidelines = reverse("annotation:project-guidelines", kwargs={"project_id": project.pk})
    current = project.current_guideline
    assert current is not None

    unknown = client.post(members, {"username": "nobody", "role": "annotator"}, HTTP_ACCEPT_LANGUAGE="zh-hans")
    same = client.post(guidelines, {"text": current.text}, HTTP_ACCEPT_LANGUAGE="zh-hans")

    assert unknown.status_code == 200 and "用户 &#x27;nobody&#x27; 不存在" in unknown.content.decode()
    assert same.status_code == 200 and "这份标注指南已经是当前版本" in same.content.decode()
    assert project.guidelines.count() == 1


def test_bad_import_lines_are_reported_in_chinese(manager: Any) -> None:
    project = project_with_items("pairwise", [], name="Pairs")
    upload = SimpleUploadedFile("items.jsonl", b'{"id": "p1", "prompt": "Say hi", "responses": []}\n',
                                "application/x-ndjson")

    response = _client(manager).post(reverse("annotation:project-import", kwargs={"project_id": project.pk}),
                                     {"file": upload}, HTTP_ACCEPT_LANGUAGE="zh-hans")

    assert "pairwise 条目需要恰好 2 个回答，此条目有 0 个" in response.content.decode()
    assert not Item.objects.filter(project=project).exists()


def test_an_expired_invite_is_refused_in_chinese(manager: Any, project: Project) -> None:
    invite = invite_create(project, manager, max_uses=1, days=1)
    Invite.objects.filter(pk=invite.pk).update(expires_at="2000-01-01T00:00:00Z")
    joiner = user_ensure("late", PASSWORD)

    response = _client(joiner).post(reverse("annotation:invite-accept", kwargs={"token": invite.token}),
                                    HTTP_ACCEPT_LANGUAGE="zh-hans")

    assert response.status_code == 409 and "此邀请链接已过期" in response.content.decode()
