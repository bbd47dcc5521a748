"""Roles: read once per user object, and seen again as soon as they change."""

from __future__ import annotations

from typing import Any

import pytest

from accounts.roles import ANNOTATOR, DATA_ENGINEER, TRAINER, can_curate, role_groups, user_has_role
from accounts.services import user_ensure

pytestmark = pytest.mark.django_db


def test_a_users_roles_are_read_once_for_several_checks(django_assert_num_queries: Any) -> None:
    # given a trainer, loaded afresh (as a request loads its user)
    user = type(user_ensure("tr", "pw-roles-1", role=TRAINER)).objects.get(username="tr")
    # when several roles are asked of it, then one query reads them all
    with django_assert_num_queries(1):
        assert user_has_role(user, TRAINER)
        assert not user_has_role(user, DATA_ENGINEER)
        assert not user_has_role(user, ANNOTATOR)


def test_a_role_given_after_the_roles_were_read_is_seen_at_once() -> None:
    # given a user whose roles were read (none)
    user = user_ensure("de", "pw-roles-2")
    assert not can_curate(user)
    # when a role is given through the user, then the same object has it; and taken away, it no longer has
    user.groups.add(role_groups()[DATA_ENGINEER])
    assert can_curate(user)
    user.groups.clear()
    assert not can_curate(user)
