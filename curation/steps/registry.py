"""Import every module that defines steps, so that `register_step` has run for each before a recipe is built.

Steps from outside the project load through `load_step_plugins`: the setting CURATION_STEP_PLUGINS names extra
modules that define and register steps; `CurationConfig.ready()` loads them in the web process and every worker.
"""

import importlib
from collections.abc import Iterable

# One import per step module; keep them sorted.
import curation.steps.dedup
import curation.steps.extract
import curation.steps.filters.c4
import curation.steps.filters.fineweb
import curation.steps.filters.gopher
import curation.steps.language
import curation.steps.pii.step
import curation.steps.quality_classifier  # noqa: F401


def load_step_plugins(modules: Iterable[str]) -> None:
    """Import each named module, so that the steps it defines register themselves. Safe to re-run."""
    for module in modules:
        importlib.import_module(module)
