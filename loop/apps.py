"""The loop app: people measure each curation step's precision, and their labels retrain the quality classifier."""

from __future__ import annotations

from django.apps import AppConfig


class LoopConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "loop"
    verbose_name = "Close the loop"
