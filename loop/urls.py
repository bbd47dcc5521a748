"""The loop app's pages (its REST API is loop/api.py)."""

from django.urls import path

from loop import views

app_name = "loop"

urlpatterns = [
    path("jobs/<int:job_id>/audit/", views.job_audit, name="job-audit"),
]
