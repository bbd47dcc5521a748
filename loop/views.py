"""The audit page of a curation job: audits and their figures, a new audit, the what-if controls, versions.

For data engineers and admins (everybody else gets 404, as for jobs). The what-if controls, saving a recipe
version, re-applying it and training the classifier call the REST API (loop/api.py) from static/loop/audit.js.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from core.forms import form_apply
from curation.selectors import job_recipe
from loop.forms import AuditForm
from loop.selectors import access_job_for_audit, job_audits, job_recipe_versions, tunable_steps
from loop.services.audits import audit_create, audit_results_current


@login_required
@require_http_methods(["GET", "POST"])
def job_audit(request: HttpRequest, job_id: int) -> HttpResponse:
    job = access_job_for_audit(request.user, job_id)
    recipe = job_recipe(job)
    choices = [(str(p), f"{p}: {spec.name}") for p, spec in enumerate(recipe.steps)]
    if request.method == "POST":
        form = AuditForm(request.POST, step_choices=choices)
        if form.is_valid():
            audit = form_apply(form, lambda: audit_create(job, user=request.user,  # type: ignore[arg-type]
                                                          **form.audit_arguments()))
            if audit is not None:
                return redirect("loop:job-audit", job_id=job.pk)
    else:
        form = AuditForm(step_choices=choices)
    audits = job_audits(job)
    for audit in audits:
        audit_results_current(audit)
    return render(request, "loop/job_audit.html", {
        "job": job, "audits": audits, "form": form, "completed": job.status == "completed",
        "tunable": tunable_steps(job) if job.status == "completed" else [],
        "versions": job_recipe_versions(job), "nav": "jobs",
    })
