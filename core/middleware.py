"""The console's error boundary: an ApplicationError raised by a service in a view becomes an error page.

The page (core/error.html, inside the site's layout) shows the error's message with its HTTP status. Views that
show a form catch nothing either: `form_errors` (core.forms) puts the message on the form instead, where the
person can correct their input. API views never get here: DRF's handler (core.api) answers them first.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from core.errors import ApplicationError


class ApplicationErrorMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, ApplicationError):
            return None
        return render(request, "core/error.html", {"error": exception}, status=exception.status)
