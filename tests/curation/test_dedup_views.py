"""The console's dedup pages (curation/views.py, curation/selectors.py): cluster sizes, and clusters side by side."""

from __future__ import annotations

import re
from html import unescape
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from curation.models import Job
from curation.selectors import dedup_cluster_documents, job_dedup_steps
from curation.services.jobs import job_run_local, job_submit
from curation.steps.dedup.clusters import cluster_size_histogram, load_cluster, load_clusters
from curation.views import HISTOGRAM_MAX_BARS, _histogram_rows
from tests.fixtures.jobs import write_jsonl

RIVER = (
    "The river rose slowly through the night, and by morning the low fields on the eastern bank were under a "
    "sheet of brown water. Farmers moved their cattle to the ridge above the mill, where the ground stays dry even "
    "in the wettest springs, and the ferryman tied his boat to the old oak and went home to wait for the current "
    "to ease before he would carry anyone across again."
)
BAKERY = (
    "Every morning before dawn the baker on Chapel Street lights the wood oven that her grandfather built from "
    "bricks salvaged after the fire. She bakes rye loaves, seeded rolls and a sweet bread with raisins that the "
    "schoolchildren buy on their way to class, and she keeps a basket of yesterday's bread by the door for anyone "
    "who cannot pay, asking only that they return the basket when it is empty."
)
HARBOUR = (
    "Fishing boats crowd the small harbour in winter, when storms from the north keep the fleet ashore for days at "
    "a time. The crews mend their nets on the quay, repaint the hulls in bright colours and argue about the price "
    "of diesel, while the harbour master walks the breakwater twice a day to check the moorings and to watch the "
    "grey swell roll in against the outer wall of stone."
)
GARDEN = (
    "The community garden behind the library began as a single bed of tomatoes planted by two retired teachers. "
    "Ten years later it has forty plots, a shared tool shed, a compost heap that the local school studies in its "
    "science lessons, and a waiting list of families who would like a patch of earth of their own to grow beans, "
    "herbs and flowers through the long summer months."
)
STATION = (
    "The railway station was rebuilt in glass and steel after the old timber hall burned down, but the clock above "
    "the main entrance was saved from the fire and restored by a watchmaker from the next valley. Commuters still "
    "set their watches by it, and the station staff wind it by hand every Sunday evening, climbing a narrow ladder "
    "behind the face to reach the heavy brass mechanism."
)
MUSEUM = (
    "The museum of local history occupies a former wool warehouse near the canal. Its rooms display looms, ledgers "
    "and photographs of the weavers who once worked there, alongside letters written home by young men who left the "
    "town to find work in the cities. Volunteers lead tours on Saturdays and answer questions from visitors who come "
    "looking for traces of their own ancestors in the archive."
)
LIBRARY_ZH = (
    "图书馆委员会周二开会审议了年度预算和新馆建设计划。委员们一致认为阅览室应当在晚间延长开放时间，"
    "儿童区需要更多用本镇家庭所说语言写成的图书。该提案将在公众有机会发表意见之后，在下次会议上付诸表决。"
    "几位居民来信表示希望有一间安静的自习室，馆长说她会研究所需的费用。"
)


def _edit(text: str, old: str, new: str) -> str:
    """The text with one word replaced: a near duplicate."""
    assert old in text and len(old) == len(new)
    return text.replace(old, new, 1)


