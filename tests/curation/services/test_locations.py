"""Where jobs may read and write: allowed roots for inputs and outputs, and outputs reserved for one job."""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any

import pytest

from core.errors import ApplicationError, Conflict, PermissionDenied
from curation.models import Job, Shard
from curation.services.jobs import job_plan, job_submit
from curation.services.locations import OUTPUT_MARKER
from curation.services.shards import shard_execute
from tests.fixtures.jobs import write_jsonl

pytestmark = pytest.mark.django_db


@pytest.fixture
def roots(tmp_path: Path, settings: Any) -> tuple[Path, Path]:
    """An allowed folder and a folder beside it that is not allowed."""
    allowed, secret = tmp_path / "allowed", tmp_path / "secret"
    allowed.mkdir()
    secret.mkdir()
    settings.CURATION_ALLOWED_ROOTS = [str(allowed)]
    write_jsonl(allowed / "a.jsonl", [{"id": "1", "text": "public"}])
    write_jsonl(secret / "s.jsonl", [{"id": "1", "text": "secret", "password": "hunter2"}])
    return allowed, secret


def test_an_input_outside_the_allowed_roots_is_refused(roots: tuple[Path, Path]) -> None:
    allowed, secret = roots
    with pytest.raises(PermissionDenied, match="outside the allowed roots") as error:
        job_submit(recipe="extract-only", inputs=[str(secret / "s.jsonl")], output=str(allowed / "out"))
    assert error.value.field == "inputs"
    assert Job.objects.count() == 0


def test_a_dotdot_path_or_a_symlink_out_of_an_allowed_root_is_refused(roots: tuple[Path, Path]) -> None:
    allowed, secret = roots
    (allowed / "link.jsonl").symlink_to(secret / "s.jsonl")
    for path in (str(allowed / "link.jsonl"), f"{allowed}/../secret/s.jsonl"):
        with pytest.raises(PermissionDenied, match="outside the allowed roots"):
            job_submit(recipe="extract-only", inputs=[path], output=str(allowed / "out"))
    assert Job.objects.count() == 0


def test_a_device_is_not_a_regular_file_and_is_refused(settings: Any, tmp_path: Path) -> None:
    settings.CURATION_ALLOWED_ROOTS = ["/"]
    with pytest.raises(PermissionDenied, match="not a regular file"):
        job_submit(recipe="extract-only", inputs=["/dev/zero"], output=str(tmp_path / "out"),
                   reader_overrides={"format": "jsonl"})


def test_a_url_scheme_no_root_names_is_refused(roots: tuple[Path, Path]) -> None:
    allowed, _ = roots
    for url in ("memory://elsewhere/a.jsonl", "file:///etc/passwd", "s3://other-bucket/a.jsonl"):
        with pytest.raises(PermissionDenied, match="outside the allowed roots"):
            job_submit(recipe="extract-only", inputs=[url], output=str(allowed / "out"))


@pytest.mark.parametrize("url", ["http://127.0.0.1:8000/data.jsonl", "http://169.254.169.254/latest/meta-data",
                                 "http://10.1.2.3/a.jsonl", "http://[::1]/a.jsonl", "http://localhost/a.jsonl"])
def test_http_inputs_on_private_addresses_are_refused_even_under_an_allowed_prefix(
        settings: Any, tmp_path: Path, url: str) -> None:
    # given a deployment that (carelessly) allows these prefixes
    prefix = url.rsplit("/", 1)[0] + "/"
    settings.CURATION_ALLOWED_ROOTS = [prefix]
    # when a job names the internal address, then it is refused before anything is fetched
    with pytest.raises(PermissionDenied, match="private or reserved address"):
        job_submit(recipe="extract-only", inputs=[url], output=str(tmp_path / "out"))
    assert Job.objects.count() == 0


def test_a_symlink_inside_an_allowed_folder_input_fails_the_planning(roots: tuple[Path, Path]) -> None:
    # given an allowed folder that holds a link to a file outside the roots
    allowed, secret = roots
    folder = allowed / "crawl"
    folder.mkdir()
    write_jsonl(folder / "ok.jsonl", [{"text": "fine"}])
    (folder / "z.jsonl").symlink_to(secret / "s.jsonl")
    # when the folder is submitted (folders are planned by a task) and planned
    job = job_submit(recipe="extract-only", inputs=[str(folder)], output=str(allowed / "out"))
    job_plan(job.pk)
    # then the job failed naming the link, and no shard reads anything
    job.refresh_from_db()
    assert job.status == Job.Status.FAILED
    assert "z.jsonl" in job.error and "outside the allowed roots" in job.error
    assert not job.shards.exists()


