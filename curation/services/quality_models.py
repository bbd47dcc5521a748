"""Where quality-classifier models may come from: the registries an administrator configures.

A model is native code's input (fastText parses it in C++), so recipes may only name models inside
settings.QUALITY_MODEL_REGISTRIES (folders or URL prefixes holding `quality-classifier/<version>/`, the layout
`train_quality_classifier` writes), plus the folder of the model the administrator configured as the default
(settings.QUALITY_CLASSIFIER_MODEL).
"""

from __future__ import annotations

from django.conf import settings

from curation.steps.quality_classifier import MODELS_DIR


def quality_model_registries() -> list[str]:
    """The configured registries, read from settings at each call (so a changed setting applies at once)."""
    registries = list(settings.QUALITY_MODEL_REGISTRIES)
    default = settings.QUALITY_CLASSIFIER_MODEL.rstrip("/")
    if default:
        # The administrator's default model: its registry is the folder above `quality-classifier/`, else its folder.
        head, _, _last = default.rpartition("/")
        registry, marker, _ = head.rpartition(f"/{MODELS_DIR}")
        registries.append(registry if marker else head)
    return registries
