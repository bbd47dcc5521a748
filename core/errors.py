"""The application's errors: raised by services, turned into responses in one place.

A service raises one of these with a message meant for the person who made the request (it is shown as is, and
may be translated with gettext_lazy); the API's exception handler (`core.api.exception_handler`) and the console's
views turn it into a response with `status`. Nothing catches and re-wraps them at call sites.
"""

from __future__ import annotations

from typing import Any


class ApplicationError(Exception):
    """A request that cannot be done, with a message for the user and the HTTP status that says why."""

    status: int = 400
    code: str = "invalid"

    def __init__(self, message: Any, *, field: str | None = None, extra: dict[str, Any] | None = None) -> None:
        super().__init__(str(message))
        self.message = message
        self.field = field
        self.extra = extra or {}


class ValidationError(ApplicationError):
    """The input is malformed or breaks a rule of the domain."""

    status = 400
    code = "invalid"


class PermissionDenied(ApplicationError):
    status = 403
    code = "permission_denied"


class NotFound(ApplicationError):
    status = 404
    code = "not_found"


class Conflict(ApplicationError):
    """The request clashes with the current state (a taken output folder, a lease that went to someone else)."""

    status = 409
    code = "conflict"


class Unavailable(ApplicationError):
    """A service the request needs (broker, storage) cannot be reached; the request may be retried."""

    status = 503
    code = "unavailable"