def _documents() -> list[dict[str, Any]]:
    """Exact copies (river x3, harbour x2), near copies with one word changed (bakery x3, harbour, Chinese)."""
    return [
        {"id": "river-1", "text": RIVER, "url": "https://example.org/river/1"},
        {"id": "river-2", "text": RIVER, "url": "https://example.org/river/2"},
        {"id": "river-3", "text": RIVER, "url": "https://example.org/river/3"},
        {"id": "bakery", "text": BAKERY, "url": "https://example.org/bakery"},
        {"id": "bakery-edited-a", "text": _edit(BAKERY, "raisins", "walnuts"), "url": "https://example.org/b/a"},
        {"id": "bakery-edited-b", "text": _edit(BAKERY, "Chapel", "Market"), "url": "https://example.org/b/b"},
        {"id": "harbour", "text": HARBOUR, "url": "https://example.org/harbour"},
        {"id": "harbour-copy", "text": HARBOUR, "url": "https://example.org/harbour/copy"},
        {"id": "harbour-edited", "text": _edit(HARBOUR, "diesel", "timber"), "url": "https://example.org/h/e"},
        {"id": "garden", "text": GARDEN},
        {"id": "station", "text": STATION},
        {"id": "museum", "text": MUSEUM},
        {"id": "zh-library", "text": LIBRARY_ZH, "lang": "zh"},
        {"id": "zh-library-edited", "text": _edit(LIBRARY_ZH, "安静", "明亮"), "lang": "zh"},
    ]


@pytest.fixture
def dedup_input(tmp_path: Path) -> Path:
    return write_jsonl(tmp_path / "docs.jsonl", _documents())


def _run(inputs: list[Path], output: Path, dedup_index: str | None = None) -> Job:
    job = job_run_local(job_submit(recipe="dedup-only", inputs=[str(p) for p in inputs], output=str(output),
                                   dedup_index=dedup_index))
    assert job.status == Job.Status.COMPLETED, job.error
    return job


@pytest.fixture
def dedup_job(dedup_input: Path, tmp_path: Path) -> Job:
    return _run([dedup_input], tmp_path / "out")


def _step(job: Job, name: str) -> tuple[int, str, str]:
    return next(step for step in job_dedup_steps(job) if step[1] == name)


def _cluster_url(job: Job, position: int, cluster_id: str) -> str:
    return reverse("curation:job-dedup-cluster", kwargs={"job_id": job.pk, "position": position,
                                                          "cluster_id": cluster_id})


def _histogram_in(html: str, position: int) -> dict[int, int]:
    """The histogram table of one step, read back from the page: {size: clusters}."""
    table = re.search(rf'<table class="data histogram" data-histogram="{position}">(.*?)</table>', html, re.S)
    assert table is not None
    rows = re.findall(r'data-size-low="(\d+)" data-size-high="(\d+)" data-count="(\d+)"', table.group(1))
    assert all(low == high for low, high, _count in rows)
    return {int(low): int(count) for low, _high, count in rows}


def _cells(html: str) -> list[tuple[str, str]]:
    """(kept cell, removed cell) per row of the cluster page's side-by-side table."""
    rows = re.findall(r"<tr data-removed=[^>]*>(.*?)</tr>", html, re.S)
    pairs = []
    for row in rows:
        cells = re.findall(r"<td class=\"(member-kept|member-removed)\"(.*?)</td>", row, re.S)
        assert [kind for kind, _cell in cells] == ["member-kept", "member-removed"]
        pairs.append((cells[0][1], cells[1][1]))
    return pairs


def _text_in(cell: str) -> str:
    match = re.search(r"<pre class=\"sample-text\"[^>]*>(.*?)</pre>", cell, re.S)
    assert match is not None, cell
    return unescape(re.sub(r"</?mark>", "", match.group(1)))


# --- the dedup page -------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_job_page_links_to_the_dedup_page_when_the_recipe_deduplicates(
    engineer_client: Client, dedup_job: Job, dedup_input: Path, tmp_path: Path,
) -> None:
    other = job_run_local(job_submit(recipe="extract-only", inputs=[str(dedup_input)], output=str(tmp_path / "x")))

    with_dedup = engineer_client.get(reverse("curation:job-detail", kwargs={"job_id": dedup_job.pk}))
    without = engineer_client.get(reverse("curation:job-detail", kwargs={"job_id": other.pk}))

    assert reverse("curation:job-dedup", kwargs={"job_id": dedup_job.pk}) in with_dedup.content.decode()
    assert reverse("curation:job-dedup", kwargs={"job_id": other.pk}) not in without.content.decode()


