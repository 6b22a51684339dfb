"""The HTTP server: werkzeug's threaded server with HTTP/1.1 keep-alive, which werkzeug's own handler lacks.

Werkzeug closes every connection after one response, so each boto3 call would pay a TCP connect and a
thread start; keeping connections open takes most of a millisecond off every request.
"""

from __future__ import annotations

import contextlib
import io
import logging
import socket
import threading
from typing import Any

from moto.moto_server.werkzeug_app import MotoRequestHandler
from werkzeug.serving import ThreadedWSGIServer

from emulator.server import read_body

log = logging.getLogger(__name__)
IDLE_SECONDS = 120  # an idle kept-alive connection is closed after this long


class KeepAliveHandler(MotoRequestHandler):
    """Moto's request handler (it keeps S3 metadata headers' underscores) on kept-alive connections."""

    protocol_version = "HTTP/1.1"
    timeout = IDLE_SECONDS
    verbose = False

    def setup(self) -> None:
        """Disable Nagle's algorithm (a small answer would wait for a delayed ACK); track the connection."""
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.server.track(self.connection)  # type: ignore[attr-defined]

    def finish(self) -> None:
        """Forget the connection."""
        self.server.untrack(self.connection)  # type: ignore[attr-defined]
        super().finish()

    def run_wsgi(self) -> None:
        """Serve one request: read its whole body, call the app, write the response in one piece."""
        environ = self.make_environ()
        # Reading the whole body keeps the stream in step for the next request on this connection.
        body = environ["wsgi.input"].read() if environ.get("wsgi.input_terminated") else read_body(environ)
        environ["wsgi.input"] = io.BytesIO(body)
        environ["CONTENT_LENGTH"] = str(len(body))
        answer: dict[str, Any] = {}

        def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            answer["status"], answer["headers"] = status, headers
            return lambda data: answer.setdefault("written", []).append(data)

        try:
            iterable = self.server.app(environ, start_response)
            try:
                payload = b"".join([*answer.get("written", []), *iterable])
            finally:
                if hasattr(iterable, "close"):
                    iterable.close()
        except Exception:
            log.exception("the application failed on %s %s", self.command, self.path)
            answer = {"status": "500 Internal Server Error", "headers": [("Content-Type", "text/plain")]}
            payload = b"Internal Server Error"
            self.close_connection = True
        self._respond(answer["status"], answer["headers"], payload)

    def _respond(self, status: str, headers: list[tuple[str, str]], payload: bytes) -> None:
        code, _, reason = status.partition(" ")
        lines = [f"HTTP/1.1 {code} {reason}"]
        declared = None
        for key, value in headers:
            if key.lower() == "content-length":
                declared = value
            elif key.lower() not in ("connection", "transfer-encoding"):
                lines.append(f"{key}: {value}")
        # A HEAD answer declares the length of the body it does not send.
        length = declared if self.command == "HEAD" and declared is not None else str(len(payload))
        lines.append(f"Content-Length: {length}")
        if self.close_connection:
            lines.append("Connection: close")
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        self.wfile.write(head if self.command == "HEAD" else head + payload)
        self.wfile.flush()
        if self.verbose:
            self.log_request(code, len(payload))

    def log_error(self, format: str, *args: Any) -> None:
        """Errors as werkzeug logs them, except the normal end of an idle kept-alive connection.

        The standard library's handler reports a connection that sent nothing for `timeout` seconds as
        "Request timed out" at ERROR; for a kept-alive connection that is how it ends (boto3 keeps its
        pool open between calls, and AWS closes idle connections the same way, silently).
        """
        if format.startswith("Request timed out"):
            log.debug("closed a connection idle for %s s from %s", self.timeout, self.address_string())
            return
        super().log_error(format, *args)

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        """Log only when verbose: a line per request costs time on the hot path."""
        if self.verbose:
            super().log_request(code, size)


class EmulatorHTTPServer(ThreadedWSGIServer):
    """A threaded WSGI server that can close its kept-alive connections when it stops."""

    def __init__(self, host: str, port: int, app: Any, verbose: bool = False) -> None:
        handler = type("Handler", (KeepAliveHandler,), {"verbose": verbose})
        super().__init__(host, port, app, handler=handler)
        self._connections: set[socket.socket] = set()
        self._lock = threading.Lock()

    def track(self, connection: socket.socket) -> None:
        """Remember an open connection."""
        with self._lock:
            self._connections.add(connection)

    def untrack(self, connection: socket.socket) -> None:
        """Forget a closed connection."""
        with self._lock:
            self._connections.discard(connection)

    def close_connections(self) -> None:
        """Shut every open connection, so no request reaches a stopped emulator."""
        with self._lock:
            connections = list(self._connections)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
