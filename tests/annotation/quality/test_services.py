"""Quality services on PostgreSQL: refresh stores consensus, trust and flags; routing; review; gold; settings."""

from __future__ import annotations

import random

import pytest

from annotation.models import Annotation, Item
from annotation.models_quality import AnnotatorQuality, ItemConsensus, QualitySnapshot, Review
from annotation.selectors_quality import consensus_for_export, effective_payload, quality_dashboard, review_queue
from annotation.services.quality import (
    GOLD_TARGET_OVERLAP,
    gold_promote_unanimous,
    gold_should_serve,
    project_quality_refresh,
    quality_settings_update,
    review_submit,
)
from core.errors import ValidationError
from tests.support.annotation_quality import annotate, make_item, make_project, make_users

pytestmark = pytest.mark.django_db


def _labels(project, users, answers):  # type: ignore[no-untyped-def]
    """answers: {external_id: [label of user 0, label of user 1, ...]}"""
    items = {}
    for external_id, labels in answers.items():
        item = make_item(project, external_id)
        items[external_id] = item
        for user, label in zip(users, labels, strict=True):
            annotate(item, user, {"labels": [label]})
    return items


def test_refresh_stores_consensus_annotator_quality_and_a_snapshot() -> None:
    project = make_project("label")
    users = make_users(3, "qc", project)
    _labels(project, users, {"i1": ["good", "good", "bad"], "i2": ["spam", "spam", "spam"]})

    snapshot = project_quality_refresh(project.pk)

    assert snapshot is not None and snapshot.annotations_count == 6
    consensus = {c.item.external_id: c for c in ItemConsensus.objects.filter(project=project).select_related("item")}
    assert consensus["i1"].value["labels"] == ["good"]
    assert consensus["i1"].agreement == pytest.approx(1 / 3)
    assert consensus["i2"].agreement == 1.0
    contrarian = AnnotatorQuality.objects.get(project=project, annotator=users[2])
    # Disagrees with both others on i1, agrees on i2: rate (0 + 1) / 2.
    assert contrarian.agreement_rate == pytest.approx(0.5)
    assert contrarian.trust == pytest.approx(0.5)
    assert snapshot.data["headline"]["metric"] == "krippendorff_alpha"


def test_refresh_is_safe_to_re_run() -> None:
    project = make_project("label")
    users = make_users(3, "rr", project)
    _labels(project, users, {"i1": ["good", "bad", "bad"]})

    project_quality_refresh(project.pk)
    first = list(ItemConsensus.objects.filter(project=project).values("item_id", "value", "agreement"))
    project_quality_refresh(project.pk)

    assert list(ItemConsensus.objects.filter(project=project).values("item_id", "value", "agreement")) == first
    assert AnnotatorQuality.objects.filter(project=project).count() == 3
    assert QualitySnapshot.objects.filter(project=project).count() == 1


def test_low_agreement_raises_the_overlap_once_then_goes_to_review_at_the_cap() -> None:
    project = make_project("label", overlap=2, max_overlap=3, agreement_threshold=0.9)
    users = make_users(3, "rt", project)
    item = make_item(project, "split")
    agreed = make_item(project, "agreed")
    annotate(item, users[0], {"labels": ["good"]})
    annotate(item, users[1], {"labels": ["bad"]})
    annotate(agreed, users[0], {"labels": ["good"]})
    annotate(agreed, users[1], {"labels": ["good"]})

    project_quality_refresh(project.pk)
    project_quality_refresh(project.pk)  # a re-run before the new annotation arrives raises nothing more

    item.refresh_from_db()
    agreed.refresh_from_db()
    assert item.target_overlap == 3 and agreed.target_overlap == 2
    assert ItemConsensus.objects.get(item=item).route == "more_annotators"

    annotate(item, users[2], {"labels": ["spam"]})
    project_quality_refresh(project.pk)

    item.refresh_from_db()
    consensus = ItemConsensus.objects.get(item=item)
    assert item.target_overlap == 3
    assert consensus.needs_review and consensus.route == "review"
    assert {a.pk for a in review_queue(project)} == set(item.annotations.values_list("pk", flat=True))


def test_an_edit_keeps_the_original_and_counts_in_consensus() -> None:
    project = make_project("label")
    users = make_users(3, "ed", project)
    reviewer = make_users(1, "rev", project, role="reviewer")[0]
    items = _labels(project, users, {"i1": ["good", "bad", "bad"]})
    annotation = Annotation.objects.get(item=items["i1"], annotator=users[2])

    review_submit(reviewer, annotation, "edit", {"labels": ["good"]}, comment="guideline 3")
    project_quality_refresh(project.pk)

    annotation.refresh_from_db()
    assert annotation.payload == {"labels": ["bad"]}  # the original is never overwritten
    assert annotation.status == "edited"
    assert effective_payload(annotation) == {"labels": ["good"]}
    assert Review.objects.get(annotation=annotation).comment == "guideline 3"
    assert ItemConsensus.objects.get(item=items["i1"]).value["labels"] == ["good"]


