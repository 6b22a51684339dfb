"""The emulator's HTTP server keeps connections alive like AWS's endpoints do, and says nothing when an
idle kept-alive connection reaches its timeout: that is how such a connection normally ends."""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from emulator.httpserver import EmulatorHTTPServer, KeepAliveHandler

IDLE = 0.2  # seconds: the test's idle timeout instead of IDLE_SECONDS


def _hello(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"hello"]


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[EmulatorHTTPServer]:
    monkeypatch.setattr(KeepAliveHandler, "timeout", IDLE)
    server = EmulatorHTTPServer("127.0.0.1", 0, _hello)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    thread.join()


def _request(connection: socket.socket) -> bytes:
    connection.sendall(b"GET / HTTP/1.1\r\nHost: emulator\r\n\r\n")
    answer = b""
    while not answer.endswith(b"hello"):
        answer += connection.recv(4096)
    return answer


def test_an_idle_kept_alive_connection_is_closed_without_an_error(
    server: EmulatorHTTPServer, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG), socket.create_connection(server.server_address[:2]) as connection:
        assert _request(connection).startswith(b"HTTP/1.1 200 OK")
        assert _request(connection).startswith(b"HTTP/1.1 200 OK")  # the same connection, kept alive
        connection.settimeout(5)
        started = time.monotonic()
        assert connection.recv(1) == b""  # the server closed it after the idle timeout
        assert time.monotonic() - started >= IDLE / 2
        time.sleep(0.05)  # let the handler thread finish logging
    loud = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert not loud, [r.getMessage() for r in loud]
    assert any("idle" in r.getMessage() for r in caplog.records if r.levelno == logging.DEBUG)


def test_other_server_errors_are_still_logged(
    server: EmulatorHTTPServer, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO), socket.create_connection(server.server_address[:2]) as connection:
        connection.sendall(b"NOT-HTTP\r\n\r\n")
        connection.settimeout(5)
        assert b"400" in connection.recv(4096)
        time.sleep(0.05)
    assert any(r.levelno == logging.ERROR and "Bad request" in r.getMessage() for r in caplog.records)
