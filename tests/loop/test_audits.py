"""Audits: sampling a finished job's steps into a label project, and precision from people's labels."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest

from annotation.models import Item
from core.errors import ValidationError
from loop.models import AuditSample
from loop.services.audits import audit_create, audit_results
from tests.support.annotation_quality import annotate, make_users
from tests.support.loop_jobs import finished_job

pytestmark = pytest.mark.django_db


def _wilson(k: int, n: int, z: float = 1.959963984540054) -> tuple[float, float]:
    """Wilson (1927) score interval, written out: centre and half-width around the adjusted proportion."""
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return round(centre - half, 4), round(centre + half, 4)


@pytest.fixture
def job(tmp_path: Path) -> Any:
    return finished_job(tmp_path)


def test_audit_samples_each_decision_stratified_and_reproducibly(job: Any) -> None:
    first = audit_create(job, steps=["gopher_repetition"], half_width=0.2, seed=3)
    again = audit_create(job, steps=["gopher_repetition"], half_width=0.2, seed=3)
    other = audit_create(job, steps=["gopher_repetition"], half_width=0.2, seed=4)

    def drawn(audit: Any) -> list[tuple[str, str]]:
        return sorted(AuditSample.objects.filter(audit=audit).values_list("decision", "doc_id"))

    assert drawn(first) == drawn(again)
    assert drawn(first) != drawn(other)
    # 20 removed and 40 kept by the step: Cochran's 25 with the finite-population correction gives 12 and 16.
    decisions = [d for d, _ in drawn(first)]
    assert decisions.count("removed") == 12
    assert decisions.count("kept") == 16
    # Every (language, reason) stratum of the removals is represented.
    strata = {(s["lang"], s["reason"]) for s in first.strata if s["decision"] == "removed"}
    sampled = set(AuditSample.objects.filter(audit=first, decision="removed").values_list("lang", "reason"))
    assert sampled == strata and len(strata) >= 2
    assert first.project.kind == "label" and first.project.overlap == 3
    assert first.project.source_job_id == job.pk


def test_audit_items_show_text_and_url_but_no_signals(job: Any) -> None:
    audit = audit_create(job, steps=["gopher_quality"], half_width=0.2, seed=1)
    sample = AuditSample.objects.filter(audit=audit).select_related("item").first()
    assert sample is not None
    item = sample.item
    assert item.metadata == {"url": sample.url}
    assert sample.url.startswith("https://example.org/")
    assert "Reference number" in item.prompt
    gold = Item.objects.filter(project=audit.project, is_gold=True)
    assert gold.count() == 4
    assert all(g.expected == {"labels": ["junk"]} for g in gold)


def test_audit_refuses_an_unknown_step(job: Any) -> None:
    with pytest.raises(ValidationError, match="no step 'nope'"):
        audit_create(job, steps=["nope"])


def test_precision_matches_hand_computed_figures(job: Any) -> None:
    audit = audit_create(job, steps=["gopher_repetition"], half_width=0.2, seed=3)
    people = make_users(3, "labeller", audit.project)
    samples = list(AuditSample.objects.filter(audit=audit).select_related("item").order_by("doc_id"))
    expected = {"removed": [0, 0], "kept": [0, 0]}
    for number, sample in enumerate(samples):
        truth = "junk" if sample.doc_id.startswith("junk") else "good"
        wrong = "good" if truth == "junk" else "junk"
        if number % 5 == 4:
            votes = [truth]  # one vote only: no majority yet, not counted
        elif number % 5 == 3:
            votes = [wrong, wrong, truth]  # people overrule the planted truth
        else:
            votes = [truth, truth, wrong if number % 2 else truth]
        for person, label in zip(people, votes, strict=False):
            annotate(sample.item, person, {"labels": [label]})
        if len(votes) >= 2:
            majority = max(set(votes), key=votes.count)
            expected[sample.decision][0] += int(majority == "junk")
            expected[sample.decision][1] += 1

    results = audit_results(audit)

    (step,) = results["steps"]
    k, n = expected["removed"]
    assert (step["removal_precision"]["k"], step["removal_precision"]["n"]) == (k, n)
    assert step["removal_precision"]["value"] == round(k / n, 4)
    assert (step["removal_precision"]["low"], step["removal_precision"]["high"]) == _wilson(k, n)
    k, n = expected["kept"]
    assert (step["kept_junk_rate"]["k"], step["kept_junk_rate"]["n"]) == (k, n)
    assert (step["kept_junk_rate"]["low"], step["kept_junk_rate"]["high"]) == _wilson(k, n)
    assert sum(r["removal_precision"]["n"] for r in step["reasons"]) == expected["removed"][1]
    assert results["agreement"]["value"] is not None and results["agreement"]["value"] < 1
    audit.refresh_from_db()
    assert audit.results_at is not None


def test_whatif_gives_the_audited_precision_at_a_threshold(job: Any) -> None:
    from loop.services.recipes import whatif_run

    audit = audit_create(job, steps=["gopher_repetition"], half_width=0.2, seed=3)
    people = make_users(2, "whatif-labeller", audit.project)
    for sample in AuditSample.objects.filter(audit=audit).select_related("item"):
        for person in people:
            annotate(sample.item, person, {"labels": ["junk" if sample.doc_id.startswith("junk") else "good"]})
    step = audit_results(audit)["steps"][0]

    unchanged = whatif_run(job, "gopher_repetition", {}, audit)
    assert unchanged.precision is not None
    assert unchanged.precision["removal_precision"] == step["removal_precision"]
    assert unchanged.precision["kept_junk_rate"] == step["kept_junk_rate"]

    # Loosened until it removes nothing: no removal left to measure, and the junk it let through shows as kept.
    loose = {"max_dup_line_frac": None, "max_dup_para_frac": None, "max_dup_line_char_frac": None,
             "max_dup_para_char_frac": None, "max_top_ngram_char_frac": [], "max_dup_ngram_char_frac": []}
    loose["per_language"] = {"zh": dict(loose)}  # Chinese has its own built-in thresholds
    moved = whatif_run(job, "gopher_repetition", loose, audit)
    assert moved.precision is not None
    assert moved.precision["removal_precision"]["n"] == 0
    assert moved.precision["kept_junk_rate"]["k"] == step["removal_precision"]["k"] + step["kept_junk_rate"]["k"]
