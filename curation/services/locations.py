"""Where jobs may read and write: inputs and outputs under CURATION_ALLOWED_ROOTS, outputs reserved for one job.

An input is allowed when it lies under one of the allowed roots: a local path by its resolved real path (so a
symlink or `..` cannot lead out) and only when it is a regular file (not a device such as /dev/zero, a FIFO or a
socket); a URL only when it starts with an allowed URL prefix, which also limits the schemes to those configured;
an http(s) URL never when its host resolves to a private, loopback, link-local or otherwise non-public address.
The storage root is always allowed. Submit checks every input (and every file a folder expands to), and workers
check their split again right before reading, since the files may have changed in between.

An output folder must be under an allowed root too (a relative one is taken relative to STORAGE_ROOT) and is
reserved for one job: the database refuses two unfinished jobs with the same output (a unique constraint), and
the job writes an exclusive marker file into the folder, so even two services sharing storage but not a database
cannot both take it.
"""

from __future__ import annotations

import ipaddress
import json
import os
import socket
from collections.abc import Iterable
from urllib.parse import urlsplit

import fsspec  # type: ignore[import-untyped]
from django.conf import settings
from django.utils.translation import gettext as _

from core.errors import Conflict, PermissionDenied, ValidationError

# The file that marks an output folder as taken by one job (created exclusively, never overwritten).
OUTPUT_MARKER = ".curation-job.json"


def _is_url(path: str) -> bool:
    return "://" in path


def allowed_roots() -> list[str]:
    """The configured roots plus the storage root: local folders as real paths, URL prefixes as written."""
    roots = [*settings.CURATION_ALLOWED_ROOTS, settings.STORAGE_ROOT]
    return [root if _is_url(root) else os.path.realpath(os.path.expanduser(root)) for root in roots if root]


def _under(path: str, root: str) -> bool:
    """Whether `path` is `root` or inside it, comparing whole path segments (/data is not /data2's root)."""
    if path == root.rstrip("/") or root == "/":
        return True
    return path.startswith(root.rstrip("/") + "/")


def _url_allowed(url: str, roots: Iterable[str]) -> bool:
    parts = urlsplit(url)
    if any(segment == ".." for segment in parts.path.split("/")):
        return False
    return any(_is_url(root) and (url == root or _under(url, root)) for root in roots)


def _check_public_host(url: str, field: str) -> None:
    """Refuse an http(s) URL whose host is, or resolves to, a non-public address (the web server's network)."""
    host = urlsplit(url).hostname
    if not host:
        raise ValidationError(f"{url}: no host in the URL", field=field)
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError) as error:
        raise ValidationError(f"{url}: the host {host} cannot be resolved ({error})", field=field) from error
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]).split("%", 1)[0])
        if not address.is_global or address.is_multicast:
            raise PermissionDenied(f"{url}: {host} is a private or reserved address ({address}); "
                                   "only public hosts may be read", field=field)


def location_check(path: str, *, field: str = "inputs", file: bool = True) -> str:
    """Check that a job may read (`file`) or write under `path`; return the path to use (a real path for files).

    Raises PermissionDenied naming the path when it is outside CURATION_ALLOWED_ROOTS, uses a scheme no root
    names, is a non-public http(s) host, or (for a file) is not a regular file. Changes nothing; safe to repeat.
    """
    roots = allowed_roots()
    if _is_url(path):
        if not _url_allowed(path, roots):
            raise PermissionDenied(f"{path} is outside the allowed roots (CURATION_ALLOWED_ROOTS)", field=field)
        if urlsplit(path).scheme.lower() in ("http", "https"):
            _check_public_host(path, field)
        return path
    real = os.path.realpath(os.path.expanduser(path))
    if not any(_under(real, root) for root in roots if not _is_url(root)):
        raise PermissionDenied(f"{path} is outside the allowed roots (CURATION_ALLOWED_ROOTS)", field=field)
    if file and os.path.exists(real) and not os.path.isdir(real) and not os.path.isfile(real):
        raise PermissionDenied(f"{path} is not a regular file", field=field)
    return real


def inputs_check(paths: Iterable[str]) -> None:
    """Check every input path or URL as given (before a folder is walked). See `location_check`."""
    for path in paths:
        location_check(path, file=True)


def input_files_check(paths: Iterable[str]) -> None:
    """Check every file the inputs expanded to: a symlink in an allowed folder may point anywhere."""
    for path in paths:
        if not _is_url(path) and os.path.exists(path) and not os.path.isfile(os.path.realpath(path)):
            raise PermissionDenied(f"{path} is not a regular file", field="inputs")
        location_check(path, file=True)


def output_resolve(output: str) -> str:
    """The absolute output location: a URL as given, a relative path under STORAGE_ROOT; checked as allowed.

    Raises ValidationError for an empty path and PermissionDenied outside the allowed roots.
    """
    output = output.strip()
    if not output:
        raise ValidationError("the output folder is empty", field="output")
    if not _is_url(output) and not os.path.isabs(os.path.expanduser(output)):
        output = f"{settings.STORAGE_ROOT.rstrip('/')}/{output}"
    if _is_url(output):
        return location_check(output.rstrip("/"), field="output", file=False)
    return location_check(os.path.normpath(os.path.expanduser(output)), field="output", file=False)


def output_reserve(output: str, job_id: int) -> None:
    """Take the output folder for job `job_id`: refuse a folder holding anything, then write the marker exclusively.

    Raises Conflict when the folder is not empty or another job's marker got there first. Writes only the marker.
    """
    fs, path = fsspec.core.url_to_fs(output)
    if fs.exists(path) and (not fs.isdir(path) or fs.ls(path)):
        raise Conflict(_("output folder %(output)s already exists and is not empty") % {"output": output},
                       field="output")
    marker = f"{path.rstrip('/')}/{OUTPUT_MARKER}"
    body = json.dumps({"job": job_id}).encode()
    try:
        if not _is_url(output):
            os.makedirs(path, exist_ok=True)
            # O_EXCL: of two processes creating the marker at once, exactly one succeeds.
            descriptor = os.open(marker, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
            with os.fdopen(descriptor, "wb") as out:
                out.write(body)
        else:
            fs.makedirs(path, exist_ok=True)
            with fs.open(marker, "xb") as out:
                out.write(body)
    except FileExistsError as error:
        raise Conflict(f"output folder {output} is taken by another job", field="output") from error


def output_release(output: str, job_id: int) -> None:
    """Remove this job's marker (a submit that did not go through). Leaves another job's marker alone."""
    fs, path = fsspec.core.url_to_fs(output)
    marker = f"{path.rstrip('/')}/{OUTPUT_MARKER}"
    try:
        with fs.open(marker, "rb") as file:
            owner = json.loads(file.read()).get("job")
    except (OSError, ValueError):
        return
    if owner == job_id:
        fs.rm(marker)
        # A folder this submit created stays only if something else is in it.
        if not fs.ls(path):
            fs.rmdir(path)
