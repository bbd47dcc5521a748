"""How requests prove who they are: hashed API tokens for the API, and a rate-limited password backend.

`Authorization: Token <key>` (the header format of DRF's TokenAuthentication) is checked against the hashed
tokens of accounts.models.ApiToken. Password logins (console, admin, `POST /api/v1/auth/token/`) go through
`RateLimitedModelBackend`: after settings.LOGIN_FAILURE_LIMIT failures of one username from one address within
settings.LOGIN_FAILURE_WINDOW_SECONDS, that pair is refused, even with the right password, until the window passes.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import AbstractBaseUser
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.dispatch import receiver
from django.http import HttpRequest
from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication

from accounts.services import login_failure_record, login_failures_clear, login_locked, token_authenticate


class ApiTokenAuthentication(TokenAuthentication):
    """DRF authentication by a hashed, expiring API token (replaces rest_framework.authtoken's)."""

    def authenticate_credentials(self, key: str) -> tuple[AbstractBaseUser, Any]:
        token = token_authenticate(key)
        if token is None:
            raise exceptions.AuthenticationFailed("invalid or expired token")
        return token.user, token


def client_address(request: HttpRequest | None) -> str:
    """The client's address as this server sees it (REMOTE_ADDR; a proxy must pass the real one through)."""
    if request is None:
        return ""
    return str(request.META.get("REMOTE_ADDR", ""))


class RateLimitedModelBackend(ModelBackend):
    """Django's username/password backend, refusing a (username, address) pair with too many recent failures."""

    def authenticate(self, request: HttpRequest | None, username: str | None = None, password: str | None = None,
                     **kwargs: Any) -> AbstractBaseUser | None:
        if username is None:
            username = kwargs.get(get_user_model().USERNAME_FIELD)
        if username and login_locked(username, client_address(request)):
            return None  # counted as one more failure by user_login_failed
        return super().authenticate(request, username=username, password=password, **kwargs)


@receiver(user_login_failed, dispatch_uid="accounts-login-failure")
def _login_failed(sender: Any, credentials: dict[str, Any], request: HttpRequest | None = None, **kwargs: Any) -> None:
    username = credentials.get("username") or credentials.get(get_user_model().USERNAME_FIELD) or ""
    if username:
        login_failure_record(str(username), client_address(request))


@receiver(user_logged_in, dispatch_uid="accounts-login-success")
def _logged_in(sender: Any, request: HttpRequest | None, user: AbstractBaseUser, **kwargs: Any) -> None:
    login_failures_clear(user.get_username(), client_address(request))
