"""An export in parts that runs until it is killed; run as a script, for the orphaned-parts test.

    python tests/support/export_orphans.py OUTPUT

Starts `run_export_parts` with two parts that build rows slowly and for a long time, after printing its pid. The
test kills this process with SIGKILL and checks that the part processes stop on their own.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from exports.formats import BuildStats, BuiltRow, ExportSpec, item_rows, run_export_parts
from tests.support.export_records import ranking_item


def slow_part(stats: BuildStats) -> Iterator[BuiltRow]:
    spec = ExportSpec(format="reward", test_fraction=0.0)
    for n in range(10_000_000):
        yield from item_rows([ranking_item(f"i{n}", f"Question {n}?", [[["r1"], ["r2"]]])], spec, stats)
        time.sleep(0.0002)


if __name__ == "__main__":
    print("ready", flush=True)
    run_export_parts(ExportSpec(format="reward", test_fraction=0.0), [slow_part, slow_part], sys.argv[1],
                     name="orphans", command="orphans")
