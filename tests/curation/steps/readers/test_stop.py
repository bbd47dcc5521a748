"""Reading stops by bytes read, not only by documents: input with no record boundary still ends."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from curation.steps.pipeline import JobLayout, ShardStopped, plan_stages, run_map_shard
from curation.steps.readers import InputSplit, ReaderOptions, ReadErrors, read_split
from curation.steps.readers.files import STOP_CHECK_BYTES
from curation.steps.recipe import parse_recipe


class Stop(Exception):
    pass


def test_a_reader_finding_no_record_still_calls_its_stop_check_by_bytes(tmp_path: Path) -> None:
    # given 4 stop-check intervals of zero bytes with no line break: no document ever comes out
    blank = tmp_path / "blank.jsonl"
    with blank.open("wb") as out:
        out.truncate(4 * STOP_CHECK_BYTES)
    calls: list[int] = []

    def check() -> None:
        calls.append(1)
        if len(calls) == 2:
            raise Stop

    # when it is read with a stop check that stops at its second call
    options = ReaderOptions(format="jsonl", max_record_bytes=1024 * 1024)
    with pytest.raises(Stop):
        list(read_split(InputSplit(str(blank)), options, ReadErrors(), check))
    # then the check was called by bytes read, and reading ended there
    assert len(calls) == 2


@pytest.mark.parametrize("fmt", ["jsonl", "warc"])
def test_a_map_shard_over_dev_zero_ends_when_its_job_is_cancelled(tmp_path: Path, fmt: str) -> None:
    if not os.path.exists("/dev/zero"):
        pytest.skip("no /dev/zero here")
    # given a shard reading /dev/zero (endless input; the submit refuses it, a worker must survive it anyway)
    recipe = parse_recipe("name: r\nsteps:\n  - extract: {}\n", "r")
    checks: list[int] = []

    def cancelled_after_a_while() -> bool:
        checks.append(1)
        return len(checks) >= 3

    # when its job is cancelled, then the shard stops and publishes nothing
    with pytest.raises(ShardStopped):
        run_map_shard(recipe, plan_stages(recipe)[0], layout=JobLayout(str(tmp_path / "out")), shard=0,
                      shard_count=1, job_id=1, split=InputSplit("/dev/zero"),
                      reader_options=ReaderOptions(format=fmt, max_record_bytes=1024 * 1024),
                      should_stop=cancelled_after_a_while)
    assert len(checks) == 3
    assert not (tmp_path / "out" / "kept").exists() or not any((tmp_path / "out" / "kept").iterdir())
