"""The annotation pages (server-rendered): the annotator's projects and task page, and the managers' project pages.

The JSON API the task page talks to lives under /api/v1/ (annotation/api.py).
"""

from django.urls import include, path

from annotation import views

app_name = "annotation"

urlpatterns = [
    path("annotate/", views.annotator_home, name="annotator-home"),
    path("annotate/<int:project_id>/", views.annotate, name="annotate"),
    path("annotate/invite/<str:token>/", views.invite_accept_page, name="invite-accept"),
    path("annotation/projects/", views.project_list, name="project-list"),
    path("annotation/projects/new/", views.project_create_page, name="project-create"),
    path("annotation/projects/<int:project_id>/", views.project_detail, name="project-detail"),
    path("annotation/projects/<int:project_id>/import/", views.project_import, name="project-import"),
    path("annotation/projects/<int:project_id>/from-job/", views.project_from_job, name="project-from-job"),
    path("annotation/projects/<int:project_id>/items/", views.project_items, name="project-items"),
    path("annotation/projects/<int:project_id>/guidelines/", views.project_guidelines, name="project-guidelines"),
    path("annotation/projects/<int:project_id>/members/", views.project_members, name="project-members"),
    path("annotation/projects/<int:project_id>/members/import/", views.project_members_import,
         name="project-members-import"),
    path("annotation/projects/<int:project_id>/invites/", views.project_invite, name="project-invite"),
    path("", include("annotation.urls_quality")),
]
