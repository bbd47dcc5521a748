"""Reads of the exports app: which exports a user sees, one export by id, its files and progress."""

from __future__ import annotations

import posixpath
from typing import Any, TypeAlias

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from core.errors import NotFound, PermissionDenied
from exports.formats.pipeline import STAGE_READ, STAGE_WRITE
from exports.models import STAGE_DONE, STAGE_STARTING, Export
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


# The stages an export reports, as people read them.
_STAGE_LABELS = {
    STAGE_STARTING: _("starting"),
    STAGE_READ: _("reading and checking"),
    STAGE_WRITE: _("writing files"),
    STAGE_DONE: _("all rows written"),
}


def _counted(export: Export, stage: str) -> str:
    """What `done` counts in a stage: rows once writing starts, before that what the export reads."""
    if stage in (STAGE_WRITE, STAGE_DONE):
        return str(_("rows"))
    if export.sources.get("job"):
        return str(_("documents"))
    if export.sources.get("export"):
        return str(_("prompts"))
    return str(_("items"))


def stage_words(export: Export, stage: str) -> tuple[str, str]:
    """A stage's label and what its count counts, in the active language (no stage yet: the export's status)."""
    label = _STAGE_LABELS.get(stage)
    return str(label if label is not None else export.get_status_display()), _counted(export, stage)


def export_progress(export: Export) -> dict[str, Any]:
    """What the page and the API show while an export runs: the status and stage (as keys, and as labels in the
    request's language), what has been counted of how many, and the fraction done when it is known."""
    progress = dict(export.progress or {})
    stage = progress.get("stage", "")
    done, total = progress.get("done") or 0, progress.get("total")
    fraction = 1.0 if export.status == Export.Status.COMPLETED else (min(done / total, 1.0) if total else None)
    stage_label, counted = stage_words(export, stage)
    if not stage:
        stage_label = ""  # not started: the status says it all
    return {"status": export.status, "status_label": str(export.get_status_display()), "stage": stage,
            "stage_label": stage_label, "counted": counted, "done": done, "total": total, "fraction": fraction,
            "content_hash": export.content_hash, "error": export.error}
