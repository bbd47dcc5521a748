"""Read errors (curation/steps/readers/errors.py): counted per file and kind, merged across shards."""

from __future__ import annotations

import json

from curation.steps.readers import ReadErrors


def test_read_errors_merge_and_survive_a_round_trip_through_a_dict() -> None:
    first, second = ReadErrors(), ReadErrors()
    for number in range(7):
        first.add("a.jsonl", "bad_json", f"a.jsonl: line {number} is not valid JSON")
    second.add("a.jsonl", "bad_json", "a.jsonl: line 99 is not valid JSON")
    second.add("b.warc.gz", "truncated", "b.warc.gz: truncated")

    first.merge(ReadErrors.from_dict(json.loads(json.dumps(second.to_dict()))))
    summary = first.to_dict()

    assert summary["total"] == 9
    assert summary["by_kind"] == {"bad_json": 8, "truncated": 1}
    assert summary["files"]["a.jsonl"]["bad_json"]["count"] == 8
    assert len(summary["files"]["a.jsonl"]["bad_json"]["messages"]) == 5
