"""Import every module that defines steps, so that `register_step` has run for each before a recipe is built.

Steps from outside the project load the same way: CURATION_STEP_PLUGINS names extra modules (comma-separated)
that define and register steps; set it for the web process and every worker alike.
"""

import importlib
import os

# One import per step module; keep them sorted.

for _module in filter(None, (m.strip() for m in os.environ.get("CURATION_STEP_PLUGINS", "").split(","))):
    importlib.import_module(_module)
