"""Create and configure annotation projects; publish guideline versions."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils.translation import gettext as _

from annotation.models import Guideline, Project
from core.errors import ValidationError

# Settings a manager may give when creating or updating a project, and their checks.
_LIST_FIELDS = ("criteria", "labels", "categories")


def _clean_list(name: str, value: Any) -> list[str]:
    if isinstance(value, str):
        value = [part for part in value.split(",")]
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
        raise ValidationError(_("%(name)s must be a list of strings") % {"name": name}, field=name)
    cleaned = [v.strip() for v in value if v.strip()]
    if len(set(cleaned)) != len(cleaned):
        raise ValidationError(_("%(name)s has duplicates") % {"name": name}, field=name)
    return cleaned


def _check(project: Project) -> None:
    """Refuse settings that do not fit together (with the field at fault)."""
    if project.kind not in Project.KINDS:
        raise ValidationError(_("unknown kind %(kind)s (kinds: %(kinds)s)")
                              % {"kind": repr(project.kind), "kinds": ", ".join(Project.KINDS)}, field="kind")
    if not project.name.strip():
        raise ValidationError(_("a project needs a name"), field="name")
    if project.overlap < 1:
        raise ValidationError(_("overlap must be at least 1"), field="overlap")
    if project.max_overlap < project.overlap:
        raise ValidationError(_("max_overlap must be at least overlap"), field="max_overlap")
    if project.scale not in (5, 7):
        raise ValidationError(_("scale must be 5 or 7"), field="scale")
    if project.kind == Project.KIND_LIKERT and not project.criteria:
        raise ValidationError(_("a likert project needs at least one criterion"), field="criteria")
    if project.kind == Project.KIND_LABEL and not project.labels:
        raise ValidationError(_("a label project needs at least one label"), field="labels")
    if project.instruction_format not in Project.FORMATS:
        raise ValidationError(_("instruction_format must be one of %(formats)s")
                              % {"formats": ", ".join(Project.FORMATS)}, field="instruction_format")
    if project.language not in Project.LANGUAGES:
        raise ValidationError(_("language must be en or zh"), field="language")
    if project.pii_policy not in Project.PII_POLICIES:
        raise ValidationError(_("pii_policy must be block, warn or off"), field="pii_policy")
    if not 0.0 < project.duplicate_threshold <= 1.0:
        raise ValidationError(_("duplicate_threshold must be in (0, 1]"), field="duplicate_threshold")
    if not 0.0 <= project.gold_rate < 1.0:
        raise ValidationError(_("gold_rate must be in [0, 1)"), field="gold_rate")
    if project.round_size < 2 or project.round_size > 9:
        raise ValidationError(_("round_size must be from 2 to 9"), field="round_size")
    if project.lease_seconds < 30:
        raise ValidationError(_("lease_seconds must be at least 30"), field="lease_seconds")


def project_create(*, name: str, kind: str, created_by: AbstractBaseUser | None = None, overlap: int = 1,
                   guideline: str = "", **settings: Any) -> Project:
    """Create a project with checked settings (and its first guideline version when text is given).

    `settings` are Project fields (scale, criteria, labels, multi_label, instruction_format, categories, language,
    system_prompt, lease_seconds, min_length, pii_policy, duplicate_threshold, break_after_minutes, round_size,
    gold_rate, agreement_threshold, max_overlap, source_job). Not idempotent: each call creates a project.
    """
    unknown = set(settings) - {f.name for f in Project._meta.get_fields()}
    if unknown:
        raise ValidationError(_("unknown project settings: %(names)s") % {"names": ", ".join(sorted(unknown))})
    for key in _LIST_FIELDS:
        if key in settings:
            settings[key] = _clean_list(key, settings[key])
    settings.setdefault("max_overlap", overlap)
    project = Project(name=name, kind=kind, overlap=overlap, created_by=created_by, **settings)
    _check(project)
    with transaction.atomic():
        project.save()
        if guideline.strip():
            guideline_publish(project, guideline, created_by)
    return project


def project_update(project: Project, **changes: Any) -> Project:
    """Change a project's settings (not its kind); items keep the overlap they were imported with.

    Safe to re-run with the same changes.
    """
    if "kind" in changes and changes["kind"] != project.kind:
        raise ValidationError(_("a project's kind cannot change"), field="kind")
    editable = {f.name for f in Project._meta.get_fields()} - {"id", "kind", "created_by", "created_at"}
    unknown = set(changes) - editable
    if unknown:
        raise ValidationError(_("unknown or read-only project settings: %(names)s")
                              % {"names": ", ".join(sorted(unknown))})
    for key, value in changes.items():
        setattr(project, key, _clean_list(key, value) if key in _LIST_FIELDS else value)
    if "overlap" in changes and "max_overlap" not in changes:
        project.max_overlap = max(project.max_overlap, project.overlap)
    _check(project)
    project.save(update_fields=list(changes) + (["max_overlap"] if "overlap" in changes else []))
    return project


def guideline_publish(project: Project, text: str, user: AbstractBaseUser | None) -> Guideline:
    """Publish the next guideline version of a project; annotations submitted after it record its version.

    Not idempotent: each call adds a version (publishing the same text again is refused).
    """
    if not text.strip():
        raise ValidationError(_("guidelines cannot be empty"), field="text")
    current = project.current_guideline
    if current is not None and current.text == text:
        raise ValidationError(_("these guidelines are the current version already"), field="text")
    for _attempt in range(3):  # two managers publishing at once: the unique (project, version) makes one retry
        version = (project.guidelines.aggregate(v=Max("version"))["v"] or 0) + 1
        try:
            with transaction.atomic():
                return Guideline.objects.create(project=project, version=version, text=text, created_by=user)
        except IntegrityError:
            continue
    raise ValidationError(_("could not publish the guidelines (concurrent publishing); try again"))

