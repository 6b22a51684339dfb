"""An admin console's hardening: the HTTPS switch runserver cannot misread, a CSP without inline script,
a Permissions-Policy, no caching of signed-in pages, a session of hours, and a lockout keyed on the
client's own address behind the proxy."""

from __future__ import annotations

import re
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from django.urls import reverse

from tests.factories import PASSWORD, sign_in
from tests.saasadmin.test_settings import ROOT, _manage

PRINT_REDIRECT = "from django.conf import settings; print(settings.SECURE_SSL_REDIRECT)"
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\ssrc=)[^>]*>", re.IGNORECASE)
INLINE_HANDLER = re.compile(r"\son[a-z]+\s*=\s*[\"']", re.IGNORECASE)


def _production(tmp_path: Path, **environ: str) -> Any:
    """`manage.py shell` printing SECURE_SSL_REDIRECT under production settings (last line of stdout)."""
    return _manage(
        "shell", "-c", PRINT_REDIRECT, DEBUG="0", SECRET_KEY="s" * 50, DATA_DIR=str(tmp_path), **environ
    )


def _last_line(result: Any) -> str:
    return result.stdout.strip().splitlines()[-1]


def test_secure_https_switches_the_hardening_and_https_is_read_with_a_warning(tmp_path: Path) -> None:
    assert _last_line(_production(tmp_path)) == "True"  # on by default without DEBUG
    assert _last_line(_production(tmp_path, SECURE_HTTPS="0")) == "False"
    old = _production(tmp_path, HTTPS="0")  # runserver's WSGI server reads HTTPS=1 as "this is https"
    assert _last_line(old) == "False"
    assert "HTTPS variable is deprecated: set SECURE_HTTPS" in old.stderr


def test_templates_hold_no_inline_script_or_handler() -> None:
    offenders = [
        f"{path.relative_to(ROOT)}: {match.group(0).strip()}"
        for path in (ROOT / "templates").rglob("*.html")
        for pattern in (INLINE_SCRIPT, INLINE_HANDLER)
        for match in pattern.finditer(path.read_text())
    ]
    assert offenders == []


def test_signed_in_pages_carry_the_policies_and_are_not_cached(client: Any, world: SimpleNamespace) -> None:
    assert sign_in(client, "olivia")
    response = client.get(reverse("deployment_fleet"))
    assert response.status_code == 200
    policy = dict(d.strip().split(" ", 1) for d in response["Content-Security-Policy"].split(";"))
    assert policy["script-src"] == "'self'"  # no inline script: htmx and app.js come from static files
    assert policy["object-src"] == "'none'"
    assert "camera=()" in response["Permissions-Policy"]
    assert set(response["Cache-Control"].split(", ")) >= {"private", "no-store"}
    html = response.content.decode()
    assert not INLINE_SCRIPT.search(html)
    assert not INLINE_HANDLER.search(html)
    assert "data-autosubmit" in html  # the filters submit through static/js/app.js

    assert "Content-Security-Policy" in client.__class__().get(reverse("login"))


def test_a_session_lasts_hours_not_weeks(client: Any, world: SimpleNamespace) -> None:
    response = client.post(reverse("login"), {"username": "olivia", "password": PASSWORD})
    assert response.status_code == 302
    assert response.cookies["sessionid"]["max-age"] == 8 * 3600


def _attempt(client: Any, forwarded_for: str, *, right: bool = False) -> int:
    response = client.post(
        reverse("login"),
        {"username": "olivia", "password": PASSWORD if right else "bad-password"},
        REMOTE_ADDR="10.0.0.2",  # the proxy
        HTTP_X_FORWARDED_FOR=forwarded_for,
    )
    return response.status_code


@pytest.fixture
def behind_proxy(settings: Any) -> None:
    settings.TRUSTED_PROXY_COUNT = 1


@pytest.mark.usefixtures("behind_proxy")
def test_behind_the_proxy_the_lockout_keys_on_the_clients_address(
    client: Any, world: SimpleNamespace, settings: Any
) -> None:
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _attempt(client, "203.0.113.9")
    # The client may write anything into the header; the proxy appends the address it saw, last.
    assert _attempt(client, "198.51.100.7, 203.0.113.9", right=True) == 429
    assert _attempt(client.__class__(), "198.51.100.7", right=True) == 302  # another client


def test_without_a_proxy_a_forwarded_header_is_not_believed(
    client: Any, world: SimpleNamespace, settings: Any
) -> None:
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _attempt(client, "203.0.113.9")
    assert _attempt(client, "198.51.100.7", right=True) == 429  # same REMOTE_ADDR: locked
