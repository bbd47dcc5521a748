"""Production settings (DJANGO_ENV=production): secure by default, and no start with the example's secrets."""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "deploy" / "env.example"


def _production_env(**changes: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SECURE_", "DJANGO_", "CSRF_"))}
    env.update({
        "DJANGO_ENV": "production",
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "curation.example.org",
        "DATABASE_URL": os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres"),
    })
    env.update(changes)
    return {k: v for k, v in env.items() if v != ""}


def _run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, *args], cwd=REPO, env=env, capture_output=True, text=True, timeout=180)


def _setting(name: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    code = ("import django; django.setup(); from django.conf import settings; "
            f"print(repr(getattr(settings, {name!r}, None)))")
    return _run(["-c", code], env)


def test_check_deploy_is_clean_in_production() -> None:
    result = _run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], _production_env())
    assert result.returncode == 0, result.stdout + result.stderr
    assert "WARNING" not in result.stderr and "identified no issues" in result.stdout


def test_https_redirect_and_hsts_are_on_by_default() -> None:
    env = _production_env()
    assert _setting("SECURE_SSL_REDIRECT", env).stdout.strip() == "True"
    assert int(_setting("SECURE_HSTS_SECONDS", env).stdout.strip()) >= 31_536_000


def test_no_proxy_header_is_trusted_unless_the_deployment_names_it() -> None:
    assert _setting("SECURE_PROXY_SSL_HEADER", _production_env()).stdout.strip() == "None"
    named = _production_env(SECURE_PROXY_SSL_HEADER="X-Forwarded-Proto")
    assert _setting("SECURE_PROXY_SSL_HEADER", named).stdout.strip() == "('HTTP_X_FORWARDED_PROTO', 'https')"


def test_production_requires_allowed_hosts() -> None:
    result = _setting("ALLOWED_HOSTS", _production_env(ALLOWED_HOSTS=""))
    assert result.returncode != 0 and "ALLOWED_HOSTS must be set" in result.stderr


def _example_values() -> dict[str, str]:
    pairs = (line.split("=", 1) for line in EXAMPLE.read_text().splitlines() if re.match(r"^[A-Z_]+=", line))
    return {k: v for k, v in pairs}


def test_the_example_secret_key_is_refused() -> None:
    result = _setting("SECRET_KEY", _production_env(SECRET_KEY=_example_values()["SECRET_KEY"]))
    assert result.returncode != 0 and "SECRET_KEY is still the placeholder" in result.stderr


def test_the_example_database_password_is_refused() -> None:
    url = f"postgres://curation:{_example_values()['POSTGRES_PASSWORD']}@127.0.0.1:5432/curation"
    result = _setting("DATABASES", _production_env(DATABASE_URL=url))
    assert result.returncode != 0 and "password is still the placeholder" in result.stderr


@pytest.mark.parametrize("service", ["migrate", "web", "curation-worker", "beat"])
def test_compose_requires_real_secrets_and_never_reads_the_example(service: str) -> None:
    compose = yaml.safe_load((REPO / "deploy" / "compose.yaml").read_text())
    spec = compose["services"][service]
    assert "env.example" not in str(spec.get("env_file"))
    environment = spec["environment"]
    assert environment["SECRET_KEY"].startswith("${SECRET_KEY:?")
    assert environment["ALLOWED_HOSTS"].startswith("${ALLOWED_HOSTS:?")
    assert "${POSTGRES_PASSWORD:?" in environment["DATABASE_URL"]
    assert compose["services"]["postgres"]["environment"]["POSTGRES_PASSWORD"].startswith("${POSTGRES_PASSWORD:?")
