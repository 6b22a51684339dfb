"""Process supervision for `make run` (manage.py run_stack): restart a child that exits unexpectedly,
at most a few times a minute and with a log line that says so, and stop the children in order: the web
server, the cron, the scheduler and the workers first, then what they use (the emulator, Redis).

In production systemd or supervisor does this job (README, "Deploying")."""

from __future__ import annotations

import subprocess
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

Start = Callable[[], "subprocess.Popen[bytes] | None"]


@dataclass
class Child:
    """One supervised process. `start` returns it, or None when something else already serves it (a
    Redis that was already answering); `infrastructure` children are stopped after all the others."""

    name: str
    start: Start
    infrastructure: bool = False
    process: subprocess.Popen[bytes] | None = None
    restarts: deque[float] = field(default_factory=deque)
    holding: bool = False  # restarts are paused by the rate limit (said once in the log)


class Supervisor:
    def __init__(
        self,
        log: Callable[[str], None],
        *,
        max_restarts: int = 5,
        window_seconds: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.log = log
        self.max_restarts = max_restarts
        self.window = window_seconds
        self.clock = clock
        self.children: list[Child] = []

    def add(self, name: str, start: Start, *, infrastructure: bool = False) -> Child:
        """Start a child now and supervise it from then on."""
        child = Child(name, start, infrastructure)
        child.process = start()
        self.children.append(child)
        return child

    def check(self) -> None:
        """Restart the children that exited, within the rate limit. Call it every half second or so."""
        for child in self.children:
            if child.process is not None and child.process.poll() is not None:
                self._restart(child)

    def _restart(self, child: Child) -> None:
        now = self.clock()
        while child.restarts and now - child.restarts[0] >= self.window:
            child.restarts.popleft()
        code = child.process.returncode if child.process else None
        if len(child.restarts) >= self.max_restarts:
            if not child.holding:
                wait = self.window - (now - child.restarts[0])
                self.log(
                    f"{child.name} exited {len(child.restarts) + 1} times within {self.window:g} s "
                    f"(last exit code {code}); next restart in {wait:.0f} s"
                )
                child.holding = True
            return
        child.holding = False
        child.restarts.append(now)
        self.log(
            f"{child.name} exited unexpectedly (exit code {code}); restarting it "
            f"(restart {len(child.restarts)} within {self.window:g} s, at most {self.max_restarts})"
        )
        try:
            child.process = child.start()
        except Exception as exc:  # a failed start is logged, and retried within the limit
            self.log(f"{child.name} could not be restarted: {exc}")

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the children in reverse order of start, those using Redis and the emulator before them."""
        for infrastructure in (False, True):
            running = [
                child.process
                for child in reversed(self.children)
                if child.infrastructure == infrastructure and child.process and child.process.poll() is None
            ]
            for process in running:
                process.terminate()
            for process in running:
                try:
                    process.wait(timeout=timeout)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
