"""Create and run exports: the writes of the exports app.

`export_create` checks a request completely (format against sources, every option, evaluation files, the output
folder) before it stores anything, then stores a pending Export and sends its task once the transaction commits.
`export_run` claims the export with a lease (so a message delivered twice, or to a second worker, runs it once),
streams the sources through the export core into the export's folder, and records progress, the content hash and
the card on the row. Re-running a finished export is a no-op; re-running one whose worker died (its lease expired)
starts it again from nothing, which writes the same bytes.
"""

from __future__ import annotations

import os
import re
import shlex
import socket
import time
from collections.abc import Callable, Iterator, Sequence
from datetime import timedelta
from typing import Any, TypeAlias

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import connection, connections, transaction
from django.db.models import Max, Q
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext_lazy as _

from annotation.models import Project
from core.errors import Conflict, NotFound, PermissionDenied, ValidationError
from curation.models import Job
from curation.services.locations import location_check
from curation.steps.readers import ReadErrors
from exports import workflows
from exports.formats import BuildError, BuildStats, ExportExistsError, ExportSpec, SpecError, run_export_parts
from exports.formats.builders import BuiltRow, item_rows, ppo_rows_from_prompts, pretrain_rows
from exports.formats.decontam import EvalFileError, read_eval_records
from exports.formats.pipeline import PartRows
from exports.formats.preferences import PreferenceError
from exports.formats.readers import SourceFileError, export_prompts, job_documents, read_card
from exports.formats.records import KIND_LABEL, PREFERENCE_KINDS, WRITING_KINDS
from exports.formats.spec import (
    FORMAT_PPO,
    FORMAT_PRETRAIN,
    FORMAT_SFT,
    PII_ACTIONS,
    PREFERENCE_FORMATS,
)
from exports.models import STAGE_DONE, STAGE_STARTING, Export
from exports.permissions import can_export
from exports.sources import ItemRange, item_parts, items_total, project_items

User: TypeAlias = AbstractBaseUser | AnonymousUser

LEASE_SECONDS = 300
# Progress is written to the row (which also renews the lease) at most this often.
PROGRESS_SECONDS = 1.0
_NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,99}$")

ProgressCallback = Callable[[str, int, int | None], None]


def _spec_from_options(fmt: str, options: dict[str, Any]) -> ExportSpec:
    if options.get("pii_action", PII_ACTIONS[0]) not in PII_ACTIONS:
        raise ValidationError(_("pii_action must be one of %(choices)s") % {"choices": ", ".join(PII_ACTIONS)},
                              field="pii_action")
    try:
        return ExportSpec.from_dict({**options, "format": fmt})
    except SpecError as error:
        raise ValidationError(str(error)) from error
    except TypeError as error:
        raise ValidationError(_("bad export option: %(error)s") % {"error": error}) from error


def _check_projects(projects: Sequence[Project], fmt: str) -> None:
    for project in projects:
        if project.kind == KIND_LABEL:
            raise ValidationError(_("project %(id)s is a label project: its labels fit no trl format")
                                  % {"id": project.pk}, field="projects")
        if fmt == FORMAT_SFT and project.kind not in WRITING_KINDS:
            raise ValidationError(_("sft exports come from instruction and response projects; project %(id)s "
                                    "is of kind %(kind)s") % {"id": project.pk, "kind": project.kind},
                                  field="projects")
        if fmt in PREFERENCE_FORMATS and project.kind not in PREFERENCE_KINDS:
            raise ValidationError(_("%(format)s exports come from ranking, pairwise and Likert projects; project "
                                    "%(id)s is of kind %(kind)s") % {"format": fmt, "id": project.pk,
                                                                      "kind": project.kind}, field="projects")


def _check_eval_paths(spec: ExportSpec) -> None:
    """Refuse evaluation files outside the server's allowed roots (CURATION_ALLOWED_ROOTS and STORAGE_ROOT).

    A trainer names these files, and the server reads them: without the check any file the server can read (its
    settings, keys) could be named, and its n-grams would leak through what decontamination removes.
    Raises PermissionDenied (field `eval_paths`) naming the path.
    """
    for path in spec.eval_paths:
        location_check(path, field="eval_paths", file=True)


