"""Retrain the fastText quality classifier from a label project's consensus labels and register the model.

Examples: each non-gold item whose consensus label (loop.services.audits.item_labels) is a good label counts as
high quality (1), each labelled `junk` as low quality (0); "wrong language", "duplicate" and "contains personal
data" say nothing about the quality of the writing and are left out. Gold items add their expected label the same
way. The model is written where recipes may load it from: `<first of settings.QUALITY_MODEL_REGISTRIES>/
quality-classifier/<version>/` (the layout `train_quality_classifier` writes), so a recipe naming
`<registry>/quality-classifier/latest` (or the default model, when the administrator points
QUALITY_CLASSIFIER_MODEL there) uses it from the next job on.
"""

from __future__ import annotations

from django.conf import settings

from annotation.models import Item, Project
from core.errors import ValidationError
from curation.steps.quality_classifier import LATEST, MODELS_DIR, ModelCard, train_quality_classifier
from loop.models import GOOD_LABELS
from loop.services.audits import item_labels

JUNK_LABELS = ("junk",)


def registry_dir() -> str:
    """The folder new models are registered in: the first configured quality-model registry."""
    if not settings.QUALITY_MODEL_REGISTRIES:
        raise ValidationError("no quality-model registry is configured (QUALITY_MODEL_REGISTRIES)")
    return str(settings.QUALITY_MODEL_REGISTRIES[0]).rstrip("/")


def latest_model() -> str:
    """The model reference that follows every new registration: `<registry>/quality-classifier/latest`."""
    return f"{registry_dir()}/{MODELS_DIR}/{LATEST}"


def project_examples(project: Project) -> list[tuple[str, int]]:
    """The (text, 1 or 0) examples of a label project: consensus of labelled items, expected label of gold ones."""
    audit = getattr(project, "filter_audit", None)
    good = set(audit.good_labels if audit is not None else GOOD_LABELS)
    consensus, _ = item_labels(project)
    examples: list[tuple[str, int]] = []
    items = Item.objects.filter(project=project).only("id", "prompt", "is_gold", "expected")
    for item in items.iterator(chunk_size=2000):
        if item.is_gold:
            chosen = (item.expected or {}).get("labels") or []
            label = str(chosen[0]) if chosen else None
        else:
            label = consensus.get(item.pk)
        if label in good:
            examples.append((item.prompt, 1))
        elif label in JUNK_LABELS:
            examples.append((item.prompt, 0))
    return examples


def classifier_train_from_project(project: Project, *, version: str | None = None, seed: int = 0,
                                  test_fraction: float = 0.2) -> ModelCard:
    """Train and register a quality classifier from `project`'s labels; return its card (held-out metrics).

    Writes a new version folder in the registry and nothing else; never overwrites a version (Conflict-like
    ValidationError). Needs both classes among the labels.
    """
    if project.kind != Project.KIND_LABEL:
        raise ValidationError("only a label project's labels can train the quality classifier", field="project")
    examples = project_examples(project)
    positives = sum(label for _, label in examples)
    if positives == 0 or positives == len(examples):
        raise ValidationError(
            f"the project has {positives} good and {len(examples) - positives} junk labelled texts: "
            "training needs both", field="project")
    try:
        return train_quality_classifier(examples, registry_dir(), version=version, seed=seed,
                                        test_fraction=test_fraction)
    except (ValueError, FileExistsError) as error:
        raise ValidationError(str(error).splitlines()[0], field="project") from error
