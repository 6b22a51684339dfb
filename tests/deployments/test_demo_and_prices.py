"""The demo fleet reaches InService (one failure with its reason); refresh_prices parses the Pricing API."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from botocore.stub import Stubber
from django.core.management import call_command

from deployments import catalogue
from deployments.aws.clients import client
from deployments.models import Deployment, RunStatus, Status
from tenants.demo import demo_seed
from tests.deployments.conftest import BUCKET, REGION


def test_the_demo_fleet_provisions_every_kind_and_one_fails_clearly(
    db: None, aws: Any, run_worker: Any, django_capture_on_commit_callbacks: Any
) -> None:
    from emulator import artifacts

    artifacts.upload_demo(aws.s3, BUCKET, ["acme", "globex", "initech"], REGION, with_images=False)
    demo_seed()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("seed_deployments", stdout=open("/dev/null", "w"))  # noqa: SIM115
    run_worker()
    statuses = dict(Deployment.objects.values_list("name", "status"))
    assert statuses.pop("Soylent real-time") == Status.FAILED
    assert set(statuses.values()) == {Status.IN_SERVICE}
    assert {d.kind for d in Deployment.objects.all()} == {
        "batch",
        "realtime",
        "async",
        "serverless",
        "multi_model",
        "multi_container",
    }
    soylent = Deployment.objects.get(name="Soylent real-time")
    assert soylent.last_error.startswith("ValidationException: Could not find model data at s3://")
    acme_batch = Deployment.objects.get(name="Acme nightly scoring")
    assert acme_batch.runs.get().status == RunStatus.COMPLETED
    with django_capture_on_commit_callbacks(execute=True):
        call_command("seed_deployments", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert Deployment.objects.count() == len(statuses) + 1


def _product(usage: str, usd: str, **attributes: str) -> str:
    return json.dumps(
        {
            "product": {"attributes": {"usagetype": usage, **attributes}},
            "terms": {
                "OnDemand": {"t": {"priceDimensions": {"d": {"unit": "Hrs", "pricePerUnit": {"USD": usd}}}}}
            },
        }
    )


def _refreshed(settings: Any, tmp_path: Path, monkeypatch: Any, page: list[str]) -> dict[str, Any]:
    """us-east-1 as refresh_prices writes it (into a copy of the catalogue) from one Pricing API page."""
    settings.AWS_MODE = "aws"
    target = tmp_path / "prices.json"
    target.write_text(catalogue.CATALOGUE_PATH.read_text())
    monkeypatch.setattr(catalogue, "CATALOGUE_PATH", target)
    with Stubber(client("pricing")) as stub:
        stub.add_response("get_products", {"PriceList": page, "FormatVersion": "aws_v1"})
        call_command("refresh_prices", region=["us-east-1"], stdout=open("/dev/null", "w"))  # noqa: SIM115
        stub.assert_no_pending_responses()
    return json.loads(target.read_text())["regions"]["us-east-1"]


def test_refresh_prices_rewrites_the_catalogue_from_get_products(
    settings: Any, tmp_path: Path, monkeypatch: Any, db: None
) -> None:
    page = [
        _product("USE1-Host:ml.m5.large", "0.2", vCpu="2", memory="8 GiB", gpu="0"),
        _product("USE1-AsyncInf:ml.m5.large", "0.21"),
        _product("USE1-Tsform:ml.m5.large", "0.19"),
        _product("USE1-ServerlessInf:Mem-2GB", "0.00004"),
    ]
    region = _refreshed(settings, tmp_path, monkeypatch, page)
    assert region["instances"] == {
        "ml.m5.large": {
            "async_per_hour": 0.21,
            "gpus": 0,
            "memory_gib": 8.0,
            "realtime_per_hour": 0.2,
            "transform_per_hour": 0.19,
            "vcpu": 2,
        }
    }
    assert region["serverless"]["per_gb_second"] == pytest.approx(0.00002)
    # The refresh is kept as a dated version beside the ones before it: the past keeps its prices.
    from deployments.models import CatalogueVersion

    version = CatalogueVersion.objects.get()
    assert version.data["regions"]["us-east-1"] == region
    assert version.valid_from == date.today()


def test_refresh_prices_writes_no_price_for_a_use_aws_does_not_offer(
    settings: Any, tmp_path: Path, monkeypatch: Any, db: None
) -> None:
    page = [
        _product("USE1-Host:ml.t2.medium", "0.056", vCpu="2", memory="4 GiB", gpu="0"),
        _product("USE1-Tsform:ml.t2.medium", "0.056"),  # listed by the Pricing API, refused by the API
        _product("USE1-Host:ml.m5.large", "0.115", vCpu="2", memory="8 GiB", gpu="0"),
        _product("USE1-Host:ml.z9.huge", "9.9", vCpu="96", memory="768 GiB", gpu="0"),  # in no enum
    ]
    instances = _refreshed(settings, tmp_path, monkeypatch, page)["instances"]
    assert set(instances) == {"ml.t2.medium", "ml.m5.large"}
    assert "transform_per_hour" not in instances["ml.t2.medium"]
    assert instances["ml.t2.medium"]["realtime_per_hour"] == 0.056
    assert instances["ml.m5.large"]["transform_per_hour"] == 0.115  # priced as hosting when not listed


def test_refresh_prices_refuses_to_run_emulated(settings: Any) -> None:
    from django.core.management.base import CommandError

    settings.AWS_MODE = "emulated"
    with pytest.raises(CommandError, match="AWS_MODE=aws"):
        call_command("refresh_prices")
