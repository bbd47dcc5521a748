"""Users with roles (used by `make run`'s demo users and by admins), API tokens and the login rate limit."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser, AbstractUser, AnonymousUser
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import ApiToken, LoginFailure
from accounts.roles import ROLES, role_groups, user_has_role
from core.errors import PermissionDenied

TOKEN_PREFIX_CHARS = 12
# A token's last use is written at most this often (not on every request).
TOKEN_TOUCH_SECONDS = 60


@transaction.atomic
def user_ensure(username: str, password: str, *, role: str | None = None, admin: bool = False) -> AbstractUser:
    """Create or update a user with exactly the given role; safe to re-run. Issues no API token (see token_issue)."""
    if role is not None and role not in ROLES:
        raise ValueError(f"unknown role {role!r} (roles: {', '.join(ROLES)})")
    User = get_user_model()
    user, _ = User.objects.get_or_create(username=username)
    user.set_password(password)
    user.is_superuser = admin
    user.is_staff = admin
    user.save()
    groups = role_groups()
    user.groups.set([groups[role]] if role else [])
    return user


def can_use_api(user: AbstractBaseUser | AnonymousUser) -> bool:
    """Whether the user may hold an API token: an active admin, or an active user with any role.

    Every role has an API: data engineers (jobs), managers and reviewers (projects, review), trainers (runs,
    exports), and annotators (the annotation API's next/submit, for scripted and accessible clients). An account
    with no role has nothing to call, so it gets no token.
    """
    if not user.is_authenticated or not user.is_active:
        return False
    return bool(user.is_superuser) or any(user_has_role(user, role) for role in ROLES)


def _key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def token_issue(user: AbstractBaseUser) -> str:
    """Issue a new API token for `user` and return its plaintext (shown once; only its hash is stored).

    The token expires after settings.API_TOKEN_DAYS. The user's other tokens stay valid (scripts running with
    them keep working); expired ones are deleted. Raises PermissionDenied for a user whose role has no API.
    Every call issues a new token.
    """
    if not can_use_api(user):
        raise PermissionDenied("this account has no role that uses the API, so it gets no API token")
    ApiToken.objects.filter(user=user, expires_at__lte=timezone.now()).delete()
    expires = timezone.now() + timedelta(days=settings.API_TOKEN_DAYS)
    while True:
        key = secrets.token_hex(TOKEN_PREFIX_CHARS // 2) + secrets.token_urlsafe(32)
        try:
            with transaction.atomic():
                ApiToken.objects.create(user=user, prefix=key[:TOKEN_PREFIX_CHARS], key_hash=_key_hash(key),
                                        expires_at=expires)
            return key
        except IntegrityError:  # a prefix taken already (1 in 2^48): draw again
            continue


def token_revoke(user: AbstractBaseUser) -> int:
    """Revoke every API token of `user`; return how many. Idempotent."""
    deleted, _ = ApiToken.objects.filter(user=user).delete()
    return deleted


def token_rotate(user: AbstractBaseUser) -> str:
    """Revoke the user's tokens and issue one new token; return its plaintext (the "regenerate" button)."""
    with transaction.atomic():
        token_revoke(user)
        return token_issue(user)


def token_authenticate(key: str) -> ApiToken | None:
    """The live token whose plaintext is `key` (its user loaded), or None; records its use (at most once a minute).

    None for an unknown, expired or mistyped key, a key whose user is inactive, or one whose user lost every role.
    """
    if len(key) <= TOKEN_PREFIX_CHARS:
        return None
    token = ApiToken.objects.select_related("user").filter(prefix=key[:TOKEN_PREFIX_CHARS]).first()
    if token is None or not hmac.compare_digest(token.key_hash, _key_hash(key)):
        return None
    now = timezone.now()
    if token.expires_at <= now or not can_use_api(token.user):
        return None
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() >= TOKEN_TOUCH_SECONDS:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token


def login_failure_record(username: str, address: str) -> None:
    """Count one failed login for (username, address); old failures are dropped on the way."""
    window = timedelta(seconds=settings.LOGIN_FAILURE_WINDOW_SECONDS)
    LoginFailure.objects.filter(at__lt=timezone.now() - window).delete()
    LoginFailure.objects.create(username=username[:150].lower(), address=address[:64])


def login_failures_clear(username: str, address: str) -> None:
    """Forget the failures of (username, address) after a successful login."""
    LoginFailure.objects.filter(username=username[:150].lower(), address=address[:64]).delete()


def login_locked(username: str, address: str) -> bool:
    """Whether (username, address) failed settings.LOGIN_FAILURE_LIMIT times within the window."""
    since = timezone.now() - timedelta(seconds=settings.LOGIN_FAILURE_WINDOW_SECONDS)
    failures = LoginFailure.objects.filter(username=username[:150].lower(), address=address[:64], at__gte=since)
    return failures.count() >= settings.LOGIN_FAILURE_LIMIT
