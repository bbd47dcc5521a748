"""The API's error boundary: application errors become their status and body; others are DRF's business."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework import exceptions as drf_exceptions

from core.api import exception_handler
from core.errors import ApplicationError, Conflict, NotFound, PermissionDenied, Unavailable, ValidationError


@pytest.mark.parametrize(
    ("error", "status", "code"),
    [
        (ValidationError("bad crontab"), 400, "invalid"),
        (PermissionDenied("not yours"), 403, "permission_denied"),
        (NotFound("no such job"), 404, "not_found"),
        (Conflict("output taken"), 409, "conflict"),
        (Unavailable("broker down"), 503, "unavailable"),
    ],
)
def test_each_application_error_gets_its_status_and_code(error: ApplicationError, status: int, code: str) -> None:
    response = exception_handler(error, {})
    assert response is not None
    assert response.status_code == status
    assert response.data == {"detail": str(error), "code": code}


def test_an_error_that_names_a_field_says_which() -> None:
    response = exception_handler(ValidationError("missing.jsonl does not exist", field="inputs"), {})
    assert response is not None
    assert response.data == {"detail": "missing.jsonl does not exist", "code": "invalid", "field": "inputs"}


def test_other_exceptions_are_left_to_drf(rf: Any) -> None:
    # DRF's own errors keep DRF's response; anything else is not handled here (Django answers 500)
    response = exception_handler(drf_exceptions.NotFound(), {"view": None, "request": rf.get("/")})
    assert response is not None and response.status_code == 404
    assert exception_handler(RuntimeError("a bug"), {}) is None
