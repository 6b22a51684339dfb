"""Local ports for the benches that start servers (the emulator, gunicorn): a free one, and waiting for
one to answer. Not a bench itself (`make bench` runs bench/*.py but those starting with "_")."""

from __future__ import annotations

import socket
import subprocess
import time


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_port(port: int, process: subprocess.Popen[bytes], seconds: float = 60) -> None:
    """Return once something answers on `port`; RuntimeError if `process` exits or `seconds` pass first."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            if time.monotonic() > deadline or process.poll() is not None:
                raise RuntimeError(f"nothing answered on port {port}") from None
            time.sleep(0.1)
