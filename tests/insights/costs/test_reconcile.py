"""The ledger against Cost Explorer: moto's, answering what the test queued, through the product's seam."""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D
from typing import Any

import pytest

from deployments.aws.costexplorer import emulated_results_queue
from insights.costs.reconcile import aws_costs_fetch, reconcile_rows
from insights.costs.runs import costs_run
from insights.models_costs import AwsCostLine, StorageSample
from tests.insights.costs.world import at, endpoint, live, prices, tenants

pytestmark = pytest.mark.django_db
DAY = date(2025, 7, 14)  # a day no other test asks Cost Explorer about (moto keeps answers per request)


def _group(tag: str, usage_type: str, amount: str) -> dict[str, Any]:
    return {
        "Keys": [f"saasadmin:tenant${tag}", usage_type],
        "Metrics": {"UnblendedCost": {"Amount": amount, "Unit": "USD"}},
    }


def test_the_difference_per_tenant_and_day_is_shown(emulated: Any) -> None:
    prices(date(2025, 1, 1))
    acme, a = tenants("acme", "a")
    own = endpoint(tenant=acme)
    live(own, at(date(2025, 7, 1)), instance_type="ml.m5.large", instance_count=1)
    shared = endpoint("multi_model", isolation="bridge")
    live(shared, at(date(2025, 7, 1)), instance_type="ml.m5.xlarge", instance_count=1)
    StorageSample.objects.create(tenant=a, day=DAY, prefix="s3://b/datasets/a/", bytes=31 * 1024**3)
    costs_run(DAY, DAY)
    emulated_results_queue([
        {
            "ResultsByTime": [
                {
                    "TimePeriod": {"Start": "2025-07-14", "End": "2025-07-15"},
                    "Groups": [
                        _group("acme", "USE1-Host:ml.m5.large", "2.4000001"),
                        _group("shared", "USE1-Host:ml.m5.xlarge", "4.52"),
                        _group("", "USE1-TimedStorage-ByteHrs", "0.03"),
                    ],
                    "Estimated": False,
                }
            ],
            "DimensionValueAttributes": [],
        }
    ])  # fmt: skip
    assert aws_costs_fetch(DAY, DAY) == 3
    assert AwsCostLine.objects.get(tag_value="acme").tenant == acme
    rows = {row.tag_value: row for row in reconcile_rows(DAY, DAY)}
    assert (rows["acme"].ledger, rows["acme"].aws, rows["acme"].difference) == (D("2.40"), D("2.40"), 0)
    assert (rows["shared"].ledger, rows["shared"].aws, rows["shared"].difference) == (
        D("4.80"),
        D("4.52"),
        D("-0.28"),
    )
    assert rows[""].difference == 0  # S3 carries no cost-allocation tag on either side
    assert rows["acme"].tenant_id == acme.pk


def test_an_empty_answer_keeps_what_was_fetched_before(emulated: Any) -> None:
    AwsCostLine.objects.create(day=DAY, tag_value="acme", usage_type="USE1-Host:ml.m5.large", cost=D("1"))
    assert aws_costs_fetch(date(2025, 7, 20), date(2025, 7, 21)) == 0
    assert AwsCostLine.objects.count() == 1
