"""API tokens stored hashed (issue 8, item 12), and failed logins for rate limiting.

A token's plaintext is `<prefix><secret>`: the 12-character prefix finds the row, the SHA-256 of the whole key
is compared in constant time. The plaintext is shown once, when issued, and never stored. The key has 256 bits of
randomness, so a fast hash is enough (a slow password hash protects guessable secrets, which these are not).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models


class ApiToken(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    prefix = models.CharField(max_length=12, unique=True)
    key_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(db_index=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"token {self.prefix}… of {self.user_id}"


class LoginFailure(models.Model):
    """One failed login (console, admin or API token): counted per username and address over a window."""

    username = models.CharField(max_length=150)
    address = models.CharField(max_length=64)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["username", "address", "at"], name="accounts_failure_lookup")]

    def __str__(self) -> str:
        return f"failed login of {self.username} from {self.address}"
