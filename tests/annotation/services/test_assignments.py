"""Leases under concurrency: overlap, one item per person, expiry, late and double submits, skips, serving order."""

from __future__ import annotations

import threading
import time
from collections import Counter
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.db.models import Count, Q
from django.utils import timezone

from annotation.models import Annotation, Assignment, Item
from annotation.services.assignments import (
    assignment_claim_next,
    assignment_heartbeat,
    assignment_skip,
    assignment_submit,
    assignments_reap,
)
from annotation.services.members import membership_set_paused
from core.errors import Conflict, NotFound, ValidationError
from tests.fixtures.annotation import ItemFactory

LIKERT = {"ratings": {"helpfulness": 4, "truthfulness": 5}}


def _expire(assignment: Assignment) -> None:
    Assignment.objects.filter(pk=assignment.pk).update(expires_at=timezone.now() - timedelta(seconds=1))


def _run_threads(count: int, target: Any) -> list[BaseException]:
    errors: list[BaseException] = []
    barrier = threading.Barrier(count)

    def run(index: int) -> None:
        try:
            barrier.wait()
            target(index)
        except BaseException as error:
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return errors


@pytest.mark.django_db(transaction=True)
def test_many_threads_claiming_at_once_never_exceed_overlap_nor_give_an_item_twice(make_project, make_annotators):
    # given a project of 25 items wanted 3 times, and 10 annotators each working from 2 browser tabs at once
    project = make_project("likert", items=25, overlap=3)
    annotators = make_annotators(10, project)
    claimed: list[tuple[int, int]] = []
    lock = threading.Lock()

    def work(index: int) -> None:
        user = annotators[index % len(annotators)]
        while True:
            assignment = assignment_claim_next(user, project)
            if assignment is None:
                return
            with lock:
                claimed.append((assignment.item_id, user.pk))
            assignment_submit(user, assignment.pk, LIKERT, active_seconds=1.0)

    # when 20 threads claim and submit until nothing is left
    errors = _run_threads(20, work)

    # then every item got exactly 3 different annotators, nobody got an item twice, and the counts agree
    assert errors == []
    per_item = Counter(Annotation.objects.values_list("item_id", flat=True))
    assert sorted(per_item.values()) == [3] * 25
    pairs = list(Annotation.objects.values_list("item_id", "annotator_id"))
    assert len(pairs) == len(set(pairs)) == 75
    live = Item.objects.annotate(live=Count("assignments", filter=Q(assignments__status__in=Assignment.LIVE)))
    for item in live:
        assert item.live == item.assigned_count == item.submitted_count == 3


@pytest.mark.django_db(transaction=True)
def test_concurrent_claims_with_leases_held_never_over_assign(make_project, make_annotators):
    # given 3 items wanted twice and 12 annotators who all claim at the same moment and keep their lease
    project = make_project("likert", items=3, overlap=2)
    annotators = make_annotators(12, project)
    got: list[Assignment | None] = [None] * 12

    def claim(index: int) -> None:
        got[index] = assignment_claim_next(annotators[index], project)

    # when
    errors = _run_threads(12, claim)

    # then exactly 6 leases exist, two per item, in distinct slots; the other 6 annotators got nothing
    assert errors == []
    leases = [a for a in got if a is not None]
    assert len(leases) == 6
    assert sorted(Counter(a.item_id for a in leases).values()) == [2, 2, 2]
    assert len({(a.item_id, a.slot) for a in leases}) == 6


@pytest.mark.django_db(transaction=True)
def test_the_same_person_claiming_from_many_tabs_at_once_gets_one_lease(make_project, make_annotators):
    project = make_project("likert", items=5, overlap=1)
    (user,) = make_annotators(1, project)
    got: list[int] = []

    def claim(index: int) -> None:
        assignment = assignment_claim_next(user, project)
        assert assignment is not None
        got.append(assignment.pk)

    errors = _run_threads(8, claim)

    assert errors == []
    assert len(set(got)) == 1
    assert Assignment.objects.filter(annotator=user).count() == 1


@pytest.mark.django_db
def test_an_expired_lease_returns_to_the_queue_and_a_late_submit_gets_409(make_project, make_annotators):
    # given one item wanted once, leased by the first annotator
    project = make_project("likert", items=1, overlap=1)
    first, second = make_annotators(2, project)
    lease = assignment_claim_next(first, project)
    assert assignment_claim_next(second, project) is None

    # when the lease expires without heartbeats, the next claim reaps it and the item goes to the second annotator
    _expire(lease)
    taken = assignment_claim_next(second, project)

    # then
    assert taken is not None and taken.item_id == lease.item_id
    lease.refresh_from_db()
    assert lease.status == Assignment.STATUS_EXPIRED
    with pytest.raises(Conflict):
        assignment_submit(first, lease.pk, LIKERT)
    _, created = assignment_submit(second, taken.pk, LIKERT)
    assert created and Item.objects.get().submitted_count == 1


