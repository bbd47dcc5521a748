"""Account pages of the app itself: the user's API token."""

from __future__ import annotations

from django.urls import path

from accounts import views

app_name = "accounts"
urlpatterns = [
    path("token/", views.api_token_page, name="token"),
]
