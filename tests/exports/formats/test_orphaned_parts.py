"""The part processes of an export stop on their own when the process that started them is killed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.append(int(entry.name))
    return found


def _alive(pid: int) -> bool:
    try:
        state = (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_part_processes_stop_when_the_export_process_is_killed(tmp_path: Path) -> None:
    # given an export running its two parts in child processes
    export = subprocess.Popen([sys.executable, "tests/support/export_orphans.py", str(tmp_path / "out")], cwd=REPO,
                              stdout=subprocess.PIPE, text=True)
    assert export.stdout is not None and export.stdout.readline().strip() == "ready"
    deadline = time.monotonic() + 60
    while len(parts := _children(export.pid)) < 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert len(parts) == 2
    time.sleep(1.0)  # the parts are building rows
    # when the export's process is killed (a worker's OOM kill, say)
    os.kill(export.pid, signal.SIGKILL)
    export.wait()
    # then its parts notice at their next progress report and exit
    deadline = time.monotonic() + 60
    while any(_alive(pid) for pid in parts) and time.monotonic() < deadline:
        time.sleep(0.2)
    survivors = [pid for pid in parts if _alive(pid)]
    for pid in survivors:  # leave no process behind when this fails
        os.kill(pid, signal.SIGKILL)
    assert survivors == []
