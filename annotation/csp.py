"""A strict Content-Security-Policy for the annotation pages.

Items are written by strangers (imported prompts, model responses, crawled documents). The pages show them as
text, and this policy is the second wall: even if some text reached the page as markup, nothing in it could run
script (no inline script, no eval, scripts only from our own static files), load a remote resource (everything
from 'self'; images also as data: URIs), submit a form elsewhere (form-action 'self'), change the base URL, or
embed the page in another site. Django 5.2 has no CSP support of its own (6.0 adds it), hence this decorator.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.http import HttpRequest, HttpResponse

CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self'",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
    "frame-src 'none'",
])

View = Callable[..., HttpResponse]


def csp_protected(view: View) -> View:
    """Send the annotation pages' Content-Security-Policy, a same-origin referrer policy and nosniff."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        response = view(request, *args, **kwargs)
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        # Other sites never learn which task the annotator was on; same-origin requests keep their Origin header
        # (with "no-referrer" Chromium sends "Origin: null" on form posts, which Django's CSRF check refuses).
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        return response

    return wrapped
