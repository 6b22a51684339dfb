"""The usage page in a real browser: plotly.js loads from our own static files, the chart draws under the
Content-Security-Policy (no inline script), and the per-hour selector reloads the page."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import pytest

from deployments.demo_usage import demo_usage_seed
from deployments.models import Deployment, DeploymentMember
from tests.browser.test_journeys import _sign_in

pytestmark = pytest.mark.django_db(transaction=True)


def _demo_history(world: SimpleNamespace) -> None:
    """The demo seed's history (deployments/demo_usage.py) on tenant A: its own endpoint and a shared one."""
    own = {"tenant": world.tenant_a, "kind": "realtime", "isolation": "silo"}
    Deployment.objects.create(name="Acme real-time", aws_name="sa-acme-rt", **own)
    shared = Deployment.objects.create(
        name="Bridge multi-model", kind="multi_model", isolation="bridge", aws_name="sa-mme"
    )
    DeploymentMember.objects.create(deployment=shared, tenant=world.tenant_a, target="alpha.tar.gz")
    demo_usage_seed(now=datetime.now(UTC))


def test_a_tenant_admin_reads_usage_per_day_and_per_hour(
    page: Any, live_server: Any, world: SimpleNamespace, screenshot: Any
) -> None:
    _demo_history(world)
    problems: list[str] = []
    page.on("console", lambda message: message.type == "error" and problems.append(message.text))
    page.on("pageerror", lambda error: problems.append(str(error)))
    _sign_in(page, live_server.url, "alice")
    page.click("nav >> text=API usage")
    page.wait_for_selector("#usage-chart .main-svg")
    assert page.locator("#usage-chart .bars path").count() >= 8  # two deployments, four days and today
    assert "Predictions per day" in page.inner_text("#usage-chart")
    screenshot("usage-per-day")

    page.select_option("select[name=by]", "hour")
    page.wait_for_url("**/usage/?by=hour")
    page.wait_for_selector("#usage-chart .main-svg")
    assert "Predictions per hour" in page.inner_text("#usage-chart")
    assert page.locator("table.numbers").first.inner_text().count("Real-time endpoint (dedicated)") == 1
    screenshot("usage-per-hour")
    assert problems == []
