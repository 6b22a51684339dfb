"""Settings come from the environment, fail loudly on bad values, and pass Django's deploy checks."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from saasadmin import env

ROOT = Path(__file__).resolve().parents[2]


def _manage(*args: str, **environ: str) -> subprocess.CompletedProcess[str]:
    keep = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "DATABASE_URL", "REDIS_URL")}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**keep, **environ},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_check_deploy_is_clean_with_production_settings(tmp_path: Path) -> None:
    result = _manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DEBUG="0",
        SECRET_KEY="k" * 20 + "-Production-Like-Secret-Key-0123456789",
        ALLOWED_HOSTS="saasadmin.example.com",
        CSRF_TRUSTED_ORIGINS="https://saasadmin.example.com",
        DATA_DIR=str(tmp_path),
    )
    assert result.returncode == 0, result.stderr + result.stdout
    assert "no issues" in result.stdout


def test_it_refuses_to_start_without_a_secret_key_when_debug_is_off(tmp_path: Path) -> None:
    result = _manage("check", DEBUG="0", DATA_DIR=str(tmp_path))
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_it_refuses_an_unknown_aws_mode(tmp_path: Path) -> None:
    result = _manage("check", DEBUG="1", AWS_MODE="cloud", DATA_DIR=str(tmp_path))
    assert result.returncode != 0
    assert "AWS_MODE" in result.stderr


@pytest.mark.parametrize(("raw", "value"), [("1", True), ("yes", True), ("OFF", False), ("", False)])
def test_envbool_reads_the_usual_spellings(monkeypatch: pytest.MonkeyPatch, raw: str, value: bool) -> None:
    monkeypatch.setenv("SOME_FLAG", raw)
    assert env.envbool("SOME_FLAG") is value


def test_envbool_and_envint_fail_loudly(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOME_FLAG", "maybe")
    with pytest.raises(ImproperlyConfigured, match="not a boolean"):
        env.envbool("SOME_FLAG")
    monkeypatch.setenv("SOME_INT", "12x")
    with pytest.raises(ImproperlyConfigured, match="not an integer"):
        env.envint("SOME_INT", 1)


def test_envlist_drops_blanks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOSTS", "a.example.com, ,b.example.com,")
    assert env.envlist("HOSTS") == ["a.example.com", "b.example.com"]
