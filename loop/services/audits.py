"""Audit a finished job's steps: sample what each kept and removed, send it to people, measure precision.

`audit_create` samples, per audited step and per decision (kept / removed by that step), enough documents for a
95 % interval of the chosen half-width (loop.figures), stratified by language and reason and reproducible for a
seed; it creates a `label` project (overlap 3) whose items are the documents' texts with their URLs (the step,
its reason and its signals are not shown: labellers must not be led by them), plants gold items, and records the
sample (FilterAudit, AuditSample).

Gold items. Two kinds, both served by quality control at the project's gold rate: (1) planted obvious junk,
built from the job's own sampled documents so they look like the rest (the first words of a document repeated
as a keyword list; a navigation menu of link words), expected "junk"; (2) documents the engineer vouches for
(`gold={doc_id: label}`), expected with that label. Gold items are never counted in the precision figures.

`audit_results` reads each item's consensus (quality control's ItemConsensus when it has refreshed the project,
else the unweighted majority of the submitted, non-rejected annotations, with label_consensus's tie rule),
counts a document as junk when its label is not one of the audit's `good_labels`, and gives per step and per
reason the precision of removals and the rate of wrongly kept junk with Wilson intervals, and Krippendorff's
alpha of the labellers next to them.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import Count, Max, Q
from django.utils import timezone

from annotation.models import Annotation, Project
from annotation.models_quality import ItemConsensus, Review
from annotation.quality.agreement import krippendorff_alpha
from annotation.quality.consensus import label_consensus
from annotation.quality.records import Judgement
from annotation.services.items import items_import
from annotation.services.projects import project_create
from core.errors import ValidationError
from curation.models import Job
from curation.selectors import job_recipe
from curation.steps.base import Filter, GlobalStep, step_class
from loop.figures import Drawn, proportion, sample_size, stratified_sample
from loop.models import DEFAULT_LABELS, GOOD_LABELS, AuditSample, FilterAudit
from loop.services.cards import job_card_write
from loop.services.tables import signal_table_ensure
from loop.signal_table import iter_output_documents, step_positions

OVERLAP = 3
GOLD_RATE = 0.1
MIN_VOTES = 2  # annotations an item needs before its majority counts (the project asks for 3)
GUIDELINE = """Read the document and its address. Choose one label:

- **good**: text you would want a language model to learn from;
- **junk**: boilerplate, spam, lists of links or keywords, broken or machine-generated text;
- **wrong language**: not in the language the dataset is for;
- **duplicate**: a copy or near copy of another document you have seen here;
- **contains personal data**: names with contact details, identity numbers, private addresses.