@pytest.mark.django_db
def test_dedup_page_shows_each_steps_summary_and_histogram_of_cluster_sizes(
    engineer_client: Client, dedup_job: Job,
) -> None:
    # given a finished dedup-only job over exact and near copies
    exact_position, _name, exact_dir = _step(dedup_job, "exact_dedup")
    near_position, _name, near_dir = _step(dedup_job, "minhash_dedup")

    # when an engineer opens its dedup page
    response = engineer_client.get(reverse("curation:job-dedup", kwargs={"job_id": dedup_job.pk}))

    # then each step's histogram is the one the step wrote, bar by bar
    assert response.status_code == 200
    html = response.content.decode()
    assert _histogram_in(html, exact_position) == cluster_size_histogram(exact_dir)
    assert _histogram_in(html, near_position) == cluster_size_histogram(near_dir)
    # exact: river x3, harbour x2, nine singletons; near (of the 11 left): bakery x3, harbour x2, zh x2, 4 alone
    assert cluster_size_histogram(exact_dir) == {1: 9, 2: 1, 3: 1}
    assert cluster_size_histogram(near_dir) == {1: 4, 2: 2, 3: 1}
    near = re.search(rf'<section id="step-{near_position}".*?</section>', html, re.S)
    assert near is not None
    assert re.search(r'data-field="docs">11<', near.group(0))
    assert re.search(r'data-field="duplicates">4<', near.group(0))
    assert re.search(r'data-field="clusters">3<', near.group(0))
    assert re.search(r'data-field="largest_cluster">3<', near.group(0))


@pytest.mark.django_db
def test_dedup_page_lists_clusters_largest_first_with_links(engineer_client: Client, dedup_job: Job) -> None:
    position, _name, work_dir = _step(dedup_job, "minhash_dedup")

    response = engineer_client.get(reverse("curation:job-dedup", kwargs={"job_id": dedup_job.pk}))

    html = response.content.decode()
    section = re.search(rf'<section id="step-{position}".*?</section>', html, re.S)
    assert section is not None
    listed = re.findall(r'<tr data-cluster="([^"]+)" data-size="(\d+)">', section.group(0))
    expected = [(cluster.cluster_id, str(cluster.size)) for cluster in load_clusters(work_dir)]
    assert listed == expected
    assert listed[0] == ("bakery", "3")
    assert {cluster_id for cluster_id, _size in listed} == {"bakery", "harbour", "zh-library"}
    for cluster_id, _size in listed:
        assert _cluster_url(dedup_job, position, cluster_id) in html


@pytest.mark.django_db
def test_dedup_page_paginates_each_steps_clusters_on_its_own(
    engineer_client: Client, dedup_job: Job, monkeypatch: pytest.MonkeyPatch,
) -> None:
    # given one cluster per page
    monkeypatch.setattr("curation.views.CLUSTERS_PER_PAGE", 1)
    exact_position, *_ = _step(dedup_job, "exact_dedup")
    near_position, *_ = _step(dedup_job, "minhash_dedup")

    # when the near-duplicate step's list is turned to its third page
    response = engineer_client.get(reverse("curation:job-dedup", kwargs={"job_id": dedup_job.pk}),
                                   {f"page-{near_position}": "3"})

    # then that list shows its third cluster and the exact step's list still shows its first
    html = response.content.decode()
    near = re.search(rf'<section id="step-{near_position}".*?</section>', html, re.S)
    exact = re.search(rf'<section id="step-{exact_position}".*?</section>', html, re.S)
    assert near is not None and exact is not None
    assert re.findall(r'<tr data-cluster="([^"]+)"', near.group(0)) == ["zh-library"]
    assert re.findall(r'<tr data-cluster="([^"]+)"', exact.group(0)) == ["river-1"]
    assert f"page-{near_position}=2" in near.group(0)


