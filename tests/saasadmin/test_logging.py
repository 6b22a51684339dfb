"""`make run`'s output is for a person: an expected refusal is one line, printed once; a crash keeps its
traceback."""

from __future__ import annotations

import logging
from types import SimpleNamespace
from typing import Any

import pytest
from django.test import Client


def _request_records(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "django.request"]


def test_a_403_is_one_warning_line_with_its_reason_and_no_traceback(
    client: Any, world: SimpleNamespace, caplog: pytest.LogCaptureFixture
) -> None:
    client.force_login(world.finance)
    with caplog.at_level(logging.INFO):
        assert client.get("/deployments/new/").status_code == 403
    [record] = _request_records(caplog)
    assert record.levelno == logging.WARNING
    assert record.exc_info is None
    reason = "Your role cannot use this page (deployments.manage)."
    assert record.getMessage() == f"Forbidden (Permission denied): /deployments/new/ ({reason})"
    assert "Traceback" not in caplog.text


def test_a_404_is_one_line_without_a_traceback(
    client: Any, world: SimpleNamespace, caplog: pytest.LogCaptureFixture
) -> None:
    client.force_login(world.operator)
    with caplog.at_level(logging.INFO):
        assert client.get("/tenants/00000000-0000-0000-0000-000000000000/").status_code == 404
        assert client.get("/rq/queues/1/").status_code == 404
    records = _request_records(caplog)
    assert [r.levelno for r in records] == [logging.WARNING, logging.WARNING]
    assert all(r.exc_info is None for r in records)
    assert records[1].getMessage() == "Not Found: /rq/queues/1/"


def test_a_refusal_reaches_one_console_even_with_debug_on(settings: Any) -> None:
    settings.DEBUG = True  # as `make run` runs: Django's own console handler printed a second copy
    record = logging.LogRecord("django.request", logging.WARNING, __file__, 1, "Forbidden", None, None)
    consoles = []
    logger: logging.Logger | None = logging.getLogger("django.request")
    while logger is not None:
        consoles += [
            h for h in logger.handlers if type(h) is logging.StreamHandler and h.filter(record)
        ]  # pytest's capture handlers are subclasses: not counted
        logger = logger.parent if logger.propagate else None
    assert len(consoles) == 1


def test_a_server_error_keeps_its_traceback(
    world: SimpleNamespace, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("the advisor broke")

    monkeypatch.setattr("deployments.views_catalogue.advise", broken)
    client = Client(raise_request_exception=False)
    client.force_login(world.operator)
    with caplog.at_level(logging.INFO):
        assert client.get("/advisor/").status_code == 500
    [record] = _request_records(caplog)
    assert record.levelno == logging.ERROR
    assert record.exc_info is not None
    assert "RuntimeError: the advisor broke" in caplog.text
