"""Import items: JSON Lines from people (UI upload, API, `annotation_import`) and documents of a curation job.

One JSON object a line (issue 9, item 7):
    {"id"?, "prompt": "..." or "messages": [{"role", "content"}], "responses"?: [{"id", "text", "model"?}],
     "metadata"?: {...}, "priority"?: int, "is_gold"?: bool, "expected"?: <payload of the project's kind>}
A bad line is reported with its line number and reason and the good lines are imported, in batches. An item with
no id gets one from its content (a hash), so importing the same file twice adds nothing the second time; an id
already in the project is reported, never overwritten.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import IO, Any

import fsspec
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import pgettext_lazy

from annotation.models import Item, Project
from annotation.services.payloads import payload_clean
from annotation.services.quality import GOLD_TARGET_OVERLAP
from core.errors import ValidationError
from curation.models import Job
from curation.steps.pipeline import JobLayout
from curation.steps.writers import read_jsonl_zst

BATCH_SIZE = 1000
MAX_ID_LENGTH = 200
MAX_RESPONSES = 100  # ranking beyond round_size is served in rounds; a hundred is far past any sensible screen count
MESSAGE_ROLES = ("system", "user", "assistant")
ITEM_FIELDS = ("id", "prompt", "messages", "responses", "metadata", "priority", "is_gold", "expected")
# How many responses an item of each kind must have (None: responses are not part of the kind).
RESPONSE_COUNTS: dict[str, tuple[int, int] | None] = {
    Project.KIND_LIKERT: (1, MAX_RESPONSES),
    Project.KIND_PAIRWISE: (2, 2),
    Project.KIND_RANKING: (2, MAX_RESPONSES),
    Project.KIND_INSTRUCTION: None,
    Project.KIND_RESPONSE: None,
    Project.KIND_LABEL: None,
}
# How a curation job that is not completed is named to the manager (the statuses stay English in the data).
JOB_STATUS_LABELS = {
    Job.Status.PLANNING: pgettext_lazy("curation job status", "planning"),
    Job.Status.PENDING: pgettext_lazy("curation job status", "pending"),
    Job.Status.RUNNING: pgettext_lazy("curation job status", "running"),
    Job.Status.FAILED: pgettext_lazy("curation job status", "failed"),
    Job.Status.CANCELLED: pgettext_lazy("curation job status", "cancelled"),
}


@dataclass
class ImportReport:
    """What an import did: how many items it added and, per bad line, its number (1-based) and the reason."""

    imported: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"imported": self.imported, "errors": [{"line": n, "reason": r} for n, r in self.errors]}


class LineError(ValueError):
    """A line that cannot become an item; the message is the reason shown to the manager."""


def _messages(value: Any) -> list[dict[str, str]]:
    if not isinstance(value, list) or not value:
        raise LineError(_("messages must be a non-empty list of {role, content}"))
    for position, message in enumerate(value, 1):
        if not isinstance(message, dict) or set(message) != {"role", "content"}:
            raise LineError(_("message %(position)s must have exactly role and content") % {"position": position})
        if message["role"] not in MESSAGE_ROLES:
            raise LineError(_("message %(position)s has role %(role)s (roles: %(roles)s)") % {
                "position": position, "role": repr(message["role"]), "roles": ", ".join(MESSAGE_ROLES)})
        if not isinstance(message["content"], str):
            raise LineError(_("message %(position)s content must be text") % {"position": position})
    return value


def _responses(value: Any, kind: str) -> list[dict[str, str]]:
    counts = RESPONSE_COUNTS[kind]
    if counts is None:
        if value:
            raise LineError(_("%(kind)s items take no responses") % {"kind": kind})
        return []
    low, high = counts
    if not isinstance(value, list):
        raise LineError(_("%(kind)s items need responses: a list of {id, text, model?}") % {"kind": kind})
    if not low <= len(value) <= high:
        counts_given = {"kind": kind, "low": low, "high": high, "given": len(value)}
        if low == high:
            raise LineError(_("%(kind)s items need exactly %(low)s responses, this one has %(given)s") % counts_given)
        raise LineError(_("%(kind)s items need %(low)s to %(high)s responses, this one has %(given)s") % counts_given)
    ids: list[str] = []
    for position, response in enumerate(value, 1):
        if not isinstance(response, dict) or not {"id", "text"} <= set(response) or set(response) - {
                "id", "text", "model"}:
            raise LineError(_("response %(position)s must have id and text (and optionally model) only")
                            % {"position": position})
        if not isinstance(response["id"], (str, int)) or isinstance(response["id"], bool) or str(
                response["id"]) == "":
            raise LineError(_("response %(position)s needs an id (text or number)") % {"position": position})
        if not isinstance(response["text"], str):
            raise LineError(_("response %(position)s text must be text") % {"position": position})
        if "model" in response and not isinstance(response["model"], str):
            raise LineError(_("response %(position)s model must be text") % {"position": position})
        response_id = str(response["id"])
        response["id"] = response_id
        ids.append(response_id)
    if len(set(ids)) != len(ids):
        raise LineError(_("response ids repeat within the item"))
    return value


def _content_id(record: dict[str, Any]) -> str:
    canonical = json.dumps(record, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return "h-" + hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:24]


def item_from_record(project: Project, record: Any) -> Item:
    """Check one item record against the project's kind and return an unsaved Item (LineError says why not)."""
    if not isinstance(record, dict):
        raise LineError(_("a line must be a JSON object"))
    unknown = sorted(set(record) - set(ITEM_FIELDS))
    if unknown:
        raise LineError(_("unknown fields: %(fields)s (fields: %(known)s)")
                        % {"fields": ", ".join(unknown), "known": ", ".join(ITEM_FIELDS)})
    prompt = record.get("prompt", "")
    if not isinstance(prompt, str):
        raise LineError(_("prompt must be text"))
    messages = _messages(record["messages"]) if record.get("messages") is not None else None
    if not prompt.strip() and not messages and project.kind != Project.KIND_INSTRUCTION:
        raise LineError(_("an item needs a prompt or messages"))
    responses = _responses(record.get("responses"), project.kind)
    metadata = record.get("metadata", {})
    if not isinstance(metadata, dict):
        raise LineError(_("metadata must be a JSON object"))
    priority = record.get("priority", 0)
    if not isinstance(priority, int) or isinstance(priority, bool) or not -(2**31) < priority < 2**31:
        raise LineError(_("priority must be an integer"))
    is_gold = record.get("is_gold", False)
    if not isinstance(is_gold, bool):
        raise LineError(_("is_gold must be true or false"))
    expected = record.get("expected")
    if expected is not None:
        try:
            expected = payload_clean(project, expected, response_ids=[r["id"] for r in responses])
        except ValidationError as error:
            raise LineError(_("expected: %(reason)s") % {"reason": error.message}) from error
    if is_gold and expected is None:
        raise LineError(_("a gold item needs its expected answer"))
    raw_id = record.get("id")
    if raw_id is None:
        external_id = _content_id(record)
    elif isinstance(raw_id, (str, int)) and not isinstance(raw_id, bool) and str(raw_id).strip():
        external_id = str(raw_id).strip()
    else:
        raise LineError(_("id must be text or a number"))
    if len(external_id) > MAX_ID_LENGTH:
        raise LineError(_("id is longer than %(most)s characters") % {"most": MAX_ID_LENGTH})
    return Item(project=project, external_id=external_id, prompt=prompt, messages=messages, responses=responses,
                metadata=metadata, priority=priority, is_gold=is_gold, expected=expected,
                # Gold items go to every annotator who draws one (quality control serves them at the gold rate).
                target_overlap=GOLD_TARGET_OVERLAP if is_gold else project.overlap)


