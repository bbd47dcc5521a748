"""Fixtures of the training tests: the tiny model and small demo exports, built once per session (offline)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

# Two shared cores: one torch thread per process (KNOWN-TRAPS.md), set before torch is first imported.
os.environ.setdefault("OMP_NUM_THREADS", "1")


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from training.runner.tiny_model import make_tiny_model

    return make_tiny_model(tmp_path_factory.mktemp("tiny") / "model")


@pytest.fixture(scope="session")
def demo_exports(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Small demo exports of each format (24-32 rows and a held-out test split), as the exports app writes them."""
    from training.runner.demo import write_demo_export

    root = tmp_path_factory.mktemp("exports")
    return {
        "sft": write_demo_export(root / "sft", "sft", limit=24, test_rows=4),
        "reward": write_demo_export(root / "reward", "reward", limit=48, test_rows=16),
        "dpo": write_demo_export(root / "dpo", "dpo", limit=32, test_rows=4),
        "ppo": write_demo_export(root / "ppo", "ppo", limit=16, test_rows=4),
    }


# Hyperparameters that make the tiny model learn within a few dozen CPU steps.
SFT_FAST = {"max_steps": 40, "learning_rate": 5e-3, "lr_scheduler": "constant", "save_steps": 20}
