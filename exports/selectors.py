"""Reads of the exports app: which exports a user sees, one export by id, its files and progress."""

from __future__ import annotations

import posixpath
from typing import Any, TypeAlias

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from core.errors import NotFound, PermissionDenied
from exports.models import Export
from exports.permissions import can_export

User: TypeAlias = AbstractBaseUser | AnonymousUser


def exports_visible_to(user: User) -> QuerySet[Export]:
    """Every export for trainers, managers and admins; 403 for everyone else."""
    if not can_export(user):
        raise PermissionDenied(_("only trainers, managers and admins can see exports"))
    return Export.objects.select_related("created_by").order_by("-id")


def access_export_by_id(user: User, export_id: int) -> Export:
    """The export, if the user may see exports; 403 for other roles, 404 when it does not exist."""
    export = exports_visible_to(user).filter(pk=export_id).first()
    if export is None:
        raise NotFound(_("no such export"))
    return export


def export_files(export: Export) -> list[str]:
    """The files of a finished export, relative to its folder: card, README, data files, removed lists."""
    if export.status != Export.Status.COMPLETED or not export.card:
        return []
    files = ["README.md", "card.json"]
    for split in export.card.get("splits", {}).values():
        for names in split.get("files", {}).values():
            files.extend(names)
    decontam = export.card.get("decontamination")
    if decontam:
        files.append(decontam["removed_list"])
    return files


def export_file_path(export: Export, name: str) -> str:
    """The storage path of one of the export's files; NotFound for any name the export does not list."""
    if name not in export_files(export):
        raise NotFound(_("no such file in this export"))
    return posixpath.join(export.path.rstrip("/"), name)


def export_progress(export: Export) -> dict[str, Any]:
    """What the page and the API show while an export runs."""
    progress = dict(export.progress or {})
    done, total = progress.get("done") or 0, progress.get("total")
    fraction = 1.0 if export.status == Export.Status.COMPLETED else (min(done / total, 1.0) if total else None)
    return {"status": export.status, "stage": progress.get("stage", ""), "done": done, "total": total,
            "fraction": fraction, "content_hash": export.content_hash, "error": export.error}
