"""Log in and out, change the password; password reset only when email works (un-namespaced, as Django names them)."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.urls import URLPattern, path

from accounts.forms import RateLimitedLoginForm

urlpatterns: list[URLPattern] = [
    path("login/", auth_views.LoginView.as_view(authentication_form=RateLimitedLoginForm), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("password_change/", auth_views.PasswordChangeView.as_view(), name="password_change"),
    path("password_change/done/", auth_views.PasswordChangeDoneView.as_view(), name="password_change_done"),
]

if settings.EMAIL_CONFIGURED:
    # Reset links go by email: without a mail server the pages would promise a message that never comes.
    urlpatterns += [
        path("password_reset/", auth_views.PasswordResetView.as_view(), name="password_reset"),
        path("password_reset/done/", auth_views.PasswordResetDoneView.as_view(), name="password_reset_done"),
        path("reset/<uidb64>/<token>/", auth_views.PasswordResetConfirmView.as_view(),
             name="password_reset_confirm"),
        path("reset/done/", auth_views.PasswordResetCompleteView.as_view(), name="password_reset_complete"),
    ]
