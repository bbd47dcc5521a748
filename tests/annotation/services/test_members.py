"""Members: one by one, from a CSV (bad rows by line), by invite link; projects and guidelines."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from annotation.models import Invite, Membership
from annotation.services.members import invite_accept, invite_create, members_import_csv
from annotation.services.projects import guideline_publish, project_create
from core.errors import Conflict, NotFound, ValidationError
from tests.fixtures.jobs import UserFactory


@pytest.mark.django_db
def test_members_from_a_csv_create_missing_users_and_report_bad_rows(make_project):
    project = make_project("likert")
    UserFactory(username="existing", role="annotator")
    csv_text = ("username,password,role\n"
                "existing,,\n"
                "newbie,a-long-password,\n"
                "nopass,,\n"
                ",x,\n"
                "rev,another-password,reviewer\n"
                "odd,pass-pass-pass,boss\n")

    report = members_import_csv(project, csv_text)

    assert report.added == ["existing", "newbie", "rev"]
    assert report.created == ["newbie", "rev"]
    assert [line for line, _ in report.errors] == [4, 5, 7]
    assert Membership.objects.get(project=project, user__username="rev").role == "reviewer"
    assert get_user_model().objects.get(username="newbie").check_password("a-long-password")


@pytest.mark.django_db
def test_an_invite_link_adds_members_until_used_up_or_expired(make_project, manager):
    project = make_project("likert")
    invite = invite_create(project, manager, max_uses=1)
    first, second = UserFactory(username="first"), UserFactory(username="second")

    invite_accept(invite.token, first)
    invite_accept(invite.token, first)  # again: no second use counted
    with pytest.raises(Conflict):
        invite_accept(invite.token, second)
    with pytest.raises(NotFound):
        invite_accept("no-such-token", second)

    assert Invite.objects.get().uses == 1
    assert first.groups.filter(name="annotator").exists()
    expired = invite_create(project, manager)
    Invite.objects.filter(pk=expired.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    with pytest.raises(Conflict):
        invite_accept(expired.token, second)


@pytest.mark.django_db
def test_project_settings_that_do_not_fit_are_refused(manager):
    with pytest.raises(ValidationError):
        project_create(name="L", kind="likert", criteria=[], created_by=manager)
    with pytest.raises(ValidationError):
        project_create(name="L", kind="label", created_by=manager)
    with pytest.raises(ValidationError):
        project_create(name="X", kind="essay", created_by=manager)
    project = project_create(name="R", kind="ranking", overlap=3, created_by=manager, guideline="Rank them.")
    assert project.max_overlap == 3 and project.current_guideline.version == 1


@pytest.mark.django_db
def test_guidelines_are_versioned(make_project, manager):
    project = make_project("likert")
    guideline_publish(project, "v1", manager)
    guideline_publish(project, "v2", manager)
    with pytest.raises(ValidationError):
        guideline_publish(project, "v2", manager)
    assert project.current_guideline.text == "v2" and project.current_guideline.version == 2
