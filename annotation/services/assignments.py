"""Leases on items: claim the next item, keep the lease alive, save drafts, submit, skip, and reap expired leases.

How overlap holds under concurrency (see annotation/models.py for the constraints that back it):
- A claim first reaps the project's expired leases (committed on their own), then in one transaction locks the
  annotator's membership row, returns the annotator's current lease if there is one (a reloaded page gets its task
  back), else locks the next open item with `SELECT ... FOR UPDATE SKIP LOCKED` (claimers do not wait on each
  other: an item being claimed is passed over), picks a free slot below the item's target overlap and inserts the
  assignment. The item's live count and the partial unique index on (item, slot) make a second assignment into a
  full item fail in the database.
- SQLite (the embedded default) has no SKIP LOCKED; its transactions are IMMEDIATE (config/settings.py), so one
  writer at a time takes the write lock before reading and claims are serialised.

Lock order (PostgreSQL), so that no two transactions ever wait on each other in a cycle:
- submit and skip: the assignment row, then its item row;
- reap: expired assignment rows with SKIP LOCKED (never waiting on one), then their items in ascending id order;
- claim: the membership row (so one person's claims run one at a time: two tabs, or a double click), then one item
  row, then the insert. A claim holds at most one item row and waits on at most one: when every open item is locked
  it waits for the first of them alone, and when that one filled meanwhile it rolls back and starts again rather
  than wait for a second item while holding the first. (A plain `FOR UPDATE` over the queue keeps the rows it
  rechecked and passed over locked, so two waiting claimers could each hold the row the other wants next.)
- Why the membership lock: the insert's unique indexes on (annotator, project) and (item, annotator) make it wait
  for any transaction that is changing one of the same person's assignments, such as the submit of their lease
  from another tab, which holds that assignment and waits for its item. Serialising one person's claims and
  reading their assignments after the lock (so the current lease and the items they had are seen as committed)
  leaves the insert nothing of its own person to wait for while it holds an item.

Serving order: priority (higher first), then items others have started (more live assignments first, so a project
fills item by item), then import order. Never an item the annotator has had before, in any status.
"""

from __future__ import annotations

import json
import logging
import math
from collections import Counter
from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, connection, transaction
from django.db.models import Exists, F, OuterRef, QuerySet, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext_lazy

from annotation.models import Annotation, Assignment, Guideline, Item, Membership, Project
from annotation.services import ordering
from annotation.services.checks import writing_checks
from annotation.services.payloads import payload_clean, written_text
from annotation.services.quality import gold_should_serve, quality_refresh_soon
from core.errors import Conflict, NotFound, ValidationError

logger = logging.getLogger(__name__)

CLAIM_ATTEMPTS = 10
REAP_BATCH = 1000
MAX_ACTIVE_SECONDS = 24 * 3600.0
MAX_DRAFT_BYTES = 200_000
MAX_SKIP_REASON = 1000
# How a lease that is no longer live is named to its annotator (the statuses stay English in the data).
LEASE_STATUS_LABELS = {
    Assignment.STATUS_SUBMITTED: pgettext_lazy("assignment status", "submitted"),
    Assignment.STATUS_SKIPPED: pgettext_lazy("assignment status", "skipped"),
    Assignment.STATUS_EXPIRED: pgettext_lazy("assignment status", "expired"),
}


def _skip_locked() -> bool:
    return connection.features.has_select_for_update_skip_locked


