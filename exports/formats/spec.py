"""What an export is asked to produce: format, layout, merging, filters, split, decontamination, PII and files.

Every field is checked when the spec is built (`ExportSpec.from_dict` refuses unknown keys in one line), so a bad
request fails before any row is read. Defaults and where they come from:
- split: 10% of the rows to `test`, by prompt group; prompts are the same group when their MinHash-estimated
  Jaccard similarity reaches 0.7, the annotation app's default near-duplicate threshold for instructions.
- decontamination: 13-grams, as GPT-3 (Brown et al. 2020, appendix C) and Llama 2 (Touvron et al. 2023, A.6) did.
- PII: structured types (e-mail, phone, IDs, cards, secrets ...) with `curation.steps.pii.find_pii`; the name
  finders (spaCy NER, ~10 ms a text here) only on request, since people's texts were already checked when written.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields
from typing import Any

FORMAT_SFT = "sft"
FORMAT_REWARD = "reward"
FORMAT_DPO = "dpo"
FORMAT_PPO = "ppo"
FORMAT_PRETRAIN = "pretrain"
FORMATS = (FORMAT_SFT, FORMAT_REWARD, FORMAT_DPO, FORMAT_PPO, FORMAT_PRETRAIN)
PREFERENCE_FORMATS = (FORMAT_REWARD, FORMAT_DPO)

STYLE_MESSAGES = "messages"  # sft: {"messages": [...]}
STYLE_PROMPT_COMPLETION = "prompt_completion"  # sft: {"prompt": [...], "completion": [...]}
STYLE_EXPLICIT = "explicit"  # reward/dpo: {"prompt": [...], "chosen": [...], "rejected": [...]}
STYLE_IMPLICIT = "implicit"  # reward/dpo: {"chosen": [...whole conversation], "rejected": [...]}
STYLES = {
    FORMAT_SFT: (STYLE_MESSAGES, STYLE_PROMPT_COMPLETION),
    FORMAT_REWARD: (STYLE_EXPLICIT, STYLE_IMPLICIT),
    FORMAT_DPO: (STYLE_EXPLICIT, STYLE_IMPLICIT),
    FORMAT_PPO: ("prompt",),
    FORMAT_PRETRAIN: ("text",),
}

MERGE_CONSENSUS = "consensus"  # the quality issue's stored consensus; computed from the annotations when absent
MERGE_MAJORITY = "majority"  # per response pair, what most annotators preferred
MERGE_NONE = "none"  # every annotator's pairs, unmerged
MERGES = (MERGE_CONSENSUS, MERGE_MAJORITY, MERGE_NONE)

PII_REDACT = "redact"
PII_DROP = "drop"
PII_OFF = "off"  # only for measuring the scan's cost (bench/export.py); never offered by the API, CLI or page
PII_ACTIONS = (PII_REDACT, PII_DROP)

FILE_JSONL = "jsonl"
FILE_PARQUET = "parquet"
FILE_FORMATS = (FILE_JSONL, FILE_PARQUET)


class SpecError(ValueError):
    """The export request is malformed; the message names the field and says what is allowed."""


def _fraction(name: str, value: float | None, *, allow_one: bool = True) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise SpecError(f"{name} must be a number")
    if not 0.0 <= value <= 1.0 or (not allow_one and value >= 1.0):
        raise SpecError(f"{name} must be between 0 and {'1' if allow_one else 'below 1'}")


@dataclass(frozen=True)
class ExportSpec:
    """One export request; `to_dict` / `from_dict` round-trip it (the Export row stores it)."""

    format: str
    style: str = ""  # empty: the format's first style
    merge: str = MERGE_CONSENSUS
    likert_criterion: str = ""  # empty: the mean over the project's criteria
    min_agreement: float | None = None
    min_trust: float | None = None
    include_gold: bool = False
    include_rejected: bool = False
    accepted_only: bool = False  # sft: only annotations a reviewer accepted or edited
    test_fraction: float = 0.1
    seed: int = 0
    near_duplicate_threshold: float = 0.7
    eval_paths: tuple[str, ...] = ()
    ngram: int = 13
    pii_action: str = PII_REDACT
    pii_names: bool = False
    files: tuple[str, ...] = (FILE_JSONL, FILE_PARQUET)
    shard_rows: int = 100_000
    row_group_rows: int = 10_000
    extra: Mapping[str, Any] = field(default_factory=dict)  # shown in the card (e.g. the reproducing command)

    def __post_init__(self) -> None:
        if self.format not in FORMATS:
            raise SpecError(f"format must be one of {', '.join(FORMATS)}, not {self.format!r}")
        if not self.style:
            object.__setattr__(self, "style", STYLES[self.format][0])
        if self.style not in STYLES[self.format]:
            raise SpecError(f"style of a {self.format} export must be one of {', '.join(STYLES[self.format])}")
        if self.merge not in MERGES:
            raise SpecError(f"merge must be one of {', '.join(MERGES)}")
        _fraction("min_agreement", self.min_agreement)
        _fraction("min_trust", self.min_trust)
        _fraction("test_fraction", self.test_fraction, allow_one=False)
        _fraction("near_duplicate_threshold", self.near_duplicate_threshold)
        if self.near_duplicate_threshold <= 0:
            raise SpecError("near_duplicate_threshold must be above 0")
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or not 0 <= self.seed < 2**32:
            raise SpecError("seed must be an integer from 0 to 2**32 - 1")
        if isinstance(self.ngram, bool) or not isinstance(self.ngram, int) or not 3 <= self.ngram <= 64:
            raise SpecError("ngram must be an integer from 3 to 64")
        if self.pii_action not in (*PII_ACTIONS, PII_OFF):
            raise SpecError(f"pii_action must be one of {', '.join(PII_ACTIONS)}")
        object.__setattr__(self, "files", tuple(self.files))
        object.__setattr__(self, "eval_paths", tuple(self.eval_paths))
        if not self.files or any(f not in FILE_FORMATS for f in self.files) or len(set(self.files)) != len(self.files):
            raise SpecError(f"files must be a non-empty list of {', '.join(FILE_FORMATS)} without repeats")
        for name in ("shard_rows", "row_group_rows"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise SpecError(f"{name} must be a positive integer")

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["eval_paths"] = list(self.eval_paths)
        data["files"] = list(self.files)
        data["extra"] = dict(self.extra)
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ExportSpec:
        """Build a spec from JSON-like data; unknown keys are refused by name."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise SpecError(f"unknown export option(s): {', '.join(unknown)}")
        if "format" not in data:
            raise SpecError("format is required")
        values = dict(data)
        for name in ("eval_paths", "files"):
            if name in values:
                if isinstance(values[name], str) or not isinstance(values[name], Sequence):
                    raise SpecError(f"{name} must be a list")
                values[name] = tuple(values[name])
        return cls(**values)

    def filters_summary(self) -> dict[str, Any]:
        """The filters as the card lists them."""
        return {
            "min_agreement": self.min_agreement,
            "min_trust": self.min_trust,
            "include_gold": self.include_gold,
            "include_rejected": self.include_rejected,
            "accepted_only": self.accepted_only,
            "decontamination": {"eval_files": list(self.eval_paths), "ngram": self.ngram} if self.eval_paths else None,
            "pii": {"action": self.pii_action, "names": self.pii_names},
        }
