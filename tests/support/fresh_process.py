"""Python in a fresh process of the project, after Django's set-up (as a command or a worker starts): for checks of
what is imported when."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
_SET_UP = ("import os, sys; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'config.settings');"
           "import django; django.setup();")


def printed_after_set_up(code: str) -> list[str]:
    """Run `code` (statements separated by ';') after `django.setup()` in a new interpreter at the repository's root;
    return the lines it printed. Fails the test when the process fails."""
    result = subprocess.run([sys.executable, "-c", _SET_UP + code], cwd=REPO, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().split("\n")
