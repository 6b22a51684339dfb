"""A tenant admin in a real browser: uploads CSV files (a bad one refused with its line), runs the batch
model now, watches the run page follow the job to its end without a reload, reads the notice; a file
that breaks the job fails alone and can be retried from the page."""

from __future__ import annotations

from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest
from playwright.sync_api import expect

from deployments.models import Deployment
from deployments.services import Draft, deployment_apply
from emulator.artifacts import input_csv
from tenants.roles import Role
from tests.deployments.conftest import BUCKET, make_package
from tests.factories import PASSWORD, make_tenant, make_user

pytestmark = pytest.mark.django_db(transaction=True)


def _empty(aws: Any, prefix: str) -> None:
    for item in aws.s3.list_objects_v2(Bucket=BUCKET, Prefix=prefix).get("Contents", []):
        aws.s3.delete_object(Bucket=BUCKET, Key=item["Key"])


@pytest.fixture
def northwind(world: SimpleNamespace, aws: Any, worker: Any) -> Iterator[SimpleNamespace]:
    """A tenant with an admin and a batch model in service, its input area empty before and after."""
    _empty(aws, "datasets/northwind/")
    with worker.serial:
        tenant = make_tenant(name="Northwind Traders", slug="northwind")
        make_user(Role.TENANT_ADMIN, tenant, username="nadia")
        draft = Draft(
            name="Churn scores nightly",
            kind="batch",
            isolation="silo",
            tenant=tenant,
            model_package=make_package(None),
            settings={"schedule": "daily", "schedule_hour": 3, "schedule_timezone": "Europe/Paris",
                      "input_columns": 6},
        )  # fmt: skip
        deployment = deployment_apply(actor=world.operator, draft=draft)
    worker.run()  # in service; its first run is skipped: nothing to read yet
    yield SimpleNamespace(tenant=tenant, deployment=Deployment.objects.get(pk=deployment.pk))
    _empty(aws, "datasets/northwind/")


def _upload(page: Any, name: str, body: bytes) -> None:
    page.set_input_files("input[name=file]", files=[{"name": name, "mimeType": "text/csv", "buffer": body}])
    page.get_by_role("button", name="Check and upload").click()


def test_a_tenant_admin_uploads_runs_now_and_watches_the_run(
    page: Any, live_server: Any, northwind: SimpleNamespace, worker: Any, aws: Any, screenshot: Any
) -> None:
    base = live_server.url
    page.goto(f"{base}/accounts/login/")
    page.fill("input[name=username]", "nadia")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Data & runs").click()
    expect(page.locator("h1")).to_have_text("Data & runs")
    expect(page.get_by_text("No input files yet")).to_be_visible()
    expect(page.get_by_text("Daily at 03:00 (Europe/Paris)")).to_be_visible()

    _upload(page, "bad.csv", b"1,2,3,4,5,6\n1,2,3,four,5,6\n")
    expect(page.locator(".field.has-error")).to_contain_text(
        "Line 2: column 4 holds “four”, which is not a number."
    )
    screenshot("datasets-refused")
    _upload(page, "week-48.csv", input_csv("alpha", 120))
    expect(page.locator(".flash-success")).to_contain_text("week-48.csv is in the input area: 120 rows")
    expect(page.locator("table").first).to_contain_text("week-48.csv")
    screenshot("datasets")

    page.get_by_role("button", name="Run now").click()
    expect(page.locator("h1")).to_contain_text("Run 2")
    live = page.locator("#run-live")
    expect(live).to_have_attribute("hx-trigger", "every 2s")
    screenshot("run-pending")
    page.evaluate("window.sameDocument = true")
    worker.run()
    expect(live.locator(".progress-head")).to_contain_text("1 of 1 file transformed")
    expect(live.locator(".progress-head")).to_contain_text("Completed")
    expect(live).not_to_have_attribute("hx-trigger", "every 2s")  # ended: polling stops
    assert page.evaluate("window.sameDocument") is True
    screenshot("run-completed")

    # A file that arrived in S3 without the check breaks the next job: it fails alone, with its line.
    aws.s3.put_object(
        Bucket=BUCKET, Key="datasets/northwind/input/late.csv", Body=b"1,2,3,4,5,6\n9,9,x,9,9,9\n"
    )
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Data & runs").click()
    page.get_by_role("button", name="Run now").click()
    worker.run()
    page.reload()
    expect(live.locator(".progress-head")).to_contain_text("1 of 2 files transformed, 1 failed")
    files = page.locator("section.card", has=page.locator("h2", has_text="Files"))
    expect(files.locator("td .error", has_text="Bad input in late.csv at line 2")).to_be_visible()
    screenshot("run-failed")
    aws.s3.put_object(Bucket=BUCKET, Key="datasets/northwind/input/late.csv", Body=input_csv("beta", 4))
    page.get_by_role("button", name="Retry 1 failed file").click()
    expect(page.locator("h1")).to_contain_text("Run 4")
    worker.run()
    expect(live.locator(".progress-head")).to_contain_text("Completed")

    page.locator("a.bell").click()
    expect(page.locator("h1")).to_have_text("Notices")
    expect(page.locator(".notice").first).to_contain_text(
        "Run 4 of Churn scores nightly (Northwind Traders) finished"
    )
    screenshot("notices")
