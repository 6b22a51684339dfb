"""What people do in a real browser: an operator onboards a tenant; a viewer stays in their lane."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from playwright.sync_api import expect

from tenants.models import Tenant
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db(transaction=True)


def _sign_in(page: Any, base: str, username: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")


def test_an_operator_onboards_a_tenant_and_finds_it_in_the_list(
    page: Any, live_server: Any, world: SimpleNamespace
) -> None:
    _sign_in(page, live_server.url, "olivia")
    page.wait_for_url(f"{live_server.url}/tenants/")
    page.click("text=Onboard a tenant")
    page.fill("input[name=name]", "Cyberdyne Systems")
    page.fill("input[name=slug]", "Bad Slug")
    page.select_option("select[name=isolation]", "bridge")
    page.fill("input[name=contact_email]", "ops@cyberdyne.example.com")
    page.click("button[type=submit]")
    page.wait_for_selector("text=lowercase letters")
    assert page.input_value("input[name=name]") == "Cyberdyne Systems"  # kept what was typed
    page.fill("input[name=slug]", "cyberdyne")
    page.click("button[type=submit]")
    # Step 2: how the tenant's model is deployed, ending with the plan and its cost.
    page.wait_for_selector("h1:has-text('New deployment')")
    assert Tenant.objects.get(slug="cyberdyne").isolation == "bridge"
    page.select_option("select[name=kind]", "async")
    assert page.is_hidden("[data-setting=memory_mb]")  # serverless settings hide for other kinds
    page.click("button[value=plan]")
    page.wait_for_selector("text=needs a model package")  # the rules table speaks: nothing planned yet
    page.click("nav >> text=Tenants")
    page.fill("input[name=q]", "cyber")
    # A locator wait, not wait_for_function: the Content-Security-Policy forbids evaluating strings.
    expect(page.locator("#tenant-table")).not_to_contain_text("Alpha Corp")
    assert "Cyberdyne Systems" in page.inner_text("#tenant-table")


def test_a_viewer_sees_only_their_tenant_and_cannot_reach_operator_pages(
    page: Any, live_server: Any, world: SimpleNamespace
) -> None:
    _sign_in(page, live_server.url, "victor")
    page.wait_for_selector("h1:has-text('Alpha Corp')")
    nav = page.inner_text("nav")
    assert "Tenants" not in nav
    assert "Audit log" not in nav
    response = page.goto(f"{live_server.url}/tenants/")
    assert response.status == 403
    response = page.goto(f"{live_server.url}/tenants/new/")
    assert response.status == 403
    response = page.goto(f"{live_server.url}/tenants/{world.tenant_b.pk}/")
    assert response.status == 404
