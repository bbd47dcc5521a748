from __future__ import annotations

from django.http import HttpRequest

from accounts.roles import ANNOTATOR, can_curate, can_manage_annotation, can_train, user_has_role
from exports.permissions import can_export


def roles(request: HttpRequest) -> dict[str, bool]:
    return {
        "can_curate": can_curate(request.user),
        "can_manage_annotation": can_manage_annotation(request.user),
        "can_train": can_train(request.user),
        # Trainers and annotation managers (and admins) export datasets: the top menu's "Exports".
        "can_export": can_export(request.user),
        # Annotators, and anyone (a manager, a reviewer) made a member of a project, see the annotator's pages.
        "can_annotate": user_has_role(request.user, ANNOTATOR) or _has_annotation_membership(request),
    }


def _has_annotation_membership(request: HttpRequest) -> bool:
    user = request.user
    if not user.is_authenticated:
        return False
    return user.annotation_memberships.exists()  # type: ignore[union-attr]
