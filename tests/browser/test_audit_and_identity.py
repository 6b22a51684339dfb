"""The audit log as sentences and a live tenant's pinned identity, as people see them in a browser.

Set SCREENSHOT_DIR to keep the pages as PNGs.
"""

from __future__ import annotations

import os
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from deployments.models import Deployment, Kind
from deployments.rules import settings_normalise
from deployments.services import model_package_register
from tenants.audit import audit_record
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db(transaction=True)
ARN = "arn:aws:sagemaker:us-east-1:123456789012:endpoint/sa-alpha-rt-6f0d3b3e"


def _sign_in(page: Any, base: str, username: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_selector("h1")


def _keep(page: Any, name: str) -> None:
    folder = os.environ.get("SCREENSHOT_DIR")
    if folder:
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True)


def _fits(page: Any) -> bool:
    return bool(page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"))


@pytest.fixture
def live_alpha(world: SimpleNamespace) -> Deployment:
    """Alpha with a model package and an in-service endpoint, and what the operator did to them."""
    operator = world.operator
    operator.first_name, operator.last_name = "Ops", "Person"
    operator.save()
    package = model_package_register(
        actor=operator,
        tenant=world.tenant_a,
        framework="xgboost",
        version="3.0-5",
        model_data_url="s3://saasadmin-tests/models/alpha/xgboost/v1/a-rather-long-key/model.tar.gz",
    )
    settings = settings_normalise(Kind.REALTIME, {})
    deployment = Deployment.objects.create(
        tenant=world.tenant_a,
        name="Alpha real-time",
        kind=Kind.REALTIME,
        isolation="silo",
        model_package=package,
        settings=settings,
        aws_name="sa-alpha-rt-6f0d3b3e",
        status="in_service",
    )
    snapshot = {"settings": settings, "model_package": str(package.pk)}
    audit_record(
        actor=operator,
        action="deployment.create",
        obj=deployment,
        tenant=world.tenant_a,
        after={**snapshot, "kind": Kind.REALTIME},
    )
    changed = {**snapshot, "settings": {**settings, "instance_count": 2, "instance_type": "ml.c5.xlarge"}}
    audit_record(
        actor=operator,
        action="deployment.update",
        obj=deployment,
        tenant=world.tenant_a,
        before=snapshot,
        after={**changed, "kind": Kind.REALTIME},
    )
    audit_record(
        actor=operator,
        action="deployment.resource_forget",
        obj=deployment,
        tenant=world.tenant_a,
        after={"reason": "Deleted by hand in the AWS console", "resource": {"arn": ARN}},
    )
    return deployment


def test_an_operator_reads_the_audit_log_with_aws_details(
    page: Any, live_server: Any, world: SimpleNamespace, live_alpha: Deployment
) -> None:
    _sign_in(page, live_server.url, "olivia")
    page.goto(f"{live_server.url}/audit/")
    log = page.inner_text(".audit")
    assert "Ops Person changed Alpha real-time: the instance type from ml.m5.large to ml.c5.xlarge" in log
    assert ARN in log
    assert _fits(page)
    _keep(page, "audit-operator")


def test_a_tenant_admin_reads_the_audit_log_without_aws_internals(
    page: Any, live_server: Any, world: SimpleNamespace, live_alpha: Deployment
) -> None:
    _sign_in(page, live_server.url, "alice")
    page.wait_for_url("**/insights/")  # tenant members land on their dashboard
    page.click("nav >> text=My organisation")
    log = page.inner_text(".audit")
    assert "Ops Person changed the infrastructure settings of Alpha real-time." in log
    assert "Ops Person did “resource forget” on the deployment Alpha real-time." in log
    for internal in ("s3://", "arn:", "ml.", "instance"):
        assert internal not in log
    page.locator(".audit").scroll_into_view_if_needed()
    _keep(page, "audit-tenant-admin")


def test_the_edit_page_says_why_a_live_tenants_identity_is_pinned(
    page: Any, live_server: Any, world: SimpleNamespace, live_alpha: Deployment
) -> None:
    _sign_in(page, live_server.url, "olivia")
    page.goto(f"{live_server.url}/tenants/{world.tenant_a.pk}/edit/")
    assert page.is_disabled("input[name=slug]")
    assert page.is_disabled("select[name=isolation]")
    assert "carry “alpha”" in page.inner_text("main form")
    assert _fits(page)
    _keep(page, "tenant-edit-pinned")
