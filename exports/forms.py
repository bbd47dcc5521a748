"""The new-export form: it checks the shape of what a trainer chose; `export_create` decides whether it can run."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from annotation.models import Project
from curation.models import Job
from exports.formats.spec import MERGES, PII_ACTIONS

FORMAT_CHOICES = [
    ("sft", _("SFT: instructions and written answers (messages)")),
    ("reward", _("Reward model: chosen and rejected pairs with margins")),
    ("dpo", _("DPO: chosen and rejected pairs")),
    ("ppo", _("PPO and online RL: prompts only")),
    ("pretrain", _("Pretraining text from a curation job")),
]
STYLE_CHOICES = [
    ("", _("Default (messages; explicit prompt for pairs)")),
    ("prompt_completion", _("SFT: prompt and completion")),
    ("implicit", _("Pairs: implicit prompt (whole conversations)")),
]
MERGE_LABELS = {
    "consensus": _("Consensus of quality control (or mean rank)"),
    "majority": _("Majority per pair"),
    "none": _("Every annotator's pairs"),
}
PII_LABELS = {"redact": _("Redact personal data"), "drop": _("Drop rows with personal data")}
FILES_CHOICES = [("jsonl,parquet", _("JSON Lines and Parquet")), ("jsonl", _("JSON Lines")),
                 ("parquet", _("Parquet"))]


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


class ExportForm(forms.Form):
    format = forms.ChoiceField(label=_("Format"), choices=FORMAT_CHOICES)
    projects = forms.ModelMultipleChoiceField(
        label=_("Annotation projects"), required=False,
        queryset=Project.objects.exclude(kind=Project.KIND_LABEL).order_by("-id"),
        help_text=_("For sft, reward, dpo and ppo exports."),
    )
    job = forms.ModelChoiceField(
        label=_("Curation job"), required=False,
        queryset=Job.objects.filter(status=Job.Status.COMPLETED).order_by("-id"),
        help_text=_("For pretrain exports: the job's kept documents."),
    )
    name = forms.SlugField(label=_("Dataset name"), required=False, max_length=100,
                           help_text=_("Optional; versions of one name are numbered."))
    style = forms.ChoiceField(label=_("Layout"), choices=STYLE_CHOICES, required=False)
    merge = forms.ChoiceField(label=_("Several annotators"), choices=[(m, MERGE_LABELS[m]) for m in MERGES])
    min_agreement = forms.FloatField(label=_("Minimum agreement"), required=False, min_value=0, max_value=1)
    min_trust = forms.FloatField(label=_("Minimum annotator trust"), required=False, min_value=0, max_value=1)
    include_gold = forms.BooleanField(label=_("Keep gold items"), required=False)
    test_fraction = forms.FloatField(label=_("Test share"), initial=0.1, min_value=0, max_value=0.9)
    seed = forms.IntegerField(label=_("Split seed"), initial=0, min_value=0)
    eval_paths = forms.CharField(
        label=_("Evaluation files to decontaminate against"), required=False,
        widget=forms.Textarea(attrs={"rows": 2, "spellcheck": "false", "class": "code"}),
        help_text=_("One path or URL per line; rows sharing a 13-gram with them are removed and listed."),
    )
    pii_action = forms.ChoiceField(label=_("Personal data"), choices=[(p, PII_LABELS[p]) for p in PII_ACTIONS])
    files = forms.ChoiceField(label=_("File formats"), choices=FILES_CHOICES)

    def export_arguments(self) -> dict[str, Any]:
        """The keyword arguments of `export_create` for the cleaned form."""
        data = self.cleaned_data
        options: dict[str, Any] = {
            "merge": data["merge"], "test_fraction": data["test_fraction"], "seed": data["seed"],
            "pii_action": data["pii_action"], "include_gold": data["include_gold"],
            "files": data["files"].split(","),
        }
        fmt = data["format"]
        style = data["style"]
        if (style == "prompt_completion" and fmt == "sft") or (style == "implicit" and fmt in ("reward", "dpo")):
            options["style"] = style
        for field in ("min_agreement", "min_trust"):
            if data[field] is not None:
                options[field] = data[field]
        if data["eval_paths"]:
            options["eval_paths"] = _lines(data["eval_paths"])
        return {
            "format": fmt,
            "projects": [p.pk for p in data["projects"]],
            "job": data["job"].pk if data["job"] else None,
            "name": data["name"],
            "options": options,
        }
