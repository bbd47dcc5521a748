"""API pages have a maximum size, whatever `?limit=` asks."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from accounts.services import token_issue
from curation.api import CurationPagination
from curation.models import Job

pytestmark = pytest.mark.django_db


def test_a_huge_limit_is_cut_to_the_maximum_page(engineer: Any) -> None:
    # given more jobs than the largest page
    maximum = CurationPagination.max_limit
    assert maximum is not None
    Job.objects.bulk_create(Job(recipe_name="r", recipe_yaml="", inputs=[], output=f"/tmp/out-{i}",
                                stage_count=2, shard_count=1, status=Job.Status.COMPLETED)
                            for i in range(maximum + 5))
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {token_issue(engineer)}")
    # when a client asks for 100,000 at once, then it gets one maximum page and a link to the next
    body = api.get("/api/v1/jobs/?limit=100000").json()
    assert len(body["results"]) == maximum
    assert body["count"] == maximum + 5 and body["next"]
