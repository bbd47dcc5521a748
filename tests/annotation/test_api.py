"""The annotation API end to end with token auth: claim, submit, heartbeat, skip, drafts, checks, imports,
listing, and who may reach which URL."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from annotation.models import Annotation, Assignment, Item, Project
from annotation.services.members import membership_add
from tests.fixtures.annotation import ItemFactory
from tests.fixtures.jobs import UserFactory

LIKERT = {"ratings": {"helpfulness": 4, "truthfulness": 5}}


def _post(client: Any, url: str, body: dict[str, Any] | None = None) -> Any:
    return client.post(url, body or {}, format="json")


@pytest.mark.django_db
def test_a_token_from_username_and_password_authenticates_the_api(client, make_project, make_annotators):
    project = make_project("likert", items=1)
    (user,) = make_annotators(1, project)

    token = client.post("/api/v1/auth/token/", {"username": user.username, "password": "pass-for-tests"},
                        content_type="application/json")
    wrong = client.post("/api/v1/auth/token/", {"username": user.username, "password": "nope"},
                        content_type="application/json")
    claimed = client.post(f"/api/v1/projects/{project.pk}/assignments/next/",
                          HTTP_AUTHORIZATION=f"Token {token.json()['token']}")
    anonymous = client.post(f"/api/v1/projects/{project.pk}/assignments/next/")

    assert token.status_code == 200 and wrong.status_code == 400
    assert claimed.status_code == 200
    assert anonymous.status_code in (401, 403)


@pytest.mark.django_db
def test_next_serves_the_item_by_its_imported_id_in_the_recorded_order_then_204(
        make_project, make_annotators, api_client_for):
    project = make_project("pairwise")
    ItemFactory(project=project, external_id="cmp-1", responses=[
        {"id": "x", "text": "<script>alert(1)</script>", "model": "gpt"}, {"id": "y", "text": "B", "model": "llama"}])
    (user,) = make_annotators(1, project)
    api = api_client_for(user)

    served = _post(api, f"/api/v1/projects/{project.pk}/assignments/next/")
    body = served.json()
    submitted = _post(api, f"/api/v1/assignments/{body['id']}/submit/",
                      {"payload": {"choice": "a", "strength": 2}, "active_seconds": 9.5})
    done = _post(api, f"/api/v1/projects/{project.pk}/assignments/next/")

    assert served.status_code == 200
    assert body["item"]["id"] == "cmp-1" and body["expires_at"]
    assert [r["id"] for r in body["item"]["responses"]] == body["display_order"]
    assert all(set(r) == {"id", "text"} for r in body["item"]["responses"])  # no model names shown
    assert submitted.status_code == 201
    annotation = Annotation.objects.get()
    assert annotation.display_order == body["display_order"] and annotation.active_seconds == 9.5
    assert done.status_code == 204


@pytest.mark.django_db
def test_submitting_again_answers_the_same_annotation_and_counts_once(make_project, make_annotators, api_client_for):
    project = make_project("likert", items=1)
    (user,) = make_annotators(1, project)
    api = api_client_for(user)
    lease = _post(api, f"/api/v1/projects/{project.pk}/assignments/next/").json()

    first = _post(api, f"/api/v1/assignments/{lease['id']}/submit/", {"payload": LIKERT})
    again = _post(api, f"/api/v1/assignments/{lease['id']}/submit/", {"payload": LIKERT})

    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"]
    assert Item.objects.get().submitted_count == 1 and Annotation.objects.count() == 1


@pytest.mark.django_db
def test_a_late_submit_after_the_item_went_to_someone_else_is_409(make_project, make_annotators, api_client_for):
    project = make_project("likert", items=1, overlap=1)
    first, second = make_annotators(2, project)
    lease = _post(api_client_for(first), f"/api/v1/projects/{project.pk}/assignments/next/").json()
    Assignment.objects.filter(pk=lease["id"]).update(expires_at=timezone.now() - timedelta(seconds=5))
    taken = _post(api_client_for(second), f"/api/v1/projects/{project.pk}/assignments/next/")

    late = _post(api_client_for(first), f"/api/v1/assignments/{lease['id']}/submit/", {"payload": LIKERT})
    beat = _post(api_client_for(first), f"/api/v1/assignments/{lease['id']}/heartbeat/")

    assert taken.status_code == 200 and taken.json()["item"]["id"] == lease["item"]["id"]
    assert late.status_code == 409 and late.json()["code"] == "conflict"
    assert beat.status_code == 409


@pytest.mark.django_db
@pytest.mark.parametrize(("kind", "payload", "field"), [
    ("likert", {"ratings": {"helpfulness": 9, "truthfulness": 1}}, "ratings"),
    ("pairwise", {"choice": "left", "strength": 1}, "choice"),
    ("ranking", {"ranking": [["r1"], ["r2"]]}, "ranking"),
    ("instruction", {"instruction": "", "category": "qa"}, "instruction"),
    ("response", {"text": "wrong key"}, "payload"),
    ("label", {"labels": ["good", "bad"]}, "labels"),
])
def test_a_payload_that_does_not_fit_the_kind_is_400_saying_what_is_wrong(
        make_project, make_annotators, api_client_for, kind, payload, field):
    project = make_project(kind, items=1, pii_policy="off")
    (user,) = make_annotators(1, project)
    api = api_client_for(user)
    lease = _post(api, f"/api/v1/projects/{project.pk}/assignments/next/").json()

    refused = _post(api, f"/api/v1/assignments/{lease['id']}/submit/", {"payload": payload})

    assert refused.status_code == 400
    assert refused.json()["field"] == field and refused.json()["detail"]
    assert Annotation.objects.count() == 0


@pytest.mark.django_db
def test_heartbeat_draft_skip_and_check(make_project, make_annotators, api_client_for):
    project = make_project("response", items=2, pii_policy="block", min_length=10)
    (user,) = make_annotators(1, project)
    api = api_client_for(user)
    lease = _post(api, f"/api/v1/projects/{project.pk}/assignments/next/").json()
    url = f"/api/v1/assignments/{lease['id']}"

    beat = _post(api, f"{url}/heartbeat/", {"active_seconds": 4})
    draft = _post(api, f"{url}/draft/", {"draft": {"response": "half writ"}, "active_seconds": 7})
    check = _post(api, f"{url}/check/", {"payload": {"response": "Write to wang.fang@gmail.com"}})
    blocked = _post(api, f"{url}/submit/", {"payload": {"response": "Write to wang.fang@gmail.com"}})
    reloaded = api.get(f"{url}/")
    skip_without_reason = _post(api, f"{url}/skip/", {"reason": ""})
    skipped = _post(api, f"{url}/skip/", {"reason": "I do not know the topic"})

    assert beat.status_code == 200 and beat.json()["expires_at"]
    assert draft.status_code == 204
    assert [b["code"] for b in check.json()["blocking"]] == ["pii"]
    assert blocked.status_code == 400 and blocked.json()["blocking"][0]["code"] == "pii"
    assert reloaded.json()["draft"] == {"response": "half writ"} and reloaded.json()["active_seconds"] == 7
    assert skip_without_reason.status_code == 400
    assert skipped.status_code == 200 and skipped.json()["status"] == "skipped"
    following = _post(api, f"/api/v1/projects/{project.pk}/assignments/next/").json()
    assert following["item"]["id"] != lease["item"]["id"]


@pytest.mark.django_db
def test_a_manager_creates_a_project_imports_items_adds_members_and_lists_annotations(
        manager, make_annotators, api_client_for):
    api = api_client_for(manager)
    created = _post(api, "/api/v1/projects/", {"name": "Rate answers", "kind": "likert", "overlap": 2,
                                               "criteria": ["helpfulness", "harmlessness"], "scale": 7,
                                               "guideline": "# Rate\nBe fair."})
    project_id = created.json()["id"]
    lines = "\n".join([json.dumps({"id": "a", "prompt": "Q1", "responses": [{"id": "r", "text": "A1"}]}),
                       "{broken", json.dumps({"id": "b", "prompt": "Q2", "responses": []})])
    imported = _post(api, f"/api/v1/projects/{project_id}/items/", {"jsonl": lines})
    (annotator,) = make_annotators(1)
    added = _post(api, f"/api/v1/projects/{project_id}/members/", {"username": annotator.username})
    worker = api_client_for(annotator)
    lease = _post(worker, f"/api/v1/projects/{project_id}/assignments/next/").json()
    _post(worker, f"/api/v1/assignments/{lease['id']}/submit/",
          {"payload": {"ratings": {"helpfulness": 7, "harmlessness": 6}}, "active_seconds": 3})
    listing = api.get(f"/api/v1/projects/{project_id}/annotations/?limit=10")
    detail = worker.get(f"/api/v1/projects/{project_id}/")

    assert created.status_code == 201 and created.json()["guideline_version"] == 1
    assert imported.status_code == 201
    assert imported.json() == {"imported": 1, "errors": [
        {"line": 2, "reason": imported.json()["errors"][0]["reason"]},
        {"line": 3, "reason": "likert items need 1 to 100 responses, this one has 0"}]}
    assert added.status_code == 201
    page = listing.json()
    assert page["count"] == 1
    (row,) = page["results"]
    assert row["item"] == {"id": "a"} and row["annotator"] == annotator.username
    assert row["payload"] == {"ratings": {"helpfulness": 7, "harmlessness": 6}} and row["active_seconds"] == 3
    assert row["guideline_version"] == 1 and row["created_at"]
    assert detail.json()["progress"]["submitted"] == 1 and detail.json()["guideline"] == "# Rate\nBe fair."
    assert detail.json()["kind"] == "likert" and detail.json()["scale"] == 7


@pytest.mark.django_db
def test_the_openapi_schema_lists_the_annotation_endpoints(engineer_client):
    schema = engineer_client.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    for path in ("/api/v1/auth/token/", "/api/v1/projects/{project_id}/assignments/next/",
                 "/api/v1/assignments/{assignment_id}/submit/", "/api/v1/projects/{project_id}/annotations/"):
        assert path in schema["paths"]


# --- who may reach which URL -------------------------------------------------------------------------------

MANAGER_ONLY = [
    ("get", "/api/v1/projects/{p}/items/"),
    ("post", "/api/v1/projects/{p}/items/"),
    ("post", "/api/v1/projects/{p}/items/from-job/"),
    ("get", "/api/v1/projects/{p}/members/"),
    ("post", "/api/v1/projects/{p}/members/"),
    ("post", "/api/v1/projects/{p}/members/import/"),
    ("patch", "/api/v1/projects/{p}/members/ann0/"),
    ("post", "/api/v1/projects/{p}/invites/"),
    ("post", "/api/v1/projects/{p}/guidelines/"),
    ("patch", "/api/v1/projects/{p}/"),
    ("get", "/api/v1/projects/{p}/annotations/"),
]
MEMBER = [
    ("get", "/api/v1/projects/{p}/"),
    ("post", "/api/v1/projects/{p}/assignments/next/"),
]
OWN_ASSIGNMENT = [
    ("get", "/api/v1/assignments/{a}/"),
    ("post", "/api/v1/assignments/{a}/submit/"),
    ("post", "/api/v1/assignments/{a}/heartbeat/"),
    ("post", "/api/v1/assignments/{a}/draft/"),
    ("post", "/api/v1/assignments/{a}/skip/"),
    ("post", "/api/v1/assignments/{a}/check/"),
]
CURATION = [("get", "/api/v1/jobs/"), ("post", "/api/v1/jobs/"), ("get", "/api/v1/recipes/"),
            ("get", "/api/v1/dedup-indexes/"), ("get", "/api/v1/jobs/1/")]


@pytest.fixture
def two_projects(make_project, make_annotators) -> dict[str, Any]:
    mine = make_project("likert", items=2)
    theirs = make_project("likert", items=2)
    me, other = make_annotators(2)
    membership_add(mine, me)
    membership_add(theirs, other)
    from annotation.services.assignments import assignment_claim_next

    their_lease = assignment_claim_next(other, theirs)
    return {"mine": mine, "theirs": theirs, "me": me, "other": other, "their_lease": their_lease}


def _call(api: Any, method: str, url: str) -> int:
    return getattr(api, method)(url, {}, format="json").status_code


@pytest.mark.django_db
@pytest.mark.parametrize(("method", "url"), MANAGER_ONLY)
def test_a_member_annotator_gets_403_on_manager_urls_of_their_project(two_projects, api_client_for, method, url):
    api = api_client_for(two_projects["me"])
    assert _call(api, method, url.format(p=two_projects["mine"].pk)) == 403


@pytest.mark.django_db
@pytest.mark.parametrize(("method", "url"), MANAGER_ONLY + MEMBER)
def test_an_annotator_gets_404_on_every_url_of_a_project_they_are_not_in(two_projects, api_client_for, method, url):
    api = api_client_for(two_projects["me"])
    assert _call(api, method, url.format(p=two_projects["theirs"].pk)) == 404


@pytest.mark.django_db
@pytest.mark.parametrize(("method", "url"), OWN_ASSIGNMENT)
def test_another_persons_assignment_is_404(two_projects, api_client_for, method, url):
    api = api_client_for(two_projects["me"])
    assert _call(api, method, url.format(a=two_projects["their_lease"].pk)) == 404


@pytest.mark.django_db
@pytest.mark.parametrize(("method", "url"), CURATION)
def test_an_annotator_gets_403_on_every_curation_api_url(two_projects, api_client_for, method, url):
    api = api_client_for(two_projects["me"])
    assert _call(api, method, url) == 403


@pytest.mark.django_db
@pytest.mark.parametrize(("method", "url"), MANAGER_ONLY + MEMBER)
def test_a_data_engineer_sees_no_annotation_project(two_projects, api_client_for, method, url):
    api = api_client_for(UserFactory(username="eng", role="data_engineer"))
    assert _call(api, method, url.format(p=two_projects["mine"].pk)) == 404


@pytest.mark.django_db
def test_project_lists_show_annotators_only_their_projects(two_projects, api_client_for, manager):
    mine = api_client_for(two_projects["me"]).get("/api/v1/projects/").json()
    everything = api_client_for(manager).get("/api/v1/projects/").json()
    creating = _post(api_client_for(two_projects["me"]), "/api/v1/projects/", {"name": "x", "kind": "likert"})

    assert [p["id"] for p in mine["results"]] == [two_projects["mine"].pk]
    assert everything["count"] == Project.objects.count() == 2
    assert creating.status_code == 403


@pytest.mark.django_db
def test_check_runs_on_a_draft_that_is_not_a_complete_payload_yet(make_project, make_annotators, api_client_for):
    project = make_project("instruction", items=1, instruction_format="few_shot", min_length=30, pii_policy="off")
    (user,) = make_annotators(1, project)
    api = api_client_for(user)
    lease = _post(api, f"/api/v1/projects/{project.pk}/assignments/next/").json()

    checked = _post(api, f"/api/v1/assignments/{lease['id']}/check/", {"payload": {"instruction": "Too short"}})
    refused = _post(api, f"/api/v1/assignments/{lease['id']}/check/", {"payload": {"instruction": 42}})

    assert checked.status_code == 200 and [b["code"] for b in checked.json()["blocking"]] == ["too_short"]
    assert refused.status_code == 400


@pytest.mark.django_db
def test_managers_upload_items_and_members_as_files(manager, make_project, api_client_for):
    from django.core.files.uploadedfile import SimpleUploadedFile

    project = make_project("response")
    api = api_client_for(manager)
    items_file = SimpleUploadedFile("items.jsonl", "\n".join([
        json.dumps({"id": "u1", "prompt": "解释一下光合作用。"}, ensure_ascii=False), "not json"]).encode("utf-8"))
    members_file = SimpleUploadedFile("members.csv", b"username,password\nli,long-enough-pass\n,\n")

    items = api.post(f"/api/v1/projects/{project.pk}/items/", {"file": items_file}, format="multipart")
    members = api.post(f"/api/v1/projects/{project.pk}/members/import/", {"file": members_file}, format="multipart")

    assert items.status_code == 201 and items.json()["imported"] == 1
    assert [e["line"] for e in items.json()["errors"]] == [2]
    assert Item.objects.get(project=project).prompt == "解释一下光合作用。"
    assert members.status_code == 201 and members.json()["added"] == ["li"]
    assert [e["line"] for e in members.json()["errors"]] == [3]


@pytest.mark.django_db
def test_a_malformed_ranking_is_refused_in_the_annotators_language(make_project, make_annotators, api_client_for):
    project = make_project("ranking", items=1)
    (user,) = make_annotators(1, project)
    api = api_client_for(user)
    lease = _post(api, f"/api/v1/projects/{project.pk}/assignments/next/").json()
    first = lease["display_order"][0]
    others = [r for r in ("r1", "r2", "r3", "r4") if r != first]  # named in the item's order, not the display's
    url = f"/api/v1/assignments/{lease['id']}/submit/"

    chinese = api.post(url, {"payload": {"ranking": [[first]]}}, format="json", HTTP_ACCEPT_LANGUAGE="zh-hans")
    english = api.post(url, {"payload": {"ranking": [[first]]}}, format="json")

    assert chinese.status_code == 400
    assert chinese.json() == {"detail": f"ranking 漏掉了回答：{', '.join(others)}", "code": "invalid",
                              "field": "ranking"}
    assert english.json()["detail"] == f"ranking leaves out responses: {', '.join(others)}"
    assert Annotation.objects.count() == 0


@pytest.mark.django_db
def test_a_lease_lost_to_someone_else_is_explained_in_chinese(make_project, make_annotators, api_client_for):
    project = make_project("likert", items=1, overlap=1)
    first, second = make_annotators(2, project)
    api = api_client_for(first)
    lease = _post(api, f"/api/v1/projects/{project.pk}/assignments/next/").json()
    Assignment.objects.filter(pk=lease["id"]).update(expires_at=timezone.now() - timedelta(seconds=5))
    _post(api_client_for(second), f"/api/v1/projects/{project.pk}/assignments/next/")
    url = f"/api/v1/assignments/{lease['id']}"

    late = api.post(f"{url}/submit/", {"payload": LIKERT}, format="json", HTTP_ACCEPT_LANGUAGE="zh-hans")
    beat = api.post(f"{url}/heartbeat/", {}, format="json", HTTP_ACCEPT_LANGUAGE="zh-hans")

    assert late.status_code == 409 and late.json()["detail"] == "任务已超时，该条目已分配给其他人"
    assert beat.status_code == 409 and beat.json()["detail"] == "此任务已失效（已超时）"


@pytest.mark.django_db
def test_writing_checks_import_reasons_and_guards_answer_in_chinese(make_project, make_annotators, manager,
                                                                   api_client_for):
    project = make_project("response", items=1, pii_policy="off", min_length=10)
    (user,) = make_annotators(1, project)
    api = api_client_for(user)
    lease = _post(api, f"/api/v1/projects/{project.pk}/assignments/next/").json()
    lines = json.dumps({"id": "x", "prompt": "Q", "responses": [{"id": "r", "text": "A"}]})

    check = api.post(f"/api/v1/assignments/{lease['id']}/check/", {"payload": {"response": "Too short"}},
                     format="json", HTTP_ACCEPT_LANGUAGE="zh-hans")
    imported = api_client_for(manager).post(f"/api/v1/projects/{project.pk}/items/", {"jsonl": lines},
                                            format="json", HTTP_ACCEPT_LANGUAGE="zh-hans")
    refused = api.get(f"/api/v1/projects/{project.pk}/items/", HTTP_ACCEPT_LANGUAGE="zh-hans")

    assert check.json()["blocking"] == [{"code": "too_short", "message": "请至少写 10 个字符（目前 9 个）"}]
    assert imported.json()["errors"] == [{"line": 1, "reason": "response 条目不接受 responses"}]
    assert refused.status_code == 403 and refused.json()["detail"] == "只有项目经理可以执行此操作"
