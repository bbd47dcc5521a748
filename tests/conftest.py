"""Shared fixtures. Factories and service-level fixtures live in tests/fixtures/ and are loaded as plugins."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest_plugins = ["tests.fixtures.workers", "tests.fixtures.jobs"]

SHARED_DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "data"


@pytest.fixture
def shared_data() -> Path:
    """The third-party evaluation data in ../shared/data; tests that need it skip, visibly, without it."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"third-party data not present at {SHARED_DATA} (see ../shared/data/README.md)")
    return SHARED_DATA