def test_histogram_of_many_sizes_groups_large_sizes_by_powers_of_two() -> None:
    # given more distinct sizes than bars
    histogram = {1: 1000, 2: 40, 3: 9, 4: 5, **{size: 1 for size in range(5, 5 + HISTOGRAM_MAX_BARS)}}

    rows = _histogram_rows(histogram)

    # then sizes up to 4 keep a bar each, larger ones share power-of-two bars, and no cluster is lost
    assert [(row["low"], row["high"]) for row in rows] == [(1, 1), (2, 2), (3, 3), (4, 4), (5, 8), (9, 16), (17, 32)]
    assert [row["count"] for row in rows] == [1000, 40, 9, 5, 4, 8, 12]
    assert rows[0]["width"] == "100.0%" and rows[4]["label"] == "5–8"
    assert _histogram_rows({1: 3, 2: 1}) == [
        {"low": 1, "high": 1, "label": "1", "count": 3, "width": "100.0%"},
        {"low": 2, "high": 2, "label": "2", "count": 1, "width": "50.0%"},
    ]


# --- the cluster page -----------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_cluster_page_shows_kept_and_each_removed_text_side_by_side_with_similarity(
    engineer_client: Client, dedup_job: Job,
) -> None:
    position, _name, work_dir = _step(dedup_job, "minhash_dedup")
    cluster = load_cluster(work_dir, "bakery")
    assert cluster is not None

    response = engineer_client.get(_cluster_url(dedup_job, position, "bakery"))

    assert response.status_code == 200
    html = response.content.decode()
    pairs = _cells(html)
    assert len(pairs) == 2 == len(cluster.removed)
    documents = {doc["id"]: doc for doc in _documents()}
    for (kept_cell, removed_cell), member in zip(pairs, cluster.removed, strict=True):
        assert 'data-member="bakery"' in kept_cell
        assert _text_in(kept_cell) == BAKERY
        assert f'data-member="{member.id}"' in removed_cell
        assert _text_in(removed_cell) == documents[member.id]["text"]
        assert f'data-field="similarity">{member.similarity:.4f}<' in removed_cell
        assert documents[member.id]["url"] in removed_cell
        assert 0.8 <= member.similarity < 1.0
    # the changed words are marked on their sides
    marked = dict(zip([m.id for m in cluster.removed], pairs, strict=True))
    assert "<mark>raisins</mark>" in marked["bakery-edited-a"][0]
    assert "<mark>walnuts</mark>" in marked["bakery-edited-a"][1]


@pytest.mark.django_db
def test_cluster_page_shows_exact_copies_and_chinese_text(engineer_client: Client, dedup_job: Job) -> None:
    exact_position, *_ = _step(dedup_job, "exact_dedup")
    near_position, *_ = _step(dedup_job, "minhash_dedup")

    exact = engineer_client.get(_cluster_url(dedup_job, exact_position, "river-1")).content.decode()
    chinese = engineer_client.get(_cluster_url(dedup_job, near_position, "zh-library")).content.decode()

    assert [(_text_in(k), _text_in(r)) for k, r in _cells(exact)] == [(RIVER, RIVER), (RIVER, RIVER)]
    assert re.findall(r'data-field="similarity">([\d.]+)<', exact) == ["1.0000", "1.0000"]
    ((kept_cell, removed_cell),) = _cells(chinese)
    assert _text_in(kept_cell) == LIBRARY_ZH
    assert _text_in(removed_cell) == _edit(LIBRARY_ZH, "安静", "明亮")
    assert 'lang="zh"' in removed_cell
    assert "<mark>明</mark>" in removed_cell or "<mark>明亮</mark>" in removed_cell


@pytest.mark.django_db
def test_cluster_page_escapes_hostile_text_and_takes_ids_with_slashes(
    engineer_client: Client, tmp_path: Path,
) -> None:
    hostile = '<script>alert("x")</script> ' + GARDEN
    path = write_jsonl(tmp_path / "hostile.jsonl", [
        {"id": "https://example.org/a?b=<1>", "text": hostile},
        {"id": "https://example.org/a?b=<2>", "text": hostile},
    ])
    job = _run([path], tmp_path / "hostile-out")
    position, *_ = _step(job, "exact_dedup")

    response = engineer_client.get(_cluster_url(job, position, "https://example.org/a?b=<1>"))

    assert response.status_code == 200
    html = response.content.decode()
    assert '<script>alert("x")</script>' not in html
    assert [(_text_in(k), _text_in(r)) for k, r in _cells(html)] == [(hostile, hostile)]


