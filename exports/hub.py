"""Push a finished export to a Hugging Face Hub dataset repository (optional, off unless a token is configured).

The export's folder is uploaded as it is: its README.md is already a Hub dataset card whose `configs` point at the
data files, so the Hub viewer and `load_dataset("<repo>")` work at once. Without a token nothing is attempted and
the caller is told how to configure one; a Hub that cannot be reached is an error with the endpoint and the reason,
never a silent success.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from django.conf import settings
from fsspec.core import url_to_fs  # type: ignore[import-untyped]

from core.errors import Unavailable, ValidationError
from exports.models import Export
from exports.selectors import export_files

DEFAULT_ENDPOINT = "https://huggingface.co"


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
    if not token:
        raise ValidationError("no Hugging Face token is configured: set HF_TOKEN (and HF_ENDPOINT for a private "
                              "Hub) for the web app and the workers to push exports")
    if export.status != Export.Status.COMPLETED:
        raise ValidationError("only a completed export can be pushed")
    if not repo_id or repo_id.count("/") != 1:
        raise ValidationError("the repository is named owner/name", field="repo_id")
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
            raise Unavailable(f"could not push to the Hugging Face Hub at {endpoint}: {reason}") from error
    return f"{endpoint.rstrip('/')}/datasets/{repo_id}"
