"""`{% dedup_cluster_url job_id position cluster_id %}`: a link to a dedup cluster whatever its id holds."""

from __future__ import annotations

from urllib.parse import urlencode

from django import template
from django.urls import reverse

register = template.Library()


def cluster_id_fits_a_path(cluster_id: str) -> bool:
    """Whether the id can be a URL path segment of `job-dedup-cluster` (not empty, no line break)."""
    return bool(cluster_id) and not any(char in cluster_id for char in "\n\r")


@register.simple_tag
def dedup_cluster_url(job_id: int, position: int, cluster_id: str) -> str:
    """The cluster page's URL: the id in the path when it fits there (readable links), else in `?id=`."""
    if cluster_id_fits_a_path(cluster_id):
        return reverse("curation:job-dedup-cluster",
                       kwargs={"job_id": job_id, "position": position, "cluster_id": cluster_id})
    base = reverse("curation:job-dedup-cluster-query", kwargs={"job_id": job_id, "position": position})
    return f"{base}?{urlencode({'id': cluster_id})}"
