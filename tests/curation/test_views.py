"""The data engineers' console (curation/views.py): pages render, forms call the services, annotators are refused."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.urls import URLPattern, reverse
from django_celery_beat.models import PeriodicTask

from accounts.roles import ANNOTATOR, DATA_ENGINEER, TRAINER
from accounts.services import user_ensure
from curation import urls as curation_urls
from curation.models import Job, JobSchedule
from curation.selectors import job_progress
from curation.services.jobs import job_run_local, job_submit
from curation.services.schedules import schedule_create

PASSWORD = "console-test-pass-1"
HOSTILE_TEXT = '<script>alert("x")</script> & <b>bold</b>'

# Every console URL, how to call it, and which object it needs. Kept complete by
# test_every_console_url_is_covered_by_the_access_tests.
CONSOLE_URLS: list[tuple[str, str, str | None]] = [
    ("curation:job-list", "get", None),
    ("curation:job-submit", "get", None),
    ("curation:job-submit", "post", None),
    ("curation:job-detail", "get", "job"),
    ("curation:job-progress", "get", "job"),
    ("curation:job-samples", "get", "job"),
    ("curation:job-cancel", "get", "job"),
    ("curation:job-cancel", "post", "job"),
    ("curation:job-read-errors", "get", "job"),
    ("curation:job-delete", "get", "job"),
    ("curation:job-delete", "post", "job"),
    ("curation:job-dedup-cluster-query", "get", "step"),
    ("curation:schedule-list", "get", None),
    ("curation:schedule-list", "post", None),
    ("curation:schedule-delete", "get", "schedule"),
    ("curation:schedule-delete", "post", "schedule"),
    ("curation:schedule-edit", "get", "schedule"),
    ("curation:schedule-edit", "post", "schedule"),
    ("curation:schedule-pause", "post", "schedule"),
    ("curation:schedule-run", "post", "schedule"),
    ("curation:dedup-index-list", "get", None),
    ("curation:dedup-index-detail", "get", "index"),
    ("curation:dedup-index-delete", "get", "index"),
    ("curation:dedup-index-delete", "post", "index"),
    ("curation:api-docs", "get", None),
    ("curation:job-dedup", "get", "job"),
    ("curation:job-dedup-cluster", "get", "cluster"),
]


ENGLISH = (
    "The committee met on Tuesday to review the annual budget and the plans for the new library. Members agreed "
    "that the reading rooms should stay open later in the evening, and that the children's section needs more "
    "books in the languages spoken by the families who live in the town. The proposal will be put to a vote at "
    "the next meeting, after the public has had a chance to comment on it. Several residents wrote to say that "
    "they would like a quiet room for study, and the librarian said that she would look into the cost of it."
)
CHINESE = "图书馆委员会周二开会审议了年度预算和新馆建设计划。"
# extract, then Gopher's quality rules: a long English page is kept; short, empty and hostile texts are removed.
FILTER_RECIPE = "name: extract-and-gopher\nsteps:\n  - extract: {}\n  - gopher_quality: {}\n"


def _documents() -> list[dict[str, Any]]:
    """A page worth keeping (English), a short Chinese one, an empty one, and one whose text is hostile HTML."""
    return [
        {"id": "doc-en", "text": ENGLISH, "url": "https://example.org/en", "lang": "en"},
        {"id": "doc-zh", "text": CHINESE, "url": "https://example.org/zh", "lang": "zh"},
        {"id": "doc-empty", "text": "", "url": "https://example.org/empty"},
        {"id": "doc-hostile", "text": HOSTILE_TEXT, "url": "https://example.org/<hostile>"},
    ]


@pytest.fixture
def jsonl_input(tmp_path: Path) -> Path:
    path = tmp_path / "input" / "docs.jsonl"
    path.parent.mkdir()
    path.write_text("".join(json.dumps(doc, ensure_ascii=False) + "\n" for doc in _documents()), encoding="utf-8")
    return path


@pytest.fixture
def engineer(db: None) -> Any:
    return user_ensure("engineer", PASSWORD, role=DATA_ENGINEER)


@pytest.fixture
def annotator(db: None) -> Any:
    return user_ensure("annotator", PASSWORD, role=ANNOTATOR)


@pytest.fixture
def pending_job(jsonl_input: Path, tmp_path: Path, engineer: Any) -> Job:
    return job_submit(recipe="extract-only", inputs=[str(jsonl_input)], output=str(tmp_path / "out"), user=engineer)


@pytest.fixture
def finished_job(pending_job: Job) -> Job:
    job = job_run_local(pending_job)
    assert job.status == Job.Status.COMPLETED, job.error
    return job


@pytest.fixture
def filtered_job(jsonl_input: Path, tmp_path: Path, engineer: Any) -> Job:
    """A finished job that removed documents (extract-only keeps every JSON Lines document: it has text)."""
    job = job_submit(recipe=FILTER_RECIPE, inputs=[str(jsonl_input)], output=str(tmp_path / "filtered"), user=engineer)
    job = job_run_local(job)
    assert job.status == Job.Status.COMPLETED, job.error
    return job


@pytest.fixture
def schedule(engineer: Any, jsonl_input: Path, tmp_path: Path) -> JobSchedule:
    return schedule_create(name="nightly", recipe="extract-only", inputs=[str(jsonl_input)],
                           output=str(tmp_path / "nightly"), every_minutes=60, user=engineer)


def _url(name: str, target: str | None, job: Job, schedule: JobSchedule) -> str:
    if target == "job":
        return reverse(name, kwargs={"job_id": job.pk})
    if target == "schedule":
        return reverse(name, kwargs={"schedule_id": schedule.pk})
    if target == "step":
        return reverse(name, kwargs={"job_id": job.pk, "position": 0})
    if target == "index":
        return reverse(name, kwargs={"name": "shared-index"})
    if target == "cluster":
        return reverse(name, kwargs={"job_id": job.pk, "position": 0, "cluster_id": "any"})
    return reverse(name)


# --- access ---------------------------------------------------------------------------------------------------


def test_every_console_url_is_covered_by_the_access_tests() -> None:
    names = {f"curation:{p.name}" for p in curation_urls.urlpatterns if isinstance(p, URLPattern)}
    assert names == {name for name, _method, _target in CONSOLE_URLS}


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "method", "target"), CONSOLE_URLS)
def test_annotator_is_refused_every_console_url_and_changes_nothing(
    annotator_client: Client, pending_job: Job, schedule: JobSchedule, jsonl_input: Path, tmp_path: Path,
    name: str, method: str, target: str | None,
) -> None:
    # given an annotator, a pending job and a schedule
    url = _url(name, target, pending_job, schedule)
    payload = {"recipe": "extract-only", "inputs": str(jsonl_input), "output": str(tmp_path / "annotator-out"),
               "name": "annotator-schedule", "every_minutes": "5"}

    # when the annotator calls the URL
    response = getattr(annotator_client, method)(url, payload if method == "post" else None)

    # then it is refused, and nothing was submitted, cancelled, created or deleted
    assert response.status_code in (403, 404)
    assert b'href="/jobs' not in response.content
    assert Job.objects.count() == 1
    pending_job.refresh_from_db()
    assert pending_job.status == Job.Status.PENDING
    assert list(JobSchedule.objects.values_list("name", flat=True)) == ["nightly"]
    assert PeriodicTask.objects.filter(pk=schedule.periodic_task_id).exists()


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "method", "target"), CONSOLE_URLS)
def test_anonymous_user_is_sent_to_log_in(
    client: Client, pending_job: Job, schedule: JobSchedule, name: str, method: str, target: str | None,
) -> None:
    url = _url(name, target, pending_job, schedule)

    response = getattr(client, method)(url)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.django_db
def test_admin_without_a_role_may_curate(client: Client) -> None:
    client.force_login(user_ensure("admin", PASSWORD, admin=True))

    assert client.get(reverse("curation:job-list")).status_code == 200


@pytest.mark.django_db
def test_trainer_is_refused_the_console(client: Client) -> None:
    client.force_login(user_ensure("trainer", PASSWORD, role=TRAINER))

    assert client.get(reverse("curation:job-list")).status_code == 403


@pytest.mark.django_db
def test_home_sends_a_data_engineer_to_the_job_list(engineer_client: Client) -> None:
    response = engineer_client.get(reverse("home"))

    assert response.status_code == 302
    assert response["Location"] == reverse("curation:job-list")


@pytest.mark.django_db
def test_home_shows_an_annotator_their_page_without_curation_links(annotator_client: Client) -> None:
    response = annotator_client.get(reverse("home"), follow=True)

    assert response.status_code == 200
    assert response.redirect_chain[-1][0] == reverse("annotation:annotator-home")
    assert b'href="/jobs' not in response.content
    assert b'href="/schedules' not in response.content


@pytest.mark.django_db
def test_logging_in_through_the_form_lands_a_data_engineer_on_the_job_list(client: Client, engineer: Any) -> None:
    response = client.post(reverse("login"), {"username": "engineer", "password": PASSWORD}, follow=True)

    assert response.redirect_chain[-1][0] == reverse("curation:job-list")
    assert "Curation jobs" in response.content.decode()


# --- job list -------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_job_list_shows_each_job_with_progress_and_counts(engineer_client: Client, finished_job: Job,
                                                          jsonl_input: Path, tmp_path: Path) -> None:
    # given a finished job and a pending one
    pending = job_submit(recipe="extract-only", inputs=[str(jsonl_input)], output=str(tmp_path / "second"))
    documents = finished_job.stats["documents"]

    # when the list is shown
    response = engineer_client.get(reverse("curation:job-list"))

    # then both are listed with a link, the finished one at 100 % with its kept / read counts
    html = response.content.decode()
    assert response.status_code == 200
    assert reverse("curation:job-detail", kwargs={"job_id": finished_job.pk}) in html
    assert reverse("curation:job-detail", kwargs={"job_id": pending.pk}) in html
    assert reverse("curation:job-submit") in html
    rows = {job.pk: job for job in response.context["page"].object_list}
    assert rows[finished_job.pk].units_done == rows[finished_job.pk].units_total
    assert (rows[finished_job.pk].docs_kept, rows[finished_job.pk].docs_read) == (documents["kept"], documents["read"])
    assert f"{documents['kept']} / {documents['read']}" in html
    assert rows[pending.pk].units_done == 0
    assert rows[pending.pk].units_total == sum(stage["total"] for stage in job_progress(pending)["stages"])


@pytest.mark.django_db
def test_job_list_progress_counts_every_stage_of_a_recipe_with_global_steps(engineer_client: Client,
                                                                          jsonl_input: Path, tmp_path: Path) -> None:
    # given a job whose recipe has global (dedup) steps, hence map, reduce and finish stages, run to the end
    job = job_submit(recipe="dedup-only", inputs=[str(jsonl_input)], output=str(tmp_path / "dedup"))
    pending_total = sum(stage["total"] for stage in job_progress(job)["stages"])
    pending_row = engineer_client.get(reverse("curation:job-list")).context["page"].object_list[0]
    job = job_run_local(job)
    assert job.status == Job.Status.COMPLETED, job.error

    # then the list's unit counts agree with job_progress before and after; documents read are the input's (once,
    # though later map stages read the work documents again), documents kept the job's output
    row = engineer_client.get(reverse("curation:job-list")).context["page"].object_list[0]
    assert job.stage_count > 2
    assert (pending_row.units_done, pending_row.units_total) == (0, pending_total)
    assert row.units_done == row.units_total == pending_total
    assert (row.docs_kept, row.docs_read) == (job.stats["documents"]["kept"], len(_documents()))


@pytest.mark.django_db
def test_job_list_pages_by_fifty(engineer_client: Client) -> None:
    # given 51 jobs (made directly: only their rows matter here)
    Job.objects.bulk_create(
        Job(recipe_name="extract-only", recipe_yaml="steps: [extract]\n", inputs=["/data/in.jsonl"],
            output=f"/data/out-{i}", stage_count=2, shard_count=1)
        for i in range(51)
    )

    first = engineer_client.get(reverse("curation:job-list"))
    second = engineer_client.get(reverse("curation:job-list"), {"page": "2"})

    assert len(first.context["page"].object_list) == 50
    assert "Page 1 of 2" in first.content.decode()
    assert 'href="?page=2"' in first.content.decode()
    assert len(second.context["page"].object_list) == 1
    assert 'href="?page=1"' in second.content.decode()


# --- submit ---------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_submit_page_offers_the_builtin_recipes(engineer_client: Client) -> None:
    response = engineer_client.get(reverse("curation:job-submit"))

    assert response.status_code == 200
    assert '<option value="extract-only">' in response.content.decode()


@pytest.mark.django_db
def test_submitting_the_form_creates_the_job_and_shows_it(engineer_client: Client, engineer: Any,
                                                          jsonl_input: Path, tmp_path: Path) -> None:
    # when a data engineer submits a job over a JSONL file
    response = engineer_client.post(reverse("curation:job-submit"), {
        "recipe": "extract-only", "inputs": f"\n  {jsonl_input}  \n\n", "output": str(tmp_path / "submitted"),
        "format": "jsonl", "text_field": "text", "dedup_index": "",
    })

    # then one pending job exists, created by them, and they are sent to its page
    job = Job.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("curation:job-detail", kwargs={"job_id": job.pk})
    assert job.status == Job.Status.PENDING
    assert job.recipe_name == "extract-only"
    assert job.inputs == [str(jsonl_input)]
    assert job.output == str((tmp_path / "submitted").resolve())
    assert job.created_by == engineer
    assert job.reader_options["format"] == "jsonl"
    assert job.shards.count() == job.shard_count > 0


@pytest.mark.django_db
def test_submitting_pasted_recipe_yaml_runs_that_recipe(engineer_client: Client, jsonl_input: Path,
                                                        tmp_path: Path) -> None:
    recipe = "name: pasted\nsteps:\n  - extract: {}\n"

    response = engineer_client.post(reverse("curation:job-submit"), {
        "recipe": "", "recipe_yaml": recipe, "inputs": str(jsonl_input), "output": str(tmp_path / "pasted"),
    })

    job = Job.objects.get()
    assert response.status_code == 302
    assert job.recipe_name == "pasted"
    assert job.recipe_yaml.strip() == recipe.strip()


@pytest.mark.django_db
def test_submitting_a_missing_input_shows_one_line_error_and_creates_nothing(engineer_client: Client,
                                                                            tmp_path: Path) -> None:
    missing = tmp_path / "nowhere" / "docs.jsonl"

    response = engineer_client.post(reverse("curation:job-submit"), {
        "recipe": "extract-only", "inputs": str(missing), "output": str(tmp_path / "out"),
    })

    # the service's error names the field, so it shows next to the inputs box
    assert response.status_code == 200
    errors = response.context["form"].errors["inputs"]
    assert len(errors) == 1
    assert "\n" not in errors[0]
    assert str(missing) in errors[0]
    assert errors[0] in response.content.decode()
    assert Job.objects.count() == 0


@pytest.mark.django_db
def test_choosing_my_own_recipe_without_yaml_puts_the_error_beside_the_recipe_box(
    engineer_client: Client, jsonl_input: Path,
) -> None:
    response = engineer_client.post(reverse("curation:job-submit"), {
        "recipe": "", "recipe_yaml": "  \n", "inputs": str(jsonl_input),
    })

    assert response.status_code == 200
    assert response.context["form"].errors["recipe_yaml"]
    assert Job.objects.count() == 0


@pytest.mark.django_db
def test_submitting_an_occupied_output_folder_creates_nothing(engineer_client: Client, jsonl_input: Path,
                                                              tmp_path: Path) -> None:
    occupied = tmp_path / "occupied"
    occupied.mkdir()
    (occupied / "kept.jsonl").write_text("{}\n")

    response = engineer_client.post(reverse("curation:job-submit"), {
        "recipe": "extract-only", "inputs": str(jsonl_input), "output": str(occupied),
    })

    assert response.status_code == 200
    assert "already exists" in " ".join(response.context["form"].errors["output"])
    assert Job.objects.count() == 0


# --- detail and progress --------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_job_page_shows_stages_counts_funnel_and_polling_hooks(engineer_client: Client, finished_job: Job) -> None:
    progress = job_progress(finished_job)

    response = engineer_client.get(reverse("curation:job-detail", kwargs={"job_id": finished_job.pk}))

    html = response.content.decode()
    assert response.status_code == 200
    assert f'data-field="documents.kept" id="documents-kept">{progress["documents"]["kept"]}<' in html
    assert f'data-field="documents.read">{progress["documents"]["read"]}<' in html
    assert len(response.context["stages"]) == len(progress["stages"])
    assert [row["name"] for row in response.context["funnel"]] == [row["name"] for row in progress["funnel"]]
    assert html.count('class="funnel-row"') == len(progress["funnel"])
    assert reverse("curation:job-progress", kwargs={"job_id": finished_job.pk}) in html
    assert "curation/console.js" in html
    # A finished job offers no cancel button.
    assert "data-cancel-form hidden" in html


@pytest.mark.django_db
def test_funnel_shows_each_step_scaled_to_the_documents_read_with_removal_reasons(engineer_client: Client,
                                                                                 filtered_job: Job) -> None:
    progress = job_progress(filtered_job)
    gopher = progress["funnel"][2]

    response = engineer_client.get(reverse("curation:job-detail", kwargs={"job_id": filtered_job.pk}))

    # the read row is the full width; each step's kept and removed segments add up to its share of it
    funnel = response.context["funnel"]
    html = response.content.decode()
    assert [row["name"] for row in funnel] == ["read", "extract", "gopher_quality"]
    assert funnel[0]["kept_width"] == "100.00%"
    for row in funnel:
        widths = [float(row["kept_width"].rstrip("%"))] + [float(r["width"].rstrip("%")) for r in row["reasons"]]
        assert abs(sum(widths) - 100 * row["docs_in"] / funnel[0]["docs_in"]) < 0.05
    assert funnel[2]["removed_total"] == sum(gopher["removed"].values()) == gopher["docs_in"] - gopher["kept"] > 0
    # every removal reason is listed and links to its samples
    for reason, count in gopher["removed"].items():
        assert f"?kept=0&amp;reason={reason}" in html
        assert {"reason": reason, "count": count} in [{k: r[k] for k in ("reason", "count")}
                                                      for r in funnel[2]["reasons"]]


@pytest.mark.django_db
def test_pending_job_page_offers_cancel(engineer_client: Client, pending_job: Job) -> None:
    response = engineer_client.get(reverse("curation:job-detail", kwargs={"job_id": pending_job.pk}))

    html = response.content.decode()
    assert response.status_code == 200
    assert reverse("curation:job-cancel", kwargs={"job_id": pending_job.pk}) in html
    assert "data-cancel-form>" in html


@pytest.mark.django_db
def test_missing_job_is_404(engineer_client: Client) -> None:
    assert engineer_client.get(reverse("curation:job-detail", kwargs={"job_id": 999999})).status_code == 404


@pytest.mark.django_db
def test_progress_json_returns_the_job_progress(engineer_client: Client, finished_job: Job) -> None:
    response = engineer_client.get(reverse("curation:job-progress", kwargs={"job_id": finished_job.pk}))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert "no-cache" in response["Cache-Control"]
    assert response.json() == json.loads(json.dumps(job_progress(finished_job)))
    assert response.json()["status"] == "completed"
    assert response.json()["fraction_done"] == 1.0


@pytest.mark.django_db
def test_progress_json_follows_a_running_job(engineer_client: Client, pending_job: Job) -> None:
    before = engineer_client.get(reverse("curation:job-progress", kwargs={"job_id": pending_job.pk})).json()
    job_run_local(pending_job)
    after = engineer_client.get(reverse("curation:job-progress", kwargs={"job_id": pending_job.pk})).json()

    assert (before["status"], before["fraction_done"], before["documents"]["read"]) == ("pending", 0.0, 0)
    assert (after["status"], after["fraction_done"]) == ("completed", 1.0)
    assert after["documents"]["read"] == len(_documents())


# --- cancel ---------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_cancel_button_cancels_a_pending_job(engineer_client: Client, pending_job: Job) -> None:
    response = engineer_client.post(reverse("curation:job-cancel", kwargs={"job_id": pending_job.pk}), follow=True)

    pending_job.refresh_from_db()
    assert pending_job.status == Job.Status.CANCELLED
    assert not pending_job.shards.filter(status="pending").exists()
    assert response.redirect_chain[-1][0] == reverse("curation:job-detail", kwargs={"job_id": pending_job.pk})
    assert f"Job {pending_job.pk} cancelled." in response.content.decode()


@pytest.mark.django_db
def test_cancelling_a_finished_job_leaves_it_finished(engineer_client: Client, finished_job: Job) -> None:
    engineer_client.post(reverse("curation:job-cancel", kwargs={"job_id": finished_job.pk}))

    finished_job.refresh_from_db()
    assert finished_job.status == Job.Status.COMPLETED


@pytest.mark.django_db
def test_cancel_asks_first_and_changes_nothing_on_get(engineer_client: Client, pending_job: Job) -> None:
    response = engineer_client.get(reverse("curation:job-cancel", kwargs={"job_id": pending_job.pk}))

    assert response.status_code == 200
    assert "partial" in response.content.decode()
    pending_job.refresh_from_db()
    assert pending_job.status == Job.Status.PENDING


# --- samples --------------------------------------------------------------------------------------------------


def _samples_page(client: Client, job: Job, **params: str) -> Any:
    return client.get(reverse("curation:job-samples", kwargs={"job_id": job.pk}), params)


@pytest.mark.django_db
def test_samples_page_shows_removed_documents_with_their_reason(engineer_client: Client, filtered_job: Job) -> None:
    # given a job whose filter removed documents
    removed = filtered_job.samples.filter(kept=False, doc_id="doc-empty").get()
    assert removed.removed_by == "gopher_quality"

    # when the removed tab is shown
    response = _samples_page(engineer_client, filtered_job, kept="0")

    # then each removed document shows which step removed it and why, and the reason is offered as a filter
    html = response.content.decode()
    assert response.status_code == 200
    assert "doc-empty" in html
    assert f'<code class="reason">{removed.reason}</code>' in html
    assert f'<code class="removed-by">{removed.removed_by}</code>' in html
    assert f'<option value="{removed.reason}"' in html
    assert "doc-en" not in html


@pytest.mark.django_db
def test_samples_kept_tab_shows_kept_documents_only(engineer_client: Client, filtered_job: Job) -> None:
    response = _samples_page(engineer_client, filtered_job, kept="1")

    assert [row["sample"].doc_id for row in response.context["rows"]] == ["doc-en"]
    assert "The committee met on Tuesday" in response.content.decode()
    assert "Removal reason" not in response.content.decode()


@pytest.mark.django_db
def test_samples_filter_by_reason_shows_only_that_reason(engineer_client: Client, filtered_job: Job) -> None:
    reason = filtered_job.samples.get(doc_id="doc-empty").reason

    response = _samples_page(engineer_client, filtered_job, kept="0", reason=reason)
    other = _samples_page(engineer_client, filtered_job, kept="0", reason="no-such-reason")

    assert response.context["rows"]
    assert {row["sample"].reason for row in response.context["rows"]} == {reason}
    assert other.context["rows"] == []


@pytest.mark.django_db
def test_samples_page_escapes_document_html_and_renders_chinese(engineer_client: Client, filtered_job: Job) -> None:
    # given a job that sampled a document whose text is HTML, and a Chinese one
    assert filtered_job.samples.filter(doc_id__in=["doc-hostile", "doc-zh"]).count() == 2

    # when both tabs are shown
    pages = [_samples_page(engineer_client, filtered_job, kept=kept) for kept in ("0", "1")]

    # then the text is shown as text (escaped), the URL too, and Chinese comes through as UTF-8
    html = "".join(page.content.decode() for page in pages)
    assert all(page["Content-Type"] == "text/html; charset=utf-8" for page in pages)
    assert CHINESE in html
    assert '<script>alert("x")</script>' not in html
    assert "<b>bold</b>" not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &lt;b&gt;bold&lt;/b&gt;" in html
    assert "https://example.org/&lt;hostile&gt;" in html
    assert "<details>" in html


@pytest.mark.django_db
def test_samples_signals_are_pretty_json(engineer_client: Client, filtered_job: Job) -> None:
    response = _samples_page(engineer_client, filtered_job, kept="1")

    row = response.context["rows"][0]
    assert json.loads(row["signals"]) == row["sample"].document["signals"]
    assert "\n  " in row["signals"]


@pytest.mark.django_db
def test_samples_page_in_chinese_sets_the_html_language(engineer_client: Client, filtered_job: Job) -> None:
    engineer_client.post(reverse("set_language"), {"language": "zh-hans", "next": "/"})

    response = _samples_page(engineer_client, filtered_job)

    html = response.content.decode()
    assert '<html lang="zh-hans">' in html
    assert "样本" in html
    assert CHINESE in html


# --- schedules ------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_schedule_page_lists_schedules(engineer_client: Client, schedule: JobSchedule) -> None:
    response = engineer_client.get(reverse("curation:schedule-list"))

    html = response.content.decode()
    assert response.status_code == 200
    assert "nightly" in html
    assert "every 60 minutes" in html
    assert reverse("curation:schedule-delete", kwargs={"schedule_id": schedule.pk}) in html


@pytest.mark.django_db
def test_schedule_page_shows_when_it_last_fired_and_why_the_run_did_not_start(engineer_client: Client,
                                                                              schedule: JobSchedule) -> None:
    # given a schedule whose last run could not start
    fired = datetime(2026, 3, 4, 5, 6, tzinfo=UTC)
    JobSchedule.objects.filter(pk=schedule.pk).update(last_fired_at=fired,
                                                      last_error="input <missing>.jsonl does not exist")

    response = engineer_client.get(reverse("curation:schedule-list"))

    html = response.content.decode()
    assert '<time datetime="2026-03-04T05:06:00+00:00">2026-03-04 05:06</time>' in html
    assert "Could not start:" in html
    assert "input &lt;missing&gt;.jsonl does not exist" in html


@pytest.mark.django_db
def test_creating_an_interval_schedule_creates_a_periodic_task(engineer_client: Client, engineer: Any,
                                                               jsonl_input: Path, tmp_path: Path) -> None:
    response = engineer_client.post(reverse("curation:schedule-list"), {
        "name": "hourly-crawl", "recipe": "extract-only", "inputs": str(jsonl_input),
        "output": str(tmp_path / "hourly"), "every_minutes": "15", "crontab": "", "dedup_index": "web",
    })

    assert response.status_code == 302
    schedule = JobSchedule.objects.select_related("periodic_task__interval").get(name="hourly-crawl")
    task = schedule.periodic_task
    assert task is not None
    assert task.task == "curation.schedule_fire"
    assert json.loads(task.args) == [schedule.pk]
    assert (task.interval.every, task.interval.period) == (15, "minutes")
    assert schedule.created_by == engineer
    assert schedule.dedup_index is not None and schedule.dedup_index.name == "web"


@pytest.mark.django_db
def test_creating_a_crontab_schedule_creates_a_periodic_task(engineer_client: Client, jsonl_input: Path,
                                                             tmp_path: Path) -> None:
    engineer_client.post(reverse("curation:schedule-list"), {
        "name": "nightly-crawl", "recipe": "extract-only", "inputs": str(jsonl_input),
        "output": str(tmp_path / "nightly"), "every_minutes": "", "crontab": "30 2 * * 1-5",
    })

    crontab = JobSchedule.objects.get(name="nightly-crawl").periodic_task.crontab
    assert (crontab.minute, crontab.hour, crontab.day_of_month, crontab.month_of_year, crontab.day_of_week) == (
        "30", "2", "*", "*", "1-5")


@pytest.mark.django_db
def test_schedule_with_both_interval_and_crontab_is_refused(engineer_client: Client, jsonl_input: Path,
                                                            tmp_path: Path) -> None:
    response = engineer_client.post(reverse("curation:schedule-list"), {
        "name": "both", "recipe": "extract-only", "inputs": str(jsonl_input), "output": str(tmp_path / "both"),
        "every_minutes": "5", "crontab": "0 3 * * *",
    })

    assert response.status_code == 200
    assert response.context["form"].non_field_errors()
    assert not JobSchedule.objects.exists()
    assert not PeriodicTask.objects.filter(task="curation.schedule_fire").exists()


@pytest.mark.django_db
def test_schedule_with_a_bad_crontab_shows_the_service_error(engineer_client: Client, jsonl_input: Path,
                                                             tmp_path: Path) -> None:
    response = engineer_client.post(reverse("curation:schedule-list"), {
        "name": "bad", "recipe": "extract-only", "inputs": str(jsonl_input), "output": str(tmp_path / "bad"),
        "crontab": "every night",
    })

    assert response.status_code == 200
    assert "five fields" in " ".join(response.context["form"].errors["crontab"])
    assert not JobSchedule.objects.exists()


@pytest.mark.django_db
def test_deleting_a_schedule_deletes_its_periodic_task(engineer_client: Client, schedule: JobSchedule) -> None:
    task_id = schedule.periodic_task_id

    response = engineer_client.post(reverse("curation:schedule-delete", kwargs={"schedule_id": schedule.pk}))

    assert response.status_code == 302
    assert not JobSchedule.objects.filter(pk=schedule.pk).exists()
    assert not PeriodicTask.objects.filter(pk=task_id).exists()


# --- issue 13: the console as data engineers use it daily ------------------------------------------------------


@pytest.mark.django_db
def test_a_removed_sample_shows_the_deciding_signal_its_value_and_the_threshold(
    engineer_client: Client, filtered_job: Job,
) -> None:
    # given a job whose Gopher quality step removed the short Chinese page for its word count
    sample = filtered_job.samples.filter(kept=False, doc_id="doc-zh").get()
    assert sample.reason == "gopher_word_count"

    # when the removed samples are shown
    response = _samples_page(engineer_client, filtered_job, kept="0", reason="gopher_word_count")

    # then the sample names the signal, its value and the threshold it fell under (min_words = 50 by default)
    rows = {t.param: t for row in response.context["rows"] for t in row["thresholds"]
            if row["sample"].doc_id == "doc-zh"}
    assert rows["min_words"].threshold == 50
    assert rows["min_words"].signal == "gopher_words"
    assert rows["min_words"].value == sample.document["signals"]["gopher_words"] < 50
    assert "min_words" in response.content.decode()
    # and its heading is its URL, not its id; its step is numbered from 1 as in the recipe
    row = next(row for row in response.context["rows"] if row["sample"].doc_id == "doc-zh")
    assert row["heading"] == "https://example.org/zh"
    assert row["step_number"] == 2


@pytest.mark.django_db
def test_a_hostile_sample_url_is_shown_but_never_a_link(engineer_client: Client, filtered_job: Job) -> None:
    sample = filtered_job.samples.filter(kept=False).first()
    assert sample is not None
    sample.url = "javascript:alert(1)"
    sample.save(update_fields=["url"])

    response = _samples_page(engineer_client, filtered_job, kept="0")

    assert 'href="javascript:' not in response.content.decode()
    assert "javascript:alert(1)" in response.content.decode()


def _read_errors(files: int) -> dict[str, Any]:
    """ReadErrors.to_dict() of a crawl of `files` WARC files, each with expected skips and one bad record."""
    per_file = {}
    for i in range(files):
        path = f"/crawl/part-{i:03}.warc.gz"
        per_file[path] = {
            "not_html": {"count": 40 + i, "messages": [f"{path} record at byte 1 (https://x/robots.txt) is text"]},
            "http_status": {"count": 12, "messages": [f"{path} record at byte 9 has HTTP status 301"]},
            "truncated": {"count": 1 + i % 3, "messages": [f"{path}: cut off at byte 77"]},
        }
    return {"total": 0, "by_kind": {}, "files": per_file}


@pytest.mark.django_db
def test_a_sixty_file_jobs_read_errors_are_summarised_by_kind_with_skips_apart(
    engineer_client: Client, finished_job: Job,
) -> None:
    # given a finished job whose 60 input files each had skips and a truncated record
    finished_job.stats["read"]["errors"] = _read_errors(60)
    finished_job.save(update_fields=["stats"])

    # when its page is shown
    response = engineer_client.get(reverse("curation:job-detail", kwargs={"job_id": finished_job.pk}))
    summary = response.context["read_errors"]

    # then errors and expected skips are apart, by kind, each with at most the top 5 files
    assert [row["kind"] for row in summary["errors"]] == ["truncated"]
    assert {row["kind"] for row in summary["skips"]} == {"not_html", "http_status"}
    truncated = summary["errors"][0]
    assert truncated["count"] == sum(1 + i % 3 for i in range(60))
    assert truncated["file_count"] == 60
    assert len(truncated["files"]) == 5
    # and messages do not repeat the file path
    assert truncated["files"][0]["message"] == "cut off at byte 77"
    html = response.content.decode()
    assert html.count("/crawl/part-") <= 5


@pytest.mark.django_db
def test_the_read_errors_download_lists_every_file_and_kind(engineer_client: Client, finished_job: Job) -> None:
    finished_job.stats["read"]["errors"] = _read_errors(60)
    finished_job.save(update_fields=["stats"])

    response = engineer_client.get(reverse("curation:job-read-errors", kwargs={"job_id": finished_job.pk}))

    lines = response.content.decode().strip().splitlines()
    assert lines[0] == "file,kind,expected_skip,count,first_message"
    assert len(lines) == 1 + 60 * 3
    assert "/crawl/part-059.warc.gz,truncated,no,3,cut off at byte 77" in lines


@pytest.mark.django_db
def test_job_page_numbers_stages_and_steps_from_one_and_shows_timing(engineer_client: Client,
                                                                     finished_job: Job) -> None:
    response = engineer_client.get(reverse("curation:job-detail", kwargs={"job_id": finished_job.pk}))

    stages = response.context["stages"]
    assert [stage["number"] for stage in stages] == list(range(1, len(stages) + 1))
    assert stages[0]["steps_label"] == "1. extract"
    timing = response.context["timing"]
    assert timing["finished_at"] == finished_job.finished_at
    assert timing["eta"] is None
    progress = response.context["progress"]["documents"]
    assert progress["read"] == progress["kept"] + progress["removed"] + progress["in_progress"]


@pytest.mark.django_db
def test_a_cancelled_jobs_page_explains_its_partial_output(engineer_client: Client, pending_job: Job) -> None:
    engineer_client.post(reverse("curation:job-cancel", kwargs={"job_id": pending_job.pk}))

    response = engineer_client.get(reverse("curation:job-detail", kwargs={"job_id": pending_job.pk}))

    assert 'id="cancelled-note"' in response.content.decode()


@pytest.mark.django_db
def test_resubmit_fills_the_form_from_the_job(engineer_client: Client, finished_job: Job) -> None:
    response = engineer_client.get(reverse("curation:job-submit"), {"from": str(finished_job.pk)})
    form = response.context["form"]
    assert form.initial["recipe"] == "extract-only"
    assert form.initial["inputs"] == "\n".join(finished_job.inputs)

    response = engineer_client.get(reverse("curation:job-submit"), {"from": str(finished_job.pk), "edit": "1"})
    form = response.context["form"]
    assert form.initial["recipe"] == ""
    assert form.initial["recipe_yaml"] == finished_job.recipe_yaml


@pytest.mark.django_db
def test_submit_form_starts_on_a_builtin_recipe_with_its_description(engineer_client: Client) -> None:
    response = engineer_client.get(reverse("curation:job-submit"))

    assert response.context["form"]["recipe"].value() == "web-default"
    html = response.content.decode()
    assert 'data-recipe-preview="web-default"' in html
    assert "Turn crawled web pages into pretraining text" in html


@pytest.mark.django_db
def test_job_list_filters_by_status_recipe_and_submitter(engineer_client: Client, finished_job: Job,
                                                         pending_job: Job) -> None:
    url = reverse("curation:job-list")
    assert [j.pk for j in engineer_client.get(url, {"status": "completed"}).context["page"]] == [finished_job.pk]
    assert list(engineer_client.get(url, {"recipe": "web-default"}).context["page"]) == []
    assert len(engineer_client.get(url, {"submitter": "engineer"}).context["page"]) == 1
    assert list(engineer_client.get(url, {"submitter": "nobody"}).context["page"]) == []
    rows = engineer_client.get(url, {"fragment": "rows"})
    assert rows.content.decode().lstrip().startswith("<tbody")
    assert "<td>engineer</td>" in rows.content.decode()


@pytest.mark.django_db
def test_schedules_page_says_no_scheduler_runs_and_shows_the_next_run(engineer_client: Client,
                                                                      schedule: JobSchedule) -> None:
    response = engineer_client.get(reverse("curation:schedule-list"))

    html = response.content.decode()
    assert response.context["scheduler_alive"] is False
    assert "No scheduler is running" in html
    assert response.context["schedules"][0]["next_run"] is not None
    # the help text's placeholder is text, not a tag
    assert "run-&lt;timestamp&gt;" in html


@pytest.mark.django_db
def test_schedules_page_sees_a_beat_heartbeat(engineer_client: Client, schedule: JobSchedule) -> None:
    from django.utils import timezone

    from curation.services.workers import SCHEDULER_PREFIX, worker_heartbeat

    worker_heartbeat(f"{SCHEDULER_PREFIX}host:1", 1, timezone.now())

    response = engineer_client.get(reverse("curation:schedule-list"))

    assert response.context["scheduler_alive"] is True
    assert response.context["workers_alive"] is False  # beat is not a worker


@pytest.mark.django_db
def test_a_schedule_can_be_paused_resumed_and_edited(engineer_client: Client, schedule: JobSchedule) -> None:
    pause = reverse("curation:schedule-pause", kwargs={"schedule_id": schedule.pk})
    engineer_client.post(pause, {"paused": "1"})
    schedule.periodic_task.refresh_from_db()
    assert schedule.periodic_task.enabled is False
    assert engineer_client.get(reverse("curation:schedule-list")).context["schedules"][0]["next_run"] is None

    engineer_client.post(pause, {"paused": "0"})
    schedule.periodic_task.refresh_from_db()
    assert schedule.periodic_task.enabled is True

    response = engineer_client.post(reverse("curation:schedule-edit", kwargs={"schedule_id": schedule.pk}), {
        "name": "renamed", "recipe": "extract-only", "inputs": "\n".join(schedule.inputs),
        "output": schedule.output, "crontab": "0 3 * * *",
    })
    assert response.status_code == 302
    schedule.refresh_from_db()
    schedule.periodic_task.refresh_from_db()
    assert schedule.name == "nightly"  # the name is kept
    assert schedule.periodic_task.interval is None
    assert schedule.periodic_task.crontab.hour == "3"


@pytest.mark.django_db
def test_deleting_a_schedule_asks_first(engineer_client: Client, schedule: JobSchedule) -> None:
    url = reverse("curation:schedule-delete", kwargs={"schedule_id": schedule.pk})

    response = engineer_client.get(url)
    assert response.status_code == 200
    assert JobSchedule.objects.filter(pk=schedule.pk).exists()

    engineer_client.post(url)
    assert not JobSchedule.objects.filter(pk=schedule.pk).exists()


@pytest.mark.django_db
def test_dedup_index_pages_list_show_and_delete_after_asking(engineer_client: Client, tmp_path: Path) -> None:
    from curation.services.dedup_indexes import dedup_index_ensure

    index = dedup_index_ensure("shared-index")

    assert [i.name for i in engineer_client.get(reverse("curation:dedup-index-list")).context["indexes"]] == [
        "shared-index"]
    detail = engineer_client.get(reverse("curation:dedup-index-detail", kwargs={"name": index.name}))
    assert detail.context["summary"]["documents"] == 0
    delete = reverse("curation:dedup-index-delete", kwargs={"name": index.name})
    assert engineer_client.get(delete).status_code == 200
    assert engineer_client.post(delete).status_code == 302
    assert engineer_client.get(reverse("curation:dedup-index-list")).context["indexes"].count() == 0


@pytest.mark.django_db
def test_api_docs_page_loads_the_vendored_viewer_on_the_schema(engineer_client: Client) -> None:
    html = engineer_client.get(reverse("curation:api-docs")).content.decode()

    assert "curation/vendor/swagger-ui-bundle.js" in html
    assert f'data-schema-url="{reverse("api-schema")}"' in html
    assert "cdn" not in html.lower()


def test_the_cluster_diff_does_not_mark_where_a_cut_off_text_merely_stops() -> None:
    from curation.views import _diff_segments

    # given the starts of two near-duplicates, one cut off earlier than the other (the page shows the first 1,500
    # characters of each), with one real difference in the middle
    kept = "the reading rooms should stay open later in the evening and the children need more books"
    removed = "the reading rooms should stay open late in the evening and the"

    left, right = _diff_segments(kept, removed, cut_off=True)

    # then the real difference is marked, and the longer text's tail is not
    assert [text for text, differs in left if differs] == ["later"]
    assert [text for text, differs in right if differs] == ["late"]
    assert "".join(text for text, _ in left) == kept
    # without cut_off, the tail counts as a difference
    assert any(differs and "children" in text for text, differs in _diff_segments(kept, removed)[0])


@pytest.mark.django_db
def test_run_now_sends_the_schedule_to_a_worker_on_commit(engineer_client: Client, schedule: JobSchedule,
                                                          django_capture_on_commit_callbacks: Any) -> None:
    from unittest import mock

    url = reverse("curation:schedule-run", kwargs={"schedule_id": schedule.pk})
    with (mock.patch("curation.services.schedules.schedule_fire_task.delay") as delay,
          django_capture_on_commit_callbacks(execute=True) as callbacks):
        response = engineer_client.post(url)

    assert response.status_code == 302
    assert len(callbacks) == 1
    delay.assert_called_once_with(schedule.pk)
