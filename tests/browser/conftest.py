"""Playwright driving Debian's chromium headless against the live test server."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from rq import SimpleWorker
from rq.registry import FailedJobRegistry

# The emulator with the demo artifacts in its S3, and a clean queue, as the deployment tests have them.
from tests.deployments.conftest import aws, demo_artifacts, emulator_handle, queue  # noqa: F401

CHROMIUM = Path(os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/browser/" in str(item.fspath):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        if os.environ.get("REQUIRE_BROWSER") == "1":
            pytest.fail(f"{CHROMIUM} is missing; CI installs Debian's chromium package")
        pytest.skip(f"{CHROMIUM} is missing (apt-get install chromium)")
    # Playwright's sync API runs an event loop in this thread; the ORM calls of the tests are still
    # synchronous and happen between page actions. Only the browser tests relax Django's check.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    from playwright.sync_api import sync_playwright

    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
            )
            yield browser
            browser.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1360, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


class Worker:
    """An RQ worker for journeys that reach AWS, run in the test's thread when the test says so.

    With SQLite in memory, Django's live server thread shares the test thread's database connection,
    which two threads must not use at once: `serial` (held by each request of the live server too)
    keeps the test's own database work and the worker's jobs apart from the server's requests.
    """

    def __init__(self, rq_queue: Any) -> None:
        self.queue = rq_queue
        self.serial = threading.Lock()

    def run(self) -> int:
        """Run jobs until none is left (polls enqueue the next one); returns how many ran."""
        done = 0
        for _ in range(200):
            with self.serial:
                worker = SimpleWorker([self.queue], connection=self.queue.connection)
                worker.work(burst=True)
            done += worker.successful_job_count + worker.failed_job_count
            if self.queue.count == 0:
                break
        failed = FailedJobRegistry(queue=self.queue)
        assert failed.count == 0, [self.queue.fetch_job(j).exc_info for j in failed.get_job_ids()]
        return done


@pytest.fixture
def worker(live_server: Any, queue: Any, aws: Any) -> Iterator[Worker]:  # noqa: F811
    worker = Worker(queue)
    httpd = live_server.thread.httpd
    app = httpd.get_app()

    def serial_app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        with worker.serial:
            return app(environ, start_response)

    httpd.set_app(serial_app)
    yield worker
    httpd.set_app(app)


@pytest.fixture
def screenshot(page: Any) -> Callable[[str], None]:
    """Save a full-page screenshot as SCREENSHOT_DIR/<name>.png when SCREENSHOT_DIR is set (to look at)."""
    folder = os.environ.get("SCREENSHOT_DIR")

    def take(name: str) -> None:
        if folder:
            Path(folder).mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True)

    return take