def _decode(line: str | bytes) -> Any:
    if isinstance(line, bytes):
        try:
            line = line.decode("utf-8")
        except UnicodeDecodeError as error:
            raise LineError(_("not UTF-8 (byte %(byte)s)") % {"byte": error.start}) from error
    try:
        return json.loads(line)
    except json.JSONDecodeError as error:
        where = {"error": error.msg, "column": error.colno}
        raise LineError(_("not valid JSON: %(error)s at column %(column)s") % where) from error


def _save_batch(project: Project, batch: list[tuple[int, Item]], report: ImportReport) -> None:
    """Insert a batch, reporting ids that the project already has (earlier imports) instead of inserting them."""
    ids = [item.external_id for _, item in batch]
    existing = set(Item.objects.filter(project=project, external_id__in=ids).values_list("external_id", flat=True))
    fresh = []
    for line_no, item in batch:
        if item.external_id in existing:
            report.errors.append((line_no, _("id %(id)s is already in the project") % {"id": repr(item.external_id)}))
        else:
            fresh.append(item)
    with transaction.atomic():
        # ignore_conflicts: an import running at the same time with the same ids loses nothing and duplicates nothing.
        Item.objects.bulk_create(fresh, ignore_conflicts=True)
    report.imported += len(fresh)


def _import_records(project: Project, records: Iterable[tuple[int, Any]]) -> ImportReport:
    report = ImportReport()
    batch: list[tuple[int, Item]] = []
    seen: dict[str, int] = {}
    for line_no, record in records:
        try:
            if isinstance(record, LineError):
                raise record
            item = item_from_record(project, record)
            if item.external_id in seen:
                raise LineError(_("id %(id)s repeats line %(line)s")
                                % {"id": repr(item.external_id), "line": seen[item.external_id]})
        except LineError as error:
            report.errors.append((line_no, str(error)))
            continue
        seen[item.external_id] = line_no
        batch.append((line_no, item))
        if len(batch) >= BATCH_SIZE:
            _save_batch(project, batch, report)
            batch = []
    if batch:
        _save_batch(project, batch, report)
    report.errors.sort()
    return report