def test_a_worker_checks_the_input_again_before_reading(roots: tuple[Path, Path]) -> None:
    # given a job submitted over an allowed file, which is then swapped for a link to a secret file
    allowed, secret = roots
    job = job_submit(recipe="extract-only", inputs=[str(allowed / "a.jsonl")], output=str(allowed / "out"))
    os.remove(allowed / "a.jsonl")
    (allowed / "a.jsonl").symlink_to(secret / "s.jsonl")
    # when a worker runs the shard
    shard_execute(job.shards.get().pk, "worker-1")
    # then it read nothing and the job failed with the reason, without retries
    job.refresh_from_db()
    assert job.status == Job.Status.FAILED and "outside the allowed roots" in job.error
    assert job.shards.get().attempts == 1
    assert not job.samples.exists()
    assert not (allowed / "out" / "kept").exists()


def test_an_output_outside_the_allowed_roots_is_refused(roots: tuple[Path, Path]) -> None:
    allowed, secret = roots
    with pytest.raises(PermissionDenied, match="outside the allowed roots") as error:
        job_submit(recipe="extract-only", inputs=[str(allowed / "a.jsonl")], output=str(secret / "out"))
    assert error.value.field == "output"
    assert not (secret / "out").exists()


def test_a_relative_output_is_placed_under_the_storage_root(roots: tuple[Path, Path], settings: Any) -> None:
    allowed, _ = roots
    job = job_submit(recipe="extract-only", inputs=[str(allowed / "a.jsonl")], output="runs/first")
    assert job.output == os.path.realpath(f"{settings.STORAGE_ROOT}/runs/first")
    with pytest.raises(PermissionDenied):
        job_submit(recipe="extract-only", inputs=[str(allowed / "a.jsonl")], output="../../../../../etc/x")


def test_the_output_of_an_unfinished_job_stays_reserved_when_its_folder_is_emptied(roots: tuple[Path, Path]) -> None:
    # given a submitted job, whose output folder someone empties (marker included)
    allowed, _ = roots
    first = job_submit(recipe="extract-only", inputs=[str(allowed / "a.jsonl")], output=str(allowed / "out"))
    assert (allowed / "out" / OUTPUT_MARKER).is_file()
    (allowed / "out" / OUTPUT_MARKER).unlink()
    # when a second job asks for the same folder, then the database refuses it
    with pytest.raises(Conflict, match="in use by an unfinished job"):
        job_submit(recipe="extract-only", inputs=[str(allowed / "a.jsonl")], output=str(allowed / "out"))
    assert list(Job.objects.values_list("pk", flat=True)) == [first.pk]


def _submit_racing(barrier: threading.Barrier, inputs: list[str], output: Path, outcomes: list[object]) -> None:
    from django.db import connection

    try:
        barrier.wait()
        outcomes.append(job_submit(recipe="extract-only", inputs=inputs, output=str(output)))
    except ApplicationError as error:
        outcomes.append(error)
    finally:
        connection.close()


@pytest.mark.django_db(transaction=True)
def test_two_simultaneous_submits_to_one_new_folder_exactly_one_wins(roots: tuple[Path, Path]) -> None:
    allowed, _ = roots
    for round_number in range(5):
        # given two engineers submitting to the same new folder at the same instant
        output = allowed / f"shared-{round_number}"
        barrier = threading.Barrier(2)
        outcomes: list[object] = []
        threads = [threading.Thread(target=_submit_racing, args=(barrier, [str(allowed / "a.jsonl")], output,
                                                                 outcomes)) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        # then exactly one job got the folder, and the other was told why
        jobs = [o for o in outcomes if isinstance(o, Job)]
        refused = [o for o in outcomes if isinstance(o, Conflict)]
        assert (len(jobs), len(refused)) == (1, 1), outcomes
        assert Job.objects.filter(output=str(output)).count() == 1
        assert (output / OUTPUT_MARKER).read_text() == f'{{"job": {jobs[0].pk}}}'
        assert Shard.objects.filter(job__output=str(output)).count() == 1