@pytest.mark.django_db
def test_missing_cluster_or_step_is_404(engineer_client: Client, dedup_job: Job) -> None:
    position, *_ = _step(dedup_job, "minhash_dedup")

    # a removed document names no cluster; no step sits at position 7; no job 999999
    assert engineer_client.get(_cluster_url(dedup_job, position, "bakery-edited-a")).status_code == 404
    assert engineer_client.get(_cluster_url(dedup_job, position, "no-such-cluster")).status_code == 404
    assert engineer_client.get(_cluster_url(dedup_job, 7, "bakery")).status_code == 404
    assert engineer_client.get(reverse("curation:job-dedup", kwargs={"job_id": 999999})).status_code == 404


@pytest.mark.django_db
def test_cluster_of_a_job_without_dedup_steps_is_404(engineer_client: Client, dedup_input: Path,
                                                      tmp_path: Path) -> None:
    job = job_run_local(job_submit(recipe="extract-only", inputs=[str(dedup_input)], output=str(tmp_path / "x")))

    page = engineer_client.get(reverse("curation:job-dedup", kwargs={"job_id": job.pk}))

    assert page.status_code == 200
    assert job_dedup_steps(job) == []
    assert engineer_client.get(_cluster_url(job, 0, "river-1")).status_code == 404


@pytest.mark.django_db
def test_annotator_is_refused_both_dedup_pages(annotator_client: Client, dedup_job: Job) -> None:
    position, *_ = _step(dedup_job, "minhash_dedup")

    page = annotator_client.get(reverse("curation:job-dedup", kwargs={"job_id": dedup_job.pk}))
    cluster = annotator_client.get(_cluster_url(dedup_job, position, "bakery"))

    assert page.status_code in (403, 404)
    assert cluster.status_code in (403, 404)
    assert b"Chapel Street" not in cluster.content


@pytest.mark.django_db
def test_anonymous_user_is_sent_to_log_in_from_both_dedup_pages(client: Client, dedup_job: Job) -> None:
    position, *_ = _step(dedup_job, "minhash_dedup")

    for url in (reverse("curation:job-dedup", kwargs={"job_id": dedup_job.pk}),
                _cluster_url(dedup_job, position, "bakery")):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))


# --- against earlier jobs ---------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_cluster_page_shows_the_earlier_jobs_member_with_a_link_to_that_job(
    engineer_client: Client, tmp_path: Path,
) -> None:
    # given a first job that kept the harbour page in the "news" index, and a second job with a near copy of it
    first_input = write_jsonl(tmp_path / "first.jsonl", [
        {"id": "harbour", "text": HARBOUR, "url": "https://example.org/harbour"},
        {"id": "garden", "text": GARDEN},
    ])
    second_input = write_jsonl(tmp_path / "second.jsonl", [
        {"id": "harbour-edited", "text": _edit(HARBOUR, "diesel", "timber")},
        {"id": "museum", "text": MUSEUM},
    ])
    first = _run([first_input], tmp_path / "first-out", dedup_index="news")
    second = _run([second_input], tmp_path / "second-out", dedup_index="news")
    position, _name, work_dir = _step(second, "minhash_dedup")
    cluster = load_cluster(work_dir, "harbour")
    assert cluster is not None and cluster.kept.job_id == first.pk

    # when an engineer opens the second job's dedup page and the cluster
    page = engineer_client.get(reverse("curation:job-dedup", kwargs={"job_id": second.pk})).content.decode()
    response = engineer_client.get(_cluster_url(second, position, "harbour"))

    # then the kept member is the first job's, linked to that job, with its text from that job's output
    first_url = reverse("curation:job-detail", kwargs={"job_id": first.pk})
    assert f'<a href="{first_url}">' in page
    assert 'data-field="duplicates_of_earlier_jobs">1<' in page
    html = response.content.decode()
    ((kept_cell, removed_cell),) = _cells(html)
    assert f'data-job="{first.pk}"' in kept_cell
    assert f'href="{first_url}" data-earlier-job="{first.pk}"' in kept_cell
    assert _text_in(kept_cell) == HARBOUR
    assert f'data-job="{second.pk}"' in removed_cell
    assert _text_in(removed_cell) == _edit(HARBOUR, "diesel", "timber")


