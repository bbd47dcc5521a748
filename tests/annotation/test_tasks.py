"""The lease reaper runs in a real Celery worker and is on beat's schedule."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from annotation.models import Assignment, Item
from annotation.services.assignments import assignment_claim_next
from annotation.tasks import assignments_reap_task
from tests.fixtures.workers import wait_for
from workers.celery import app


@pytest.mark.django_db(transaction=True)
def test_a_worker_returns_expired_leases_to_the_queue(celery_workers, make_project, make_annotators):
    project = make_project("likert", items=2, overlap=1)
    first, second = make_annotators(2, project)
    expired = assignment_claim_next(first, project)
    live = assignment_claim_next(second, project)
    Assignment.objects.filter(pk=expired.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    worker = celery_workers("reaper", queues="default")

    assignments_reap_task.delay()

    wait_for(lambda: Assignment.objects.get(pk=expired.pk).status == Assignment.STATUS_EXPIRED, 60,
             "the reaper task", [worker])
    assert Item.objects.get(pk=expired.item_id).assigned_count == 0
    assert Assignment.objects.get(pk=live.pk).status == Assignment.STATUS_LEASED


def test_the_reaper_is_on_beats_schedule():
    entries = {entry["task"] for entry in app.conf.beat_schedule.values()}
    assert "annotation.assignments_reap" in entries
