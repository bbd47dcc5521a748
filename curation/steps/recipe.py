"""Recipes: an ordered list of registered steps with parameters, read from YAML.

    name: web-default
    description: Extract, filter and deduplicate web pages.
    reader: {text_field: text}      # optional ReaderOptions overrides
    steps:
      - extract: {extractor: resiliparse}
      - language: {languages: [en, zh]}
      - exact_dedup: {}

Built-in recipes live in curation/recipes/NAME.yaml. Recipe text is capped at `MAX_RECIPE_BYTES`, parsed with
libyaml's safe loader, and may not use aliases (`*name`), which let a few hundred bytes expand into megabytes.
A parsed recipe is stored as a plain mapping (`Recipe.to_plan`, `Recipe.from_plan`), so a job's pages and
workers never parse its YAML again.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from curation.steps.base import GlobalStep, RecipeError, Step, build_step, step_class

BUILTIN_DIR = Path(__file__).resolve().parent.parent / "recipes"
# The largest recipe accepted: real recipes are a few hundred bytes; 64 KiB leaves room for long word lists.
MAX_RECIPE_BYTES = 64 * 1024
# libyaml's safe loader (C, fast); the pure-Python one only where PyYAML was built without libyaml.
_SafeLoader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


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

    def to_plan(self) -> dict[str, Any]:
        """The parsed recipe as a JSON-ready mapping (stored on the job; see `from_plan`)."""
        return {"name": self.name, "description": self.description, "reader": dict(self.reader),
                "steps": [[spec.name, dict(spec.params)] for spec in self.steps]}

    @classmethod
    def from_plan(cls, plan: Mapping[str, Any], source_yaml: str = "") -> Recipe:
        """The recipe `to_plan` stored, without parsing YAML."""
        steps = tuple(StepSpec(str(name), params) for name, params in plan["steps"])
        return cls(name=str(plan["name"]), steps=steps, description=str(plan.get("description") or ""),
                   reader=dict(plan.get("reader") or {}), source_yaml=source_yaml)

    def build(self) -> list[Step]:
        """Instantiate fresh steps (with zeroed stats) for one shard."""
        return [build_step(spec.name, spec.params) for spec in self.steps]

    def global_positions(self) -> list[int]:
        """Positions of the global steps (without building any step: some load models)."""
        return [i for i, spec in enumerate(self.steps) if issubclass(step_class(spec.name), GlobalStep)]


def builtin_recipe_names() -> list[str]:
    return sorted(path.stem for path in BUILTIN_DIR.glob("*.yaml"))


_DECLARED_NAME = re.compile(r"^name:[ \t]*['\"]?([^'\"\n#]+?)['\"]?[ \t]*(?:#.*)?$", re.MULTILINE)


def _declared_name(text: str) -> str:
    """The top-level `name:` a recipe's text gives, read line by line (for errors in YAML that does not parse)."""
    found = _DECLARED_NAME.search(text)
    return found.group(1).strip() if found else ""


def parse_recipe(text: str, default_name: str, *, validate: bool = True) -> Recipe:
    """Parse recipe YAML; with `validate`, every step is built once so that bad parameters fail here.

    Raises RecipeError for text over MAX_RECIPE_BYTES, invalid YAML, aliases, or a malformed recipe.
    """
    size = len(text.encode("utf-8"))
    if size > MAX_RECIPE_BYTES:
        raise RecipeError(f"recipe {default_name!r} is {size} bytes, over the limit of {MAX_RECIPE_BYTES}")
    try:
        # Aliases are refused on the event stream, before anything is built from them.
        for event in yaml.parse(text, Loader=_SafeLoader):
            if isinstance(event, yaml.AliasEvent):
                raise RecipeError(f"recipe {default_name!r} uses a YAML alias (*{event.anchor}); write it out")
        data = yaml.load(text, Loader=_SafeLoader)  # libyaml's safe loader
    except yaml.YAMLError as error:
        # Name the recipe as its text does when the broken YAML still says, and the line and column (from 1).
        shown = _declared_name(text) or default_name
        problem = getattr(error, "problem", None) or (str(error).splitlines()[0] if str(error) else "")
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        raise RecipeError(
            f"recipe {shown!r} is not valid YAML{where}: {problem or type(error).__name__}"
        ) from error
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


def load_builtin_recipe(name: str, *, validate: bool = True) -> Recipe:
    """Load a built-in recipe by name (never a path); raise RecipeError naming the built-in recipes otherwise."""
    if name in builtin_recipe_names():
        return parse_recipe((BUILTIN_DIR / f"{name}.yaml").read_text(encoding="utf-8"), name, validate=validate)
    known = ", ".join(builtin_recipe_names())
    raise RecipeError(f"unknown recipe {name!r} (built-in recipes: {known}; or give the recipe's YAML text)")


def load_recipe(name_or_path: str, *, validate: bool = True) -> Recipe:
    """Load a built-in recipe by name, or a recipe file by path; raise RecipeError with a one-line reason."""
    builtin = BUILTIN_DIR / f"{name_or_path}.yaml"
    if builtin.is_file():
        return parse_recipe(builtin.read_text(encoding="utf-8"), name_or_path, validate=validate)
    path = Path(name_or_path)
    if path.suffix in (".yaml", ".yml") or path.exists():
        if not path.is_file():
            raise RecipeError(f"recipe file {name_or_path} does not exist")
        if path.stat().st_size > MAX_RECIPE_BYTES:
            raise RecipeError(f"recipe file {name_or_path} is over the limit of {MAX_RECIPE_BYTES} bytes")
        return parse_recipe(path.read_text(encoding="utf-8"), path.stem, validate=validate)
    known = ", ".join(builtin_recipe_names())
    raise RecipeError(f"unknown recipe {name_or_path!r} (built-in recipes: {known}; or give a .yaml path)")
