"""Console forms: they check the shape of what a data engineer typed; the services decide whether it can run."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.html import escape
from django.utils.translation import gettext_lazy as _

from curation.steps.readers import FORMATS
from curation.steps.recipe import MAX_RECIPE_BYTES, builtin_recipe_names


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def _builtin_recipe_choices() -> list[tuple[str, str]]:
    return [(name, name) for name in builtin_recipe_names()]


class InputPathsMixin:
    """An `inputs` textarea: one path or URL per line, at least one."""

    cleaned_data: dict[str, Any]

    def clean_inputs(self) -> list[str]:
        inputs = _lines(self.cleaned_data["inputs"])
        if not inputs:
            raise forms.ValidationError(_("Give at least one input path."))
        return inputs


# The recipe a new job starts on: the one `make run` and the README use.
DEFAULT_RECIPE = "web-default"


class JobSubmitForm(InputPathsMixin, forms.Form):
    recipe = forms.ChoiceField(
        label=_("Recipe"),
        required=False,
        help_text=_("A built-in recipe; its description and steps are shown below. "
                    "Or choose “my own recipe” and paste or edit its YAML."),
    )
    recipe_yaml = forms.CharField(
        label=_("My own recipe (YAML)"),
        required=False,
        strip=False,
        max_length=MAX_RECIPE_BYTES,  # the service refuses bigger recipes too (counted in bytes)
        widget=forms.Textarea(attrs={"rows": 12, "spellcheck": "false", "class": "code"}),
        help_text=_("Used when the recipe above is “my own recipe”. Start from a copy of a built-in one."),
    )
    inputs = forms.CharField(
        label=_("Inputs"),
        widget=forms.Textarea(attrs={"rows": 4, "spellcheck": "false", "class": "code"}),
        help_text=_("One path or URL per line: files, folders or glob patterns."),
    )
    output = forms.CharField(
        label=_("Output folder"),
        required=False,
        max_length=1000,
        help_text=_("Optional; by default a new folder under the storage root."),
    )
    text_field = forms.CharField(
        label=_("Text field"),
        required=False,
        max_length=200,
        help_text=_("JSON Lines and Parquet inputs: the field that holds the text. Blank: the recipe's default."),
    )
    # The readers' one list of input formats (the API offers the same); blank keeps what the recipe says.
    format = forms.ChoiceField(
        label=_("Input format"),
        required=False,
        choices=[("", _("As the recipe says")), *[(f, f) for f in FORMATS]],
    )
    dedup_index = forms.SlugField(
        label=_("Dedup index"),
        required=False,
        max_length=100,
        help_text=_("Optional; deduplicate against (and add to) this named index, created on first use."),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["recipe"].choices = [*_builtin_recipe_choices(), ("", _("My own recipe (YAML below)"))]
        if "recipe" not in self.initial and DEFAULT_RECIPE in builtin_recipe_names():
            self.initial["recipe"] = DEFAULT_RECIPE

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if cleaned.get("recipe"):
            # A built-in recipe chosen: whatever YAML the page kept from an earlier choice is not used.
            cleaned["recipe_yaml"] = ""
        elif not (cleaned.get("recipe_yaml") or "").strip():
            self.add_error("recipe_yaml", _("Paste a recipe, or choose a built-in one above."))
        return cleaned

    def add_error(self, field: str | None, error: Any) -> None:
        """Put a service's error about the recipe beside the box the recipe came from (the YAML, when pasted)."""
        if field == "recipe" and not getattr(self, "cleaned_data", {}).get("recipe"):
            field = "recipe_yaml"
        super().add_error(field, error)

    def recipe_source(self) -> str:
        """What `job_submit(recipe=...)` takes: a built-in name, or YAML text (which always has a newline)."""
        if self.cleaned_data["recipe"]:
            return str(self.cleaned_data["recipe"])
        return self.cleaned_data["recipe_yaml"].strip() + "\n"

    def reader_overrides(self) -> dict[str, str]:
        return {key: self.cleaned_data[key] for key in ("text_field", "format") if self.cleaned_data[key]}


class ScheduleCreateForm(InputPathsMixin, forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    recipe = forms.ChoiceField(label=_("Recipe"))
    inputs = forms.CharField(
        label=_("Inputs"),
        widget=forms.Textarea(attrs={"rows": 3, "spellcheck": "false", "class": "code"}),
        help_text=_("One path or URL per line; read again on every run."),
    )
    output = forms.CharField(
        label=_("Output folder"),
        max_length=1000,
        # Help text is rendered as HTML: escaped, so that <timestamp> shows as text.
        help_text=escape(_("Each run writes to a new run-<timestamp> folder inside it.")),
    )
    every_minutes = forms.IntegerField(label=_("Every N minutes"), required=False, min_value=1)
    crontab = forms.CharField(
        label=_("Or a crontab"),
        required=False,
        max_length=200,
        widget=forms.TextInput(attrs={"placeholder": "0 3 * * *", "spellcheck": "false", "class": "code"}),
        help_text=_("Five fields: minute hour day-of-month month day-of-week (UTC)."),
    )
    dedup_index = forms.SlugField(label=_("Dedup index"), required=False, max_length=100)

    def __init__(self, *args: Any, editing: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["recipe"].choices = _builtin_recipe_choices()
        if editing:
            # A schedule keeps its name (its beat task is named after it).
            self.fields["name"].disabled = True

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        has_interval = cleaned.get("every_minutes") is not None
        has_crontab = bool((cleaned.get("crontab") or "").strip())
        if has_interval == has_crontab:
            raise forms.ValidationError(_("Give exactly one of: every N minutes, or a crontab."))
        return cleaned