@pytest.mark.django_db
def test_a_late_submit_is_accepted_while_the_item_still_has_room(make_project, make_annotators):
    project = make_project("likert", items=1, overlap=2)
    (first,) = make_annotators(1, project)
    lease = assignment_claim_next(first, project)
    _expire(lease)
    assert assignments_reap() == 1
    assert Item.objects.get().assigned_count == 0

    _, created = assignment_submit(first, lease.pk, LIKERT)

    assert created
    item = Item.objects.get()
    assert (item.assigned_count, item.submitted_count) == (1, 1)


@pytest.mark.django_db
def test_an_expired_lease_is_never_served_again_to_the_same_person(make_project, make_annotators):
    project = make_project("likert", items=1, overlap=1)
    (first,) = make_annotators(1, project)
    lease = assignment_claim_next(first, project)
    _expire(lease)

    assert assignment_claim_next(first, project) is None


@pytest.mark.django_db(transaction=True)
def test_submitting_twice_at_once_is_counted_once(make_project, make_annotators):
    project = make_project("likert", items=1, overlap=1)
    (user,) = make_annotators(1, project)
    lease = assignment_claim_next(user, project)
    created: list[bool] = []

    def submit(index: int) -> None:
        created.append(assignment_submit(user, lease.pk, LIKERT)[1])

    errors = _run_threads(6, submit)

    assert errors == []
    assert created.count(True) == 1
    assert Annotation.objects.count() == 1
    assert Item.objects.get().submitted_count == 1


@pytest.mark.django_db
def test_submitting_again_returns_the_same_annotation(make_project, make_annotators):
    project = make_project("likert", items=1)
    (user,) = make_annotators(1, project)
    lease = assignment_claim_next(user, project)

    first, created_first = assignment_submit(user, lease.pk, LIKERT)
    again, created_again = assignment_submit(user, lease.pk, {"ratings": {"helpfulness": 1, "truthfulness": 1}})

    assert (created_first, created_again) == (True, False)
    assert again.pk == first.pk and again.payload == LIKERT


@pytest.mark.django_db
def test_skip_frees_the_slot_and_the_item_never_comes_back(make_project, make_annotators):
    project = make_project("likert", items=1, overlap=1)
    first, second = make_annotators(2, project)
    lease = assignment_claim_next(first, project)

    assignment_skip(first, lease.pk, "I cannot judge medical advice")

    lease.refresh_from_db()
    assert lease.status == Assignment.STATUS_SKIPPED and lease.skip_reason == "I cannot judge medical advice"
    assert assignment_claim_next(first, project) is None
    assert assignment_claim_next(second, project).item_id == lease.item_id


@pytest.mark.django_db
def test_skip_needs_a_reason(make_project, make_annotators):
    project = make_project("likert", items=1)
    (user,) = make_annotators(1, project)
    lease = assignment_claim_next(user, project)

    with pytest.raises(ValidationError):
        assignment_skip(user, lease.pk, "  ")


@pytest.mark.django_db
def test_a_paused_member_gets_nothing(make_project, make_annotators):
    project = make_project("likert", items=3)
    (user,) = make_annotators(1, project)
    membership_set_paused(project, user, True)

    assert assignment_claim_next(user, project) is None


@pytest.mark.django_db
def test_a_non_member_cannot_claim(make_project, make_annotators):
    project = make_project("likert", items=3)
    (outsider,) = make_annotators(1)

    with pytest.raises(NotFound):
        assignment_claim_next(outsider, project)


@pytest.mark.django_db
def test_claim_returns_the_lease_already_held(make_project, make_annotators):
    project = make_project("likert", items=3)
    (user,) = make_annotators(1, project)

    assert assignment_claim_next(user, project).pk == assignment_claim_next(user, project).pk


@pytest.mark.django_db
def test_higher_priority_first_then_items_others_started(make_project, make_annotators):
    project = make_project("likert", overlap=2)
    plain = ItemFactory(project=project, external_id="plain")
    started = ItemFactory(project=project, external_id="started")
    urgent = ItemFactory(project=project, external_id="urgent", priority=5)
    first, second, third = make_annotators(3, project)

    assert assignment_claim_next(first, project).item_id == urgent.pk
    assert assignment_claim_next(second, project).item_id == urgent.pk
    Item.objects.filter(pk=started.pk).update(assigned_count=1)  # someone else has begun this one
    assert assignment_claim_next(third, project).item_id == started.pk
    assert plain.pk  # served last


