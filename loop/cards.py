"""The dataset card of a curation output: `card.json` and `README.md` in the Hugging Face dataset-card layout.

Pure: fed with the job's stats, recipe and (optionally) audit figures; no Django. Uses the exports' card helpers
(size categories, the meaning of document columns) so both kinds of card read alike. Every number comes from the
run's stats.json or from people's labels; nothing is invented.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import yaml

from curation.steps.writers import write_bytes_atomic
from exports.formats.card import COLUMNS, size_category

CARD_JSON = "card.json"
README = "README.md"


def build_card(
    *,
    job_id: int,
    name: str,
    inputs: Sequence[str],
    output: str,
    recipe_name: str,
    recipe_yaml: str,
    recipe_version: int | None,
    stats: Mapping[str, Any],
    languages: Mapping[str, int],
    audit: Mapping[str, Any] | None,
    command: str,
) -> dict[str, Any]:
    """Return card.json's content for a finished job's output."""
    documents = stats.get("documents") or {}
    steps = [
        {"position": s.get("position"), "step": s.get("name"), "docs_in": s.get("docs_in", 0),
         "kept": s.get("kept", 0), "removed": dict(s.get("removed") or {})}
        for s in stats.get("steps", [])
    ]
    precision: list[dict[str, Any]] = []
    if audit:
        for step in audit.get("steps", []):
            precision.append({"step": step["step"], "position": step["position"],
                              "removal_precision": step["removal_precision"],
                              "kept_junk_rate": step["kept_junk_rate"]})
    return {
        "name": name, "job": job_id, "inputs": list(inputs), "output": output,
        "recipe": {"name": recipe_name, "version": recipe_version, "yaml": recipe_yaml},
        "documents": {"read": documents.get("read", 0), "kept": documents.get("kept", 0),
                      "removed": documents.get("removed", 0)},
        "steps": steps, "languages": dict(sorted(languages.items(), key=lambda kv: (-kv[1], kv[0]))),
        "audited_precision": precision,
        "agreement": (audit or {}).get("agreement"),
        "reproduce": command,
        "files": {"kept": "kept/*.jsonl.zst", "removed": "removed/*.jsonl.zst", "stats": "stats.json"},
    }


def _fmt(figure: Mapping[str, Any] | None) -> str:
    if not figure or figure.get("value") is None:
        return "not labelled yet"
    return f"{figure['value']:.1%} (95% CI {figure['low']:.1%}–{figure['high']:.1%}, n={figure['n']})"


def render_readme(card: Mapping[str, Any]) -> str:
    """Return README.md: the Hub's YAML metadata, then summary, structure, sources, curation, reproduction."""
    kept = card["documents"]["kept"]
    meta = {
        "configs": [{"config_name": "default", "data_files": [{"split": "train", "path": "kept/*.jsonl.zst"}]}],
        "license": "other",
        "language": [lang for lang in card["languages"] if lang and lang != "und"],
        "task_categories": ["text-generation"],
        "tags": ["curated-web", "pretraining"],
        "size_categories": [size_category(kept)],
        "pretty_name": card["name"],
    }
    lines = [f"---\n{yaml.safe_dump(meta, allow_unicode=True, sort_keys=False)}---", "", f"# {card['name']}", "",
             "## Dataset summary", "",
             f"Documents kept by curation job {card['job']} with recipe `{card['recipe']['name']}`"
             + (f" (version {card['recipe']['version']})" if card["recipe"]["version"] else "")
             + f": {kept:,} kept of {card['documents']['read']:,} read ({card['documents']['removed']:,} removed).",
             "", "## Dataset structure", "", "JSON Lines, zstd-compressed, one document per line under `kept/`; "
             "what was removed is under `removed/` with `removed_by` and `reason`.", ""]
    for column in ("id", "text", "url"):
        lines.append(f"- `{column}`: {COLUMNS[column]}")
    lines += ["- `signals`: the scores each step computed (language, quality ratios...)", "",
              "## Languages", "", "| language | documents |", "|---|---|"]
    lines += [f"| {lang or 'unknown'} | {n:,} |" for lang, n in card["languages"].items()]
    lines += ["", "## Source data", ""] + [f"- `{path}`" for path in card["inputs"]]
    lines += ["", "## Curation", "", "| step | in | kept | removed (by reason) |", "|---|---|---|---|"]
    for step in card["steps"]:
        removed = ", ".join(f"{reason} {n:,}" for reason, n in sorted(step["removed"].items())) or "—"
        lines.append(f"| {step['step']} | {step['docs_in']:,} | {step['kept']:,} | {removed} |")
    lines += ["", "### Audited precision", ""]
    if card["audited_precision"]:
        lines += ["People labelled a stratified sample of what each step kept and removed.", "",
                  "| step | precision of removals | junk among kept |", "|---|---|---|"]
        lines += [f"| {p['step']} | {_fmt(p['removal_precision'])} | {_fmt(p['kept_junk_rate'])} |"
                  for p in card["audited_precision"]]
        agreement = card.get("agreement") or {}
        if agreement.get("value") is not None:
            lines += ["", f"Labellers' agreement (Krippendorff's alpha): {agreement['value']:.3f} "
                          f"over {agreement['n_items']} items."]
    else:
        lines.append("No audit has results yet.")
    lines += ["", "## Recipe", "", "```yaml", card["recipe"]["yaml"].rstrip(), "```", "",
              "## How to reproduce", "", "```sh", card["reproduce"], "```", ""]
    return "\n".join(lines)


def write_card(output: str, card: Mapping[str, Any]) -> None:
    """Write `<output>/card.json` and `<output>/README.md` (each atomically). Safe to re-run."""
    base = output.rstrip("/")
    write_bytes_atomic(f"{base}/{CARD_JSON}", json.dumps(card, ensure_ascii=False, indent=2).encode())
    write_bytes_atomic(f"{base}/{README}", render_readme(card).encode())
