"""Checks on what annotators write (instruction and response projects), run while they type and on submit.

- near-duplicate (instruction projects): the curation MinHash (`curation.steps.dedup`: 5-shingles, 128
  permutations, LSH banding for the project's `duplicate_threshold`) of the new instruction against every
  instruction already submitted in the project. Signatures are stored on the annotations (`Annotation.signature`),
  and each process keeps one `NearDuplicateIndex` per project that it tops up with the annotations added since
  its last check, so a check costs one small query plus an LSH lookup however large the project is. A warning
  lists the similar instructions.
- PII: `curation.steps.pii.find_pii` in the project's language; blocks or warns as the project sets (`pii_policy`).
- minimum length: blocks text shorter than the project's `min_length` characters.
- language: the curation language ID (fastText lid.176); warns when the text is not in the project's language.
Reads only; safe to call any number of times.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from django.utils.translation import gettext as _

from annotation.models import Annotation, Project
from annotation.services.payloads import written_text
from curation.steps.dedup import NearDuplicateIndex, signature
from curation.steps.language import identify_language
from curation.steps.pii import find_pii

SIMILAR_SHOWN = 5
LANGUAGE_MIN_CONFIDENCE = 0.5  # below this fastText is unsure (short texts, mixed scripts): no warning
LANGUAGE_MIN_CHARS = 12


@dataclass
class CheckResult:
    """Warnings (shown, submit allowed) and blocking problems (submit refused), each {code, message, ...}."""

    warnings: list[dict[str, Any]] = field(default_factory=list)
    blocking: list[dict[str, Any]] = field(default_factory=list)
    signature: bytes | None = None  # the MinHash of the written text, stored with the annotation

    def as_dict(self) -> dict[str, Any]:
        return {"warnings": self.warnings, "blocking": self.blocking}


@dataclass
class _ProjectIndex:
    index: NearDuplicateIndex
    last_id: int = 0
    texts: dict[int, tuple[str, str]] = field(default_factory=dict)  # annotation id -> (item external id, text)
    lock: threading.Lock = field(default_factory=threading.Lock)


_indexes: dict[tuple[int, float], _ProjectIndex] = {}
_indexes_lock = threading.Lock()


def _project_index(project: Project) -> _ProjectIndex:
    """The project's near-duplicate index, topped up with the instructions submitted since the last call."""
    key = (project.pk, project.duplicate_threshold)
    with _indexes_lock:
        entry = _indexes.get(key)
        if entry is None:
            entry = _indexes[key] = _ProjectIndex(NearDuplicateIndex(threshold=project.duplicate_threshold))
    with entry.lock:
        new = (Annotation.objects.filter(project=project, pk__gt=entry.last_id, signature__isnull=False)
               .order_by("pk").values_list("pk", "signature", "item__external_id", "payload"))
        for pk, sig, item_id, payload in new.iterator(chunk_size=2000):
            entry.index.add_signature(pk, np.frombuffer(bytes(sig), dtype=np.uint32))
            entry.texts[pk] = (item_id, written_text(project.kind, payload))
            entry.last_id = pk
    return entry


def _near_duplicates(project: Project, sig: np.ndarray, exclude_item: str | None) -> list[dict[str, Any]]:
    entry = _project_index(project)
    with entry.lock:
        hits = entry.index.query_signature(sig)
        similar = []
        for pk, similarity in hits:
            item_id, text = entry.texts[int(pk)]  # type: ignore[call-overload]
            if exclude_item is not None and item_id == exclude_item:
                continue
            similar.append({"item_id": item_id, "text": text, "similarity": round(similarity, 3)})
    return similar[:SIMILAR_SHOWN]


def writing_checks(project: Project, payload: dict[str, Any], exclude_item: str | None = None) -> CheckResult:
    """Run the writing checks on a (validated) payload of an instruction or response project.

    `exclude_item`: the external id of an item whose annotations are not counted as duplicates (e.g. when a
    reviewer edits an annotation of that item).
    """
    result = CheckResult()
    text = written_text(project.kind, payload)
    if not text.strip():
        return result
    stripped = text.strip()
    if project.min_length and len(stripped) < project.min_length:
        written = {"least": project.min_length, "count": len(stripped)}
        result.blocking.append({"code": "too_short",
                                "message": _("write at least %(least)s characters (%(count)s so far)") % written})
    if project.pii_policy != Project.PII_OFF:
        extra = " ".join(str(payload.get(k, "")) for k in ("reasoning",) if payload.get(k))
        spans = find_pii(" ".join([text, extra]).strip(), lang=project.language)
        if spans:
            kinds = sorted({span["type"] for span in spans})
            problem = {"code": "pii", "types": kinds,
                       "message": _("the text seems to hold personal data (%(types)s)") % {"types": ", ".join(kinds)}}
            (result.blocking if project.pii_policy == Project.PII_BLOCK else result.warnings).append(problem)
    if len(stripped) >= LANGUAGE_MIN_CHARS:
        language, confidence = identify_language(stripped)
        if confidence >= LANGUAGE_MIN_CONFIDENCE and language != project.language:
            result.warnings.append({"code": "language", "language": language, "message":
                                    _("the text looks like %(language)s, not the project's %(project_language)s")
                                    % {"language": language, "project_language": project.language}})
    if project.kind == Project.KIND_INSTRUCTION:
        sig = signature(stripped)
        result.signature = sig.astype(np.uint32).tobytes()
        similar = _near_duplicates(project, sig, exclude_item)
        if similar:
            result.warnings.append({"code": "near_duplicate", "similar": similar, "message":
                                    _("a similar instruction is already in the project")})
    return result
