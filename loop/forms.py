"""The form that starts an audit from the audit page."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from loop.models import DEFAULT_LABELS


class AuditForm(forms.Form):
    steps = forms.MultipleChoiceField(label=_("Steps to audit"), required=False,
                                      help_text=_("none chosen: every step that removes documents"))
    half_width = forms.FloatField(label=_("Target half-width of the 95-percent confidence interval"), initial=0.1,
                                  min_value=0.01, max_value=0.49)
    seed = forms.IntegerField(label=_("Seed"), initial=0)
    labels = forms.CharField(label=_("Labels (comma-separated)"), initial=", ".join(DEFAULT_LABELS))
    good_labels = forms.CharField(label=_("Labels meaning 'keep' (comma-separated)"), initial="good")

    def __init__(self, *args: Any, step_choices: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["steps"].choices = step_choices  # type: ignore[attr-defined]

    def audit_arguments(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "steps": [int(s) for s in data["steps"]], "half_width": data["half_width"], "seed": data["seed"],
            "labels": [x.strip() for x in data["labels"].split(",") if x.strip()],
            "good_labels": [x.strip() for x in data["good_labels"].split(",") if x.strip()],
        }