@pytest.mark.django_db
def test_heartbeat_extends_the_lease_and_a_reaped_lease_cannot_beat(make_project, make_annotators):
    project = make_project("likert", items=1, lease_seconds=60)
    (user,) = make_annotators(1, project)
    lease = assignment_claim_next(user, project)
    before = lease.expires_at

    renewed = assignment_heartbeat(user, lease.pk, active_seconds=12.5)
    assert renewed.expires_at >= before
    lease.refresh_from_db()
    assert lease.active_seconds == 12.5

    _expire(lease)
    assignments_reap()
    with pytest.raises(Conflict):
        assignment_heartbeat(user, lease.pk)


@pytest.mark.django_db
def test_submit_records_guideline_version_time_and_display_order(make_project, make_annotators, manager):
    from annotation.services.projects import guideline_publish

    project = make_project("pairwise", items=1)
    guideline_publish(project, "# Compare\nPick the better answer.", manager)
    guideline_publish(project, "# Compare\nPick the better, more truthful answer.", manager)
    (user,) = make_annotators(1, project)
    lease = assignment_claim_next(user, project)

    annotation, _ = assignment_submit(user, lease.pk, {"choice": "a", "strength": 2}, active_seconds=33.0)

    assert annotation.guideline_version == 2
    assert annotation.active_seconds == 33.0
    assert sorted(annotation.display_order) == ["r1", "r2"] and annotation.display_order == lease.display_order


@pytest.mark.django_db(transaction=True)
def test_claims_submits_skips_late_submits_and_reapers_at_once_never_deadlock_nor_over_assign(
        make_project, make_annotators):
    # given 30 items wanted 3 times with one-second leases, 12 annotators each working from 2 tabs at once (the
    # same person's tabs race on one lease), some of whom skip or let their lease expire and submit late, while
    # two reapers return expired leases to the queue
    project = make_project("likert", items=30, overlap=3, lease_seconds=1)
    annotators = make_annotators(12, project)
    done = threading.Event()
    outcomes: Counter[str] = Counter()
    lock = threading.Lock()

    def count(outcome: str) -> None:
        with lock:
            outcomes[outcome] += 1

    def work(index: int) -> None:
        user = annotators[index % len(annotators)]
        for turn in range(1000):
            assignment = assignment_claim_next(user, project)  # anything raised here fails the test
            if assignment is None:
                return
            try:
                if (index + turn) % 7 == 3:
                    assignment_skip(user, assignment.pk, "not my field")
                    count("skipped")
                elif (index + turn) % 11 == 5:
                    time.sleep(1.1)  # the lease expires; a reaper or the next claim returns it to the queue
                    assignment_submit(user, assignment.pk, LIKERT)
                    count("late submitted")
                else:
                    assignment_submit(user, assignment.pk, LIKERT, active_seconds=1.0)
                    count("submitted")
            except Conflict:
                count("refused")  # the other tab skipped or submitted it, or a late lease went to someone else

    def reap(index: int) -> None:
        while not done.is_set():
            if assignments_reap():
                count("reaped")
            time.sleep(0.01)

    def run(index: int) -> None:
        if index < 2:
            reap(index)
        else:
            try:
                work(index - 2)
            finally:
                with lock:
                    outcomes["workers finished"] += 1
                    if outcomes["workers finished"] == 24:
                        done.set()

    # when 24 worker threads and 2 reapers run until nothing is left
    errors = _run_threads(26, run)

    # then no thread failed (no deadlock, no leaked IntegrityError), the paths under test all ran, and the database
    # agrees with itself: live assignments match each item's count within its overlap, in distinct slots, nobody
    # has an item twice, every submitted assignment has one annotation and the submitted counts match
    assert errors == []
    assert outcomes["submitted"] > 0 and outcomes["skipped"] > 0 and outcomes["late submitted"] > 0
    pairs = list(Assignment.objects.values_list("item_id", "annotator_id"))
    assert len(pairs) == len(set(pairs))
    for item in Item.objects.filter(project=project):
        live = list(Assignment.objects.filter(item=item, status__in=Assignment.LIVE).values_list("slot", flat=True))
        submitted = Assignment.objects.filter(item=item, status=Assignment.STATUS_SUBMITTED).count()
        assert len(live) == item.assigned_count <= item.target_overlap
        assert len(set(live)) == len(live) and all(slot < item.target_overlap for slot in live)
        assert submitted == item.submitted_count == Annotation.objects.filter(item=item).count()
    assert not Assignment.objects.filter(status=Assignment.STATUS_SUBMITTED, annotation=None).exists()
