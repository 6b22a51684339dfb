"""Jobs the outage tests enqueue: they leave files behind, so that the test sees them run."""

from __future__ import annotations

import os
import time
from pathlib import Path


def touch(path: str) -> None:
    Path(path).touch()


def touch_when_released(started: str, release: str, done: str) -> None:
    """Say it started, wait (at most a minute) until the test releases it, then say it is done."""
    Path(started).touch()
    deadline = time.monotonic() + 60
    while not Path(release).exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    Path(done).touch()


def touch_probe() -> None:
    """The cron probe's job (tests/saasadmin/cron_probe.py): one file per run."""
    Path(os.environ["PROBE_DIR"], f"cron-{time.time_ns()}").touch()
