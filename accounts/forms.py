"""The login form: Django's, saying so when too many failed attempts locked the username from this address."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _

from accounts.authentication import client_address
from accounts.services import login_failure_record, login_locked


class RateLimitedLoginForm(AuthenticationForm):
    error_messages = {
        **AuthenticationForm.error_messages,
        "locked": _("Too many failed attempts for this username. Try again in %(minutes)s minutes."),
    }

    def clean(self) -> dict[str, Any]:
        username = self.cleaned_data.get("username")
        if username and login_locked(username, client_address(self.request)):
            login_failure_record(username, client_address(self.request))
            raise forms.ValidationError(
                self.error_messages["locked"], code="locked",
                params={"minutes": settings.LOGIN_FAILURE_WINDOW_SECONDS // 60},
            )
        return super().clean()
