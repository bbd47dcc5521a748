"""The API's error boundary: one DRF exception handler for the application errors of `core.errors`.

Configured as REST_FRAMEWORK["EXCEPTION_HANDLER"]. A service raises e.g. `Conflict("output folder ... exists")`;
the client gets `{"detail": "...", "code": "conflict"}` (plus `"field"` when the error names one) with status 409.
Every other exception goes to DRF's own handler (its validation errors, 401/403/404, and a 500 for the rest).
"""

from __future__ import annotations

from typing import Any

from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from core.errors import ApplicationError


def error_body(error: ApplicationError) -> dict[str, Any]:
    """The JSON body of an application error: detail, code, field when it names one, and the error's `extra`
    (e.g. the writing checks that refused an annotation)."""
    body: dict[str, Any] = {**error.extra, "detail": str(error.message), "code": error.code}
    if error.field:
        body["field"] = error.field
    return body


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """Turn an ApplicationError into its response; leave everything else to DRF's default handler."""
    if isinstance(exc, ApplicationError):
        return Response(error_body(exc), status=exc.status)
    return drf_exception_handler(exc, context)
