"""The export core is imported when used, not at every process's start (the models need only its spec)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]


def test_django_start_up_leaves_the_export_pipeline_unimported_until_it_is_used() -> None:
    script = (
        "import os, sys; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'config.settings');"
        "import django; django.setup();"
        "print('exports.formats.pipeline' in sys.modules);"
        "from exports.formats import run_export, ExportSpec;"
        "print('exports.formats.pipeline' in sys.modules, run_export.__module__, ExportSpec.__module__)"
    )
    result = subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split("\n")[:2] == ["False", "True exports.formats.pipeline exports.formats.spec"]
