"""Recipes: an ordered list of registered steps with parameters, read from YAML.

    name: web-default
    description: Extract, filter and deduplicate web pages.
    reader: {text_field: text}      # optional ReaderOptions overrides
    steps:
      - extract: {extractor: resiliparse}
      - language: {languages: [en, zh]}
      - exact_dedup: {}

Built-in recipes live in curation/recipes/NAME.yaml; anything else is a path to a YAML file.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from curation.steps.base import GlobalStep, RecipeError, Step, build_step, step_class

BUILTIN_DIR = Path(__file__).resolve().parent.parent / "recipes"


@dataclass(frozen=True)
class StepSpec:
    name: str
    params: Mapping[str, Any]


@dataclass(frozen=True)
class Recipe:
    name: str
    steps: tuple[StepSpec, ...]
    description: str = ""
    reader: Mapping[str, Any] = field(default_factory=dict)
    source_yaml: str = ""

    def with_steps(self, steps: tuple[StepSpec, ...]) -> Recipe:
        """The same recipe with other step parameters, its YAML rewritten to match."""
        data = {"name": self.name, "description": self.description, "reader": dict(self.reader),
                "steps": [{spec.name: dict(spec.params)} for spec in steps]}
        text = yaml.safe_dump(data, allow_unicode=True, sort_keys=False)
        return Recipe(name=self.name, steps=steps, description=self.description, reader=self.reader,
                      source_yaml=text)

    def build(self) -> list[Step]:
        """Instantiate fresh steps (with zeroed stats) for one shard."""
        return [build_step(spec.name, spec.params) for spec in self.steps]

    def global_positions(self) -> list[int]:
        """Positions of the global steps (without building any step: some load models)."""
        return [i for i, spec in enumerate(self.steps) if issubclass(step_class(spec.name), GlobalStep)]


def builtin_recipe_names() -> list[str]:
    return sorted(path.stem for path in BUILTIN_DIR.glob("*.yaml"))


def parse_recipe(text: str, default_name: str, *, validate: bool = True) -> Recipe:
    """Parse recipe YAML; with `validate`, every step is built once so that bad parameters fail here."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise RecipeError(f"recipe {default_name!r} is not valid YAML: {error}") from error
    if not isinstance(data, dict) or not isinstance(data.get("steps"), list) or not data["steps"]:
        raise RecipeError(f"recipe {default_name!r} must be a mapping with a non-empty 'steps' list")
    specs = []
    for position, written in enumerate(data["steps"], start=1):
        item = {written: {}} if isinstance(written, str) else written
        if not isinstance(item, dict) or len(item) != 1:
            raise RecipeError(f"recipe {default_name!r}, step {position}: write each step as 'name: {{params}}'")
        ((name, params),) = item.items()
        if params is None:
            params = {}
        if not isinstance(params, dict):
            raise RecipeError(f"recipe {default_name!r}, step {position} ({name}): parameters must be a mapping")
        specs.append(StepSpec(str(name), params))
    reader = data.get("reader") or {}
    if not isinstance(reader, dict):
        raise RecipeError(f"recipe {default_name!r}: 'reader' must be a mapping")
    recipe = Recipe(
        name=str(data.get("name") or default_name),
        steps=tuple(specs),
        description=str(data.get("description") or ""),
        reader=reader,
        source_yaml=text,
    )
    if validate:
        recipe.build()
    return recipe


def load_recipe(name_or_path: str, *, validate: bool = True) -> Recipe:
    """Load a built-in recipe by name, or a recipe file by path; raise RecipeError with a one-line reason."""
    builtin = BUILTIN_DIR / f"{name_or_path}.yaml"
    if builtin.is_file():
        return parse_recipe(builtin.read_text(encoding="utf-8"), name_or_path, validate=validate)
    path = Path(name_or_path)
    if path.suffix in (".yaml", ".yml") or path.exists():
        if not path.is_file():
            raise RecipeError(f"recipe file {name_or_path} does not exist")
        return parse_recipe(path.read_text(encoding="utf-8"), path.stem, validate=validate)
    known = ", ".join(builtin_recipe_names())
    raise RecipeError(f"unknown recipe {name_or_path!r} (built-in recipes: {known}; or give a .yaml path)")
