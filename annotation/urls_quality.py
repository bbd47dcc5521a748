"""Quality control's pages, included by annotation/urls.py (names live in the `annotation` namespace)."""

from django.urls import path

from annotation import views_quality

urlpatterns = [
    path("annotation/projects/<int:project_id>/quality/", views_quality.project_quality, name="project-quality"),
    path("annotation/projects/<int:project_id>/quality/refresh/", views_quality.project_quality_refresh,
         name="project-quality-refresh"),
    path("annotation/projects/<int:project_id>/quality/settings/", views_quality.project_quality_settings,
         name="project-quality-settings"),
    path("annotation/projects/<int:project_id>/quality/gold/", views_quality.project_gold_promote,
         name="project-gold-promote"),
    path("annotation/projects/<int:project_id>/review/", views_quality.project_review, name="project-review"),
    path("annotation/annotations/<int:annotation_id>/review/", views_quality.annotation_review,
         name="annotation-review"),
]