def _parsed_lines(lines: Iterable[str | bytes]) -> Iterator[tuple[int, Any]]:
    for line_no, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            yield line_no, _decode(line)
        except LineError as error:
            yield line_no, error


def items_import(project: Project, lines: Iterable[str | bytes] | IO[bytes] | IO[str]) -> ImportReport:
    """Import items from JSON Lines (an iterable of lines or an open file); report every bad line.

    Adds the good lines' items in batches of BATCH_SIZE, each batch in its own transaction, so a large file is
    never held in memory. Re-running with the same file adds nothing new (ids, given or generated, are reported
    as already in the project).
    """
    return _import_records(project, _parsed_lines(lines))


def _job_documents(job: Job, kept: bool) -> Iterator[dict[str, Any]]:
    """The job's kept documents (final output) or removed ones (every map stage's removed files), in shard order."""
    layout = JobLayout(job.output)
    if kept:
        urls = [layout.kept(shard) for shard in range(job.shard_count)]
    else:
        fs, root = fsspec.core.url_to_fs(job.output.rstrip("/") + "/removed")
        protocol = job.output.split("://", 1)[0] + "://" if "://" in job.output else ""
        urls = [protocol + path for path in sorted(fs.glob(root + "/shard-*.jsonl.zst"))]
    for url in urls:
        try:
            yield from read_jsonl_zst(url)  # type: ignore[misc]
        except FileNotFoundError:
            continue  # a shard that kept (or removed) nothing writes no file


def items_from_job(project: Project, job: Job, kept: bool, limit: int | None = None) -> ImportReport:
    """Add a label project's items from a completed curation job's kept or removed documents.

    Each document becomes an item whose id is the document's id and whose prompt is its text (shown as text);
    its URL, language, and for removed documents the step and reason, go to metadata. Stops after `limit` new
    items. Safe to re-run: documents already imported are reported, not added again.
    """
    if project.kind != Project.KIND_LABEL:
        raise ValidationError(_("only label projects take documents from curation jobs"), field="project")
    if job.status != Job.Status.COMPLETED:
        status = JOB_STATUS_LABELS.get(job.status, job.status)
        raise ValidationError(_("job %(job)s is %(status)s; only a completed job's documents can be labelled")
                              % {"job": job.pk, "status": status}, field="job")
    if limit is not None and limit < 1:
        raise ValidationError(_("limit must be at least 1"), field="limit")

    def records() -> Iterator[tuple[int, Any]]:
        existing = set(project.items.values_list("external_id", flat=True))
        taken = 0
        for position, doc in enumerate(_job_documents(job, kept), 1):
            if limit is not None and taken >= limit:
                return
            doc_id = str(doc.get("id", ""))
            if doc_id in existing:
                continue
            metadata = {"job": job.pk, "kept": kept}
            for key in ("url", "lang", "removed_by", "reason"):
                if doc.get(key):
                    metadata[key] = doc[key]  # type: ignore[literal-required]
            taken += 1
            yield position, {"id": doc_id or None, "prompt": doc.get("text", ""), "metadata": metadata}

    report = _import_records(project, records())
    if project.source_job_id != job.pk:
        project.source_job = job
        project.save(update_fields=["source_job"])
    return report
