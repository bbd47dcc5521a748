"""The trainers' pages: runs (list, submit, the run page with live charts), pipelines, checkpoint comparisons.

Thin: check the role, validate a form, call one service or selector, render. The run page's charts are drawn by
static/training/run.js (uPlot, vendored), which polls the API (`GET /api/v1/runs/{id}/?since=STEP`).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from accounts.roles import can_train
from core.forms import form_apply
from training import selectors
from training.models import Pipeline, Run
from training.services.comparisons import comparison_create
from training.services.pipelines import access_pipeline, pipeline_cancel, pipeline_submit
from training.services.runs import access_run, run_cancel, run_submit

View = Callable[..., HttpResponse]


def trainer_required(view: View) -> View:
    """Let trainers and admins through; send anonymous users to log in; refuse everybody else (403)."""

    @wraps(view)
    def guarded(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not can_train(request.user):
            raise PermissionDenied("training is for trainers and admins")
        response = view(request, *args, **kwargs)
        # Our pages load scripts from our static files only; no inline script anywhere.
        response["Content-Security-Policy"] = ("default-src 'self'; script-src 'self'; style-src 'self'; "
                                               "img-src 'self' data:; object-src 'none'; base-uri 'none'; "
                                               "form-action 'self'; frame-ancestors 'none'")
        return response

    return login_required(guarded)


def _hyper_field() -> forms.JSONField:
    return forms.JSONField(label=gettext_lazy("Hyperparameters (JSON)"), required=False, initial=dict,
                           help_text=gettext_lazy('e.g. {"max_steps": 60, "learning_rate": 0.0001}'))


class RunForm(forms.Form):
    kind = forms.ChoiceField(label=gettext_lazy("Kind"), choices=Run.Kind.choices)
    dataset = forms.CharField(label=gettext_lazy("Export folder"), max_length=1000)
    base_model = forms.CharField(label=gettext_lazy("Base model folder"), max_length=1000, required=False)
    parent = forms.ModelChoiceField(label=gettext_lazy("Or start from run"), required=False,
                                    queryset=Run.objects.none())
    reward_run = forms.ModelChoiceField(label=gettext_lazy("Reward run (PPO, RLOO)"), required=False,
                                        queryset=Run.objects.none())
    hyperparameters = _hyper_field()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["parent"].queryset = selectors.runs_succeeded()  # type: ignore[attr-defined]
        self.fields["reward_run"].queryset = selectors.runs_succeeded().filter(  # type: ignore[attr-defined]
            kind=Run.Kind.REWARD)


class PipelineForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=200, required=False)
    kind = forms.ChoiceField(label=gettext_lazy("Chain"), choices=Pipeline.Kind.choices)
    base_model = forms.CharField(label=gettext_lazy("Base model folder"), max_length=1000)
    sft = forms.CharField(label=gettext_lazy("SFT export folder"), max_length=1000)
    reward = forms.CharField(label=gettext_lazy("Reward export folder"), max_length=1000, required=False)
    ppo = forms.CharField(label=gettext_lazy("PPO prompts export folder"), max_length=1000, required=False)
    dpo = forms.CharField(label=gettext_lazy("DPO export folder"), max_length=1000, required=False)
    hyperparameters = forms.JSONField(label=gettext_lazy("Hyperparameters per stage (JSON)"), required=False,
                                      initial=dict, help_text=gettext_lazy('e.g. {"sft": {"max_steps": 60}}'))


class ComparisonForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Project name"), max_length=200)
    runs = forms.ModelMultipleChoiceField(label=gettext_lazy("Checkpoints to compare"),
                                          queryset=Run.objects.none(), widget=forms.CheckboxSelectMultiple)
    prompts = forms.CharField(label=gettext_lazy("Held-out prompts (export folder)"), max_length=1000)
    kind = forms.ChoiceField(label=gettext_lazy("Project kind"),
                             choices=[("pairwise", gettext_lazy("pairwise")), ("ranking", gettext_lazy("ranking"))])
    limit = forms.IntegerField(label=gettext_lazy("Prompts"), min_value=1, max_value=1000, initial=20)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["runs"].queryset = selectors.runs_succeeded().exclude(  # type: ignore[attr-defined]
            kind=Run.Kind.REWARD)


@trainer_required
def run_list(request: HttpRequest) -> HttpResponse:
    page = Paginator(selectors.runs_all(), 50).get_page(request.GET.get("page"))
    return render(request, "training/run_list.html", {"page": page, "nav": "training"})


@trainer_required
def run_new(request: HttpRequest) -> HttpResponse:
    form = RunForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        run = form_apply(form, lambda: run_submit(
            request.user, kind=data["kind"], dataset=data["dataset"],  # type: ignore[arg-type]
            base_model=data["base_model"], parent=data["parent"], reward_run=data["reward_run"],
            hyperparameters=data["hyperparameters"] or {}))
        if run is not None:
            messages.success(request, _("Run %(id)s queued.") % {"id": run.pk})
            return redirect("training:run-detail", run_id=run.pk)
    return render(request, "training/run_new.html", {"form": form, "nav": "training"})


@trainer_required
def run_detail(request: HttpRequest, run_id: int) -> HttpResponse:
    run = access_run(request.user, run_id)  # type: ignore[arg-type]
    return render(request, "training/run_detail.html", {"run": run, "nav": "training"})


@require_POST
@trainer_required
def run_cancel_action(request: HttpRequest, run_id: int) -> HttpResponse:
    # A run that can no longer be cancelled is a Conflict, shown by the console's error boundary.
    run_cancel(request.user, run_id)  # type: ignore[arg-type]
    messages.success(request, _("Cancellation requested."))
    return redirect("training:run-detail", run_id=run_id)


@trainer_required
def pipeline_list(request: HttpRequest) -> HttpResponse:
    form = PipelineForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        datasets = {stage: data[stage] for stage in ("sft", "reward", "ppo", "dpo") if data[stage]}
        pipeline = form_apply(form, lambda: pipeline_submit(
            request.user, kind=data["kind"], name=data["name"],  # type: ignore[arg-type]
            base_model=data["base_model"], datasets=datasets, hyperparameters=data["hyperparameters"] or {}))
        if pipeline is not None:
            return redirect("training:pipeline-detail", pipeline_id=pipeline.pk)
    pipelines = selectors.pipelines_all()[:100]
    return render(request, "training/pipeline_list.html", {"form": form, "pipelines": pipelines,
                                                           "nav": "training"})


@trainer_required
def pipeline_detail(request: HttpRequest, pipeline_id: int) -> HttpResponse:
    pipeline = access_pipeline(request.user, pipeline_id)  # type: ignore[arg-type]
    runs = pipeline.runs.order_by("stage")
    return render(request, "training/pipeline_detail.html", {"pipeline": pipeline, "runs": runs,
                                                             "nav": "training"})


@require_POST
@trainer_required
def pipeline_cancel_action(request: HttpRequest, pipeline_id: int) -> HttpResponse:
    pipeline_cancel(request.user, pipeline_id)  # type: ignore[arg-type]
    messages.success(request, _("Pipeline cancelled."))
    return redirect("training:pipeline-detail", pipeline_id=pipeline_id)


@trainer_required
def comparison_new(request: HttpRequest) -> HttpResponse:
    form = ComparisonForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        result = form_apply(form, lambda: comparison_create(
            request.user, name=data["name"], runs=list(data["runs"]),  # type: ignore[arg-type]
            prompts=data["prompts"], kind=data["kind"], limit=data["limit"]))
        if result is not None:
            messages.success(request, _("Annotation project %(id)s created with %(n)s items.")
                             % {"id": result.project_id, "n": result.items})
            return redirect("training:run-list")
    return render(request, "training/comparison_new.html", {"form": form, "nav": "training"})
