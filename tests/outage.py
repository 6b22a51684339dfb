"""Outage tests' tools: a redis-server of the test's own that it stops and starts again, the project's
long-running processes started against it with their log in a file, and bounded waits."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from django.conf import settings

from saasadmin.embedded import redis_start


class PrivateRedis:
    """A redis-server on a short unix socket path (a socket path is limited to ~100 characters); stop()
    is an outage, start() brings it back empty, as a Redis without persistence comes back."""

    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="rq-"))
        self.socket = self.dir / "redis.sock"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"unix://{self.socket}"

    def connection(self) -> redis.Redis:
        return redis.Redis.from_url(self.url)

    def start(self) -> None:
        self.process = redis_start(self.socket, stop_at_exit=False)

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture
def private_redis() -> Iterator[PrivateRedis]:
    server = PrivateRedis()
    server.start()
    yield server
    server.remove()


def process_env(redis_url: str, **extra: str) -> dict[str, str]:
    """The environment of a process of the project started by a test (production-like settings)."""
    return {
        **os.environ,
        "REDIS_URL": redis_url,
        "DEBUG": "0",
        "SECURE_HTTPS": "0",
        "STATIC_MANIFEST": "0",
        "SECRET_KEY": "outage-test",
        "REDIS_RETRY_MAX_SECONDS": "1",
        **extra,
    }


class Process:
    """A manage.py command in its own process group, its output in a log file the test can read."""

    def __init__(self, args: list[str], env: dict[str, str], log: Path) -> None:
        self.log = log
        self.args = args
        with log.open("ab") as out:
            self.popen = subprocess.Popen(
                [sys.executable, "manage.py", *args],
                cwd=settings.BASE_DIR,
                env=env,
                start_new_session=True,
                stdout=out,
                stderr=subprocess.STDOUT,
            )

    @property
    def alive(self) -> bool:
        return self.popen.poll() is None

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def kill(self) -> None:
        """SIGKILL the process and its children (a worker's work horse, say)."""
        if self.alive:
            os.killpg(self.popen.pid, signal.SIGKILL)
        self.popen.wait(timeout=10)

    def stop(self) -> None:
        if self.alive:
            os.killpg(self.popen.pid, signal.SIGTERM)
            try:
                self.popen.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()


@pytest.fixture
def processes(tmp_path: Path) -> Iterator[Callable[..., Process]]:
    """start(*args, env=...) runs `manage.py *args`; every process is stopped when the test ends."""
    started: list[Process] = []

    def start(*args: str, env: dict[str, str]) -> Process:
        started.append(Process(list(args), env, tmp_path / f"{args[0]}-{len(started)}.log"))
        return started[-1]

    yield start
    for process in reversed(started):
        process.stop()


def wait_until(check: Callable[[], Any], *, timeout: float, what: str, logs: list[Process] = ()) -> Any:
    """Poll `check` until it returns something true; fail after `timeout` s, showing the processes' logs."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            shown = "\n".join(f"--- {p.args} (alive: {p.alive})\n{p.output()[-3000:]}" for p in logs)
            pytest.fail(f"{what}: not after {timeout:g} s\n{shown}")
        time.sleep(0.1)