You do not see why the document was kept or removed, on purpose: judge the text alone.
"""


def _check_job(job: Job) -> None:
    if job.status != Job.Status.COMPLETED:
        raise ValidationError(f"job {job.pk} is {job.status}; only a completed job can be audited", field="job")


def audited_positions(job: Job, steps: Sequence[str | int] | None) -> list[int]:
    """Resolve step names or positions to recipe positions; None or empty: every step that removes documents."""
    recipe = job_recipe(job)
    if not steps:
        return [p for p, spec in enumerate(recipe.steps)
                if issubclass(step_class(spec.name), (Filter, GlobalStep))]
    positions: list[int] = []
    for step in steps:
        if isinstance(step, int) or str(step).isdigit():
            position = int(step)
            if not 0 <= position < len(recipe.steps):
                raise ValidationError(f"the recipe has no step at position {position}", field="steps")
        else:
            matches = [p for p, spec in enumerate(recipe.steps) if spec.name == step]
            if not matches:
                names = ", ".join(spec.name for spec in recipe.steps)
                raise ValidationError(f"the recipe has no step {step!r} (its steps: {names})", field="steps")
            position = matches[0]
        if position not in positions:
            positions.append(position)
    return sorted(positions)


def _planted_junk(text: str, number: int) -> str:
    words = text.split()[:12] or ["page"]
    if number % 2 == 0:
        return " ".join(words[i % len(words)] for i in range(60))
    menu = ["Home", "About", "Contact", "Login", "Sign up", "Privacy", "Terms", "Cart", *words[:4]]
    return "\n".join(f"» {menu[i % len(menu)]}" for i in range(40))


def audit_create(
    job: Job,
    *,
    steps: Sequence[str | int] | None = None,
    half_width: float = 0.1,
    seed: int = 0,
    labels: Sequence[str] | None = None,
    good_labels: Sequence[str] | None = None,
    gold: Mapping[str, str] | None = None,
    planted_gold: int = 4,
    user: AbstractBaseUser | None = None,
    name: str = "",
) -> FilterAudit:
    """Sample a finished job's steps and create the label project people judge them in; return the audit.

    Creates a project, its guideline, items and gold items, the FilterAudit and its AuditSample rows; builds the
    job's signal table first if it is missing. Not idempotent: each call creates an audit (the same seed samples
    the same documents).
    """
    _check_job(job)
    labels = list(labels or DEFAULT_LABELS)
    good_labels = list(good_labels or GOOD_LABELS)
    if len(set(labels)) != len(labels) or len(labels) < 2:
        raise ValidationError("an audit needs at least two distinct labels", field="labels")
    if not set(good_labels) <= set(labels) or not good_labels or set(good_labels) == set(labels):
        raise ValidationError("good labels must be some, not all, of the labels", field="good_labels")
    if "junk" not in labels and planted_gold:
        raise ValidationError("planted gold items are junk: add a 'junk' label or plant none", field="planted_gold")
    gold = dict(gold or {})
    unknown = sorted(set(gold.values()) - set(labels))
    if unknown:
        raise ValidationError(f"gold labels {', '.join(unknown)} are not audit labels", field="gold")
    if not 0.0 < half_width < 0.5:
        raise ValidationError("the target half-width must be between 0 and 0.5", field="half_width")
    positions = audited_positions(job, steps)
    recipe = job_recipe(job)
    table = signal_table_ensure(job)
    at = step_positions(recipe, table.removed_by)
    langs = table.lang.values()
    drawn: list[Drawn] = []
    strata: list[dict[str, Any]] = []
    for position in positions:
        name_ = recipe.steps[position].name
        for decision, rows in (("removed", np.flatnonzero(at == position)), ("kept", np.flatnonzero(at > position))):
            reasons = table.reason.values(rows) if decision == "removed" else np.full(len(rows), "", dtype=object)
            size = sample_size(half_width, len(rows))
            picked = stratified_sample(seed=seed, step=name_, position=position, decision=decision, rows=rows,
                                       langs=langs[rows], reasons=reasons, size=size)
            drawn.extend(picked)
            cells: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
            for lang, reason in zip(langs[rows].tolist(), reasons.tolist(), strict=True):
                cells[(str(lang), str(reason))][0] += 1
            for d in picked:
                cells[(d.lang, d.reason)][1] += 1
            strata.extend({"position": position, "step": name_, "decision": decision, "lang": lang,
                           "reason": reason, "population": pop, "sampled": n}
                          for (lang, reason), (pop, n) in sorted(cells.items()))
    if not drawn:
        raise ValidationError("the audited steps saw no documents: there is nothing to sample", field="steps")
    wanted_ids = {str(table.ids[d.row]) for d in drawn} | set(gold)
    documents = {}
    for doc in iter_output_documents(job.output):
        doc_id = str(doc.get("id", ""))
        if doc_id in wanted_ids and doc_id not in documents:
            documents[doc_id] = doc
    missing = sorted(set(gold) - set(documents))
    if missing:
        raise ValidationError(f"gold documents not in the job's output: {', '.join(missing[:5])}", field="gold")

    def record(doc_id: str, doc: Mapping[str, Any], **extra: Any) -> str:
        return json.dumps({"id": doc_id, "prompt": str(doc.get("text") or ""),
                           "metadata": {"url": str(doc.get("url") or "")}, **extra}, ensure_ascii=False)

    lines: list[str] = []
    for doc_id in sorted({str(table.ids[d.row]) for d in drawn} - set(gold)):
        lines.append(record(doc_id, documents[doc_id]))
    for doc_id, label in sorted(gold.items()):
        lines.append(record(doc_id, documents[doc_id], is_gold=True, expected={"labels": [label]}))
    sources = [documents[str(table.ids[d.row])] for d in drawn[:planted_gold]]
    for number, doc in enumerate(sources):
        lines.append(record(f"gold-planted-{number}", {"text": _planted_junk(str(doc.get("text") or ""), number),
                                                        "url": doc.get("url")},
                            is_gold=True, expected={"labels": ["junk"]}))
    with transaction.atomic():
        project = project_create(
            name=name or f"Audit of job {job.pk} ({recipe.name})", kind=Project.KIND_LABEL, created_by=user,
            overlap=OVERLAP, labels=labels, gold_rate=GOLD_RATE if (gold or planted_gold) else 0.0,
            source_job=job, guideline=GUIDELINE,
        )
        report = items_import(project, lines)
        if report.errors:
            raise ValidationError(f"items could not be created: line {report.errors[0][0]}: {report.errors[0][1]}")
        items = {item.external_id: item for item in project.items.all()}
        audit = FilterAudit.objects.create(job=job, project=project, steps=positions, seed=seed,
                                           half_width=half_width, labels=labels, good_labels=good_labels,
                                           strata=strata, created_by=user)
        AuditSample.objects.bulk_create(
            AuditSample(audit=audit, item=items[str(table.ids[d.row])], doc_id=str(table.ids[d.row]),
                        url=str(documents[str(table.ids[d.row])].get("url") or ""), position=d.position,
                        step=d.step, decision=d.decision, lang=d.lang, reason=d.reason)
            for d in drawn
        )
    return audit


def item_labels(project: Project, min_votes: int = MIN_VOTES) -> tuple[dict[int, str], list[list[str]]]:
    """Each non-gold item's consensus label (item id -> label) and the units of labels for agreement.

    Reads quality control's ItemConsensus where stored, else the majority of the submitted annotations.
    """
    votes: dict[int, list[Judgement]] = defaultdict(list)
    for item_id, annotator_id, payload in (
        Annotation.objects.filter(project=project, item__is_gold=False)
        .exclude(status="rejected").values_list("item_id", "annotator_id", "payload")
    ):
        votes[item_id].append(Judgement(item_id=item_id, annotator_id=annotator_id, payload=payload))
    stored = dict(ItemConsensus.objects.filter(project=project, item__is_gold=False).values_list("item_id", "value"))
    consensus: dict[int, str] = {}
    for item_id, judgements in votes.items():
        value = stored.get(item_id)
        if value is None:
            if len(judgements) < min_votes:
                continue
            value = label_consensus(judgements, {}, project.labels, project.multi_label)
        chosen = value.get("labels") or []
        if chosen:
            consensus[item_id] = str(chosen[0])
    units = [[str((j.payload.get("labels") or [""])[0]) for j in judgements] for judgements in votes.values()]
    return consensus, units


def labels_state(project: Project) -> list[Any]:
    """A few numbers that change whenever the audit's figures could: an annotation submitted, rejected or edited,
    or quality control's consensus stored again (annotations only ever get added; a review adds a Review row)."""
    annotations = Annotation.objects.filter(project=project).aggregate(
        count=Count("id"), last=Max("id"), rejected=Count("id", filter=Q(status="rejected")))
    reviews = Review.objects.filter(annotation__project=project).aggregate(last=Max("id"))
    stored = ItemConsensus.objects.filter(project=project).aggregate(count=Count("id"), last=Max("computed_at"))
    return [annotations["count"], annotations["last"], annotations["rejected"], reviews["last"], stored["count"],
            stored["last"].isoformat() if stored["last"] else None]


