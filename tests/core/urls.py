"""A console page whose service refuses, to test the console's error boundary with the real middleware stack."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.urls import include, path

from core.errors import Conflict


def refusing_view(request: HttpRequest) -> HttpResponse:
    raise Conflict("the output folder /data/out is taken <b>already</b>", field="output")


urlpatterns = [
    path("refuse/", refusing_view),
    path("", include("config.urls")),
]
