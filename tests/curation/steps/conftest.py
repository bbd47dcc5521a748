"""The engine's tests use its modules on their own, as a plain Python program would: no application policies."""

from __future__ import annotations

import pytest

from curation.steps import quality_classifier


@pytest.fixture(autouse=True)
def no_model_registry_policy(monkeypatch: pytest.MonkeyPatch) -> None:
    """Django's start-up (curation.apps) limits model loads to the configured registries; the engine alone does not."""
    monkeypatch.setattr(quality_classifier, "model_registries", None)
