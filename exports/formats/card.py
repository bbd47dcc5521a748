"""The dataset card of an export: `card.json` (for programs) and `README.md` (the Hugging Face dataset-card layout).

README.md starts with the YAML metadata the Hub reads (https://huggingface.co/docs/hub/datasets-cards): `configs`
with `data_files` per split (so `load_dataset(folder)` and the Hub viewer find the files), `license`, `language`,
`task_categories`, `tags` and `size_categories`; then the sections of the Hub's card template that an export can
fill truthfully: summary, structure, sources, curation (filters and what each removed, personal data,
decontamination, agreement), and how to reproduce and load it. Nothing here is invented: every number comes from the
run.
"""

from __future__ import annotations

import json
from typing import Any

import yaml

from exports.formats.spec import (
    FILE_JSONL,
    FILE_PARQUET,
    FORMAT_DPO,
    FORMAT_PPO,
    FORMAT_PRETRAIN,
    FORMAT_REWARD,
    FORMAT_SFT,
)

TASK_CATEGORIES = {
    FORMAT_SFT: ["text-generation"],
    FORMAT_REWARD: ["text-classification"],
    FORMAT_DPO: ["text-generation"],
    FORMAT_PPO: ["text-generation"],
    FORMAT_PRETRAIN: ["text-generation"],
}
TRAINERS = {
    FORMAT_SFT: "trl.SFTTrainer",
    FORMAT_REWARD: "trl.RewardTrainer",
    FORMAT_DPO: "trl.DPOTrainer",
    FORMAT_PPO: "trl.experimental.ppo.PPOTrainer (after tokenising the prompts) or trl.GRPOTrainer / RLOOTrainer",
    FORMAT_PRETRAIN: "continued pretraining (trl.SFTTrainer on `text`) or any tool that reads text",
}
COLUMNS = {
    "messages": "the conversation: system prompt (when the project has one), earlier turns, user, assistant",
    "prompt": "the conversation up to the answer (system prompt when the project has one, earlier turns, user)",
    "completion": "the answer, as one assistant message",
    "chosen": "the preferred answer (explicit form: the assistant message; implicit form: the whole conversation)",
    "rejected": "the less preferred answer, in the same form as `chosen`",
    "margin": "how strongly `chosen` is preferred: rank distance, pairwise strength or Likert difference",
    "id": "the document's id in the curation job",
    "text": "the document's text",
    "url": "where the document was crawled from",
    "lang": "the document's language code",
}


