"""Recipes from YAML: size cap, aliases refused, libyaml's safe loader, the parsed plan round trip."""

from __future__ import annotations

import pytest
import yaml

from curation.steps import recipe as recipe_module
from curation.steps.base import RecipeError
from curation.steps.recipe import MAX_RECIPE_BYTES, Recipe, load_builtin_recipe, parse_recipe


def test_a_recipe_over_the_size_cap_is_refused_before_parsing() -> None:
    padding = "# " + "x" * 100 + "\n"
    text = "name: big\nsteps:\n  - extract: {}\n" + padding * (MAX_RECIPE_BYTES // len(padding) + 1)
    with pytest.raises(RecipeError, match=f"over the limit of {MAX_RECIPE_BYTES}"):
        parse_recipe(text, "big")


def test_yaml_aliases_are_refused_in_one_short_line() -> None:
    # given the classic "billion laughs": a few hundred bytes that expand to megabytes through aliases
    lines = ["a: &a [x, x, x, x, x, x, x, x, x]"]
    for level in "bcdefgh":
        previous = chr(ord(level) - 1)
        lines.append(f"{level}: &{level} [*{previous}, *{previous}, *{previous}, *{previous}, *{previous}]")
    text = "\n".join(lines) + "\nname: laughs\nsteps:\n  - extract: {}\n"
    assert len(text) < 600
    # when it is parsed, then it is refused with a short, one-line reason
    with pytest.raises(RecipeError, match="uses a YAML alias") as error:
        parse_recipe(text, "laughs")
    assert len(str(error.value)) < 200 and "\n" not in str(error.value)


def test_recipes_are_parsed_with_libyaml_safe_loader() -> None:
    assert recipe_module._SafeLoader is yaml.CSafeLoader
    with pytest.raises(RecipeError, match="not valid YAML"):
        parse_recipe("name: x\nsteps: !!python/object/apply:os.system ['true']\n", "evil")


def test_a_builtin_name_never_reads_a_path(tmp_path: object) -> None:
    with pytest.raises(RecipeError, match="unknown recipe"):
        load_builtin_recipe("../recipes/extract-only")
    with pytest.raises(RecipeError, match="unknown recipe"):
        load_builtin_recipe("/etc/passwd")


def test_the_parsed_plan_gives_back_the_same_recipe() -> None:
    recipe = parse_recipe("name: r\nreader: {text_field: body}\nsteps:\n  - extract: {}\n  - exact_dedup: {}\n", "r")
    again = Recipe.from_plan(recipe.to_plan(), recipe.source_yaml)
    assert again == recipe
