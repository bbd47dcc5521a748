"""Project members: add one, import many from a CSV, invite by link; pause (QC) and remove."""

from __future__ import annotations

import csv
import io
import secrets
from dataclasses import dataclass, field
from datetime import timedelta
from typing import IO, Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.roles import ANNOTATOR, role_groups
from accounts.services import user_ensure
from annotation.models import Invite, Membership, Project
from core.errors import Conflict, NotFound, ValidationError

INVITE_DAYS = 7
CSV_COLUMNS = ("username", "password", "role")


def membership_add(project: Project, user: AbstractBaseUser, role: str = Membership.ROLE_ANNOTATOR) -> Membership:
    """Make `user` a member of the project with `role` (updating the role of an existing member). Safe to re-run."""
    if role not in Membership.ROLES:
        raise ValidationError(_("role must be one of %(roles)s") % {"roles": ", ".join(Membership.ROLES)}, field="role")
    membership, created = Membership.objects.get_or_create(project=project, user=user, defaults={"role": role})
    if not created and membership.role != role:
        membership.role = role
        membership.save(update_fields=["role"])
    return membership


def membership_set_paused(project: Project, user: AbstractBaseUser, paused: bool) -> Membership:
    """Pause (no new items) or resume a member. Safe to re-run."""
    membership = Membership.objects.filter(project=project, user=user).first()
    if membership is None:
        raise NotFound(_("not a member of this project"))
    if membership.paused != paused:
        membership.paused = paused
        membership.save(update_fields=["paused"])
    return membership


def membership_add_by_username(project: Project, username: str, role: str = Membership.ROLE_ANNOTATOR) -> Membership:
    """Add an existing user, by username, to the project."""
    user = get_user_model().objects.filter(username=username).first()
    if user is None:
        raise NotFound(_("no user %(username)s") % {"username": repr(username)}, field="username")
    return membership_add(project, user, role)


@dataclass
class MembersReport:
    added: list[str] = field(default_factory=list)
    created: list[str] = field(default_factory=list)
    errors: list[tuple[int, str]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"added": self.added, "created": self.created,
                "errors": [{"line": n, "reason": r} for n, r in self.errors]}


def members_import_csv(project: Project, file: IO[str] | IO[bytes] | str) -> MembersReport:
    """Add members from a CSV with a header: `username` and optionally `password` (creates the user, as an
    annotator, when it does not exist) and `role` (annotator or reviewer). Bad rows are reported by line number.

    Safe to re-run: existing members keep their membership (their role follows the file).
    """
    text = file if isinstance(file, str) else file.read()
    if isinstance(text, bytes):
        text = text.decode("utf-8-sig")
    reader = csv.DictReader(io.StringIO(text))
    if reader.fieldnames is None or "username" not in reader.fieldnames:
        raise ValidationError(_("the CSV needs a header row with a username column"), field="file")
    unknown = sorted(set(reader.fieldnames) - set(CSV_COLUMNS))
    if unknown:
        raise ValidationError(_("unknown CSV columns: %(columns)s") % {"columns": ", ".join(unknown)}, field="file")
    report = MembersReport()
    User = get_user_model()
    for row in reader:
        line = reader.line_num
        username = (row.get("username") or "").strip()
        role = (row.get("role") or Membership.ROLE_ANNOTATOR).strip()
        if not username:
            report.errors.append((line, _("no username")))
            continue
        if role not in Membership.ROLES:
            report.errors.append((line, _("role must be one of %(roles)s") % {"roles": ", ".join(Membership.ROLES)}))
            continue
        user = User.objects.filter(username=username).first()
        if user is None:
            password = (row.get("password") or "").strip()
            if len(password) < 8:
                report.errors.append((line, _("user %(username)s does not exist; give a password of 8+ characters")
                                       % {"username": repr(username)}))
                continue
            user = user_ensure(username, password, role=ANNOTATOR)
            report.created.append(username)
        membership_add(project, user, role)
        report.added.append(username)
    return report


def invite_create(project: Project, user: AbstractBaseUser | None, *, max_uses: int = 50,
                  days: int = INVITE_DAYS) -> Invite:
    """Create an invite link token for the project. Not idempotent: each call makes a new token."""
    if max_uses < 1:
        raise ValidationError(_("max_uses must be at least 1"), field="max_uses")
    if not 1 <= days <= 365:
        raise ValidationError(_("an invite lasts from 1 to 365 days"), field="days")
    return Invite.objects.create(project=project, token=secrets.token_urlsafe(24), max_uses=max_uses,
                                 expires_at=timezone.now() + timedelta(days=days), created_by=user)


def invite_accept(token: str, user: AbstractBaseUser) -> Membership:
    """Make the logged-in user an annotator of the invite's project; counts one use. Safe to re-run by a member
    (no use is counted again)."""
    with transaction.atomic():
        invite = Invite.objects.select_for_update().select_related("project").filter(token=token).first()
        if invite is None:
            raise NotFound(_("this invite link is not valid"))
        existing = Membership.objects.filter(project=invite.project, user=user).first()
        if existing is not None:
            return existing
        if invite.expires_at <= timezone.now():
            raise Conflict(_("this invite link has expired"))
        if invite.uses >= invite.max_uses:
            raise Conflict(_("this invite link has been used up"))
        Invite.objects.filter(pk=invite.pk).update(uses=F("uses") + 1)
        groups = user.groups  # type: ignore[attr-defined]
        if not groups.exists():  # a user with no role becomes an annotator; others keep their role
            groups.add(role_groups()[ANNOTATOR])
        return membership_add(invite.project, user, Membership.ROLE_ANNOTATOR)
