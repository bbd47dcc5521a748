"""Settings: importing them touches nothing on disk."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_importing_settings_creates_no_folder(tmp_path: Path) -> None:
    # given a VAR_DIR that does not exist and the embedded defaults (no database, broker or storage configured)
    var_dir = tmp_path / "var"
    unset = ("DATABASE_URL", "CELERY_BROKER_URL", "STORAGE_ROOT", "SECRET_KEY", "DJANGO_ENV")
    env = {k: v for k, v in os.environ.items() if k not in unset}
    env.update({"VAR_DIR": str(var_dir), "DJANGO_SETTINGS_MODULE": "config.settings"})
    # when settings are imported and Django set up
    code = "import django; django.setup(); from django.conf import settings; print(settings.SECRET_KEY_EPHEMERAL)"
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True,
                            timeout=120)
    # then nothing was created, and the development key is one of this process only
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "True"
    assert not var_dir.exists()
