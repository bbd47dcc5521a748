"""API tokens (hashed, expiring, only for roles with an API), the login rate limit, and what needs a login."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import ApiToken
from accounts.services import token_issue, token_revoke, user_ensure
from core.errors import PermissionDenied

pytestmark = pytest.mark.django_db
PASSWORD = "pass-for-tests"


def _api(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def test_a_token_is_stored_hashed_and_shown_only_when_issued(engineer: Any) -> None:
    key = token_issue(engineer)
    row = ApiToken.objects.get(user=engineer)
    assert key not in {row.prefix, row.key_hash} and len(row.key_hash) == 64
    assert _api(key).get("/api/v1/jobs/").status_code == 200
    assert _api(key[:-1] + ("A" if key[-1] != "A" else "B")).get("/api/v1/jobs/").status_code == 401


def test_an_expired_or_revoked_token_is_refused(engineer: Any) -> None:
    expired = token_issue(engineer)
    ApiToken.objects.filter(prefix=expired[:12]).update(expires_at=timezone.now() - timedelta(seconds=1))
    revoked = token_issue(engineer)
    assert _api(revoked).get("/api/v1/jobs/").status_code == 200
    token_revoke(engineer)
    assert _api(expired).get("/api/v1/jobs/").status_code == 401
    assert _api(revoked).get("/api/v1/jobs/").status_code == 401


def test_use_is_recorded(engineer: Any) -> None:
    key = token_issue(engineer)
    _api(key).get("/api/v1/jobs/")
    assert ApiToken.objects.get(user=engineer).last_used_at is not None


def test_an_account_without_a_role_gets_no_token() -> None:
    nobody = user_ensure("nobody", PASSWORD)
    with pytest.raises(PermissionDenied):
        token_issue(nobody)
    response = APIClient().post("/api/v1/auth/token/", {"username": "nobody", "password": PASSWORD}, format="json")
    assert response.status_code == 403
    assert not ApiToken.objects.exists()


def test_a_token_of_a_user_who_lost_every_role_stops_working(engineer: Any) -> None:
    key = token_issue(engineer)
    engineer.groups.clear()
    assert _api(key).get("/api/v1/jobs/").status_code == 401


def test_the_token_endpoint_issues_tokens_that_expire(engineer: Any, settings: Any) -> None:
    settings.API_TOKEN_DAYS = 7
    response = APIClient().post("/api/v1/auth/token/", {"username": engineer.username, "password": PASSWORD},
                                format="json")
    assert response.status_code == 200
    token = ApiToken.objects.get(user=engineer)
    assert timedelta(days=6) < token.expires_at - timezone.now() <= timedelta(days=7)
    assert _api(response.json()["token"]).get("/api/v1/jobs/").status_code == 200


def test_login_is_locked_after_ten_failures_from_one_address_even_with_the_right_password(engineer: Any) -> None:
    client = Client(REMOTE_ADDR="203.0.113.7")
    for _ in range(10):
        wrong = client.post("/accounts/login/", {"username": engineer.username, "password": "nope"})
        assert wrong.status_code == 200
    locked = client.post("/accounts/login/", {"username": engineer.username, "password": PASSWORD})
    assert locked.status_code == 200 and "Too many failed attempts" in locked.content.decode()
    assert "_auth_user_id" not in client.session
    # the same account from another address, and the token endpoint from the locked one
    other = Client(REMOTE_ADDR="198.51.100.9")
    assert other.post("/accounts/login/", {"username": engineer.username, "password": PASSWORD}).status_code == 302
    api = APIClient(REMOTE_ADDR="203.0.113.7")
    assert api.post("/api/v1/auth/token/", {"username": engineer.username, "password": PASSWORD},
                    format="json").status_code == 429


def test_the_lock_lifts_after_the_window(engineer: Any, settings: Any) -> None:
    settings.LOGIN_FAILURE_LIMIT = 2
    settings.LOGIN_FAILURE_WINDOW_SECONDS = 60
    client = Client(REMOTE_ADDR="203.0.113.8")
    for _ in range(2):
        client.post("/accounts/login/", {"username": engineer.username, "password": "nope"})
    assert client.post("/accounts/login/", {"username": engineer.username, "password": PASSWORD}).status_code == 200
    from accounts.models import LoginFailure

    LoginFailure.objects.update(at=timezone.now() - timedelta(seconds=61))
    assert client.post("/accounts/login/", {"username": engineer.username, "password": PASSWORD}).status_code == 302


def test_password_reset_pages_exist_only_with_email(client: Client) -> None:
    assert client.get("/accounts/password_reset/").status_code == 404
    assert client.get("/accounts/login/").status_code == 200


def test_the_api_schema_needs_a_login(client: Client, engineer: Any) -> None:
    assert client.get("/api/schema/").status_code in (401, 403)
    assert _api(token_issue(engineer)).get("/api/schema/").status_code == 200


def test_the_token_page_shows_a_new_key_once_and_then_only_its_prefix(engineer_client: Client, engineer: Any) -> None:
    empty = engineer_client.get("/accounts/token/").content.decode()
    assert 'data-token-status="none"' in empty
    made = engineer_client.post("/accounts/token/", {"action": "regenerate"})
    key = made.context["new_key"]
    assert key and key in made.content.decode() and made["Cache-Control"].startswith("max-age=0")
    again = engineer_client.get("/accounts/token/").content.decode()
    assert key not in again and key[:12] in again
    replaced = engineer_client.post("/accounts/token/", {"action": "regenerate"}).context["new_key"]
    assert _api(key).get("/api/v1/jobs/").status_code == 401
    assert _api(replaced).get("/api/v1/jobs/").status_code == 200
    engineer_client.post("/accounts/token/", {"action": "revoke"})
    assert not ApiToken.objects.filter(user=engineer).exists()


def test_the_token_page_in_chinese(engineer_client: Client) -> None:
    html = engineer_client.get("/accounts/token/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "我的 API 令牌" in html


