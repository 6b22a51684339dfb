"""The insight dashboard in a real browser: a tenant viewer signs in and lands on it, both charts draw
from their JSON under the Content-Security-Policy, the flagged rows sort, the CSV downloads."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from django.utils import timezone

from insights.ingestion import transform_run_ingest
from tests.browser.test_journeys import _sign_in
from tests.insights.runs import RunMaker, out_body, rows_of

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_tenant_viewer_lands_on_charts_and_flagged_rows(
    page: Any, live_server: Any, world: SimpleNamespace, aws: Any, screenshot: Any
) -> None:
    runs = RunMaker(aws.s3)
    for months in (3, 2, 1, 0):
        run = runs.run(
            world.tenant_a,
            {"north.csv": out_body(rows_of(120, seed=months)), "south.csv": out_body(rows_of(80, seed=9))},
            created_at=timezone.now() - timedelta(days=30 * months),
        )
        transform_run_ingest(run_id=run.pk, tenant_id=str(world.tenant_a.pk))
    problems: list[str] = []
    page.on("console", lambda message: message.type == "error" and problems.append(message.text))
    page.on("pageerror", lambda error: problems.append(str(error)))
    _sign_in(page, live_server.url, "victor")
    page.wait_for_url("**/insights/")
    page.wait_for_selector("[data-drawn='1'] .main-svg >> nth=1")
    assert page.locator(".chart .bars path").count() >= 20 + 4  # the histogram's bins and the runs' bars
    assert "Rows scored in run 4" in page.inner_text(".insight-stats")
    screenshot("insights-dashboard")

    page.click("table.flagged >> text=Line")
    page.wait_for_url("**sort=line**")
    lines = [
        int(cell.replace(",", ""))
        for cell in page.locator("table.flagged tbody td:nth-child(3)").all_inner_texts()
    ]
    assert lines == sorted(lines)
    download = page.request.get(live_server.url + page.get_attribute("text=Download CSV", "href"))
    assert download.ok
    assert download.text().startswith("file,line,Column 1,Column 2,Column 3,score")
    assert problems == []
