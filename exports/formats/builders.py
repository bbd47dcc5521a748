"""Rows in trl's formats from items and their annotations, after the item and annotation filters.

Formats (trl's dataset formats, https://huggingface.co/docs/trl/dataset_formats, all conversational):
- sft: `{"messages": [system?, earlier turns..., user, assistant]}` or, on request,
  `{"prompt": [system?, ..., user], "completion": [assistant]}`; from response projects (the written response)
  and instruction projects whose payload carries an answer (the worked `reasoning` of a chain-of-thought
  instruction; a multi-turn instruction's earlier `turns` come before it); instructions without one are counted,
  they are prompts (for ppo, or for a response project) rather than demonstrations;
- reward and dpo: `{"prompt": [...], "chosen": [assistant], "rejected": [assistant], "margin": float}` (explicit
  prompt), or `{"chosen": [...whole conversation], "rejected": [...], "margin"}` (implicit prompt); from ranking,
  pairwise and Likert projects (see `preferences`);
- ppo: `{"prompt": [system?, ..., user]}`, each distinct prompt once; from instruction projects (the written
  instruction) and from the prompts of any other project's items;
- pretrain: `{"id", "text", "url", "lang"}` from curation documents.

Each row comes with its prompt-group text (what the train/test split keeps on one side) and where it came from.
Filters, each counted under its name in `BuildStats.removed`: gold items, rejected annotations, annotators below the
trust bar or without a trust score, annotations no reviewer accepted (sft, on request), items below the agreement
bar or without an agreement, payloads that do not fit their kind. One bad payload never fails the export.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson
import xxhash

from exports.formats.preferences import (
    Pair,
    PreferenceError,
    Scores,
    annotation_scores,
    item_agreement,
    item_pairs,
    likert_score,
    pairs_from_scores,
)
from exports.formats.records import (
    KIND_INSTRUCTION,
    KIND_LIKERT,
    KIND_RESPONSE,
    PREFERENCE_KINDS,
    STATUS_ACCEPTED,
    STATUS_EDITED,
    STATUS_REJECTED,
    AnnotationRecord,
    DocumentRecord,
    ItemRecord,
    Message,
)
from exports.formats.spec import (
    FORMAT_PPO,
    FORMAT_SFT,
    PREFERENCE_FORMATS,
    STYLE_IMPLICIT,
    STYLE_PROMPT_COMPLETION,
    ExportSpec,
)

Row = dict[str, Any]

REMOVED_GOLD = "gold_items"
REMOVED_REJECTED = "rejected_annotations"
REMOVED_LOW_TRUST = "low_trust_annotations"
REMOVED_UNKNOWN_TRUST = "unknown_trust_annotations"
REMOVED_NOT_ACCEPTED = "not_accepted_annotations"
REMOVED_LOW_AGREEMENT = "low_agreement_items"
REMOVED_NO_AGREEMENT = "no_agreement_items"
REMOVED_BAD_PAYLOAD = "bad_payload_annotations"
REMOVED_NO_ANSWER = "instructions_without_answer"
REMOVED_WRONG_KIND = "items_of_other_kinds"
REMOVED_DUPLICATE_PROMPT = "duplicate_prompts"
REMOVED_EMPTY = "empty_rows"

_AGREEMENT_BINS = 10


class BuildError(ValueError):
    """The sources cannot give this format at all (e.g. label projects for sft); the message says why."""


@dataclass(slots=True)
class BuiltRow:
    """A row to export, the text of its prompt group (for the split) and where it came from.

    `line` is the row's JSON line (the bytes `json_line(row)` gives) when the builder made it already from pieces
    it encoded once for several rows; None otherwise. Not frozen: a frozen dataclass costs ~1 us more to make, and
    an export makes one per row.
    """

    group: str
    row: Row
    source: str
    line: bytes | None = None


@dataclass
class BuildStats:
    """What the build saw and removed; the dataset card shows these."""

    items: int = 0
    annotations: int = 0
    documents: int = 0
    removed: dict[str, int] = field(default_factory=dict)
    annotators: set[str] = field(default_factory=set)
    projects: set[int] = field(default_factory=set)
    kinds: set[str] = field(default_factory=set)
    agreement_count: int = 0
    agreement_sum: float = 0.0
    agreement_min: float | None = None
    agreement_max: float | None = None
    agreement_histogram: list[int] = field(default_factory=lambda: [0] * _AGREEMENT_BINS)
    margin_sum: float = 0.0
    margin_count: int = 0

    def remove(self, reason: str, count: int = 1) -> None:
        if count:
            self.removed[reason] = self.removed.get(reason, 0) + count

    def merge(self, other: BuildStats) -> None:
        """Add what another part of the same export saw (parts are merged in their rows' order)."""
        self.items += other.items
        self.annotations += other.annotations
        self.documents += other.documents
        for reason, count in other.removed.items():
            self.remove(reason, count)
        self.annotators |= other.annotators
        self.projects |= other.projects
        self.kinds |= other.kinds
        self.agreement_count += other.agreement_count
        self.agreement_sum += other.agreement_sum
        for bound in (other.agreement_min, other.agreement_max):
            if bound is not None:
                self.agreement_min = bound if self.agreement_min is None else min(self.agreement_min, bound)
                self.agreement_max = bound if self.agreement_max is None else max(self.agreement_max, bound)
        self.agreement_histogram = [a + b for a, b in zip(self.agreement_histogram, other.agreement_histogram,
                                                            strict=True)]
        self.margin_sum += other.margin_sum
        self.margin_count += other.margin_count

    def record_agreement(self, value: float) -> None:
        self.agreement_count += 1
        self.agreement_sum += value
        self.agreement_min = value if self.agreement_min is None else min(self.agreement_min, value)
        self.agreement_max = value if self.agreement_max is None else max(self.agreement_max, value)
        self.agreement_histogram[min(int(value * _AGREEMENT_BINS), _AGREEMENT_BINS - 1)] += 1

    def agreement_summary(self) -> dict[str, Any]:
        """Count, mean, range and a 10-bin histogram over [0, 1] of the items' agreement."""
        if not self.agreement_count:
            return {"items": 0}
        return {
            "items": self.agreement_count,
            "mean": round(self.agreement_sum / self.agreement_count, 4),
            "min": round(self.agreement_min or 0.0, 4),
            "max": round(self.agreement_max or 0.0, 4),
            "histogram": {
                f"{i / _AGREEMENT_BINS:.1f}-{(i + 1) / _AGREEMENT_BINS:.1f}": n
                for i, n in enumerate(self.agreement_histogram)
            },
        }


# --- Conversations -------------------------------------------------------------------------------------------------


def _message(role: Any, content: Any) -> Message | None:
    if role not in ("system", "user", "assistant") or not isinstance(content, str):
        return None
    return {"role": role, "content": content}


def prompt_messages(item: ItemRecord, user_text: str | None = None,
                    turns: Sequence[Mapping[str, Any]] = ()) -> list[Message]:
    """Return the prompt as messages: the project's system prompt, the item's earlier turns, then the user turn.

    `user_text` replaces the item's prompt (an instruction project's prompt is the instruction written for it) and
    `turns` are earlier turns written with it (a multi-turn instruction), placed before it.
    """
    messages: list[Message] = []
    if item.system_prompt:
        messages.append({"role": "system", "content": item.system_prompt})
    for turn in item.messages or ():
        message = _message(turn.get("role"), turn.get("content"))
        if message is not None and not (message["role"] == "system" and item.system_prompt):
            messages.append(message)
    for turn in turns:
        message = _message(turn.get("role"), turn.get("content"))
        if message is not None and message["role"] != "system":
            messages.append(message)
    text = item.prompt if user_text is None else user_text
    if text:
        messages.append({"role": "user", "content": text})
    return messages


def group_text(messages: Sequence[Message]) -> str:
    """Return the text that identifies a prompt for the split: its turns without the system prompt."""
    return "\n".join(m["content"] for m in messages if m["role"] != "system")


def _assistant(text: str) -> list[Message]:
    return [{"role": "assistant", "content": text}]


def instruction_text(payload: Mapping[str, Any]) -> str:
    """Return an instruction payload's user turn: the instruction, then its few-shot examples, if any."""
    instruction = payload.get("instruction")
    if not isinstance(instruction, str):
        raise PreferenceError("an instruction payload needs an 'instruction' string")
    parts = [instruction.strip()]
    examples = payload.get("examples")
    if isinstance(examples, list):
        for number, example in enumerate(examples, start=1):
            if isinstance(example, str) and example.strip():
                parts.append(f"Example {number}:\n{example.strip()}")
            elif isinstance(example, Mapping):
                lines = [f"{key}: {value}" for key, value in example.items() if isinstance(value, str)]
                if lines:
                    parts.append(f"Example {number}:\n" + "\n".join(lines))
    return "\n\n".join(part for part in parts if part)


def instruction_answer(payload: Mapping[str, Any]) -> str | None:
    """Return the answer an instruction payload carries (`response`, else the worked `reasoning`), or None."""
    for key in ("response", "reasoning"):
        value = payload.get(key)
        if isinstance(value, str) and value.strip():
            return value
    return None


def _turns(payload: Mapping[str, Any]) -> Sequence[Mapping[str, Any]]:
    turns = payload.get("turns")
    return [t for t in turns if isinstance(t, Mapping)] if isinstance(turns, list) else []


def _source(item: ItemRecord) -> str:
    return f"project {item.project} item {item.item}"


# --- Filters -------------------------------------------------------------------------------------------------------


def _kept_annotations(item: ItemRecord, spec: ExportSpec, stats: BuildStats) -> list[AnnotationRecord]:
    kept: list[AnnotationRecord] = []
    for annotation in item.annotations:
        if annotation.status == STATUS_REJECTED and not spec.include_rejected:
            stats.remove(REMOVED_REJECTED)
            continue
        if spec.min_trust is not None:
            if annotation.trust is None:
                stats.remove(REMOVED_UNKNOWN_TRUST)
                continue
            if annotation.trust < spec.min_trust:
                stats.remove(REMOVED_LOW_TRUST)
                continue
        if spec.accepted_only and annotation.status not in (STATUS_ACCEPTED, STATUS_EDITED):
            stats.remove(REMOVED_NOT_ACCEPTED)
            continue
        kept.append(annotation)
    return kept


def _scores(item: ItemRecord, annotations: Iterable[AnnotationRecord], spec: ExportSpec,
            stats: BuildStats) -> list[Scores]:
    per_annotator: list[Scores] = []
    for annotation in annotations:
        try:
            per_annotator.append(annotation_scores(item, annotation, spec.likert_criterion))
        except PreferenceError:
            stats.remove(REMOVED_BAD_PAYLOAD)
            continue
        stats.annotators.add(annotation.annotator)
    return per_annotator


def _passes_agreement(item: ItemRecord, per_annotator: Sequence[Scores], spec: ExportSpec,
                      stats: BuildStats) -> bool:
    stored = item.consensus.agreement if item.consensus is not None else None
    agreement = stored if stored is not None else item_agreement(per_annotator, item.kind, item.scale)
    if agreement is not None:
        stats.record_agreement(agreement)
    if spec.min_agreement is None:
        return True
    if agreement is None:
        stats.remove(REMOVED_NO_AGREEMENT)
        return False
    if agreement < spec.min_agreement:
        stats.remove(REMOVED_LOW_AGREEMENT)
        return False
    return True


def _take_item(item: ItemRecord, spec: ExportSpec, stats: BuildStats) -> bool:
    stats.items += 1
    stats.annotations += len(item.annotations)
    stats.projects.add(item.project)
    stats.kinds.add(item.kind)
    if item.is_gold and not spec.include_gold:
        stats.remove(REMOVED_GOLD)
        return False
    return True


# --- Builders ------------------------------------------------------------------------------------------------------


class _PairRows:
    """The preference rows of one item, and their JSON lines, from pieces made once per item.

    The rows of an item repeat its prompt and responses (a ranking of four responses gives six rows from five
    texts), so each response's conversation is made and encoded once, and each row is a small dict over those
    shared pieces (rows are read after this, never changed) with its line joined from their encodings: the same
    bytes `json_line` gives for the row (orjson writes no spaces, keys in insertion order), at a fraction of the
    cost. A text that cannot be encoded as it is (a lone UTF-16 surrogate) leaves every line of the item to
    `json_line` and its repair.
    """

    def __init__(self, prompt: list[Message], texts: Mapping[str, str], implicit: bool) -> None:
        self.implicit = implicit
        self.prompt = prompt
        # implicit: each conversation is the prompt and then the answer; explicit: the answer alone.
        self.conversations = {rid: (prompt if implicit else []) + _assistant(text) for rid, text in texts.items()}
        self.encoded: dict[str, bytes] | None = {}
        try:
            self.encoded_prompt = orjson.dumps(prompt)
            for rid, conversation in self.conversations.items():
                self.encoded[rid] = orjson.dumps(conversation)
        except TypeError:
            self.encoded = None

    def row(self, chosen: str, rejected: str, margin: float) -> tuple[Row, bytes | None]:
        conversations, encoded = self.conversations, self.encoded
        if self.implicit:
            row: Row = {"chosen": conversations[chosen], "rejected": conversations[rejected], "margin": margin}
            parts: tuple[bytes, ...] = (b'{"chosen":',)
        else:
            row = {"prompt": self.prompt, "chosen": conversations[chosen], "rejected": conversations[rejected],
                   "margin": margin}
            parts = (b'{"prompt":', self.encoded_prompt, b',"chosen":')
        if encoded is None:
            return row, None
        return row, b"".join((*parts, encoded[chosen], b',"rejected":', encoded[rejected], b',"margin":',
                              orjson.dumps(margin), b"}\n"))


def _response_texts(item: ItemRecord) -> dict[str, str]:
    return {str(r.get("id")): r["text"] for r in item.responses if isinstance(r.get("text"), str)}


def _emit_pairs(item: ItemRecord, pairs: Sequence[Pair], texts: Mapping[str, str], spec: ExportSpec,
                stats: BuildStats) -> list[BuiltRow]:
    prompt = prompt_messages(item)
    group = group_text(prompt)
    source = _source(item)
    kept = [pair for pair in pairs if pair[0] in texts and pair[1] in texts]
    stats.remove(REMOVED_BAD_PAYLOAD, len(pairs) - len(kept))
    if not kept:
        return []
    made = _PairRows(prompt, texts, spec.style == STYLE_IMPLICIT)
    built = []
    for chosen, rejected, margin in kept:
        stats.margin_sum += margin
        row, line = made.row(chosen, rejected, margin)
        built.append(BuiltRow(group, row, source, line))
    stats.margin_count += len(kept)
    return built


def _likert_key(item: ItemRecord) -> tuple[str, ...]:
    return (item.system_prompt, group_text(prompt_messages(item)))


def preference_rows(items: Iterable[ItemRecord], spec: ExportSpec, stats: BuildStats) -> Iterator[BuiltRow]:
    """Yield reward/dpo rows. Likert items pair up with the consecutive items that share their prompt (the source
    orders Likert items by prompt); ranking and pairwise items give their own pairs."""
    likert_group: list[tuple[ItemRecord, float]] = []
    likert_key: tuple[str, ...] | None = None

    def flush_likert() -> Iterator[BuiltRow]:
        if len(likert_group) < 2:
            return
        anchor = likert_group[0][0]
        scores: Scores = {}
        texts: dict[str, str] = {}
        order: list[str] = []
        for position, (member, score) in enumerate(likert_group):
            if not member.responses or not isinstance(member.responses[0].get("text"), str):
                continue
            key = f"{position}"
            scores[key] = score
            texts[key] = member.responses[0]["text"]
            order.append(key)
        yield from _emit_pairs(anchor, pairs_from_scores(scores, order), texts, spec, stats)

    for item in items:
        if not _take_item(item, spec, stats):
            continue
        if item.kind not in PREFERENCE_KINDS:
            stats.remove(REMOVED_WRONG_KIND)
            continue
        per_annotator = _scores(item, _kept_annotations(item, spec, stats), spec, stats)
        if not per_annotator or not _passes_agreement(item, per_annotator, spec, stats):
            continue
        if item.kind == KIND_LIKERT and len(item.responses) == 1:
            key = _likert_key(item)
            if key != likert_key:
                yield from flush_likert()
                likert_group, likert_key = [], key
            score = likert_score(item, per_annotator, spec.merge)
            if score is not None:
                likert_group.append((item, score))
            continue
        yield from _emit_pairs(item, item_pairs(item, per_annotator, spec.merge), _response_texts(item), spec, stats)
    yield from flush_likert()


def sft_rows(items: Iterable[ItemRecord], spec: ExportSpec, stats: BuildStats) -> Iterator[BuiltRow]:
    """Yield sft rows: one per kept written response (response projects) or answered instruction."""
    for item in items:
        if not _take_item(item, spec, stats):
            continue
        if item.kind not in (KIND_RESPONSE, KIND_INSTRUCTION):
            stats.remove(REMOVED_WRONG_KIND)
            continue
        for annotation in _kept_annotations(item, spec, stats):
            payload = annotation.effective_payload
            try:
                if item.kind == KIND_RESPONSE:
                    answer = payload.get("response")
                    if not isinstance(answer, str):
                        raise PreferenceError("a response payload needs a 'response' string")
                    prompt = prompt_messages(item)
                else:
                    prompt = prompt_messages(item, instruction_text(payload), _turns(payload))
                    answer = instruction_answer(payload)
                    if answer is None:
                        stats.remove(REMOVED_NO_ANSWER)
                        continue
            except PreferenceError:
                stats.remove(REMOVED_BAD_PAYLOAD)
                continue
            if not answer.strip() or not group_text(prompt).strip():
                stats.remove(REMOVED_EMPTY)
                continue
            stats.annotators.add(annotation.annotator)
            if spec.style == STYLE_PROMPT_COMPLETION:
                row: Row = {"prompt": prompt, "completion": _assistant(answer)}
            else:
                row = {"messages": prompt + _assistant(answer)}
            yield BuiltRow(group_text(prompt), row, _source(item))


def ppo_rows(items: Iterable[ItemRecord], spec: ExportSpec, stats: BuildStats) -> Iterator[BuiltRow]:
    """Yield ppo rows: every distinct prompt once (instructions written in instruction projects, else items' own
    prompts). Only 8 bytes per distinct prompt are kept to find repeats."""
    seen: set[int] = set()
    for item in items:
        if not _take_item(item, spec, stats):
            continue
        prompts: list[list[Message]] = []
        if item.kind == KIND_INSTRUCTION:
            for annotation in _kept_annotations(item, spec, stats):
                try:
                    payload = annotation.effective_payload
                    prompts.append(prompt_messages(item, instruction_text(payload), _turns(payload)))
                except PreferenceError:
                    stats.remove(REMOVED_BAD_PAYLOAD)
                    continue
                stats.annotators.add(annotation.annotator)
        else:
            prompts.append(prompt_messages(item))
        for prompt in prompts:
            text = group_text(prompt)
            if not text.strip():
                stats.remove(REMOVED_EMPTY)
                continue
            key = xxhash.xxh3_64_intdigest(("\x00".join(f"{m['role']}\x01{m['content']}" for m in prompt)).encode())
            if key in seen:
                stats.remove(REMOVED_DUPLICATE_PROMPT)
                continue
            seen.add(key)
            yield BuiltRow(text, {"prompt": prompt}, _source(item))


def ppo_rows_from_prompts(prompts: Iterable[list[Message]], source: str, stats: BuildStats) -> Iterator[BuiltRow]:
    """Yield ppo rows from the prompts of an earlier export (each distinct prompt once)."""
    seen: set[int] = set()
    for prompt in prompts:
        stats.items += 1
        text = group_text(prompt)
        key = xxhash.xxh3_64_intdigest(("\x00".join(f"{m['role']}\x01{m['content']}" for m in prompt)).encode())
        if not text.strip():
            stats.remove(REMOVED_EMPTY)
            continue
        if key in seen:
            stats.remove(REMOVED_DUPLICATE_PROMPT)
            continue
        seen.add(key)
        yield BuiltRow(text, {"prompt": prompt}, source)


def pretrain_rows(documents: Iterable[DocumentRecord], stats: BuildStats) -> Iterator[BuiltRow]:
    """Yield pretrain rows `{"id", "text", "url", "lang"}`; a document is its own prompt group."""
    for document in documents:
        stats.documents += 1
        if document.job is not None:
            stats.projects.add(document.job)
        if not document.text.strip():
            stats.remove(REMOVED_EMPTY)
            continue
        row = {"id": document.id, "text": document.text, "url": document.url, "lang": document.lang}
        yield BuiltRow(document.text, row, f"job {document.job} document {document.id}")


def item_rows(items: Iterable[ItemRecord], spec: ExportSpec, stats: BuildStats) -> Iterator[BuiltRow]:
    """Yield the rows of an annotation export in `spec.format`."""
    if spec.format in PREFERENCE_FORMATS:
        return preference_rows(items, spec, stats)
    if spec.format == FORMAT_SFT:
        return sft_rows(items, spec, stats)
    if spec.format == FORMAT_PPO:
        return ppo_rows(items, spec, stats)
    raise BuildError(f"{spec.format} exports are made from curation jobs, not annotation projects")
