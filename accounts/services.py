"""Create users with roles (used by `make run`'s demo users and by admins)."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractUser
from django.db import transaction
from rest_framework.authtoken.models import Token

from accounts.roles import ROLES, role_groups


@transaction.atomic
def user_ensure(username: str, password: str, *, role: str | None = None, admin: bool = False) -> AbstractUser:
    """Create or update a user with exactly the given role; safe to re-run. Also ensures an API token."""
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
    Token.objects.get_or_create(user=user)
    return user
