"""Root URLs: the console (server-rendered pages), the REST API under /api/v1/, the OpenAPI schema."""

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView
from rest_framework.permissions import IsAuthenticated
from rest_framework.routers import DefaultRouter

from accounts.api import TokenView
from accounts.views import home
from curation.api import DedupIndexViewSet, JobViewSet, RecipeListView
from training.api import PipelineViewSet, RunViewSet

router = DefaultRouter()
router.register("jobs", JobViewSet, basename="job")
router.register("dedup-indexes", DedupIndexViewSet, basename="dedup-index")
router.register("runs", RunViewSet, basename="run")
router.register("pipelines", PipelineViewSet, basename="pipeline")

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/recipes/", RecipeListView.as_view(), name="api-recipes"),
    path("api/v1/", include(router.urls)),
    path("api/v1/auth/token/", TokenView.as_view(), name="api-token"),
    path("api/v1/", include("annotation.api")),
    path("api/v1/", include("annotation.api_quality")),
    path("api/v1/", include("exports.api")),
    path("api/v1/", include("loop.api")),
    # The schema is behind login (session or token): it maps every endpoint.
    path("api/schema/", SpectacularAPIView.as_view(permission_classes=[IsAuthenticated]), name="api-schema"),
    path("accounts/", include("accounts.auth_urls")),
    path("accounts/", include("accounts.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", home, name="home"),
    path("", include("curation.urls")),
    path("", include("annotation.urls")),
    path("", include("exports.urls")),
    path("", include("training.urls")),
    path("", include("loop.urls")),
]
