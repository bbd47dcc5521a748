"""Regression floors on the third-party labelled sets (skipped, visibly, without ../shared/data).

The figures themselves come from bench/pii.py and are recorded in bench/RESULTS.md; these floors sit a little
below them so that a change which loses recall or precision on real data fails here. Names are off: they are
measured in the benchmark, and these tests stay fast.
"""

from __future__ import annotations

import json
from pathlib import Path

from curation.steps.pii import find_pii

PRESIDIO_TYPES = {"EMAIL_ADDRESS": "EMAIL", "PHONE_NUMBER": "PHONE", "CREDIT_CARD": "CARD", "IBAN_CODE": "IBAN",
                  "US_SSN": "SSN", "IP_ADDRESS": "IP"}  # fmt: skip
CCF_TYPES = {"mobile": "PHONE", "email": "EMAIL"}


def _overlap_scores(
    examples: list[tuple[str, list[tuple[str, int, int]]]], lang: str
) -> dict[str, tuple[float, float]]:
    gold_total: dict[str, int] = {}
    gold_found: dict[str, int] = {}
    predicted_total: dict[str, int] = {}
    predicted_right: dict[str, int] = {}
    kinds = {kind for _, gold in examples for kind, _, _ in gold}
    for text, gold in examples:
        predicted = [(s["type"], s["start"], s["end"]) for s in find_pii(text, lang=lang, names=False)]
        for kind in kinds:
            g = [(s, e) for k, s, e in gold if k == kind]
            p = [(s, e) for k, s, e in predicted if k == kind]
            gold_total[kind] = gold_total.get(kind, 0) + len(g)
            predicted_total[kind] = predicted_total.get(kind, 0) + len(p)
            gold_found[kind] = gold_found.get(kind, 0) + sum(any(s < pe and ps < e for ps, pe in p) for s, e in g)
            right = sum(any(s < ge and gs < e for gs, ge in g) for s, e in p)
            predicted_right[kind] = predicted_right.get(kind, 0) + right
    return {k: (predicted_right[k] / max(1, predicted_total[k]), gold_found[k] / gold_total[k]) for k in kinds}


def test_presidio_structured_types_keep_their_measured_precision_and_recall(shared_data: Path) -> None:
    rows = json.loads((shared_data / "pii/presidio-research/synth_dataset_v2.json").read_text(encoding="utf-8"))
    examples = [
        (
            row["full_text"],
            [
                (PRESIDIO_TYPES[s["entity_type"]], s["start_position"], s["end_position"])
                for s in row["spans"]
                if s["entity_type"] in PRESIDIO_TYPES
            ],
        )
        for row in rows
    ]
    scores = _overlap_scores(examples, "en")
    floors = {"EMAIL": 0.97, "PHONE": 0.88, "CARD": 0.97, "IBAN": 0.97, "SSN": 0.97, "IP": 0.9}
    for kind, floor in floors.items():
        precision, recall = scores[kind]
        assert precision >= 0.97, (kind, precision)
        assert recall >= floor, (kind, recall)


def test_ccf_contact_details_keep_their_measured_precision_and_recall(shared_data: Path) -> None:
    examples = []
    with open(shared_data / "pii/ccf-bdci2020-privacy/train.jsonl", encoding="utf-8") as lines:
        for line in lines:
            row = json.loads(line)
            gold = [(CCF_TYPES[s["label"]], s["start"], s["end"]) for s in row["spans"] if s["label"] in CCF_TYPES]
            examples.append((row["text"], gold))
    scores = _overlap_scores(examples, "zh")
    assert scores["EMAIL"][0] >= 0.95 and scores["EMAIL"][1] >= 0.94, scores["EMAIL"]
    assert scores["PHONE"][0] >= 0.9 and scores["PHONE"][1] >= 0.8, scores["PHONE"]