def reproduce_command(fmt: str, sources: dict[str, Any], spec: ExportSpec, output: str) -> str:
    """Return the `manage.py export_dataset` command line that makes the same export."""
    parts = ["python", "manage.py", "export_dataset", "--format", fmt]
    for project in sources.get("projects", []):
        parts += ["--project", str(project)]
    if sources.get("job"):
        parts += ["--job", str(sources["job"])]
    if sources.get("export"):
        parts += ["--from-export", str(sources["export"])]
    defaults = ExportSpec(format=fmt)
    flags = {
        "style": "--style", "merge": "--merge", "likert_criterion": "--likert-criterion",
        "min_agreement": "--min-agreement", "min_trust": "--min-trust", "test_fraction": "--test-fraction",
        "seed": "--seed", "near_duplicate_threshold": "--near-duplicate-threshold", "ngram": "--ngram",
        "pii_action": "--pii", "shard_rows": "--shard-rows",
    }
    for field, flag in flags.items():
        value = getattr(spec, field)
        if value != getattr(defaults, field):
            parts += [flag, str(value)]
    for field, flag in (("include_gold", "--include-gold"), ("include_rejected", "--include-rejected"),
                        ("accepted_only", "--accepted-only"), ("pii_names", "--pii-names")):
        if getattr(spec, field):
            parts.append(flag)
    for path in spec.eval_paths:
        parts += ["--eval", path]
    if tuple(spec.files) != tuple(defaults.files):
        parts += ["--files", ",".join(spec.files)]
    parts += ["--output", output]
    return shlex.join(parts)


def _default_name(fmt: str, sources: dict[str, Any]) -> str:
    if sources.get("projects"):
        origin = "projects-" + "-".join(str(p) for p in sources["projects"])
    elif sources.get("job"):
        origin = f"job-{sources['job']}"
    else:
        origin = f"export-{sources.get('export')}"
    return slugify(f"{fmt}-{origin}")[:100]


def _storage_path(name: str, version: int) -> str:
    return "/".join([str(settings.STORAGE_ROOT).rstrip("/"), "exports", name, f"v{version}"])


@transaction.atomic
def export_create(
    user: User | None,
    *,
    format: str,
    projects: Sequence[int] = (),
    job: int | None = None,
    from_export: int | None = None,
    options: dict[str, Any] | None = None,
    name: str = "",
    output: str = "",
    enqueue: bool = True,
) -> Export:
    """Check an export request and store it as a pending Export; send its task after commit when `enqueue`.

    Exactly one kind of source: projects (sft, reward, dpo, ppo), a curation job (pretrain) or an earlier export
    (ppo from its prompts). `output` defaults to STORAGE_ROOT/exports/<name>/v<version>. Nothing is written to
    storage here. Raises ValidationError (bad request), NotFound (a source that does not exist), Conflict (an
    output folder that holds an export), PermissionDenied (not a trainer, manager or admin). `user` None is the
    command line, run by the operator of the installation.
    """
    if user is not None and not can_export(user):
        raise PermissionDenied(_("only trainers, managers and admins can export datasets"))
    options = dict(options or {})
    spec = _spec_from_options(format, options)
    chosen = [bool(projects), job is not None, from_export is not None]
    if sum(chosen) != 1:
        raise ValidationError(_("name exactly one source: projects, a job, or an earlier export"))
    sources: dict[str, Any] = {}
    if projects:
        ids = sorted({int(p) for p in projects})
        found = list(Project.objects.filter(pk__in=ids).order_by("pk"))
        missing = sorted(set(ids) - {p.pk for p in found})
        if missing:
            raise NotFound(_("no such project: %(ids)s") % {"ids": ", ".join(map(str, missing))}, field="projects")
        if spec.format == FORMAT_PRETRAIN:
            raise ValidationError(_("pretrain exports come from a curation job (--job), not from projects"),
                                  field="format")
        _check_projects(found, spec.format)
        sources["projects"] = ids
    elif job is not None:
        job_row = Job.objects.filter(pk=job).first()
        if job_row is None:
            raise NotFound(_("no such job: %(id)s") % {"id": job}, field="job")
        if spec.format != FORMAT_PRETRAIN:
            raise ValidationError(_("a curation job gives pretrain exports only"), field="format")
        if job_row.status != Job.Status.COMPLETED:
            raise ValidationError(_("job %(id)s has not completed (it is %(status)s)")
                                  % {"id": job, "status": job_row.status}, field="job")
        sources["job"] = job
    else:
        earlier = Export.objects.filter(pk=from_export).first()
        if earlier is None:
            raise NotFound(_("no such export: %(id)s") % {"id": from_export}, field="from_export")
        if spec.format != FORMAT_PPO:
            raise ValidationError(_("an earlier export gives ppo prompts only"), field="format")
        if earlier.status != Export.Status.COMPLETED:
            raise ValidationError(_("export %(id)s has not completed") % {"id": from_export}, field="from_export")
        sources["export"] = from_export
    _check_eval_paths(spec)
    for path in spec.eval_paths:
        try:
            next(iter(read_eval_records(path)), None)
        except EvalFileError as error:
            raise ValidationError(str(error), field="eval_paths") from error
    name = name or _default_name(spec.format, sources)
    if not _NAME_RE.match(name):
        raise ValidationError(_("a name is lower-case letters, digits, - and _ (at most 100)"), field="name")
    # One version number per name, taken under a lock so two requests never get the same one.
    list(Export.objects.select_for_update().filter(name=name).values_list("pk", flat=True))
    version = (Export.objects.filter(name=name).aggregate(last=Max("version"))["last"] or 0) + 1
    path = output or _storage_path(name, version)
    if Export.objects.filter(path=path).exclude(status=Export.Status.FAILED).exists():
        raise Conflict(_("%(path)s is the folder of another export") % {"path": path}, field="output")
    try:
        read_card(path)
    except SourceFileError:
        pass
    else:
        raise Conflict(_("%(path)s already holds a finished export; exports are never overwritten") % {"path": path},
                       field="output")
    spec_data = spec.to_dict()
    spec_data["extra"] = {**spec_data.get("extra", {}), "command": reproduce_command(spec.format, sources, spec, path)}
    export = Export.objects.create(name=name, version=version, format=spec.format, sources=sources, spec=spec_data,
                                   path=path, created_by=user if user is not None and user.is_authenticated else None)
    if enqueue:
        workflows.enqueue_export(export.pk)
    return export


