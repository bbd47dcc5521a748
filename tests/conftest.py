"""Shared fixtures. Factories and service-level fixtures live in tests/fixtures/ and are loaded as plugins."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.utils import translation

pytest_plugins = ["tests.fixtures.workers", "tests.fixtures.jobs", "tests.fixtures.annotation"]

SHARED_DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "data"


@pytest.fixture
def shared_data() -> Path:
    """The third-party evaluation data in ../shared/data; tests that need it skip, visibly, without it."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"third-party data not present at {SHARED_DATA} (see ../shared/data/README.md)")
    return SHARED_DATA


@pytest.fixture(autouse=True)
def isolated_storage(request: pytest.FixtureRequest, tmp_path: Path) -> None:
    """Give every Django test its own STORAGE_ROOT: dedup indexes there name jobs of this test's database."""
    uses_django = {"settings", "db", "transactional_db", "client", "live_server"} & set(request.fixturenames)
    if not uses_django and not request.node.get_closest_marker("django_db"):
        return
    settings = request.getfixturevalue("settings")
    settings.STORAGE_ROOT = str(tmp_path / "storage")


@pytest.fixture(autouse=True)
def default_language() -> Iterator[None]:
    """Leave the default language active after each test: Django's LocaleMiddleware activates a request's language
    in the test's own thread (the test client) and never deactivates it, so one Chinese page would turn later
    tests' service and command messages Chinese."""
    yield
    translation.activate(django_settings.LANGUAGE_CODE)