def size_category(rows: int) -> str:
    for limit, label in ((1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K"),
                         (1_000_000, "100K<n<1M"), (10_000_000, "1M<n<10M")):
        if rows < limit:
            return label
    return "10M<n<100M"


def _configs(card: dict[str, Any]) -> list[dict[str, Any]]:
    kinds = [kind for kind in (FILE_PARQUET, FILE_JSONL) if kind in card["file_formats"]]
    configs = []
    for number, kind in enumerate(kinds):
        data_files = [
            {"split": split, "path": f"data/{split}-*.{kind}"}
            for split, info in card["splits"].items()
            if info["rows"]
        ]
        configs.append({"config_name": "default" if number == 0 else kind, "data_files": data_files})
    return configs


def front_matter(card: dict[str, Any]) -> dict[str, Any]:
    """Return the README's YAML metadata block as a mapping."""
    total = sum(info["rows"] for info in card["splits"].values())
    return {
        "configs": _configs(card),
        "license": card.get("license") or "other",
        "language": card.get("languages") or [],
        "task_categories": TASK_CATEGORIES[card["format"]],
        "tags": ["trl", card["format"], "human-feedback" if card["format"] != FORMAT_PRETRAIN else "curated-web"],
        "size_categories": [size_category(total)],
        "pretty_name": card["name"],
    }


def _table(header: list[str], rows: list[list[Any]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def render_readme(card: dict[str, Any]) -> str:
    """Return README.md for a card."""
    meta = yaml.safe_dump(front_matter(card), allow_unicode=True, sort_keys=False)
    sources = card["sources"]
    fmt = card["format"]
    first_split = next((s for s, info in card["splits"].items() if info["rows"]), "train")
    loader = "parquet" if FILE_PARQUET in card["file_formats"] else "json"
    extension = FILE_PARQUET if loader == "parquet" else FILE_JSONL
    removed_rows = [[name, count] for name, count in sorted(card["removed"].items())]
    pii = card["pii"]
    decontam = card.get("decontamination")
    agreement = card["agreement"]
    split = card["split"]
    parts = [
        f"---\n{meta}---",
        f"# {card['name']}",
        "## Dataset summary",
        f"A `{fmt}` dataset ({card['style']} form) exported by the curation service for `{TRAINERS[fmt]}`, "
        f"which takes it as it is. It is immutable: its content hash is `{card['content_hash']}`.",
        "## Dataset structure",
        _table(["column", "meaning"], [[f"`{c}`", COLUMNS.get(c, "")] for c in card["columns"]]),
        _table(["split", "rows", "files"],
               [[name, info["rows"], len(info["files"].get(extension, []))] for name, info in card["splits"].items()]),
        "## Source data",
        _table(["", ""], [
            ["annotation projects", ", ".join(str(p) for p in sources.get("projects", [])) or "-"],
            ["curation jobs", ", ".join(str(j) for j in sources.get("jobs", [])) or "-"],
            ["project kinds", ", ".join(sources.get("kinds", [])) or "-"],
            ["items read", sources.get("items", 0)],
            ["annotations read", sources.get("annotations", 0)],
            ["documents read", sources.get("documents", 0)],
            ["annotators", sources.get("annotators", 0)],
            ["merging of annotators", card["merge"]],
        ]),
        "## Curation",
        "### Filters and what each removed",
        "```json\n" + json.dumps(card["filters"], ensure_ascii=False, indent=1) + "\n```",
        _table(["removed", "count"], removed_rows) if removed_rows else "Nothing was removed.",
        "### Personal data",
        f"Every text of every row was scanned with `curation.steps.pii.find_pii` before it was written "
        f"(names: {'yes' if card['filters']['pii']['names'] else 'no'}); rows holding personal data were "
        f"{'dropped' if card['filters']['pii']['action'] == 'drop' else 'redacted (each span became <TYPE>)'}.\n\n"
        + _table(["", ""], [["rows scanned", pii.get("rows_scanned", 0)], ["rows with personal data",
                 pii.get("rows_with_pii", 0)], ["rows redacted", pii.get("rows_redacted", 0)],
                 ["rows dropped", pii.get("rows_dropped", 0)]] +
                 [[f"spans of type {kind}", count] for kind, count in pii.get("spans_by_type", {}).items()]),
        "### Decontamination",
        (f"Rows sharing a {decontam['ngram']}-gram with the evaluation files were removed: "
         f"{decontam['rows_removed']} of {decontam['rows_checked']} (listed in `{decontam['removed_list']}`); "
         f"{decontam['too_short']} of {decontam['eval_records']} evaluation records were too short to check."
         if decontam else "No evaluation file was given."),
        "### Agreement",
        (_table(["", ""], [["items with an agreement", agreement["items"]], ["mean", agreement.get("mean")],
                           ["min", agreement.get("min")], ["max", agreement.get("max")]])
         if agreement.get("items") else "No item had two or more annotators to agree."),
        "### Train/test split",
        f"By prompt group: identical prompts and near-duplicates (MinHash Jaccard >= "
        f"{split['near_duplicate_threshold']}) stay on one side. Test fraction {split['test_fraction']}, seed "
        f"{split['seed']}: {split.get('groups', 0)} groups, {split.get('test_groups', 0)} in test.",
        "## Reproducing",
        f"```\n{card['command']}\n```\nThe same inputs give the same content hash, `{card['content_hash']}`.",
        "## Loading",
        f"```python\nfrom datasets import load_dataset\n\n"
        f"data = load_dataset(\"{loader}\",\n"
        f"                    data_files={{\"{first_split}\": \"data/{first_split}-*.{extension}\"}})\n```",
    ]
    return "\n\n".join(parts) + "\n"
