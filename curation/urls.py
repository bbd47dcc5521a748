"""The data engineers' console: server-rendered pages for jobs and schedules (the REST API lives under /api/v1/)."""

from django.urls import path

from curation import views

app_name = "curation"

urlpatterns = [
    path("jobs/", views.job_list, name="job-list"),
    path("jobs/new/", views.job_submit_page, name="job-submit"),
    path("jobs/<int:job_id>/", views.job_detail, name="job-detail"),
    path("jobs/<int:job_id>/progress.json", views.job_progress_json, name="job-progress"),
    path("jobs/<int:job_id>/samples/", views.job_samples_page, name="job-samples"),
    path("jobs/<int:job_id>/cancel/", views.job_cancel_action, name="job-cancel"),
    path("jobs/<int:job_id>/delete/", views.job_delete_action, name="job-delete"),
    path("jobs/<int:job_id>/read-errors.csv", views.job_read_errors_csv, name="job-read-errors"),
    path("jobs/<int:job_id>/dedup/", views.job_dedup_page, name="job-dedup"),
    # A cluster is named by its kept document's id, which may hold slashes (ids built from paths and URLs).
    # A cluster whose id is empty or holds a line break (no path can carry it): the id in `?id=`.
    path("jobs/<int:job_id>/dedup/<int:position>/cluster/", views.job_dedup_cluster_query_page,
         name="job-dedup-cluster-query"),
    path("jobs/<int:job_id>/dedup/<int:position>/<path:cluster_id>/", views.job_dedup_cluster_page,
         name="job-dedup-cluster"),
    path("schedules/", views.schedule_list, name="schedule-list"),
    path("schedules/<int:schedule_id>/edit/", views.schedule_edit, name="schedule-edit"),
    path("schedules/<int:schedule_id>/pause/", views.schedule_pause_action, name="schedule-pause"),
    path("schedules/<int:schedule_id>/run/", views.schedule_run_now_action, name="schedule-run"),
    path("schedules/<int:schedule_id>/delete/", views.schedule_delete_action, name="schedule-delete"),
    path("dedup-indexes/", views.dedup_index_list, name="dedup-index-list"),
    path("dedup-indexes/<slug:name>/", views.dedup_index_detail, name="dedup-index-detail"),
    path("dedup-indexes/<slug:name>/delete/", views.dedup_index_delete_action, name="dedup-index-delete"),
    path("api/docs/", views.api_docs, name="api-docs"),
]
