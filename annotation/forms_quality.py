"""The manager's quality-control settings form (the dashboard's "Settings" panel)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from annotation.models import Project
from annotation.models_quality import QualitySettings


class QualitySettingsForm(forms.Form):
    gold_rate = forms.FloatField(label=_("Share of gold items"), min_value=0.0, max_value=0.99)
    agreement_threshold = forms.FloatField(
        label=_("Agreement below which an item gets more annotators"), min_value=0.0, max_value=1.0, required=False,
        help_text=_("Empty: nothing is routed. Agreement is the share of annotator pairs who agree on the item."))
    max_overlap = forms.IntegerField(label=_("Most annotators per item"), min_value=1, max_value=100)
    likert_tolerance = forms.IntegerField(label=_("Likert tolerance (points)"), min_value=0, max_value=6)
    ranking_min_tau = forms.FloatField(label=_("Kendall's tau for a correct gold ranking"), min_value=-1.0,
                                       max_value=1.0)
    min_active_seconds = forms.FloatField(label=_("Median seconds per task below which an annotator is too fast"),
                                          min_value=0.0)
    min_gold_accuracy = forms.FloatField(label=_("Gold accuracy below which an annotator is flagged"),
                                         min_value=0.0, max_value=1.0)
    min_tasks = forms.IntegerField(label=_("Tasks needed before any flag"), min_value=1)
    weight_by_trust = forms.BooleanField(label=_("Weigh annotators by trust in the consensus"), required=False)

    @classmethod
    def initial_for(cls, project: Project, settings: QualitySettings) -> dict[str, Any]:
        return {
            "gold_rate": project.gold_rate, "agreement_threshold": project.agreement_threshold,
            "max_overlap": project.max_overlap, "likert_tolerance": settings.likert_tolerance,
            "ranking_min_tau": settings.ranking_min_tau, "min_active_seconds": settings.min_active_seconds,
            "min_gold_accuracy": settings.min_gold_accuracy, "min_tasks": settings.min_tasks,
            "weight_by_trust": settings.weight_by_trust,
        }
