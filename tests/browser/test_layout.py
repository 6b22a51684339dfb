"""Long values in a real browser: a 120-character tenant name, long S3 URIs and AWS errors wrap or are
clipped (whole on hover); no page grows wider than the window, no table scrolls sideways."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from deployments.models import Deployment, Kind, Status
from deployments.rules import settings_normalise
from deployments.services import model_package_register
from deployments.states import event_record
from tests.browser.test_journeys import _sign_in
from tests.factories import make_tenant

pytestmark = pytest.mark.django_db(transaction=True)

LONG_NAME = "L" * 120
# How the widths are measured: the page against the window, each scrolling table against its box.
OVERFLOW = """() => ({
  page: document.documentElement.scrollWidth - window.innerWidth,
  tables: [...document.querySelectorAll('.table-wrap')].map(t => t.scrollWidth - t.clientWidth),
})"""


def _long_world(world: SimpleNamespace) -> Deployment:
    tenant = make_tenant(name=LONG_NAME, slug="long")
    package = model_package_register(
        actor=None,
        tenant=tenant,
        framework="xgboost",
        version="3.0-5",
        model_data_url=f"s3://saasadmin-tests/models/long/{'nested-' * 30}model.tar.gz",
    )
    deployment = Deployment.objects.create(
        tenant=tenant,
        name="long-async",
        kind=Kind.ASYNC,
        isolation="silo",
        model_package=package,
        aws_name="sa-long-as-0a1b2c3d",
        settings=settings_normalise(Kind.ASYNC, {"min_capacity": 0}),
        status=Status.FAILED,
        last_error="SageMaker reports the endpoint Failed: " + "x" * 300,
    )
    endpoint = "arn:aws:sagemaker:us-east-1:123456789012:endpoint/" + "y" * 200
    # An AWS error quoting a long value with no space in it, as ValidationExceptions do.
    error = "ValidationException: Value '" + "s3://bucket/" + "z" * 600 + "' failed to satisfy constraint"
    event_record(deployment, action="CreateEndpoint", outcome="error", resource=endpoint, error=error)
    make_tenant(name="Still Onboarding", slug="onboarding", status="onboarding")
    return deployment


def test_long_values_never_widen_a_page(
    page: Any, live_server: Any, world: SimpleNamespace, screenshot: Any
) -> None:
    deployment = _long_world(world)
    long_tenant = deployment.tenant
    _sign_in(page, live_server.url, "olivia")
    page.wait_for_url(f"{live_server.url}/tenants/")
    pages = {
        "tenant-list": "/tenants/",
        "tenant": f"/tenants/{long_tenant.pk}/",
        "fleet": "/deployments/",
        "deployment": f"/deployments/{deployment.pk}/",
        "models": "/models/",
    }
    too_wide = {}
    for name, path in pages.items():
        page.goto(live_server.url + path)
        screenshot(f"long-values-{name}")
        overflow = page.evaluate(OVERFLOW)
        if overflow["page"] > 0 or any(extra > 0 for extra in overflow["tables"]):
            too_wide[path] = overflow  # px beyond the window, and beyond each table's box
    assert not too_wide

    page.goto(f"{live_server.url}/tenants/")
    name = page.locator("#tenant-table .clip", has_text="LLLL")
    assert name.get_attribute("title") == LONG_NAME  # the whole name on hover
    assert name.evaluate("e => e.scrollWidth > e.clientWidth")  # cut in the table


def test_an_identifier_in_a_column_header_keeps_its_case(
    page: Any, live_server: Any, world: SimpleNamespace
) -> None:
    _long_world(world)
    _sign_in(page, live_server.url, "olivia")
    page.wait_for_url(f"{live_server.url}/tenants/")
    page.goto(f"{live_server.url}/models/")
    headers = page.inner_text("thead")  # as rendered: headers are upper case, identifiers are not
    assert "ModelDataUrl" in headers
    assert "OWNER" in headers
