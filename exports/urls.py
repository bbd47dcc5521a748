"""The exports pages (the REST API is in exports/api.py)."""

from django.urls import path

from exports import views

app_name = "exports"

urlpatterns = [
    path("exports/", views.export_list, name="export-list"),
    path("exports/new/", views.export_new, name="export-new"),
    path("exports/<int:export_id>/", views.export_detail, name="export-detail"),
    path("exports/<int:export_id>/progress.json", views.export_progress_json, name="export-progress"),
    path("exports/<int:export_id>/files/<path:name>", views.export_download, name="export-download"),
]
