"""Fixtures for insights: the emulator's S3 (moto) and batch runs whose `.out` files sit in it."""

from __future__ import annotations

from typing import Any

import pytest

from tests.deployments.conftest import (  # noqa: F401 - fixtures
    BUCKET,
    REGION,
    client_for,
    emulator_handle,
    queue,
    run_worker,
)
from tests.insights.runs import RunMaker


@pytest.fixture
def s3(emulator_handle: Any, settings: Any) -> Any:  # noqa: F811 - the fixture imported above
    """Point the product at the emulator's S3; returns a boto3 S3 client with the test bucket."""
    settings.AWS_MODE = "emulated"
    settings.EMULATOR_URL = emulator_handle.url
    settings.AWS_REGION = REGION
    settings.SAASADMIN_BUCKET = BUCKET
    client = client_for(emulator_handle.url, "s3")
    if BUCKET not in {b["Name"] for b in client.list_buckets()["Buckets"]}:
        client.create_bucket(Bucket=BUCKET)
    return client


@pytest.fixture
def runs(s3: Any) -> RunMaker:
    return RunMaker(s3)