def test_a_rejected_annotation_leaves_the_consensus() -> None:
    project = make_project("label")
    users = make_users(3, "rj", project)
    items = _labels(project, users, {"i1": ["good", "bad", "bad"]})

    for user in users[1:]:
        review_submit(users[0], Annotation.objects.get(item=items["i1"], annotator=user), "reject")
    project_quality_refresh(project.pk)

    consensus = ItemConsensus.objects.get(item=items["i1"])
    assert consensus.value["labels"] == ["good"] and consensus.n_annotations == 1


def test_review_refuses_a_payload_that_does_not_fit_the_kind_and_changes_nothing() -> None:
    project = make_project("label")
    users = make_users(1, "bad", project)
    annotation = annotate(make_item(project, "i1"), users[0], {"labels": ["good"]})

    with pytest.raises(ValidationError):
        review_submit(users[0], annotation, "edit", {"labels": ["no-such-label"]})
    with pytest.raises(ValidationError):
        review_submit(users[0], annotation, "accept", {"labels": ["good"]})
    with pytest.raises(ValidationError):
        review_submit(users[0], annotation, "approve")

    annotation.refresh_from_db()
    assert annotation.status == "submitted" and not Review.objects.exists()


def test_unanimous_finished_items_are_promoted_to_gold() -> None:
    project = make_project("pairwise", overlap=2, max_overlap=2)
    users = make_users(2, "gp", project)
    agreed = make_item(project, "agreed")
    split = make_item(project, "split")
    annotate(agreed, users[0], {"choice": "a", "strength": 2}, ["r2", "r1"])
    annotate(agreed, users[1], {"choice": "b", "strength": 1}, ["r1", "r2"])
    annotate(split, users[0], {"choice": "a", "strength": 2}, ["r1", "r2"])
    annotate(split, users[1], {"choice": "a", "strength": 2}, ["r2", "r1"])

    assert gold_promote_unanimous(project, min_annotations=2) == 1
    assert gold_promote_unanimous(project, min_annotations=2) == 0

    agreed.refresh_from_db()
    assert agreed.is_gold and agreed.expected == {"winner": "r2"}
    assert agreed.target_overlap == GOLD_TARGET_OVERLAP
    assert not Item.objects.get(pk=split.pk).is_gold


def test_gold_accuracy_lands_in_the_annotator_table() -> None:
    project = make_project("label", overlap=1, max_overlap=1)
    users = make_users(2, "ga", project)
    for n in range(4):
        item = make_item(project, f"g{n}", is_gold=True, expected={"labels": ["good"]},
                         target_overlap=GOLD_TARGET_OVERLAP)
        annotate(item, users[0], {"labels": ["good"]})
        annotate(item, users[1], {"labels": ["good" if n == 0 else "bad"]})

    project_quality_refresh(project.pk)

    rows = {row["username"]: row for row in quality_dashboard(project)["annotators"]}
    assert rows["ga0"]["gold"]["accuracy"] == 1.0 and rows["ga0"]["gold"]["n"] == 4
    assert rows["ga1"]["gold"]["accuracy"] == 0.25
    assert rows["ga1"]["gold"]["wilson_low"] < rows["ga1"]["gold"]["accuracy"] < rows["ga1"]["gold"]["wilson_high"]


def test_gold_should_serve_follows_the_rate() -> None:
    project = make_project("label", gold_rate=0.0)
    user = make_users(1, "gs", project)[0]

    assert not gold_should_serve(project, user, random.Random(0))
    project.gold_rate = 0.5
    assert sum(gold_should_serve(project, user, random.Random(seed)) for seed in range(200)) in range(70, 131)


def test_settings_update_checks_each_value() -> None:
    project = make_project("likert", overlap=2, max_overlap=2)

    settings = quality_settings_update(project, {"likert_tolerance": 1, "weight_by_trust": True,
                                                 "agreement_threshold": 0.5, "max_overlap": 4})

    project.refresh_from_db()
    assert settings.likert_tolerance == 1 and settings.weight_by_trust
    assert project.agreement_threshold == 0.5 and project.max_overlap == 4
    for bad in ({"min_gold_accuracy": 2}, {"max_overlap": 1}, {"weight_by_trust": "yes"}, {"nonsense": 1},
                {"gold_rate": 1.0}):
        with pytest.raises(ValidationError):
            quality_settings_update(project, bad)


