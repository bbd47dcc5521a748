"""The trainers' pages (the API lives in training/api.py under /api/v1/)."""

from django.urls import path

from training import views

app_name = "training"

urlpatterns = [
    path("training/runs/", views.run_list, name="run-list"),
    path("training/runs/new/", views.run_new, name="run-new"),
    path("training/runs/<int:run_id>/", views.run_detail, name="run-detail"),
    path("training/runs/<int:run_id>/cancel/", views.run_cancel_action, name="run-cancel"),
    path("training/pipelines/", views.pipeline_list, name="pipeline-list"),
    path("training/pipelines/<int:pipeline_id>/", views.pipeline_detail, name="pipeline-detail"),
    path("training/pipelines/<int:pipeline_id>/cancel/", views.pipeline_cancel_action, name="pipeline-cancel"),
    path("training/compare/", views.comparison_new, name="comparison-new"),
]
