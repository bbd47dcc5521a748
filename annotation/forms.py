"""Forms of the managers' annotation pages: they parse and check what a person typed; services decide the rest."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from annotation.models import Project

KIND_LABELS = {
    Project.KIND_INSTRUCTION: _("Instruction writing"),
    Project.KIND_RESPONSE: _("Response writing"),
    Project.KIND_LIKERT: _("Likert rating"),
    Project.KIND_PAIRWISE: _("Pairwise preference"),
    Project.KIND_RANKING: _("Ranking"),
    Project.KIND_LABEL: _("Document labels"),
}
FORMAT_LABELS = {
    Project.FORMAT_PLAIN: _("Plain instruction"),
    Project.FORMAT_FEW_SHOT: _("With few-shot examples"),
    Project.FORMAT_CHAIN_OF_THOUGHT: _("With a worked chain of thought"),
    Project.FORMAT_MULTI_TURN: _("Multi-turn conversation"),
}
LANGUAGE_LABELS = {"en": _("English"), "zh": _("Chinese")}
PII_LABELS = {
    Project.PII_BLOCK: _("Block: personal data must be removed before submitting"),
    Project.PII_WARN: _("Warn: show a warning, allow submitting"),
    Project.PII_OFF: _("Off"),
}
# A manager may import at most this much through the page; larger imports go through the command or the API.
MAX_UPLOAD_BYTES = 50 * 1024 * 1024


def _split_list(text: str) -> list[str]:
    """One entry per line or comma; blanks dropped, order and first spelling kept, duplicates dropped."""
    seen: dict[str, None] = {}
    for line in text.replace(",", "\n").replace("，", "\n").splitlines():
        entry = line.strip()
        if entry and entry not in seen:
            seen[entry] = None
    return list(seen)


class ListField(forms.CharField):
    """A list of short strings typed one per line or separated by commas."""

    widget = forms.Textarea(attrs={"rows": 3})

    def to_python(self, value: Any) -> list[str]:  # type: ignore[override]
        return _split_list(super().to_python(value) or "")

    def prepare_value(self, value: Any) -> Any:
        return "\n".join(value) if isinstance(value, list) else value


class ProjectCreateForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    kind = forms.ChoiceField(label=_("Kind of task"), choices=list(KIND_LABELS.items()))
    overlap = forms.IntegerField(label=_("Overlap"), min_value=1, max_value=50, initial=1,
                                 help_text=_("How many different annotators see each item."))
    language = forms.ChoiceField(label=_("Language of the items"), choices=list(LANGUAGE_LABELS.items()), initial="en")
    guidelines = forms.CharField(label=_("Guidelines (Markdown)"), required=False,
                                 widget=forms.Textarea(attrs={"rows": 8}),
                                 help_text=_("Shown to annotators one key away; HTML is shown as text."))
    # Likert
    scale = forms.TypedChoiceField(label=_("Likert scale"), choices=[(5, "1-5"), (7, "1-7")], coerce=int, initial=5)
    criteria = ListField(label=_("Likert criteria"), required=False,
                         help_text=_("One per line, e.g. helpfulness, truthfulness, harmlessness."))
    # Ranking
    round_size = forms.IntegerField(label=_("Responses per ranking round"), min_value=2, max_value=9, initial=5)
    # Labels
    labels = ListField(label=_("Labels"), required=False, help_text=_("One per line."))
    multi_label = forms.BooleanField(label=_("Several labels per document"), required=False)
    # Writing
    instruction_format = forms.ChoiceField(label=_("Instruction format"), choices=list(FORMAT_LABELS.items()),
                                           initial=Project.FORMAT_PLAIN)
    categories = ListField(label=_("Task categories"), required=False,
                           help_text=_("Instruction projects: one per line, e.g. brainstorming, classification."))
    system_prompt = forms.CharField(label=_("System prompt"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    min_length = forms.IntegerField(label=_("Minimum length of written text (characters)"), min_value=0, initial=0)
    pii_policy = forms.ChoiceField(label=_("Personal data in written text"), choices=list(PII_LABELS.items()),
                                   initial=Project.PII_WARN)
    duplicate_threshold = forms.FloatField(label=_("Near-duplicate threshold"), min_value=0.1, max_value=1.0,
                                           initial=0.7,
                                           help_text=_("Estimated Jaccard similarity at which a new instruction is "
                                                       "reported as a near duplicate."))
    # Work
    lease_seconds = forms.IntegerField(label=_("Lease (seconds)"), min_value=30, max_value=24 * 3600, initial=600,
                                       help_text=_("An open task returns to the queue after this long without a "
                                                   "sign of life from the annotator's page."))
    break_after_minutes = forms.IntegerField(label=_("Break reminder after (minutes of work)"), min_value=0,
                                             max_value=600, initial=60, help_text=_("0: no reminder."))
    # Quality control
    gold_rate = forms.FloatField(label=_("Share of gold items"), min_value=0.0, max_value=1.0, initial=0.0)
    agreement_threshold = forms.FloatField(label=_("Agreement threshold"), min_value=0.0, max_value=1.0,
                                           required=False)
    max_overlap = forms.IntegerField(label=_("Most annotators per item (quality routing)"), min_value=1,
                                     max_value=50, initial=1)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        kind = data.get("kind")
        if kind == Project.KIND_LIKERT and not data.get("criteria"):
            self.add_error("criteria", _("A Likert project needs at least one criterion."))
        if kind == Project.KIND_LABEL and not data.get("labels"):
            self.add_error("labels", _("A label project needs at least one label."))
        overlap = data.get("overlap") or 1
        if data.get("max_overlap") is not None and data["max_overlap"] < overlap:
            data["max_overlap"] = overlap
        return data

    # Sections of the form, and the kinds each applies to (None: every kind); project_form.js hides the others.
    SECTIONS: tuple[tuple[Any, tuple[str, ...] | None, tuple[str, ...]], ...] = (
        (_("The project"), None, ("name", "kind", "overlap", "language", "guidelines")),
        (_("Likert rating"), (Project.KIND_LIKERT,), ("scale", "criteria")),
        (_("Ranking"), (Project.KIND_RANKING,), ("round_size",)),
        (_("Document labels"), (Project.KIND_LABEL,), ("labels", "multi_label")),
        (_("Writing"), Project.WRITING_KINDS,
         ("instruction_format", "categories", "system_prompt", "min_length", "pii_policy", "duplicate_threshold")),
        (_("Work"), None, ("lease_seconds", "break_after_minutes")),
        (_("Quality control"), None, ("gold_rate", "agreement_threshold", "max_overlap")),
    )

    def sections(self) -> list[dict[str, Any]]:
        """The form's fields grouped for the page, each group with the kinds it applies to."""
        return [{"title": title, "kinds": " ".join(kinds) if kinds else "", "fields": [self[name] for name in names]}
                for title, kinds, names in self.SECTIONS]

    def project_settings(self) -> dict[str, Any]:
        """The project's settings as keyword arguments of `project_create` (guidelines apart)."""
        return {name: value for name, value in self.cleaned_data.items() if name != "guidelines"}