def export_claim(export_id: int, owner: str) -> Export | None:
    """Take the export's lease: a pending export, or a running one whose lease expired (its worker died).

    Returns None when it is finished or live-leased by someone else. Safe to call any number of times.
    """
    now = timezone.now()
    with transaction.atomic():
        export = Export.objects.select_for_update().filter(pk=export_id).first()
        if export is None:
            raise NotFound(_("no such export: %(id)s") % {"id": export_id})
        claimable = export.status == Export.Status.PENDING or (
            export.status == Export.Status.RUNNING
            and (export.lease_expires_at is None or export.lease_expires_at < now)
        )
        if not claimable:
            return None
        export.status = Export.Status.RUNNING
        export.lease_owner = owner
        export.lease_expires_at = now + timedelta(seconds=LEASE_SECONDS)
        export.attempts += 1
        export.started_at = export.started_at or now
        export.error = ""
        export.progress = {"stage": STAGE_STARTING, "done": 0, "total": None}
        export.save(update_fields=["status", "lease_owner", "lease_expires_at", "attempts", "started_at", "error",
                                   "progress"])
    return export


def _progress_writer(export: Export, owner: str, echo: ProgressCallback | None) -> ProgressCallback:
    last = [0.0]

    def write(stage: str, done: int, total: int | None) -> None:
        if echo is not None:
            echo(stage, done, total)
        now = time.monotonic()
        if now - last[0] < PROGRESS_SECONDS:
            return
        last[0] = now
        updated = Export.objects.filter(pk=export.pk, lease_owner=owner, status=Export.Status.RUNNING).update(
            progress={"stage": stage, "done": done, "total": total},
            lease_expires_at=timezone.now() + timedelta(seconds=LEASE_SECONDS),
        )
        if not updated:
            raise Conflict("the export's lease went to another worker")

    return write


def _parallel(spec: ExportSpec, total: int) -> int:
    """How many processes an export of `total` items from annotation projects builds its rows in.

    One, unless it is large enough to pay for the processes' start, the format has no state across items (ppo
    keeps each distinct prompt once over the whole export), and no transaction is open: child processes read
    through connections of their own, which would not see this one's uncommitted rows.
    """
    if spec.format == FORMAT_PPO or total < settings.EXPORT_PARALLEL_MIN_ITEMS or connection.in_atomic_block:
        return 1
    return int(settings.EXPORT_PROCESSES)


