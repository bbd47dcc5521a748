"""The content hash of a fixed export stays what it was: the speed work on the export core must not change a byte.

The expected digests were computed with the export core as it was before its rows were streamed faster (commit
a560901); a change that alters any row, its order, its split or the card's agreement figures fails here.
"""

from __future__ import annotations

import random
from pathlib import Path

from exports.formats import BuildStats, ExportSpec, item_rows, run_export
from exports.formats.records import ItemRecord
from tests.support.export_records import ranking_item

HANZI = "的一是在不了有和人这中大为上个国我以要他时来用们生到"
EXPECTED_CONTENT_HASH = "24c0e55b256a94ef4f9d80b32c6eb61514762535641f2e40f8bbaec75630f642"
EXPECTED_AGREEMENT = {
    "items": 120, "mean": 0.4205, "min": 0.0, "max": 1.0,
    "histogram": {"0.0-0.1": 7, "0.1-0.2": 4, "0.2-0.3": 14, "0.3-0.4": 27, "0.4-0.5": 32, "0.5-0.6": 19,
                  "0.6-0.7": 11, "0.7-0.8": 1, "0.8-0.9": 2, "0.9-1.0": 3},
}


def _fixture() -> list[ItemRecord]:
    """120 ranking items: English and Chinese prompts, near-duplicates, ties, partial rankings, 2-5 annotators."""
    rng = random.Random(11)
    items: list[ItemRecord] = []
    prompts: list[str] = []
    for n in range(120):
        if prompts and rng.random() < 0.1:
            prompt = rng.choice(prompts) + " please"
        elif rng.random() < 0.3:
            prompt = f"问题 {n}：" + "".join(rng.choice(HANZI) for _ in range(30))
        else:
            prompt = f"Question {n}: " + " ".join(rng.choice(["river", "salt", "glass", "ocean", "city"])
                                                  for _ in range(15))
        prompts.append(prompt)
        rankings = []
        for _ in range(rng.randint(2, 5)):
            order = ["r1", "r2", "r3", "r4"]
            rng.shuffle(order)
            if rng.random() < 0.2:
                order = order[:3]  # a partial ranking: the agreement's slow path
            groups = [[order[0]]]
            for rid in order[1:]:
                if rng.random() < 0.2:
                    groups[-1].append(rid)
                else:
                    groups.append([rid])
            rankings.append(groups)
        items.append(ranking_item(f"i{n}", prompt, rankings, system_prompt="Be brief." if n % 2 else ""))
    return items


def test_the_content_hash_of_a_fixed_export_is_unchanged(tmp_path: Path) -> None:
    spec = ExportSpec(format="reward", merge="consensus", test_fraction=0.2, seed=3, shard_rows=40)
    stats = BuildStats()
    result = run_export(spec, item_rows(_fixture(), spec, stats), stats, str(tmp_path / "out"), name="t",
                        command="t")
    assert result.card["splits"]["train"]["rows"] > 0 and result.card["splits"]["test"]["rows"] > 0
    assert result.card["agreement"] == EXPECTED_AGREEMENT
    assert result.content_hash == EXPECTED_CONTENT_HASH
