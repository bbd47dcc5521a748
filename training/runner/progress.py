"""A terminal progress bar for runs (tqdm), fed by the runner's hooks: steps, and the latest loss or score."""

from __future__ import annotations

import sys
from typing import TextIO

from tqdm import tqdm

# The metric shown next to the bar, first one present wins.
_SHOWN = ("loss", "score", "reward_accuracy")


class ProgressBar:
    """`update(step, total)` and `metrics(step, values)` hooks drawing one bar on stderr."""

    def __init__(self, label: str, stream: TextIO | None = None) -> None:
        self._bar = tqdm(total=0, desc=label, unit="step", file=stream or sys.stderr, dynamic_ncols=True)

    def update(self, step: int, total: int) -> None:
        if total and self._bar.total != total:
            self._bar.total = total
            self._bar.refresh()
        if step > self._bar.n:
            self._bar.update(step - self._bar.n)

    def metrics(self, step: int, values: dict[str, float]) -> None:
        for name in _SHOWN:
            if name in values:
                self._bar.set_postfix({name: f"{values[name]:.4f}"}, refresh=False)
                return

    def close(self) -> None:
        self._bar.close()