class ItemsImportForm(forms.Form):
    file = forms.FileField(label=_("JSON Lines file"),
                           help_text=_('One object a line: {"id"?, "prompt" or "messages", "responses"?, '
                                       '"metadata"?}.'))

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        if upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError(_("The file is larger than 50 MB: import it with the command or the API."))
        return upload


class ItemsFromJobForm(forms.Form):
    job = forms.IntegerField(label=_("Curation job id"), min_value=1)
    kept = forms.TypedChoiceField(label=_("Documents"), coerce=lambda v: v == "kept", initial="kept",
                                  choices=[("kept", _("kept by the job")), ("removed", _("removed by the job"))])
    limit = forms.IntegerField(label=_("At most"), min_value=1, max_value=100_000, initial=1000)


class GuidelineForm(forms.Form):
    text = forms.CharField(label=_("Guidelines (Markdown)"), widget=forms.Textarea(attrs={"rows": 18}),
                           help_text=_("Publishing makes a new version; annotations record the version they "
                                       "followed. HTML is shown as text."))


class MemberAddForm(forms.Form):
    username = forms.CharField(label=_("Username"), max_length=150)
    role = forms.ChoiceField(label=_("Role"), choices=[("annotator", _("annotator")), ("reviewer", _("reviewer"))],
                             initial="annotator")


class MembersImportForm(forms.Form):
    file = forms.FileField(label=_("CSV file"), help_text=_("A header line with username and optionally password "
                                                        "(creates the account when it does not exist) and role "
                                                        "(annotator or reviewer)."))


class InviteCreateForm(forms.Form):
    max_uses = forms.IntegerField(label=_("How many people may use it"), min_value=1, max_value=10_000, initial=20)
    days = forms.IntegerField(label=_("Valid for (days)"), min_value=1, max_value=90, initial=7)
