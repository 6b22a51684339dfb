"""run_stack's supervision, with real child processes: a child that exits is restarted (within a rate
limit, said in the log), and on shutdown the processes using Redis stop before Redis does."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from saasadmin.supervise import Supervisor
from tests.outage import wait_until

EXITS_AT_ONCE = [sys.executable, "-c", "import sys; sys.exit(3)"]


def _exits_at_once() -> subprocess.Popen[bytes]:
    return subprocess.Popen(EXITS_AT_ONCE)


def _exited(supervisor: Supervisor) -> bool:
    return all(c.process is not None and c.process.poll() is not None for c in supervisor.children)


def test_it_restarts_a_child_that_exits() -> None:
    lines: list[str] = []
    supervisor = Supervisor(lines.append)
    child = supervisor.add("worker", _exits_at_once)
    first = child.process
    wait_until(lambda: _exited(supervisor), timeout=30, what="the child exits")

    supervisor.check()

    assert child.process is not first
    assert lines == [
        "worker exited unexpectedly (exit code 3); restarting it (restart 1 within 60 s, at most 5)"
    ]
    supervisor.stop()


def test_it_pauses_restarts_past_the_rate_limit_and_says_so() -> None:
    now = [1000.0]
    lines: list[str] = []
    supervisor = Supervisor(lines.append, max_restarts=2, window_seconds=60, clock=lambda: now[0])
    child = supervisor.add("cron", _exits_at_once)
    started = [child.process]
    for _ in range(4):
        wait_until(lambda: _exited(supervisor), timeout=30, what="the child exits")
        supervisor.check()
        if child.process is not started[-1]:
            started.append(child.process)
        now[0] += 1

    assert len(started) == 3  # the first start and two restarts; then restarts pause
    assert lines[2] == "cron exited 3 times within 60 s (last exit code 3); next restart in 58 s"
    assert len(lines) == 3, "the pause is said once"

    now[0] += 60
    supervisor.check()
    assert child.process is not started[-1]
    assert "restarting it (restart 1 within 60 s" in lines[-1]
    supervisor.stop()


def test_it_stops_the_workers_before_redis(tmp_path: Path) -> None:
    pid_file, ready, verdict = tmp_path / "worker.pid", tmp_path / "redis.ready", tmp_path / "verdict"
    # "Redis": on SIGTERM, writes whether the "worker" still runs. The worker takes a moment to stop.
    redis_like = f"""
import os, pathlib, signal, time
def stop(*_):
    pid = int(pathlib.Path({str(pid_file)!r}).read_text())
    try:
        os.kill(pid, 0)
        seen = "worker still running"
    except ProcessLookupError:
        seen = "worker stopped"
    pathlib.Path({str(verdict)!r}).write_text(seen)
    raise SystemExit(0)
signal.signal(signal.SIGTERM, stop)
pathlib.Path({str(ready)!r}).touch()
while True:
    time.sleep(0.05)
"""
    worker_like = f"""
import os, pathlib, signal, time
signal.signal(signal.SIGTERM, lambda *_: (time.sleep(0.5), os._exit(0)))
pathlib.Path({str(pid_file)!r}).write_text(str(os.getpid()))
while True:
    time.sleep(0.05)
"""
    supervisor = Supervisor(print)
    supervisor.add("redis", lambda: subprocess.Popen([sys.executable, "-c", redis_like]), infrastructure=True)
    supervisor.add("worker", lambda: subprocess.Popen([sys.executable, "-c", worker_like]))
    wait_until(lambda: pid_file.exists() and ready.exists(), timeout=30, what="both start")

    supervisor.stop()

    assert verdict.read_text() == "worker stopped"
