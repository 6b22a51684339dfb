"""A tenant admin creates an API token in the browser and copies it; the page keeps the layout.

Set SCREENSHOT_DIR to keep the pages as PNGs.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from tenants.tokens import token_authenticate, token_create
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_tenant_admin_creates_a_token_and_copies_it(
    page: Any, live_server: Any, world: SimpleNamespace, screenshot: Any
) -> None:
    token_create(actor=world.admin_a, tenant=world.tenant_a, name="Old nightly job")
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", "alice")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/insights/")  # tenant members land on their dashboard
    page.click("nav >> text=My organisation")
    page.wait_for_selector("#api-tokens")
    page.fill("#api-tokens input[name=name]", "Scoring service")
    page.click("#api-tokens button[type=submit]")
    secret = page.input_value("input[aria-label='The new API token']")
    assert token_authenticate(f"Bearer {secret}").name == "Scoring service"
    assert f"Bearer {secret}" in page.inner_text("#api-tokens pre")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    screenshot("api-tokens-created")
    page.reload()
    assert page.locator("input[aria-label='The new API token']").count() == 0
    assert "Scoring service" in page.inner_text("#api-tokens table")