def _project_part(projects: Sequence[Project], spec: ExportSpec, ranges: Sequence[ItemRange],
                  own_process: bool) -> PartRows:
    def rows(stats: BuildStats) -> Iterator[BuiltRow]:
        try:
            yield from item_rows(project_items(projects, spec, ranges), spec, stats)
        finally:
            if own_process:
                connections.close_all()  # the child's own connections, opened after the fork

    return rows


def _parts(export: Export, spec: ExportSpec) -> tuple[list[PartRows], int | None, list[str]]:
    """Return the export's rows as parts to build (in order), the items or documents to read (when known) and the
    sources' languages."""
    sources = export.sources
    if sources.get("projects"):
        projects = list(Project.objects.filter(pk__in=sources["projects"]).order_by("pk"))
        if len(projects) != len(sources["projects"]):
            raise NotFound(_("a project of this export was deleted"))
        languages = sorted({p.language for p in projects if p.language})
        total = items_total(projects)
        runs = item_parts(projects, _parallel(spec, total))
        return [_project_part(projects, spec, run, len(runs) > 1) for run in runs], total, languages
    if sources.get("job"):
        job = Job.objects.filter(pk=sources["job"]).first()
        if job is None:
            raise NotFound(_("the job of this export was deleted"))
        # The number of kept documents is known only once they are read: no total for the progress bar.
        return [lambda stats: pretrain_rows(job_documents(job.output, job.pk, ReadErrors()), stats)], None, []
    earlier = Export.objects.get(pk=sources["export"])
    return [lambda stats: ppo_rows_from_prompts(export_prompts(earlier.path), f"export {earlier.pk}", stats)], None, []


def export_run(export_id: int, *, progress: ProgressCallback | None = None) -> Export:
    """Run an export to completion in this process (the task and `export_dataset --local` call this).

    Changes: the export's folder in storage and its row (status, progress, content hash, card, error). A finished
    export is returned as it is; one live-leased elsewhere too. A failure is recorded on the row with its reason
    and the half-written folder is cleared on the next attempt.
    """
    owner = f"{socket.gethostname()}:{os.getpid()}"
    export = export_claim(export_id, owner)
    if export is None:
        return Export.objects.get(pk=export_id)
    spec = ExportSpec.from_dict(export.spec)
    try:
        # Again at run time: the files, or the allowed roots, may have changed since the request.
        _check_eval_paths(spec)
        parts, total, languages = _parts(export, spec)
        if len(parts) > 1:
            # The parts are built in child processes, which must not inherit this process's connections.
            connections.close_all()
        result = run_export_parts(
            spec, parts, export.path, name=f"{export.name}-v{export.version}",
            command=str(spec.extra.get("command", "")), sources=dict(export.sources), languages=languages,
            license=str(spec.extra.get("license", "")), total_hint=total,
            progress=_progress_writer(export, owner, progress),
        )
    except (BuildError, PreferenceError, SourceFileError, EvalFileError, ExportExistsError, NotFound,
            PermissionDenied) as error:
        return _fail(export, owner, str(error))
    except Conflict:
        return Export.objects.get(pk=export_id)  # another worker owns it now
    except Exception as error:
        _fail(export, owner, f"{type(error).__name__}: {error}")
        raise
    rows_total = sum(split["rows"] for split in result.card["splits"].values())
    Export.objects.filter(pk=export.pk, lease_owner=owner).update(
        status=Export.Status.COMPLETED, content_hash=result.content_hash, card=result.card,
        progress={"stage": STAGE_DONE, "done": rows_total, "total": rows_total}, finished_at=timezone.now(),
        lease_expires_at=None,
    )
    return Export.objects.get(pk=export.pk)


def _fail(export: Export, owner: str, reason: str) -> Export:
    Export.objects.filter(pk=export.pk).filter(Q(lease_owner=owner) | Q(lease_owner="")).update(
        status=Export.Status.FAILED, error=reason[:5000], finished_at=timezone.now(), lease_expires_at=None)
    return Export.objects.get(pk=export.pk)
