"""saasadmin.wsgi: the API under its own short middleware chain, every other path under the site's."""

from __future__ import annotations

import io
import json
import sys
from types import SimpleNamespace
from typing import Any

from django.conf import settings
from django.core.signals import request_finished, request_started
from django.db import close_old_connections

from saasadmin.wsgi import application
from tenants.tokens import token_create


def call(
    path: str, *, method: str = "GET", host: str = "testserver", body: bytes = b"", **headers: str
) -> Any:
    """One request through the WSGI application gunicorn serves: (status, headers, body)."""
    environ = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "SCRIPT_NAME": "",
        "QUERY_STRING": "",
        "SERVER_NAME": "testserver",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_HOST": host,
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": sys.stderr,
        "CONTENT_LENGTH": str(len(body)),
        "CONTENT_TYPE": "text/csv",
        **{f"HTTP_{name.upper()}": value for name, value in headers.items()},
    }
    started: dict[str, Any] = {}

    def start_response(status: str, response_headers: list[tuple[str, str]], exc_info: Any = None) -> None:
        started.update(status=int(status.split()[0]), headers=dict(response_headers))

    # As Django's test client does: the test's transaction must survive the request's start and end.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        chunks = application(environ, start_response)
        content = b"".join(chunks)
        getattr(chunks, "close", lambda: None)()
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)
    return SimpleNamespace(status=started["status"], headers=started["headers"], content=content)


def test_the_api_runs_without_sessions_csrf_or_users(db: None) -> None:
    handler = application.api
    assert handler.middleware_paths == settings.API_MIDDLEWARE
    assert not {
        "django.contrib.sessions.middleware.SessionMiddleware",
        "axes.middleware.AxesMiddleware",
    } & set(settings.API_MIDDLEWARE)


def test_an_api_answer_keeps_the_security_headers_and_sets_no_cookie(world: SimpleNamespace) -> None:
    _token, secret = token_create(actor=None, tenant=world.tenant_a, name="CI")
    answer = call("/api/v1/predict", method="POST", body=b"1,2", authorization=f"Bearer {secret}")
    assert answer.status == 409  # the tenant has no deployment: the API itself answered
    assert json.loads(answer.content)["code"] == "no_deployment"
    assert "Content-Security-Policy" in answer.headers
    assert answer.headers["X-Content-Type-Options"] == "nosniff"
    assert "Set-Cookie" not in answer.headers
    missing = call("/api/v1/nowhere")
    assert (missing.status, json.loads(missing.content)["code"]) == (404, "not_found")


def test_an_api_request_for_a_host_not_allowed_is_refused(db: None) -> None:
    assert call("/api/v1/predict", method="POST", host="evil.example.com").status == 400


def test_pages_still_get_the_sites_full_chain(db: None) -> None:
    page = call("/accounts/login/")
    assert page.status == 200
    assert "csrftoken" in page.headers.get("Set-Cookie", "")  # CSRF middleware ran
