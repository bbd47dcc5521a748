"""The console's forms and the application errors of services: one place that puts an error on its form."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from django import forms

from core.errors import ApplicationError

T = TypeVar("T")


def form_apply(form: forms.Form, service: Callable[[], T]) -> T | None:
    """Call `service`; when it raises an ApplicationError, show the message on the form and return None.

    The message goes on the field the error names when the form has that field, else on the form as a whole.
    Changes nothing itself; whatever the service changes, it changes only when it succeeds.
    """
    try:
        return service()
    except ApplicationError as error:
        field = error.field if error.field in form.fields else None
        form.add_error(field, str(error.message))
        return None