@pytest.mark.django_db
def test_earlier_jobs_member_whose_job_is_gone_is_not_available(engineer_client: Client, tmp_path: Path) -> None:
    # given a second job that removed a copy of what a first job kept, and the first job then deleted
    first_input = write_jsonl(tmp_path / "first.jsonl", [{"id": "station", "text": STATION}])
    second_input = write_jsonl(tmp_path / "second.jsonl", [{"id": "station-again", "text": STATION}])
    first = _run([first_input], tmp_path / "first-out", dedup_index="news")
    second = _run([second_input], tmp_path / "second-out", dedup_index="news")
    first_pk = first.pk
    first.delete()
    position, *_ = _step(second, "exact_dedup")

    page = engineer_client.get(reverse("curation:job-dedup", kwargs={"job_id": second.pk})).content.decode()
    response = engineer_client.get(_cluster_url(second, position, "station"))

    assert f"earlier job #{first_pk} (deleted)" in page
    assert reverse("curation:job-detail", kwargs={"job_id": first_pk}) not in page
    html = response.content.decode()
    ((kept_cell, removed_cell),) = _cells(html)
    assert f'data-job="{first_pk}"' in kept_cell
    assert 'data-field="not-available"' in kept_cell
    assert reverse("curation:job-detail", kwargs={"job_id": first_pk}) not in kept_cell
    assert _text_in(removed_cell) == STATION


@pytest.mark.django_db
def test_documents_of_the_same_id_in_two_jobs_are_told_apart(tmp_path: Path) -> None:
    # given the same input run twice against one index: the second job's copies carry the first job's ids
    path = write_jsonl(tmp_path / "docs.jsonl", [{"id": "bakery", "text": BAKERY}, {"id": "garden", "text": GARDEN}])
    first = _run([path], tmp_path / "first-out", dedup_index="news")
    second = _run([path], tmp_path / "second-out", dedup_index="news")
    position, _name, work_dir = _step(second, "exact_dedup")
    cluster = load_cluster(work_dir, "bakery")
    assert cluster is not None

    documents = dedup_cluster_documents(second, cluster, position=position)

    assert set(documents) == {(first.pk, "bakery"), (second.pk, "bakery")}
    assert documents[(first.pk, "bakery")]["text"] == documents[(second.pk, "bakery")]["text"] == BAKERY
    assert "duplicate_of" in documents[(second.pk, "bakery")]["signals"]
    assert "duplicate_of" not in documents[(first.pk, "bakery")]["signals"]


@pytest.mark.django_db
def test_dedup_pages_in_chinese(engineer_client: Client, dedup_job: Job) -> None:
    position, *_ = _step(dedup_job, "minhash_dedup")
    engineer_client.post(reverse("set_language"), {"language": "zh-hans", "next": "/"})

    job_page = engineer_client.get(reverse("curation:job-detail", kwargs={"job_id": dedup_job.pk})).content.decode()
    page = engineer_client.get(reverse("curation:job-dedup", kwargs={"job_id": dedup_job.pk})).content.decode()
    cluster = engineer_client.get(_cluster_url(dedup_job, position, "bakery")).content.decode()

    assert "重复文档簇" in job_page
    assert "簇大小" in page and "最大簇" in page and "Cluster size" not in page
    assert "估计相似度" in cluster and "Estimated similarity" not in cluster