def test_trust_weighting_changes_the_stored_consensus() -> None:
    project = make_project("label", overlap=3, max_overlap=3)
    users = make_users(3, "tw", project)
    # ann 0 is right on every gold item, 1 and 2 wrong on all: on the plain item 1 and 2 outvote 0.
    for n in range(6):
        gold = make_item(project, f"g{n}", is_gold=True, expected={"labels": ["good"]})
        for user, label in zip(users, ["good", "bad", "bad"], strict=True):
            annotate(gold, user, {"labels": [label]})
    plain = make_item(project, "plain")
    for user, label in zip(users, ["spam", "bad", "good"], strict=True):
        annotate(plain, user, {"labels": [label]})
    quality_settings_update(project, {"weight_by_trust": True})

    project_quality_refresh(project.pk)

    consensus = ItemConsensus.objects.get(item=plain)
    assert consensus.weighted and consensus.value["labels"] == ["spam"]


def test_consensus_for_export_lists_every_item_with_its_imported_id() -> None:
    project = make_project("label")
    users = make_users(3, "ex", project)
    _labels(project, users, {"a": ["good", "good", "good"], "b": ["bad", "bad", "spam"]})
    project_quality_refresh(project.pk)

    rows = list(consensus_for_export(project))

    assert [(row["external_id"], row["consensus"]["labels"]) for row in rows] == [("a", ["good"]), ("b", ["bad"])]
    assert rows[1]["n_annotations"] == 3


def _claim_and_submit(project, user, n):  # type: ignore[no-untyped-def]
    from annotation.services.assignments import assignment_claim_next, assignment_submit

    served = []
    for _ in range(n):
        assignment = assignment_claim_next(user, project)
        if assignment is None:
            break
        served.append(assignment.item)
        assignment_submit(user, assignment.pk, {"labels": ["good"]}, 10.0)
    return served


def test_the_claim_path_mixes_gold_in_at_the_gold_rate() -> None:
    project = make_project("label", overlap=1, max_overlap=1, gold_rate=0.2)
    user = make_users(1, "claim", project)[0]
    for n in range(40):
        make_item(project, f"plain{n}")
    for n in range(15):
        make_item(project, f"gold{n}", is_gold=True, expected={"labels": ["good"]},
                  target_overlap=GOLD_TARGET_OVERLAP)

    served = _claim_and_submit(project, user, 30)

    gold = [item for item in served if item.is_gold]
    assert len(served) == 30
    assert 4 <= len(gold) <= 8  # 0.2 x 30 = 6; the shortfall rule keeps the count within a couple of it
    assert len({item.pk for item in gold}) == len(gold)


def test_gold_items_are_not_served_when_the_gold_rate_is_zero() -> None:
    project = make_project("label", overlap=1, max_overlap=1, gold_rate=0.0)
    user = make_users(1, "nogold", project)[0]
    make_item(project, "gold", is_gold=True, expected={"labels": ["good"]}, target_overlap=GOLD_TARGET_OVERLAP)
    make_item(project, "plain")

    served = _claim_and_submit(project, user, 3)

    assert [item.external_id for item in served] == ["plain"]


def test_an_annotator_out_of_gold_gets_ordinary_items() -> None:
    project = make_project("label", overlap=1, max_overlap=1, gold_rate=0.9)
    user = make_users(1, "outofgold", project)[0]
    make_item(project, "gold", is_gold=True, expected={"labels": ["good"]}, target_overlap=GOLD_TARGET_OVERLAP)
    for n in range(3):
        make_item(project, f"plain{n}")

    served = _claim_and_submit(project, user, 10)

    assert sorted(item.external_id for item in served) == ["gold", "plain0", "plain1", "plain2"]


def test_imported_gold_items_are_open_to_every_annotator() -> None:
    from annotation.services.items import items_import

    project = make_project("label", overlap=2, max_overlap=2)

    items_import(project, ['{"id": "g", "prompt": "p", "is_gold": true, "expected": {"labels": ["good"]}}',
                           '{"id": "o", "prompt": "p"}'])

    assert Item.objects.get(project=project, external_id="g").target_overlap == GOLD_TARGET_OVERLAP
    assert Item.objects.get(project=project, external_id="o").target_overlap == 2


def test_throughput_adds_annotations_that_arrived_after_the_refresh() -> None:
    from annotation.selectors_quality import project_counts, throughput

    project = make_project("label")
    users = make_users(3, "tp", project)
    _labels(project, users, {"i1": ["good", "good", "bad"]})
    project_quality_refresh(project.pk)
    _labels(project, users, {"i2": ["good", "good", "good"]})

    snapshot = QualitySnapshot.objects.get(project=project)
    points = throughput(project, snapshot)["points"]

    assert sum(point["n"] for point in points) == 6
    assert project_counts(project, snapshot) == {"items": 1, "gold": 0, "finished": 1, "annotations": 6,
                                                 "needs_review": 0}
