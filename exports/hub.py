"""Push a finished export to a Hugging Face Hub dataset repository (optional, off unless a token is configured).

The export's folder is uploaded as it is: its README.md is already a Hub dataset card whose `configs` point at the
data files, so the Hub viewer and `load_dataset("<repo>")` work at once. Without a token nothing is attempted and
the caller is told how to configure one; a Hub that cannot be reached is an error with the endpoint and the reason,
never a silent success.
"""

from __future__ import annotations

import shutil
import tempfile
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from fsspec.core import url_to_fs  # type: ignore[import-untyped]

from core.errors import ApplicationError, Conflict, NotFound, Unavailable, ValidationError
from exports import workflows
from exports.models import Export
from exports.selectors import export_files

DEFAULT_ENDPOINT = "https://huggingface.co"
# A push still pending after this long lost its worker: a new request may take over.
PUSH_STALE = timedelta(hours=1)


def hub_configured() -> bool:
    """Whether a Hub token is configured (EXPORTS_HUB_TOKEN / HF_TOKEN)."""
    return bool(getattr(settings, "EXPORTS_HUB_TOKEN", ""))


def export_push_to_hub(export: Export, repo_id: str, *, private: bool = True) -> str:
    """Upload the export's files to the dataset repository `repo_id`; return the repository's URL.

    Changes: the remote repository (created private when missing; one commit per push). Safe to re-run: the same
    files give a commit with no change. Raises ValidationError without a token or for an unfinished export, and
    Unavailable when the Hub refuses or cannot be reached.
    """
    token = getattr(settings, "EXPORTS_HUB_TOKEN", "")
    endpoint = getattr(settings, "EXPORTS_HUB_ENDPOINT", "") or DEFAULT_ENDPOINT
    _check_pushable(export, repo_id)
    from huggingface_hub import HfApi

    fs, root = url_to_fs(export.path)
    with tempfile.TemporaryDirectory(prefix="export-push-") as staging:
        # A local copy of exactly the export's files (its folder may be on an object store).
        for name in export_files(export):
            target = Path(staging) / name
            target.parent.mkdir(parents=True, exist_ok=True)
            with fs.open(f"{root.rstrip('/')}/{name}", "rb") as source, target.open("wb") as out:
                shutil.copyfileobj(source, out)
        api = HfApi(endpoint=endpoint, token=token)
        try:
            api.create_repo(repo_id, repo_type="dataset", private=private, exist_ok=True)
            api.upload_folder(repo_id=repo_id, folder_path=staging, repo_type="dataset",
                              commit_message=f"{export.name} v{export.version} ({export.content_hash[:12]})")
        except Exception as error:  # the Hub client raises many kinds (HTTP, connection, validation)
            reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
            raise Unavailable(_("could not push to the Hugging Face Hub at %(endpoint)s: %(reason)s")
                              % {"endpoint": endpoint, "reason": reason}) from error
    return f"{endpoint.rstrip('/')}/datasets/{repo_id}"


def _check_pushable(export: Export, repo_id: str) -> None:
    if not getattr(settings, "EXPORTS_HUB_TOKEN", ""):
        raise ValidationError(_("no Hugging Face token is configured: set HF_TOKEN (and HF_ENDPOINT for a private "
                                "Hub) for the web app and the workers to push exports"))
    if export.status != Export.Status.COMPLETED:
        raise ValidationError(_("only a completed export can be pushed"))
    if not repo_id or repo_id.count("/") != 1:
        raise ValidationError(_("the repository is named owner/name"), field="repo_id")


def export_push_request(export_id: int, repo_id: str, *, private: bool = True) -> Export:
    """Record a push of the export to `repo_id` as pending and send the push task after the transaction commits.

    Checks at once what can be checked without the Hub (a token, a completed export, an owner/name repository) and
    raises ValidationError otherwise; raises Conflict while another push of this export is under way (a pending one
    older than PUSH_STALE lost its worker and is taken over). Changes the export's hub fields; the upload itself
    happens in `export_push_run`.
    """
    with transaction.atomic():
        export = Export.objects.select_for_update().filter(pk=export_id).first()
        if export is None:
            raise NotFound(_("no such export: %(id)s") % {"id": export_id})
        _check_pushable(export, repo_id)
        now = timezone.now()
        if (export.hub_status == Export.HubStatus.PENDING and export.hub_requested_at is not None
                and now - export.hub_requested_at < PUSH_STALE):
            raise Conflict(_("a push of this export to %(repo)s is under way") % {"repo": export.hub_repo})
        export.hub_status = Export.HubStatus.PENDING
        export.hub_repo = repo_id
        export.hub_private = private
        export.hub_url = ""
        export.hub_error = ""
        export.hub_requested_at = now
        export.save(update_fields=["hub_status", "hub_repo", "hub_private", "hub_url", "hub_error",
                                   "hub_requested_at"])
        workflows.enqueue_push(export.pk)
    return export


def export_push_run(export_id: int) -> Export | None:
    """Upload a pending push (the push task calls this); record the repository's URL, or the reason it failed.

    A no-op when no push is pending (a message delivered twice); None when the export was deleted. A Hub that
    refuses or cannot be reached marks the push failed with its message, never silently; the export's files and
    card are unchanged.
    """
    export = Export.objects.filter(pk=export_id).first()
    if export is None or export.hub_status != Export.HubStatus.PENDING:
        return export
    try:
        url = export_push_to_hub(export, export.hub_repo, private=export.hub_private)
    except ApplicationError as error:
        Export.objects.filter(pk=export_id, hub_status=Export.HubStatus.PENDING).update(
            hub_status=Export.HubStatus.FAILED, hub_error=str(error.message)[:5000])
    else:
        Export.objects.filter(pk=export_id, hub_status=Export.HubStatus.PENDING).update(
            hub_status=Export.HubStatus.PUSHED, hub_url=url)
    return Export.objects.get(pk=export_id)