def _active_seconds(value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ValidationError(_("active_seconds must be a number"), field="active_seconds")
    if not 0 <= value <= MAX_ACTIVE_SECONDS:
        raise ValidationError(_("active_seconds must be from 0 to %(most)s") % {"most": int(MAX_ACTIVE_SECONDS)},
                              field="active_seconds")
    return float(value)


def _reap(now: datetime, project: Project | None = None, limit: int = REAP_BATCH) -> int:
    """Expire up to `limit` leases past their expiry and give their slots back; the caller holds a transaction."""
    leases = Assignment.objects.filter(status=Assignment.STATUS_LEASED, expires_at__lt=now)
    if project is not None:
        leases = leases.filter(project=project)
    if _skip_locked():
        leases = leases.select_for_update(skip_locked=True)
    rows = list(leases.order_by("id").values_list("id", "item_id")[:limit])
    if not rows:
        return 0
    Assignment.objects.filter(id__in=[r[0] for r in rows]).update(status=Assignment.STATUS_EXPIRED)
    per_item = Counter(item_id for _, item_id in rows)
    for item_id in sorted(per_item):  # one order for item locks across reapers
        Item.objects.filter(pk=item_id).update(assigned_count=F("assigned_count") - per_item[item_id])
    return len(rows)


def assignments_reap(now: datetime | None = None) -> int:
    """Return every expired lease to the queue (the item's slot becomes free again); return how many.

    Runs from Celery beat (`annotation.assignments_reap`) and, per project, on every claim. Safe to re-run and to
    run concurrently: each lease is expired once (locked rows are left to the reaper holding them).
    """
    now = now or timezone.now()
    total = 0
    while True:
        with transaction.atomic():
            reaped = _reap(now)
        total += reaped
        if reaped < REAP_BATCH:
            return total


def _next_item(user: AbstractBaseUser, project: Project) -> Item | None:
    """Lock and return the next item to serve this annotator, or None when nothing is left for them.

    First without waiting (SKIP LOCKED: items other claims hold are passed over). When that finds nothing but
    open items exist, they are all being claimed or submitted at this instant: wait for the first of them (so a
    busy project never answers "nothing left" while something is left). Raises `_ClaimAgain` when the item waited
    for filled meanwhile. The caller's transaction holds no item lock, and no assignment lock, before this.
    """
    had_before = Assignment.objects.filter(item=OuterRef("pk"), annotator=user)
    items = (
        Item.objects.filter(project=project, assigned_count__lt=F("target_overlap"))
        .filter(~Exists(had_before))
        .order_by("-priority", "-assigned_count", "id")
    )
    # Gold items are mixed in at the project's gold rate and served through this choice only (quality control,
    # annotation/services/quality.py); when no gold item is left for the annotator, an ordinary one is served.
    for gold in (True, False) if gold_should_serve(project, user) else (False,):
        item = _lock_first(items.filter(is_gold=gold))
        if item is not None:
            return item
    return None


class _ClaimAgain(Exception):
    """Raised inside a claim transaction that waited for an item which filled meanwhile: roll back and retry."""


def _lock_first(items: QuerySet[Item]) -> Item | None:
    """Lock and return the first of `items` (see `_next_item` for why it skips locked rows first, then waits).

    Locks at most one item row: the wait is for one row by id (its lock is kept even when the row no longer
    qualifies once free, so the claim then starts over instead of going on to wait for another row).
    """
    if not _skip_locked():
        return items.first()  # SQLite: the IMMEDIATE transaction already excludes every other writer
    item = items.select_for_update(skip_locked=True, of=("self",)).first()
    if item is not None:
        return item
    busy = items.values_list("pk", flat=True).first()
    if busy is None:
        return None
    item = items.filter(pk=busy).select_for_update(of=("self",)).first()
    if item is None:
        raise _ClaimAgain
    return item


def _serving(project: Project, item: Item) -> tuple[list[str], list[list[str]] | None]:
    """A fresh random display order of the item's responses, and ranking rounds when they do not fit one screen."""
    order = ordering.shuffled([str(r["id"]) for r in item.responses])
    rounds = ordering.ranking_rounds(order, project.round_size) if project.kind == Project.KIND_RANKING else None
    return order, rounds


def _free_slot(item: Item, keep: int | None = None) -> int | None:
    """The lowest slot below the item's target overlap that no live assignment holds (or `keep` if it is free)."""
    taken = set(Assignment.objects.filter(item=item, status__in=Assignment.LIVE).values_list("slot", flat=True))
    if keep is not None and keep not in taken and keep < item.target_overlap:
        return keep
    free = [slot for slot in range(item.target_overlap) if slot not in taken]
    return free[0] if free else None


class _Reaped:
    """What a claim transaction returns when it reaped expired leases: commit, then claim in a fresh transaction."""


REAPED = _Reaped()

# One round trip for the lease (PostgreSQL): count it on the item, whose row the claim holds locked, and insert the
# assignment into the lowest free slot below the item's target overlap. This statement's snapshot is taken after
# the lock, so it sees every committed live assignment of the item. No free slot leaves `slot` NULL and the check
# `assigned_count <= target_overlap` fails a full item: either way an IntegrityError, never an over-assignment.
_LEASE_SQL = """
WITH counted AS (
    UPDATE annotation_item SET assigned_count = assigned_count + 1 WHERE id = %(item)s
    RETURNING id, target_overlap
)
INSERT INTO annotation_assignment
    (item_id, project_id, annotator_id, status, slot, leased_at, expires_at, heartbeat_at, display_order, rounds,
     draft, active_seconds, submitted_at, skip_reason)
SELECT counted.id, %(project)s, %(annotator)s, 'leased',
       (SELECT min(s) FROM generate_series(0, counted.target_overlap - 1) AS s
        WHERE NOT EXISTS (SELECT 1 FROM annotation_assignment a
                          WHERE a.item_id = counted.id AND a.slot = s AND a.status IN ('leased', 'submitted'))),
       %(now)s, %(expires)s, NULL, %(order)s::jsonb, %(rounds)s::jsonb, NULL, 0, NULL, ''
FROM counted
RETURNING id, slot
"""


def assignment_claim_next(user: AbstractBaseUser, project: Project, *,
                          membership: Membership | None = None) -> Assignment | None:
    """Lease the next item of the project to this annotator; None when nothing is left for them (or paused).

    Returns the annotator's current lease when they hold one (at most one per project). Changes: reaps the
    project's expired leases, inserts an assignment, counts it on its item. Safe to re-run: a second call returns
    the same lease. `membership`: the caller's membership when already loaded (a paused member is answered
    without a transaction; the claim itself re-reads it under its lock).
    """
    if membership is not None and membership.paused:
        return None
    for _attempt in range(CLAIM_ATTEMPTS):
        try:
            with transaction.atomic():
                outcome = _claim(user, project)
        except _ClaimAgain:
            continue  # the item this claim waited for filled meanwhile: the next attempt takes another one
        except IntegrityError:
            # Not expected with the membership lock (SQLite, or a constraint the claim did not foresee): the
            # transaction rolled back whole, so trying again is safe.
            logger.warning("claim for user %s in project %s hit a constraint; retrying", user.pk, project.pk,
                           exc_info=True)
            continue
        if not isinstance(outcome, _Reaped):
            return outcome
    raise Conflict(_("could not claim an item: too many concurrent claims; try again"))


def _claim(user: AbstractBaseUser, project: Project) -> Assignment | _Reaped | None:
    now = timezone.now()
    # Reaped leases are committed before claiming (they lock assignments, then items; a claim locks items only
    # after the membership, and never an assignment).
    if _reap(now, project):
        return REAPED
    # One claim at a time per person and project (see the module's docstring); FOR NO KEY UPDATE does not block
    # the key-share locks that foreign keys take. Everything read after this sees the person's committed claims.
    memberships = Membership.objects.filter(project=project, user=user)
    if _skip_locked():
        memberships = memberships.select_for_update(no_key=True)
    paused = memberships.values_list("paused", flat=True).first()
    if paused is None:
        raise NotFound(_("no such project"))
    if paused:
        return None
    current = (Assignment.objects.filter(annotator=user, project=project, status=Assignment.STATUS_LEASED)
               .select_related("item").first())
    if current is not None:
        return current
    item = _next_item(user, project)
    if item is None:
        return None
    return _lease(user, project, item, now)


def _lease(user: AbstractBaseUser, project: Project, item: Item, now: datetime) -> Assignment:
    """Insert the lease of a locked item into a free slot and count it on the item."""
    order, rounds = _serving(project, item)
    assignment = Assignment(item=item, project=project, annotator=user, status=Assignment.STATUS_LEASED,
                            leased_at=now, expires_at=now + timedelta(seconds=project.lease_seconds),
                            display_order=order, rounds=rounds)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(_LEASE_SQL, {
                "item": item.pk, "project": project.pk, "annotator": user.pk, "now": now,
                "expires": assignment.expires_at, "order": json.dumps(order),
                "rounds": None if rounds is None else json.dumps(rounds),
            })
            assignment.pk, assignment.slot = cursor.fetchone()
        assignment._state.adding = False
    else:
        slot = _free_slot(item)
        if slot is None:  # the live count says there is room but every slot is held: refuse to over-assign
            raise IntegrityError(f"item {item.pk} has no free slot")
        assignment.slot = slot
        assignment.save(force_insert=True)
        Item.objects.filter(pk=item.pk).update(assigned_count=F("assigned_count") + 1)
    item.assigned_count += 1
    return assignment


def _own(user: AbstractBaseUser, assignment_id: int, *, lock: bool, guideline: bool = False) -> Assignment:
    """The user's assignment with its project, item and annotator (optionally locked, and with the version of the
    project's current guidelines as `guideline_version`), in one query; 404 for anyone else's."""
    assignments = Assignment.objects.select_related("project", "item", "annotator")
    if guideline:
        latest = Guideline.objects.filter(project=OuterRef("project")).order_by("-version").values("version")[:1]
        assignments = assignments.annotate(guideline_version=Subquery(latest))
    if lock:
        assignments = assignments.select_for_update(of=("self",))
    assignment = assignments.filter(pk=assignment_id, annotator=user).first()
    if assignment is None:
        raise NotFound(_("no such assignment"))
    return assignment


def _renew(user: AbstractBaseUser, assignment_id: int, fields: dict[str, Any]) -> Assignment:
    """Extend a live lease (and set `fields`) in one UPDATE; 409 when the lease is no longer this annotator's."""
    assignment = _own(user, assignment_id, lock=False)
    now = timezone.now()
    expires_at = now + timedelta(seconds=assignment.project.lease_seconds)
    updated = Assignment.objects.filter(pk=assignment.pk, status=Assignment.STATUS_LEASED).update(
        expires_at=expires_at, heartbeat_at=now, **fields)
    if not updated:
        assignment.refresh_from_db(fields=["status"])
        status = LEASE_STATUS_LABELS.get(assignment.status, assignment.status)
        raise Conflict(_("this lease is no longer live (it is %(status)s)") % {"status": status})
    assignment.expires_at, assignment.heartbeat_at = expires_at, now
    for key, value in fields.items():
        setattr(assignment, key, value)
    return assignment


def assignment_heartbeat(user: AbstractBaseUser, assignment_id: int, active_seconds: Any = None) -> Assignment:
    """Keep a lease alive for another `lease_seconds` (and record the page's active time). Safe to re-run."""
    seconds = _active_seconds(active_seconds)
    return _renew(user, assignment_id, {} if seconds is None else {"active_seconds": seconds})


def assignment_draft_save(user: AbstractBaseUser, assignment_id: int, draft: Any,
                          active_seconds: Any = None) -> Assignment:
    """Save the page's draft and active time; renews the lease like a heartbeat. Safe to re-run."""
    if not isinstance(draft, dict):
        raise ValidationError(_("draft must be a JSON object"), field="draft")
    if len(repr(draft)) > MAX_DRAFT_BYTES:
        raise ValidationError(_("draft is too large"), field="draft")
    fields: dict[str, Any] = {"draft": draft}
    seconds = _active_seconds(active_seconds)
    if seconds is not None:
        fields["active_seconds"] = seconds
    return _renew(user, assignment_id, fields)


def assignment_skip(user: AbstractBaseUser, assignment_id: int, reason: Any) -> Assignment:
    """Give an item back with a reason; its slot goes to someone else and this annotator never gets it again.

    Safe to re-run (a skipped assignment stays skipped); 409 for a submitted one.
    """
    if not isinstance(reason, str) or not reason.strip():
        raise ValidationError(_("say why you skip this item"), field="reason")
    if len(reason) > MAX_SKIP_REASON:
        raise ValidationError(_("the reason is longer than %(most)s characters") % {"most": MAX_SKIP_REASON},
                              field="reason")
    with transaction.atomic():
        assignment = _own(user, assignment_id, lock=True)
        if assignment.status == Assignment.STATUS_SKIPPED:
            return assignment
        if assignment.status == Assignment.STATUS_SUBMITTED:
            raise Conflict(_("this item is already submitted"))
        was_live = assignment.status == Assignment.STATUS_LEASED
        assignment.status = Assignment.STATUS_SKIPPED
        assignment.skip_reason = reason.strip()
        assignment.save(update_fields=["status", "skip_reason"])
        if was_live:
            Item.objects.filter(pk=assignment.item_id).update(assigned_count=F("assigned_count") - 1)
    return assignment


def _revive(assignment: Assignment) -> bool:
    """Take a slot again for a reaped lease whose item still has room; False when the item went to others."""
    item = Item.objects.select_for_update().get(pk=assignment.item_id)
    if item.assigned_count >= item.target_overlap:
        return False
    slot = _free_slot(item, keep=assignment.slot)
    if slot is None:
        return False
    assignment.slot = slot
    return True


def assignment_submit(user: AbstractBaseUser, assignment_id: int, payload: Any,
                      active_seconds: Any = None) -> tuple[Annotation, bool]:
    """Record the annotation of an assignment; return it and whether this call created it.

    Validates the payload against the project's kind and runs the writing checks (blocking ones refuse with 400).
    Idempotent: submitting an assignment again returns its annotation, counted once. A lease that expired is
    still accepted while its item has room; once the item went to someone else the submit is refused with 409.
    Records the guideline version in force, the active time and the display order. One transaction, holding the
    annotator's own assignment row (so two submits of it run one after the other) while the checks run.
    """
    with transaction.atomic():
        assignment = _own(user, assignment_id, lock=True, guideline=True)
        if assignment.status == Assignment.STATUS_SUBMITTED:
            annotation = Annotation.objects.defer("signature").get(assignment=assignment)
            annotation.item, annotation.annotator = assignment.item, assignment.annotator
            return annotation, False
        if assignment.status == Assignment.STATUS_SKIPPED:
            raise Conflict(_("you skipped this item"))
        seconds = _active_seconds(active_seconds)
        project, item = assignment.project, assignment.item
        cleaned = payload_clean(project, payload, response_ids=[str(r["id"]) for r in item.responses],
                                rounds=assignment.rounds)
        signature: bytes | None = None
        if project.kind in Project.WRITING_KINDS:
            result = writing_checks(project, cleaned)
            if result.blocking:
                raise ValidationError(result.blocking[0]["message"], field="payload", extra=result.as_dict())
            signature = result.signature if written_text(project.kind, cleaned) else None
        revived = assignment.status == Assignment.STATUS_EXPIRED
        if revived and not _revive(assignment):
            raise Conflict(_("your lease expired and the item went to someone else"))
        assignment.status = Assignment.STATUS_SUBMITTED
        assignment.submitted_at = timezone.now()
        if seconds is not None:
            assignment.active_seconds = seconds
        assignment.save(update_fields=["status", "submitted_at", "active_seconds", "slot"])
        Item.objects.filter(pk=item.pk).update(
            submitted_count=F("submitted_count") + 1, assigned_count=F("assigned_count") + (1 if revived else 0))
        annotation = Annotation.objects.create(
            assignment=assignment, item=item, project=project, annotator=assignment.annotator, payload=cleaned,
            guideline_version=assignment.guideline_version,  # type: ignore[attr-defined]
            active_seconds=assignment.active_seconds, display_order=assignment.display_order, signature=signature,
        )
        quality_refresh_soon(project.pk)  # quality control recomputes the project's figures after the commit
    return annotation, True
