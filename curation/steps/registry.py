"""Import every module that defines steps, so that `register_step` has run for each before a recipe is built.

Steps from outside the project load the same way: CURATION_STEP_PLUGINS names extra modules (comma-separated)
that define and register steps; set it for the web process and every worker alike.
"""

import importlib
import os

# One import per step module; keep them sorted.
import curation.steps.dedup  # noqa: F401
import curation.steps.extract  # noqa: F401
import curation.steps.filters.c4  # noqa: F401
import curation.steps.filters.fineweb  # noqa: F401
import curation.steps.filters.gopher  # noqa: F401
import curation.steps.language  # noqa: F401
import curation.steps.pii.step  # noqa: F401
import curation.steps.quality_classifier  # noqa: F401

for _module in filter(None, (m.strip() for m in os.environ.get("CURATION_STEP_PLUGINS", "").split(","))):
    importlib.import_module(_module)
