"""What people do in a real browser: an operator onboards a tenant and deploys its model, watching it
reach service live; a viewer stays in their lane."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from playwright.sync_api import expect

from deployments.models import Deployment
from tenants.models import Tenant
from tests.deployments.conftest import make_package
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
    page.wait_for_url("**/insights/")  # tenant members land on their dashboard
    page.click("nav >> text=My organisation")
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


def _onboard(page: Any, base: str, name: str, slug: str) -> None:
    page.goto(f"{base}/tenants/")
    page.click("text=Onboard a tenant")
    page.fill("input[name=name]", name)
    page.fill("input[name=slug]", slug)
    page.select_option("select[name=isolation]", "silo")
    page.fill("input[name=contact_email]", f"ops@{slug}.example.com")
    page.click("button[type=submit]")
    page.wait_for_selector("h1:has-text('New deployment')")


def test_an_operator_deploys_a_new_tenants_model_and_watches_the_page_follow_it_to_service(
    page: Any, live_server: Any, world: SimpleNamespace, worker: Any, screenshot: Any
) -> None:
    base = live_server.url
    _sign_in(page, base, "olivia")
    page.wait_for_url(f"{base}/tenants/")
    _onboard(page, base, "Gamma Labs", "gamma")
    with worker.serial:  # the tenant's model, registered as its upload would (the artifact is in S3)
        package = make_package(Tenant.objects.get(slug="gamma"))
        others = make_package(world.tenant_a)  # another tenant's model: never offered for gamma
    page.reload()  # the deployment step, now with the tenant's package to choose
    page.select_option("select[name=kind]", "realtime")
    offered = page.locator("select[name=model_package] option:not([disabled])").evaluate_all(
        "options => options.map(o => o.value)"
    )
    assert str(package.pk) in offered
    assert str(others.pk) not in offered
    page.select_option("select[name=model_package]", str(package.pk))
    page.click("button[value=plan]")
    page.wait_for_selector("h1:has-text('Plan for gamma-model')")
    page.click("button[value=apply]")
    page.wait_for_selector("h1:has-text('gamma-model')")

    actions, live = page.locator(".page-head .actions"), page.locator("#live")
    resources = page.locator("section.card", has=page.locator("h2", has_text="AWS resources"))
    desired = page.locator("section.card", has=page.locator("h2", has_text="Desired state"))
    expect(actions.get_by_role("button", name="Cancel")).to_be_visible()  # pending: nothing in AWS yet
    expect(resources).to_contain_text("nothing runs in AWS yet")
    expect(desired).to_contain_text("0 of 1 rolled out")
    screenshot("deployment-pending")
    page.evaluate("window.sameDocument = true")  # gone if the page reloads

    worker.run()  # the worker drives SageMaker (the emulator) while the page polls on its own
    with worker.serial:
        deployment = Deployment.objects.get(name="gamma-model")
    expect(live.locator(".progress-head")).to_contain_text("In service")
    expect(actions.get_by_role("button", name="Cancel")).to_have_count(0)
    expect(actions.get_by_role("link", name="Change")).to_be_visible()
    expect(desired).to_contain_text("1 of 1 rolled out")
    expect(resources).to_contain_text(f"{deployment.aws_name}-g1")
    expect(resources).not_to_contain_text("nothing runs in AWS yet")
    expect(live).not_to_have_attribute("hx-trigger", "every 2s")  # settled: polling stops
    assert page.evaluate("window.sameDocument") is True  # all of it without a reload
    screenshot("deployment-in-service")