def audit_results_current(audit: FilterAudit) -> dict[str, Any]:
    """Return the audit's figures, computing them again (and the job's card) only when its labels changed since
    they were last computed: reading an audit writes nothing until new labels arrive. Safe on every read."""
    state = labels_state(audit.project)
    if audit.results_at is not None and audit.results_labels == state:
        return audit.results
    return audit_results(audit, state=state)


def audit_results(audit: FilterAudit, *, save: bool = True, state: list[Any] | None = None) -> dict[str, Any]:
    """Compute the audit's figures from the labels so far (see the module docstring); store them on the audit.

    Changes `audit.results` / `results_at` / `results_labels` and, once something is labelled, the job's dataset
    card (with `save`). Safe to re-run: it recomputes from the labels. `state`: the labels' state, when the
    caller has just read it.
    """
    if save and state is None:
        state = labels_state(audit.project)
    consensus, units = item_labels(audit.project)
    good = set(audit.good_labels)
    samples = list(audit.samples.values("item_id", "doc_id", "position", "step", "decision", "reason"))
    by_step: dict[int, dict[str, Any]] = {}
    for position in audit.steps:
        by_step[position] = {"removed": [0, 0], "kept": [0, 0], "reasons": defaultdict(lambda: [0, 0]),
                             "sampled": {"removed": 0, "kept": 0}, "labels": defaultdict(int)}
    for sample in samples:
        cell = by_step[sample["position"]]
        cell["sampled"][sample["decision"]] += 1
        label = consensus.get(sample["item_id"])
        if label is None:
            continue
        junk = label not in good
        cell["labels"][label] += 1
        cell[sample["decision"]][0] += int(junk)
        cell[sample["decision"]][1] += 1
        if sample["decision"] == "removed":
            cell["reasons"][sample["reason"]][0] += int(junk)
            cell["reasons"][sample["reason"]][1] += 1
    name_of = {s["position"]: s["step"] for s in audit.strata}
    steps = []
    for position, cell in sorted(by_step.items()):
        steps.append({
            "position": position, "step": name_of.get(position, ""),
            "removal_precision": proportion(*cell["removed"]),
            "kept_junk_rate": proportion(*cell["kept"]),
            "reasons": [{"reason": reason, "removal_precision": proportion(*counts)}
                        for reason, counts in sorted(cell["reasons"].items())],
            "sampled": cell["sampled"], "labelled": {"removed": cell["removed"][1], "kept": cell["kept"][1]},
            "labels": dict(sorted(cell["labels"].items())),
        })
    alpha = krippendorff_alpha(units, "nominal")
    results = {
        "audit": audit.pk, "job": audit.job_id, "project": audit.project_id,
        "items_labelled": len(consensus), "items": len({s["item_id"] for s in samples}),
        "agreement": alpha.as_dict(), "steps": steps, "good_labels": audit.good_labels,
    }
    if save:
        audit.results = results
        audit.results_at = timezone.now()
        audit.results_labels = state or []
        audit.save(update_fields=["results", "results_at", "results_labels"])
        if any(step["labelled"]["removed"] or step["labelled"]["kept"] for step in steps):
            job_card_write(audit.job)  # the card's audited precision follows the labels
    return results


def audit_labels_by_document(audit: FilterAudit) -> dict[str, bool]:
    """Each labelled audited document's id -> True when people judged it junk (for what-if precision)."""
    consensus, _ = item_labels(audit.project)
    good = set(audit.good_labels)
    result: dict[str, bool] = {}
    for item_id, doc_id in audit.samples.values_list("item_id", "doc_id"):
        label = consensus.get(item_id)
        if label is not None:
            result[doc_id] = label not in good
    return result
