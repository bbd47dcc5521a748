"""Checks of values against the database's columns, so that too long a value is a 400 naming the field, not a 500."""

from __future__ import annotations

from django.db import models

from core.errors import ValidationError


def max_length_check(model: type[models.Model], column: str, value: str, *, field: str | None = None) -> str:
    """Return `value` if it fits `model.column`; raise ValidationError naming `field` (default: the column)."""
    limit = model._meta.get_field(column).max_length
    if limit is not None and len(value) > limit:
        raise ValidationError(f"{field or column} is too long: {len(value)} characters, at most {limit}",
                              field=field or column)
    return value
