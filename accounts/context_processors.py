from __future__ import annotations

from django.http import HttpRequest

from accounts.roles import can_curate


def roles(request: HttpRequest) -> dict[str, bool]:
    return {"can_curate": can_curate(request.user)}
